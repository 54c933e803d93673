"""The ddl tree: which files, in which order, with which checksum.

The contract is pg_migrate.sh's, to the byte: directories ``utils``,
``migrations``, ``functions``, ``preflight`` (preflight skipped in test mode),
``*.sql`` directly inside each ordered like GNU ``sort -V``, ``file_name`` =
``<dir>/<file>``, and md5 over the file with the bytes ``[:space:]`` deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ddlkit.util.errors import InputError
from ddlkit.util.files import not_regular
from ddlkit.util.versort import version_sorted

if TYPE_CHECKING:  # the parser loads on the first parse: a run with nothing pending never needs it
    from ddlkit.sql import psqlscript, sqltext

DIRECTORIES = ("utils", "migrations", "functions", "preflight")
TEST_MODE_SKIPPED = ("preflight",)
_WHITESPACE = b" \t\n\v\f\r"  # what `tr -d "[:space:]"` deletes in the C/UTF-8 locales


class UnreadableText(InputError):
    """A file whose bytes cannot be SQL text (exit 2 for migrate; a finding for verify and lint)."""

    def __init__(self, file_name: str, line: int, col: int, reason: str):
        self.line, self.col, self.reason = line, col, reason
        super().__init__(f"{file_name}:{line}:{col}: {reason}")


class NotUtf8(UnreadableText):
    def __init__(self, file_name: str, line: int, col: int, byte: int):
        super().__init__(file_name, line, col, f"file is not UTF-8 (byte 0x{byte:02x})")


class NulByte(UnreadableText):
    def __init__(self, file_name: str, line: int, col: int):
        super().__init__(file_name, line, col, "file contains a NUL byte")


def whitespace_free_md5(data: bytes) -> str:
    """``tr -d "[:space:]" < file | md5sum``: lowercase hex; non-ASCII bytes stay."""
    return _md5()(data.translate(None, _WHITESPACE)).hexdigest()


def _md5():
    """CPython's own MD5 (``_md5``): about 6 ms less start-up than ``hashlib``
    (OpenSSL's initialisation), and faster on small files; ``hashlib.md5``
    where the interpreter is built without it. Same digest either way."""
    global _MD5
    if _MD5 is None:
        try:
            from _md5 import md5 as _MD5  # noqa: PLC0415
        except ImportError:  # pragma: no cover - builds without the builtin hashes
            from hashlib import md5 as _MD5  # noqa: PLC0415
    return _MD5


_MD5 = None


def env_test_mode(environ: dict[str, str] | os._Environ = os.environ) -> bool:
    return environ.get("PG_MIGRATE_TEST_MODE", "") == "true"


class _computed_once:
    """``functools.cached_property`` without its per-instance lock (Python 3.11
    takes one at each first access: 6,000 of them, about 4 ms, in a 3,000-file
    no-op). Computing twice under a race gives the same value; caches in the
    instance ``__dict__``, so later reads do not call this at all."""

    def __init__(self, fn):
        self.fn, self.name, self.__doc__ = fn, fn.__name__, fn.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


@dataclass(frozen=True)
class DdlFile:
    directory: str
    name: str
    location: Path | str  # as given; ``path`` is it as a Path (built when asked: a no-op reads 3,000 files)
    data: bytes = field(repr=False)
    include_root: Path | None = field(default=None, repr=False, compare=False)  # default: the tree root

    @cached_property
    def path(self) -> Path:
        return self.location if isinstance(self.location, Path) else Path(self.location)

    @_computed_once
    def file_name(self) -> str:  # asked several times per file by a plan of 3,000
        return f"{self.directory}/{self.name}"

    @property
    def stem(self) -> str:
        return self.name[: -len(".sql")]

    @property
    def failable(self) -> bool:
        return "failable" in self.name

    @_computed_once
    def md5(self) -> str:
        return whitespace_free_md5(self.data)

    @_computed_once
    def tokens_md5(self) -> str | None:
        """The file's token fingerprint (:func:`ddlkit.sql.tokens.data_fingerprint`), computed
        once: the runner may compute it ahead, while it waits for something else."""
        from ddlkit.sql.tokens import data_fingerprint  # noqa: PLC0415 - the scanner loads only when asked

        return data_fingerprint(self.data)

    @cached_property
    def text(self) -> str:
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, col = self._line_col(exc.start)
            raise NotUtf8(self.file_name, line, col, self.data[exc.start]) from None
        nul = self.data.find(b"\0")
        if nul >= 0:
            # The parser stops at a NUL (C strings): what follows would be silently dropped.
            line, col = self._line_col(nul)
            raise NulByte(self.file_name, line, col)
        from ddlkit.sql.psqlscript import without_bom  # noqa: PLC0415

        return without_bom(text)  # psql skips an editor's byte order mark (the checksum keeps it)

    def _line_col(self, byte_offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of a byte offset whose prefix is valid UTF-8."""
        from ddlkit.sql.positions import byte_position  # noqa: PLC0415

        return byte_position(self.data, byte_offset)

    @cached_property
    def lines(self) -> sqltext.LineIndex:
        from ddlkit.sql import sqltext  # noqa: PLC0415

        return sqltext.LineIndex(self.text)

    @cached_property
    def script(self) -> psqlscript.Script:
        """What psql would send for this file (meta-commands resolved, COPY data
        attached). ``\\i`` paths are relative to the tree root."""
        from ddlkit.sql import psqlscript, sqltext  # noqa: PLC0415

        try:
            root = self.include_root or self.path.parent.parent
            return psqlscript.parse_script(self.text, self.file_name, root=root)
        except sqltext.SqlSyntaxError as exc:
            if self.failable and type(exc) is sqltext.SqlSyntaxError:
                # psql ran it up to the statement the server refused; the script ignored the error
                script = psqlscript.parse_to_syntax_error(self.text, self.file_name, exc, root=root)
                if script is not None:
                    return script
            raise exc.input_error(self.file_name, self.text) from None

    @property
    def statements(self) -> list[sqltext.Statement]:
        return self.script.statements

    @cached_property
    def mode(self) -> sqltext.TxnMode:
        from ddlkit.sql import sqltext  # noqa: PLC0415

        mode = sqltext.classify(self.text, self.statements, self.lines)
        refused = self.script.refused
        if refused is not None:  # only a failable file's script is cut so
            line = self.lines.position(refused.start)[0]
            return sqltext.TxnMode(False, "failable file: statement by statement, as psql ran it, until the "
                                          "statement that does not parse (the server refuses it, the error is "
                                          "ignored, nothing after it runs)", line=line)
        if mode.transactional and self.failable:
            # pg_migrate.sh ran it through psql: each statement commits, the first error stops it.
            return sqltext.TxnMode(False, "failable file: statement by statement, as psql ran it")
        return mode

    def csv_files(self, root: Path) -> list[Path]:
        """``<root>/data/<stem>/*.csv``, staged into ``temp_<csv stem>`` tables."""
        folder = os.path.join(root, "data", self.stem)  # asked 3 times per pending file: no Path unless needed
        if not os.path.isdir(folder):
            refuse_non_directory(folder, f"data/{self.stem}")
            return []
        folder = Path(folder)
        names = [p.name for p in folder.iterdir() if p.name.endswith(".csv") and not p.name.startswith(".")]
        for n in names:
            refuse_non_regular(folder / n, f"data/{self.stem}/{n}", "every *.csv there is staged")
        return [folder / n for n in version_sorted(names)]


def _tree_file(directory: str, name: str, location: str, data: bytes, _new=object.__new__) -> DdlFile:
    """``DdlFile(directory, name, location, data)`` with its ``file_name``, built
    without the frozen dataclass's ``__init__`` (an ``object.__setattr__`` per
    field): a no-op reads 3,000 of them. Equal to the one the constructor builds."""
    f = _new(DdlFile)
    f.__dict__.update(directory=directory, name=name, location=location, data=data, include_root=None,
                      file_name=f"{directory}/{name}")
    return f


@dataclass(frozen=True)
class Tree:
    root: Path
    files: tuple[DdlFile, ...]
    test_mode: bool
    present: frozenset[str] = frozenset()  # every <dir>/<file>.sql on disk, skipped ones too

    def validate(self, files: "Iterable[DdlFile] | None" = None) -> None:
        """Refuse bad input before anything runs: each file (default: all) must
        be UTF-8 and parse as a psql script. Raises InputError naming file:line:col.
        Commands that touch a database validate only the pending files: an
        applied file is never parsed (it may hold what psql ran years ago)."""
        for f in self.files if files is None else files:
            f.mode  # noqa: B018 - decodes, parses and classifies

    def test_mode_view(self) -> "Tree":
        """The same tree without the directories test mode skips (no re-reading)."""
        files = tuple(f for f in self.files if f.directory not in TEST_MODE_SKIPPED)
        return Tree(self.root, files, True, self.present)


def refuse_non_regular(path: str | os.PathLike, shown: str, what: str) -> None:
    """A ``*.sql`` (or staged ``*.csv``) that is not a regular file (a directory, a
    FIFO: psql failed on one and hung on the other) is an InputError, never skipped:
    skipping it would be exit 0 with a file never applied. Symlinks are followed."""
    kind = not_regular(path)
    if kind:
        raise InputError(f"{shown}: not a regular file (a {kind}); {what}: remove it or rename it")


def refuse_non_directory(folder: str | os.PathLike, shown: str) -> None:
    """Called when ``folder`` is not a directory: it is fine when nothing is there,
    an InputError when something is (a broken link, a file). Never skipped: the
    script failed on it, and skipping it would be exit 0 with its files not applied."""
    if os.path.islink(folder) and not os.path.exists(folder):
        raise InputError(f"{shown}: broken symbolic link (to {os.readlink(folder)})")
    if os.path.lexists(folder):
        raise InputError(f"{shown}: not a directory (a {not_regular(folder) or 'file'})")


def resolve_root(ddl_dir: str | os.PathLike | None, environ=os.environ) -> Path:
    """``--ddl-dir``, else ``$DDLKIT_DDL_DIR``, else ``./ddl``; but when there is
    no ``./ddl`` and the current directory itself holds ``migrations/`` (or
    another tree directory), the current directory is the tree
    (``cd ddl && ddlkit migrate``, as the script was called)."""
    raw = ddl_dir or environ.get("DDLKIT_DDL_DIR")
    if raw:
        return Path(raw)
    if not Path("ddl").is_dir() and any(Path(d).is_dir() for d in DIRECTORIES):
        return Path(".")
    return Path("ddl")


def project_root(root: Path) -> Path:
    """The directory that holds the tree: where ``schema_dump/`` and ``.ddlkit/`` live."""
    return Path(os.path.abspath(root)).parent


# Below malloc's mmap threshold (128 KiB): os.read allocates the chunk before it
# shrinks it to what was read, and a 1 MiB chunk is an mmap of its own each time,
# which cost a 3,000-file no-op 35 ms more CPU than this size.
_CHUNK = 1 << 16


def _read(name: str, dir_fd: int | None = None) -> bytes:
    """The file's bytes: os.read on a descriptor, half the time of Path.read_bytes;
    ``name`` relative to the open directory ``dir_fd`` (no path walk per file).
    A read of a regular file returns fewer bytes than asked only at its end
    (Linux lets only a fatal signal interrupt it part-way; before any byte, Python
    retries), so a file smaller than a chunk takes one read, not a second one to
    see the end: three system calls per file instead of four, 3,000 fewer in a no-op."""
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
    try:
        chunk = os.read(fd, _CHUNK)
        if len(chunk) < _CHUNK:
            return chunk
        chunks = [chunk]
        while chunk := os.read(fd, _CHUNK):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _open_dir(folder: Path) -> int | None:
    """A descriptor of ``folder`` to open its files relative to, where the platform has ``dir_fd``."""
    if os.open not in os.supports_dir_fd:
        return None
    return os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))


def load_tree(root: Path, *, test_mode: bool = False) -> Tree:
    """Read the tree. A missing root, or one with no ``*.sql`` in any of the
    four directories, is an InputError; a missing directory is fine."""
    if not root.is_dir():
        raise InputError(f"ddl directory not found: {root} (create a project with 'ddlkit init', "
                         f"or pass --ddl-dir)")
    files: list[DdlFile] = []
    present: set[str] = set()
    for directory in DIRECTORIES:
        folder = root / directory
        if not folder.is_dir():
            refuse_non_directory(folder, directory)
            continue
        try:  # scandir: the file type comes with the entry, one stat per file saved (a no-op reads 3,000)
            with os.scandir(folder) as it:
                entries = [e for e in it if e.name.endswith(".sql") and not e.name.startswith(".")]
        except OSError as exc:
            raise InputError(f"{folder}: cannot list the directory: {exc.strerror or exc}") from None
        for e in entries:
            n = e.name
            try:
                n.encode("utf-8")
            except UnicodeEncodeError as exc:  # os.listdir keeps undecodable bytes as surrogates
                shown = os.fsencode(n).decode("utf-8", "backslashreplace")
                raise InputError(f"{directory}/{shown}: the file name is not UTF-8 (byte 0x{ord(n[exc.start]) - 0xdc00:02x}); "
                                 f"the tracker stores names as text: rename the file") from None
            if e.is_symlink() and not os.path.exists(e.path):
                raise InputError(f"{directory}/{n}: broken symbolic link (to {os.readlink(e.path)})")
            if not e.is_file():
                refuse_non_regular(e.path, f"{directory}/{n}", "every *.sql in the tree is a migration")
        names = [e.name for e in entries if e.is_file()]
        present.update(f"{directory}/{n}" for n in names)
        if test_mode and directory in TEST_MODE_SKIPPED:
            continue
        base = os.path.join(os.fspath(folder), "")
        try:
            dir_fd = _open_dir(folder)
        except OSError as exc:
            raise InputError(f"{folder}: cannot open the directory: {exc.strerror or exc}") from None
        try:
            for name in version_sorted(names):
                try:
                    data = _read(name, dir_fd) if dir_fd is not None else _read(base + name)
                except OSError as exc:
                    raise InputError(f"{directory}/{name}: cannot read the file: {exc.strerror or exc}") from None
                files.append(_tree_file(directory, name, base + name, data))
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
    if not present:
        raise InputError(f"ddl directory {root} has no *.sql files in {', '.join(DIRECTORIES)}")
    return Tree(root, tuple(files), test_mode, frozenset(present))
