"""parse-error: the file, or a function or DO body in it, does not parse (reported by the engine)."""

from ddlkit.lint.rule import ERROR, Rule

RULE = Rule(
    id="parse-error",
    severity=ERROR,
    kinds=None,
    summary="the file, or a function or DO body in it, does not parse (also: not UTF-8, NUL byte)",
    rationale=(
        "A file that does not parse on PostgreSQL's own parser fails when the runner applies it, and none "
        "of the other rules could check it. SQL and PL/pgSQL function bodies are parsed too (PostgreSQL "
        "checks them at CREATE time); a PL/pgSQL body that only fails for want of a catalog (%TYPE, "
        "VARIADIC, arrays of your own types) is not a parse error (see analysis-skipped). Bytes that are "
        "not UTF-8, and NUL bytes, are reported here as well: the runner refuses such files."
    ),
    bad="SELEC 1;",
    good="SELECT 1;",
    aliases=("syntax-error",),
    engine=True,
)
