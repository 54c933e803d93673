"""Is an edit to an applied file comments-only?

The tracker holds the whitespace-free md5 of the applied content, not the
content. The previous content's token fingerprint (:mod:`ddlkit.sql.tokens`)
comes from, in order:

1. ddlkit's side table ``ddlkit_file_tokens(file_name, md5, tokens_md5)``,
   written whenever ddlkit applies, marks, adopts or re-records a file (the
   row must carry the tracker's md5 for that name);
2. git history: the committed version of the file whose whitespace-free md5
   equals the tracker's (:mod:`ddlkit.tree.history`).

Neither: the edit is ``unknown`` and the file re-runs, as pg_migrate.sh would.
"""

from __future__ import annotations

from typing import Mapping

from ddlkit.sql.tokens import data_fingerprint
from ddlkit.tree import history
from ddlkit.tree.planner import Edit, EditKind, TrackerRow, changed_files
from ddlkit.tree.tree import DdlFile, Tree

SIDE_TABLE_EVIDENCE = "ddlkit_file_tokens"


def classify(f: DdlFile, row: TrackerRow, fingerprints: Mapping[str, tuple[str, str]],
             use_git: bool = True) -> Edit:
    """``fingerprints``: file_name -> (md5, tokens_md5) from the side table."""
    old_md5 = row.md5 or ""
    new = data_fingerprint(f.data)
    if new is None:
        return Edit(EditKind.UNKNOWN, "the file cannot be compared by tokens "
                                      "(psql meta-commands, COPY data, or it does not scan)", old_md5)
    old, evidence = None, None
    stored = fingerprints.get(f.file_name)
    if stored is not None and stored[0] == old_md5:
        old, evidence = stored[1], SIDE_TABLE_EVIDENCE
    else:  # the same content recorded under another name (a rename, then an edit)
        old = next((tok for md5, tok in fingerprints.values() if md5 == old_md5), None)
        evidence = SIDE_TABLE_EVIDENCE if old is not None else None
    if old is None and use_git:
        found = history.content_with_md5(f.path, old_md5)
        if found is not None:
            old, evidence = data_fingerprint(found.data), f"git {found.commit[:12]}"
            if old is None:
                return Edit(EditKind.UNKNOWN, f"the applied version (git {found.commit[:12]}) cannot be "
                                              f"compared by tokens", old_md5)
    if old is None:
        return Edit(EditKind.UNKNOWN, "the applied content is unknown (no ddlkit_file_tokens row, "
                                      "and no git commit holds it)", old_md5)
    return Edit(EditKind.COMMENTS_ONLY if old == new else EditKind.CODE, evidence, old_md5)


def classify_changed(tree: Tree, rows: list[TrackerRow], fingerprints: Mapping[str, tuple[str, str]],
                     use_git: bool = True) -> dict[str, Edit]:
    """An :class:`Edit` for every changed file of the plan (:func:`planner.changed_files`)."""
    return {f.file_name: classify(f, row, fingerprints, use_git) for f, row in changed_files(tree, rows)}
