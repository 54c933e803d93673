"""psql's meta-commands: which ddlkit honours, what to do instead of the
others, and psql's argument rules (``\\echo`` quoting, ``:name``
interpolation, the ``\\\\`` separator). Used by :mod:`ddlkit.sql.psqlscript`."""

from __future__ import annotations

from ddlkit.util.errors import InputError

# No-database meta-commands; psql only changes its display with most of them.
HONOURED = {
    "timing", "pset", "x", "a", "t", "H", "C", "f", "T", "conninfo", "set", "unset", "restrict",
    "unrestrict", "echo", "qecho", "warn", "q", "quit", "errverbose", "r", "reset", "encoding",
    "i", "include", "ir", "include_relative",
}
OUTPUT = {"echo", "qecho", "warn"}
INCLUDE = {"i": False, "include": False, "ir": True, "include_relative": True}
QUIT = {"q", "quit"}
# Variables psql defines itself (or that the script passed with -v): `:NAME` would be interpolated.
PSQL_VARIABLES = {
    "AUTOCOMMIT", "COMP_KEYWORDS", "DBNAME", "ECHO", "ECHO_HIDDEN", "ENCODING", "ERROR", "FETCH_COUNT",
    "HIDE_TABLEAM", "HIDE_TOAST_COMPRESSION", "HISTCONTROL", "HISTFILE", "HISTSIZE", "HOST", "IGNOREEOF",
    "LASTOID", "LAST_ERROR_MESSAGE", "LAST_ERROR_SQLSTATE", "ON_ERROR_ROLLBACK", "ON_ERROR_STOP", "PORT",
    "PROMPT1", "PROMPT2", "PROMPT3", "QUIET", "ROW_COUNT", "SERVER_VERSION_NAME", "SERVER_VERSION_NUM",
    "SHOW_ALL_RESULTS", "SHOW_CONTEXT", "SINGLELINE", "SINGLESTEP", "SQLSTATE", "USER", "VERBOSITY",
    "VERSION", "VERSION_NAME", "VERSION_NUM",
}
_ADVICE = {
    "copy": "use COPY … FROM stdin followed by the data lines and \\., or a CSV in data/<file>/ "
            "(staged as temp_<name>)",
    "gexec": "write a DO block that EXECUTEs each generated statement",
    "gset": "use a DO block with PL/pgSQL variables",
    "c": "a file runs on one database; move this part to that database's own tree",
    "connect": "a file runs on one database; move this part to that database's own tree",
    "if": "use a DO block with IF", "elif": "use a DO block with IF", "else": "use a DO block with IF",
    "endif": "use a DO block with IF",
    "!": "run the command outside the migration", "o": "remove it: ddlkit prints no query output",
    "out": "remove it: ddlkit prints no query output", "cd": "use a path relative to the tree root in \\i",
    "setenv": "remove it", "prompt": "write the value in the file",
    "g": "end the statement with ; instead", "gx": "end the statement with ; instead",
    ".": "a \\. line ends the data of a COPY … FROM stdin; there is no COPY before it",
}
_DEFAULT_ADVICE = "remove it, or write it in SQL"


def advice(name: str) -> str:
    """What to do instead of the meta-command ``\\name``."""
    if name in _ADVICE:
        return _ADVICE[name]
    return "describe commands only print; remove it" if name.startswith("d") else _DEFAULT_ADVICE


class UnsupportedPsql(InputError):
    """A psql feature ddlkit cannot honour (exit 2): ``file:line: …; what to do``."""

    def __init__(self, label: str, line: int, what: str, advice: str):
        self.label, self.line, self.what, self.advice = label, line, what, advice
        super().__init__(f"{label}:{line}: {what} is not supported; {advice}")


def meta_name(text: str, at: int) -> str:
    end = at + 1
    while end < len(text) and not text[end].isspace() and (text[end] != "\\" or end == at + 1):
        end += 1
    return text[at:end]


def separator(args: str, inline: bool = True) -> int | None:
    """Offset of the first backslash outside quotes in a meta-command's
    arguments, or None: psql's arguments end there. ``\\\\`` (two) ends the
    meta-command and SQL follows; one starts the next meta-command on the same
    line (``\\echo Use "CREATE EXTENSION x" to load this file. \\quit``, the
    guard of every PostgreSQL extension script, echoes and quits). ``inline=False``
    (lint's reading): only ``\\\\`` counts."""
    quote, i = "", 0
    while i < len(args):
        ch = args[i]
        if quote:
            if ch == "\\" and quote == "'":  # 'it\'s': an escape inside single quotes
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "\\" and (inline or args.startswith("\\\\", i)):
            return i
        i += 1
    return None


def echo_text(args: str, label: str, line: int, values: dict[str, str] | None = None) -> str:
    """psql's argument rules for \\echo: 'quoted' parts (with '' and \\n), plain words,
    -n, and ``:name`` / ``:'name'`` of a variable the file set."""
    values = values or {}
    words: list[str] = []
    i = 0
    while i < len(args):
        if args[i].isspace():
            i += 1
            continue
        if args[i] == "`":
            raise UnsupportedPsql(label, line, "a backquoted shell command in a psql meta-command",
                                  "write the text itself")
        word = []
        while i < len(args) and not args[i].isspace():
            if args[i] == "'":
                i += 1
                while i < len(args):
                    if args[i] == "'" and i + 1 < len(args) and args[i + 1] == "'":
                        word.append("'")
                        i += 2
                    elif args[i] == "'":
                        i += 1
                        break
                    elif args[i] == "\\" and i + 1 < len(args):
                        word.append({"n": "\n", "t": "\t", "r": "\r"}.get(args[i + 1], args[i + 1]))
                        i += 2
                    else:
                        word.append(args[i])
                        i += 1
            elif args[i] == ":" and (ref := variable_ref(args, i + 1, values)) is not None:
                value, i = ref
                word.append(value)
            else:
                word.append(args[i])
                i += 1
        words.append("".join(word))
    if words and words[0] == "-n":
        words = words[1:]
    return " ".join(words)


def psql_bool(value: str) -> bool | None:
    """psql's ParseVariableBool: a non-empty prefix of true/false/yes/no, on, off
    (or ``of``: ``o`` alone is ambiguous), 1 or 0, in any case; None for a value
    psql rejects (it then keeps the variable's old value)."""
    v, n = value.lower(), len(value)
    if n and "true".startswith(v) or n and "yes".startswith(v) or v == "1" or n >= 2 and "on".startswith(v):
        return True
    if n and "false".startswith(v) or n and "no".startswith(v) or v == "0" or n >= 2 and "off".startswith(v):
        return False
    return None


def turns_off_on_error_stop(name: str, args: str, label: str, line: int, values: dict[str, str]) -> bool:
    """Whether ``\\set``/``\\unset`` with ``args`` makes psql go on past errors:
    ``\\unset ON_ERROR_STOP`` (psql reads an unset boolean as off), or
    ``\\set ON_ERROR_STOP`` to a value psql reads as false (its words de-quoted and
    concatenated, as psql does)."""
    words = args.split(None, 1)
    if not words or words[0] != "ON_ERROR_STOP":
        return False
    if name == "unset":
        return True
    rest = echo_text(words[1], label, line, values).replace(" ", "") if len(words) > 1 else ""
    return psql_bool(rest) is False


def variable_ref(args: str, i: int, values: dict[str, str]) -> tuple[str, int] | None:
    """(interpolated text, end) for ``name`` or ``'name'`` at ``i`` when the file set it."""
    quote = args[i] if i < len(args) and args[i] in "'\"" else ""
    j = i + len(quote)
    k = j
    while k < len(args) and (args[k].isalnum() or args[k] == "_"):
        k += 1
    name = args[j:k]
    if not name or name not in values or (quote and (k >= len(args) or args[k] != quote)):
        return None
    value = values[name]
    if quote == "'":
        value = "'" + value.replace("'", "''") + "'"
    elif quote == '"':
        value = '"' + value.replace('"', '""') + '"'
    return value, k + len(quote)
