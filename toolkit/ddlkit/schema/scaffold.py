"""``ddlkit new``: the next file of a tree directory, named the way its files
already are.

The pure part (numbering, slugs, headers, the order check) needs no database;
:func:`applied_names` is the one read of the target.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ddlkit.util.errors import InputError
from ddlkit.util.versort import version_key, version_sorted

DIRECTORIES = ("migrations", "functions", "utils", "preflight", "tests")
UNTRACKED = ("tests",)  # run by `ddlkit test`, never recorded in the tracker
DEFAULT_WIDTH = 4
MAX_SLUG = 60

_HINTS = {
    "migrations": ("Runs in one transaction with its tracker row (a statement PostgreSQL refuses in a",
                   "transaction, like CREATE INDEX CONCURRENTLY, makes it run statement by statement).",
                   "It runs again on every database whenever its checksum changes: once it is applied,",
                   "do not edit it; add a new migration instead (ddlkit rolls forward only)."),
    "functions": ("Runs again whenever its checksum changes: keep it re-runnable",
                  "(CREATE OR REPLACE, DROP ... IF EXISTS)."),
    "utils": ("Runs before migrations/; runs again whenever its checksum changes:",
              "keep it re-runnable."),
    "preflight": ("Runs last, and is skipped in test mode: raise an exception to stop",
                  "the deploy when a check fails."),
    "tests": ("Run by `ddlkit test` on a scratch database migrated twice; not tracked.",
              "Assert with DO $$ BEGIN ASSERT ...; END $$;"),
}


def slugify(name: str) -> str:
    """``"Add user e-mail!"`` -> ``add_user_e_mail``: ASCII letters, digits
    and single underscores, at most 60 characters. InputError when nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    out: list[str] = []
    for ch in ascii_name.lower():
        if ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "_":
            out.append("_")
    slug = "".join(out).strip("_")[:MAX_SLUG].rstrip("_")
    if not slug:
        raise InputError(f"name {name!r} has no letters or digits to make a file name from")
    return slug


def _number_prefix(name: str) -> str:
    digits = len(name) - len(name.lstrip("0123456789"))
    return name[:digits]


def next_file_name(existing: Iterable[str], name: str, number: str | None = None) -> str:
    """The new file's name: the last numbered file (in ``sort -V`` order) plus
    one, zero-padded to that file's width, then ``_<slug>.sql``. A directory
    whose files carry no number keeps its convention: just ``<slug>.sql``.
    ``number`` (digits) chooses the number instead."""
    slug = slugify(name)
    if number is not None:
        if not (number.isascii() and number.isdigit()):
            raise InputError(f"--number must be digits (like 0042), not {number!r}")
        return f"{number}_{slug}.sql"
    sql_files = [n for n in existing if n.endswith(".sql") and not n.startswith(".")]
    numbered = [n for n in version_sorted(sql_files) if _number_prefix(n)]
    if numbered:
        last = _number_prefix(numbered[-1])
        return f"{int(last) + 1:0{len(last)}d}_{slug}.sql"
    if sql_files:
        return f"{slug}.sql"
    return f"{1:0{DEFAULT_WIDTH}d}_{slug}.sql"


def header(directory: str, file_name: str, name: str, today: dt.date) -> str:
    title = " ".join(name.split())
    hints = "".join(f"-- {line}\n" for line in _HINTS[directory])
    return (f"-- {directory}/{file_name}: {title}\n"
            f"-- Created by `ddlkit new` on {today.isoformat()}.\n"
            f"{hints}"
            "\n")


def applied_after(directory: str, file_name: str, applied: Iterable[str]) -> list[str]:
    """Tracker rows of ``directory`` that ``sort -V`` after the new file: on a
    fresh database it would run before them, on this one after them."""
    if directory in UNTRACKED:
        return []
    key = version_key(file_name)
    prefix = f"{directory}/"
    later = [r for r in applied if r.startswith(prefix) and "/" not in r[len(prefix):]
             and r[len(prefix):] and not r[len(prefix):].startswith(".")
             and version_key(r[len(prefix):]) > key]
    return version_sorted(later)


@dataclass(frozen=True)
class NewFile:
    path: Path
    directory: str
    file_name: str
    checked: str | None  # the target whose tracker was checked; None when offline
    warning: str | None  # why the order was not checked
    same_name: list[str] = field(default_factory=list)  # files of the directory already named like it

    @property
    def warnings(self) -> list[str]:
        out = [self.warning] if self.warning else []
        if self.same_name:
            out.append(f"{', '.join(self.same_name)} already has the name {self.file_name.split('_', 1)[-1]!r}: "
                       f"created {self.directory}/{self.file_name} anyway (delete it if it was a mistake)")
        return out

    def to_dict(self) -> dict:
        return {"outcome": "ok", "path": str(self.path), "file": f"{self.directory}/{self.file_name}",
                "checked_against": self.checked, "warning": self.warning, "warnings": self.warnings}


def plan_new(root: Path, directory: str, name: str, number: str | None = None) -> tuple[Path, str]:
    """Where the file goes; refuses a tree root that does not exist."""
    if directory not in DIRECTORIES:
        raise InputError(f"--dir must be one of {', '.join(DIRECTORIES)}, not {directory!r}")
    if not root.is_dir():
        raise InputError(f"ddl directory not found: {root} (create a project with 'ddlkit init', "
                         f"or pass --ddl-dir)")
    folder = root / directory
    existing = os.listdir(folder) if folder.is_dir() else []
    file_name = next_file_name(existing, name, number)
    return folder / file_name, file_name


def same_name(folder: Path, file_name: str) -> list[str]:
    """Files of ``folder`` whose name, without its number, is ``file_name``'s."""
    slug = file_name[len(_number_prefix(file_name)):].lstrip("_")
    names = os.listdir(folder) if folder.is_dir() else []
    return [f"{folder.name}/{n}" for n in version_sorted(names)
            if n != file_name and n[len(_number_prefix(n)):].lstrip("_") == slug]


def check_order(directory: str, file_name: str, applied: Iterable[str], where: str, name: str = "") -> None:
    """InputError (exit 2) when the new file would sort before applied files;
    for a numbered directory it names a ``--number`` that sorts after them."""
    later = applied_after(directory, file_name, applied)
    if later:
        import shlex  # noqa: PLC0415

        shown = ", ".join(later[:3]) + (f" and {len(later) - 3} more" if len(later) > 3 else "")
        fix = "choose a name that sorts after them"
        last = _number_prefix(later[-1].rsplit("/", 1)[-1])
        if _number_prefix(file_name) and last:
            number = f"{int(last) + 1:0{len(last)}d}"
            fix = (f"choose a number that sorts after them: ddlkit new {shlex.quote(name or 'NAME')} "
                   f"--number {number}" + ("" if directory == "migrations" else f" --dir {directory}"))
        raise InputError(
            f"{directory}/{file_name} would sort before {shown}, already applied on {where}: a fresh "
            f"database would run it earlier than this one does; {fix}")


def write_new(path: Path, directory: str, file_name: str, name: str, today: dt.date | None = None) -> None:
    """Create the file with its header; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as f:
            f.write(header(directory, file_name, name, today or dt.date.today()))
    except FileExistsError:
        raise InputError(f"{path} already exists") from None


def applied_names(root: Path, database_url: str | None) -> tuple[list[str] | None, str]:
    """The tracker's file names on the target, and the target's display name.
    ``None`` (with the reason) when no target is reachable: then the caller
    only warns. The embedded server is read only if it is already running."""
    import psycopg  # noqa: PLC0415

    from ddlkit.server import server  # noqa: PLC0415
    from ddlkit.db.connection import Target, connect, one_line, resolve_target  # noqa: PLC0415
    from ddlkit.util.errors import ConnectError  # noqa: PLC0415
    from ddlkit.db.tracker import read_tracker  # noqa: PLC0415

    target = resolve_target(database_url, ddl_root=root)
    if target is None:
        server.use_tree(root)
        info = server.status()
        if not info.running:
            return None, "no database is configured and the embedded server is not running"
        target = Target(server.admin_conninfo(info, server.DEFAULT_DATABASE),
                        f"embedded PostgreSQL {info.major}", (), embedded=True)
    try:
        conn = connect(target, connect_timeout=3)
    except ConnectError as exc:
        return None, str(exc)
    try:
        with conn:
            return [r.file_name for r in read_tracker(conn)], target.display
    except psycopg.Error as exc:  # no privilege on the tracker, say: "not checked", like offline
        return None, f"cannot read the tracker on {target.display}: {one_line(target.redact(str(exc)))}"


def new_file(name: str, directory: str = "migrations", *, ddl_dir: str | os.PathLike | None = None,
             database_url: str | None = None, offline: bool = False,
             today: dt.date | None = None, number: str | None = None) -> NewFile:
    """Create the next file of ``directory``. Refuses (InputError, exit 2) a
    name that would sort before files already applied on a reachable target;
    offline, or with no target reachable, the result carries a warning."""
    from ddlkit.tree.tree import resolve_root  # noqa: PLC0415

    root = resolve_root(ddl_dir)
    path, file_name = plan_new(root, directory, name, number)
    checked = warning = None
    if directory not in UNTRACKED:
        applied, where = (None, "--offline") if offline else applied_names(root, database_url)
        if applied is None:
            warning = f"the name was not checked against the files applied on a database ({where})"
        else:
            check_order(directory, file_name, applied, where, name)
            checked = where
    write_new(path, directory, file_name, name, today)
    return NewFile(path, directory, file_name, checked, warning, same_name(path.parent, file_name))
