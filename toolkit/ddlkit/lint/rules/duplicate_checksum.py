"""duplicate-checksum: two files of the tree with the same checksum (reported by the tree walk)."""

from ddlkit.lint.rule import WARNING, Rule

RULE = Rule(
    id="duplicate-checksum",
    severity=WARNING,
    kinds=None,
    summary="a file whose checksum equals an earlier file's (both run; pg_migrate.sh ran only the first)",
    rationale=(
        "ddlkit runs a file unless a tracker row has its own name and checksum, so a new file with the "
        "same content as an applied one (the same GRANT after a new table) runs, as it does on a fresh "
        "database. pg_migrate.sh matched on the checksum alone and never ran the second file, and a file "
        "counts as renamed only when its recorded name is gone from the tree. Reported when the whole "
        "tree is linted, on the later file, so that a copy made by mistake is noticed; when both files are "
        "meant to run, there is nothing to fix."
    ),
    bad=None,
    good=None,
    engine=True,
)
