"""Reading a ``.env`` file as pg_migrate.sh's ``source`` did, without executing it.

A ``.env`` file in the ddl directory supplies the variables the environment
lacks (ddlkit.db.resolve); its values are read as bash reads them, and an
unreadable or non-UTF-8 file is an error, never skipped.
"""

from __future__ import annotations

from pathlib import Path

from ddlkit.util.errors import InputError
from ddlkit.util.files import read_regular


def read_dotenv(path: Path) -> dict[str, str]:
    """A small, safe reader for ``KEY=VALUE`` lines (``export`` and quotes
    allowed). Nothing is executed, unlike ``source``."""
    out: dict[str, str] = {}
    try:
        data = read_regular(path)  # a FIFO would block path.read_bytes() for ever
    except FileNotFoundError:
        return out
    except OSError as exc:
        # An unreadable .env is never skipped: ddlkit would migrate another database.
        raise InputError(f"{path}: cannot read the .env file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}:{line}: the .env file is not UTF-8 (byte 0x{data[exc.start]:02x}); "
                         f"it is never skipped, save it as UTF-8") from None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            continue
        out[key] = _dotenv_value(value.strip(), f"{path}:{lineno}", key)
    return out


def _dotenv_value(value: str, where: str, key: str) -> str:
    """A value as bash reads it when the script sourced the file: quoted and
    unquoted parts joined (``'…'`` literal, ``"…"`` with ``\\"``, ``\\\\``, ``\\$`` and
    ``\\` `` escapes, a backslash outside quotes escaping the next character), and a
    ``#`` after a space starting a comment (``PGDATABASE=app  # prod``). Nothing is
    expanded: ``$NAME`` stays as written."""
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c in " \t":
            rest = value[i:].lstrip()
            if rest and not rest.startswith("#"):
                raise InputError(f"{where}: a space in the unquoted value of {key}: bash reads what follows "
                                 f"as a command, not as part of the value (quote the value)")
            break
        if c == "\\":
            out.append(value[i + 1: i + 2])
            i += 2
        elif c == "'":
            end = value.find("'", i + 1)
            if end < 0:
                raise InputError(f"{where}: unterminated ' quote in the value of {key} (close it on the same line)")
            out.append(value[i + 1: end])
            i = end + 1
        elif c == '"':
            j, part = i + 1, []
            while j < n and value[j] != '"':
                if value[j] == "\\" and j + 1 < n and value[j + 1] in '"\\$`':
                    j += 1
                part.append(value[j])
                j += 1
            if j >= n:
                raise InputError(f"{where}: unterminated \" quote in the value of {key} (close it on the same line)")
            out.append("".join(part))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)
