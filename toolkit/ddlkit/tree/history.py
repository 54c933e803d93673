"""A file's earlier content, from git history.

The tracker keeps only the whitespace-free md5 of what was applied. To tell
whether an edit is comments-only, ddlkit needs the old text: from its own side
table when ddlkit applied (or adopted) the file, else from git — the version
of the file, in the commits that touched it, whose whitespace-free md5 equals
the recorded one. No git, no repository, a file never committed, or a shallow
clone that lacks the old commit: no old content (the file re-runs, as before).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ddlkit.tree.tree import whitespace_free_md5

MAX_COMMITS = 200  # commits of one file searched, newest first
_TIMEOUT = 30


@dataclass(frozen=True)
class OldContent:
    data: bytes
    commit: str  # the commit that holds it


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess | None:
    git = shutil.which("git")
    if git is None:
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        return subprocess.run([git, *args], cwd=cwd, capture_output=True, timeout=_TIMEOUT, env=env)
    except (OSError, subprocess.SubprocessError):
        return None


def content_with_md5(path: Path, md5: str) -> OldContent | None:
    """The newest committed version of ``path`` whose whitespace-free md5 is ``md5``."""
    folder = path.parent
    if not folder.is_dir():
        return None
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top is None or top.returncode != 0:
        return None
    toplevel = Path(top.stdout.decode("utf-8", "surrogateescape").strip())
    try:
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(toplevel)).as_posix()
    except ValueError:
        return None
    # --follow: a file renamed in git (its content kept its md5) is found under its old path too.
    log = _git(["-c", "core.quotePath=false", "log", "--follow", f"--max-count={MAX_COMMITS}",
                "--format=%x00%H", "--name-only", "--", rel], toplevel)
    if log is None or log.returncode != 0:
        return None
    for block in log.stdout.decode("utf-8", "surrogateescape").split("\0")[1:]:
        lines = [line for line in block.splitlines() if line]
        if not lines:
            continue
        commit, at = lines[0], (lines[1] if len(lines) > 1 else rel)
        shown = _git(["show", f"{commit}:{at}"], toplevel)
        if shown is None or shown.returncode != 0:
            continue  # the commit deleted the file
        if whitespace_free_md5(shown.stdout) == md5:
            return OldContent(shown.stdout, commit)
    return None


class NoRevision(Exception):
    """``ref`` does not name a commit of the repository holding the path (or there is no git)."""


def file_at(path: Path, ref: str) -> bytes | None:
    """``path``'s content at commit ``ref``; None when the file did not exist
    there. Raises :class:`NoRevision` when ``ref`` (or git, or a repository) is missing."""
    folder = path.parent if path.parent.is_dir() else Path.cwd()
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top is None or top.returncode != 0:
        raise NoRevision(f"{path.parent} is not in a git repository (or git is not installed)")
    toplevel = Path(top.stdout.decode("utf-8", "surrogateescape").strip())
    commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], toplevel)
    if commit is None or commit.returncode != 0:
        raise NoRevision(f"{ref!r} is not a commit of {toplevel} (in CI, fetch it first: "
                         f"git fetch origin <branch>, or check out with full history)")
    sha = commit.stdout.decode().strip()
    try:
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(toplevel)).as_posix()
    except ValueError:
        raise NoRevision(f"{path} is outside the repository {toplevel}") from None
    shown = _git(["show", f"{sha}:{rel}"], toplevel)
    if shown is None or shown.returncode != 0:
        return None
    return shown.stdout
