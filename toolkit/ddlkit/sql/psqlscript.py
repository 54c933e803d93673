"""A migration as ``psql -v ON_ERROR_STOP=1 < file`` reads it.

pg_migrate.sh fed every file to psql, so real files hold what psql handles
itself. :func:`parse_script` turns a file into the statements psql would send
to the server:

* A **meta-command** is a backslash outside quotes, dollar quotes and comments.
  Token positions come from PostgreSQL's own scanner (``pglast.parser.scan``);
  the command runs to the end of its line, as in psql. It must stand where a
  statement may start (psql would otherwise mix it into the statement).
* Meta-commands that need no database are honoured as psql does (:data:`HONOURED`):
  ``\\echo``/``\\qecho``/``\\warn`` text becomes output printed when the script reaches it,
  ``\\q`` ends the script, ``\\i``/``\\ir`` include another file's text, the others
  (``\\timing``, ``\\pset``, ``\\x``, ``\\set``, ``\\conninfo``, ``\\restrict`` …) only
  change psql's display and are no-ops here.
* Everything else (``\\copy``, ``\\gexec``, ``\\connect``, ``\\if``, ``:'var'``
  interpolation …) raises :class:`UnsupportedPsql` (exit 2) naming file:line and what to do instead.
* ``COPY … FROM stdin``: the lines after the statement, up to a line ``\\.``
  (or the end of the file), are its data (:attr:`sqltext.Statement.copy_data`).
  ``COPY … TO STDOUT`` is refused: a migration's output is not a data channel.

Include paths: ``\\i`` is relative to the tree root (the script ran from the
ddl directory, ``cd ddl && pg_migrate.sh``); ``\\ir`` is relative to the file
that holds it (at the top level the two are the same directory in psql, since
it read the file from stdin; here ``\\ir`` in a top-level file is relative to
the tree root too). Absolute paths are used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pglast import ast, parser

from ddlkit.sql import nonstandard, psqlstops, sqltext
from ddlkit.sql.comments import blank_nested_comments
from ddlkit.util.errors import InputError
from ddlkit.util.files import read_regular
from ddlkit.sql.psqlmeta import (HONOURED, INCLUDE, OUTPUT, QUIT, UnsupportedPsql, advice, echo_text,
                             meta_name, separator, turns_off_on_error_stop)

_MAX_INCLUDE_DEPTH = 16


@dataclass(frozen=True)
class Source:
    """The text statements come from: the file itself or a file it includes."""

    label: str
    text: str
    path: Path | None = None
    included: bool = False

    @cached_property
    def lines(self) -> sqltext.LineIndex:
        return sqltext.LineIndex(self.text)


@dataclass
class Script:
    statements: list[sqltext.Statement]
    output: list[str]  # \echo text after the last statement
    meta: list[tuple[int, str]]  # (line, name) of every honoured meta-command in the file itself
    refused: sqltext.Statement | None = None  # a failable file's statement that does not parse (its last)


@dataclass
class _State:
    root: Path | None
    variables: set[str]
    statements: list[sqltext.Statement]
    pending_output: list[str]
    meta: list[tuple[int, str]]
    quit: bool = False
    follow_includes: bool = True
    values: dict[str, str] = field(default_factory=dict)  # \\set variables, for \\echo
    inline_meta: bool = True  # an unquoted backslash in a meta-command's arguments starts the next one





_BOM = "\ufeff"


def without_bom(text: str) -> str:
    """psql skips a UTF-8 byte order mark at the start of a file (an editor's, on
    Windows): it is read as a space here, so every offset, line and column stays
    the file's."""
    return " " + text[1:] if text.startswith(_BOM) else text


def parse_script(text: str, label: str, *, root: Path | None = None, path: Path | None = None,
                 follow_includes: bool = True, inline_meta: bool = True, plain_first: bool = True) -> Script:
    """Statements psql would send for ``text``. Raises :class:`sqltext.SqlSyntaxError`
    (offset in ``text``) for SQL that does not parse, :class:`UnsupportedPsql` for
    meta-commands ddlkit cannot honour, InputError for a missing include.

    ``inline_meta=False`` is lint's reading: a meta-command's arguments run to the
    end of its line (only ``\\\\`` ends them), so the body of an extension script
    after its ``\\echo … \\quit`` guard is linted, though psql never runs it.

    A file that sets ``standard_conforming_strings = off`` is split as psql
    splits it (:mod:`ddlkit.sql.nonstandard`); its statements keep their text.

    ``plain_first=False``: the caller's own parse of ``text`` as plain SQL failed
    (lint's), so it is read as a script at once, without a second plain parse and
    the syntax error (passwords withheld) it would build and drop."""
    text = without_bom(text)
    scanned = nonstandard.scanner_text(text)
    if scanned is not text:
        script = _parse_script(scanned, label, root=root, path=path, follow_includes=follow_includes,
                               inline_meta=inline_meta)
        script.statements = [st if st.source is not None else
                             st.replace(_text=text[st.start:st.end], _node=st.node) for st in script.statements]
        return script
    return _parse_script(text, label, root=root, path=path, follow_includes=follow_includes,
                         inline_meta=inline_meta, plain_first=plain_first)


def parse_to_syntax_error(text: str, label: str, error: sqltext.SqlSyntaxError, *,
                          root: Path | None = None, path: Path | None = None) -> Script | None:
    """What psql sent for a *failable* file whose SQL does not parse: the statements
    before the one that holds ``error``, then that statement as psql's lexer cut it (from
    the previous ';' or meta-command line to its own ';'), sent as it is for the server to
    refuse (SQLSTATE 42601). psql stopped there (ON_ERROR_STOP) and pg_migrate.sh ignored
    the error and recorded the file. None when that statement cannot be told apart (the
    scanner fails, or the file holds COPY data); an error in an included file never
    comes here (it is an InputError)."""
    text = without_bom(text)
    try:
        toks = parser.scan(sqltext.ascii_view(text))
    except parser.ParseError:
        return None
    if any(t.name == "COPY" for t in toks):
        return None  # data lines are no SQL to the scanner
    start, stop = 0, len(text)
    for t in toks:
        if t.start >= error.offset:
            if t.name == "ASCII_59":  # the ';' that ends the refused statement
                stop = t.start
                break
        elif t.name == "ASCII_59":
            start = t.end + 1
        elif t.name == "ASCII_92":  # a meta-command runs to the end of its line
            start = psqlstops.eol(text, t.start)
    start += len(text[start:stop]) - len(text[start:stop].lstrip())  # at its first character, as psql's lexer
    if start > error.offset:
        return None
    try:
        before = parse_script(text[:start], label, root=root, path=path)
    except sqltext.SqlSyntaxError:
        return None  # a meta-command ddlkit cannot honour (UnsupportedPsql) is still refused
    # The statement never gets past the server's parser; an empty SELECT's node stands in
    # for the tree it has none of, so that nothing reading statements (plans, lock
    # warnings, password redaction) needs a case for it.
    refused = sqltext.Statement(len(before.statements), start, stop, text[start:stop],
                                sqltext.parse_sql("select")[0].stmt, output=tuple(before.output))
    return Script([*before.statements, refused], [], before.meta, refused)


def _parse_script(text: str, label: str, *, root: Path | None, path: Path | None,
                  follow_includes: bool, inline_meta: bool = True, plain_first: bool = True) -> Script:
    try:  # plain SQL (most files): psql would send exactly what the server parses
        plain = sqltext.split_sql(text) if plain_first else None
        if plain is not None and not any(st.could_be("copy") and isinstance(st.node, ast.CopyStmt) for st in plain):
            return Script(plain, [], [])
    except sqltext.SqlSyntaxError:
        pass
    state = _State(root, set(), [], [], [], follow_includes=follow_includes, inline_meta=inline_meta)
    text = blank_nested_comments(text)  # offsets kept; the scanner is quadratic on nested comments
    _parse(text, Source(label, text, path), state, depth=0)
    return Script(state.statements, state.pending_output, state.meta)


def _parse(text: str, src: Source, state: _State, depth: int) -> None:
    pos = 0  # where scanning resumes; always a statement boundary
    seg = 0  # start of the SQL not yet split into statements
    window = psqlstops.WINDOW
    plain = psqlstops.plain_start(text)
    while not state.quit:
        if pos >= plain:  # nothing left that can stop the scan
            _emit_sql(text, seg, len(text), src, state)  # raises the real syntax error, if any
            return
        limit = len(text) if pos + window >= len(text) else psqlstops.eol(text, pos + window)
        tokens, error_at = psqlstops.scan_window(text, pos, limit)
        stop, boundary = psqlstops.find_stop(text, tokens, src, state)
        if stop is None:
            if limit < len(text):  # the window may cut a token: resume at the last boundary
                if boundary is not None and boundary > pos:
                    pos = boundary
                window *= 2
                continue
            _emit_sql(text, seg, len(text), src, state)  # raises the real syntax error, if any
            if error_at is not None:
                raise sqltext.SqlSyntaxError("unterminated quoted string or comment", error_at)
            return
        window = psqlstops.WINDOW
        kind, at, end = stop
        if kind == "meta":
            _emit_sql(text, seg, at, src, state)
            pos = _meta(text, at, src, state, depth)
        else:  # copy: the statement is text[seg:end + 1], its data starts on the next line
            data_start = psqlstops.eol(text, end)
            rest = text[end + 1:data_start].strip()
            if rest and not rest.startswith("--"):
                line = src.lines.position(end)[0]
                raise UnsupportedPsql(src.label, line, "text after COPY … FROM stdin on its line",
                                      "put the data on the lines after the COPY statement")
            data_end, pos = psqlstops.copy_data(text, data_start)
            _emit_sql(text, seg, end + 1, src, state, copy_data=text[data_start:data_end])
        seg = pos
        if pos >= len(text):
            return


def _emit_sql(text: str, start: int, end: int, src: Source, state: _State, copy_data: str | None = None) -> None:
    chunk = text[start:end]
    if not chunk.strip():
        return
    try:
        parsed = sqltext.split_sql(chunk)
    except sqltext.SqlSyntaxError as exc:
        raise sqltext.SqlSyntaxError(exc.message, start + exc.offset) from None
    for i, st in enumerate(parsed):
        is_copy = copy_data is not None and i == len(parsed) - 1
        state.statements.append(st.replace(
            index=len(state.statements), start=start + st.start, end=start + st.end,
            copy_data=copy_data if is_copy else None,
            source=src if src.included else None,
            output=tuple(state.pending_output)))
        state.pending_output.clear()


def _meta(text: str, at: int, src: Source, state: _State, depth: int) -> int:
    """Handle the meta-command at ``at``; return where the script resumes."""
    eol = psqlstops.eol(text, at)
    line_text = text[at:eol].rstrip("\n").rstrip("\r")
    name_full = meta_name(text, at)
    name = name_full[1:]
    args = line_text[len(name_full):]
    resume = eol
    sep = separator(args, inline=state.inline_meta)
    if sep is not None:  # `\\` ends the meta-command and the rest of the line is SQL; `\` starts the next one
        resume = at + len(name_full) + sep + (2 if args.startswith("\\\\", sep) else 0)
        args = args[:sep]
    args = args.strip()
    line = src.lines.position(at)[0]
    if name not in HONOURED:
        raise UnsupportedPsql(src.label, line, f"psql meta-command {name_full}", advice(name))
    if not src.included:
        state.meta.append((line, name_full))
    if name in QUIT:
        state.quit = True
    elif name in ("set", "unset") and turns_off_on_error_stop(name, args, src.label, line, state.values):
        raise UnsupportedPsql(src.label, line, "\\set ON_ERROR_STOP off",
                              f"ddlkit always stops at the first error ('{line_text.strip()}' turns psql's "
                              "ON_ERROR_STOP off); split the file, or use a failable file")
    elif name == "set":
        words = args.split()
        if words:
            state.variables.add(words[0])
            state.values[words[0]] = "".join(words[1:])  # psql concatenates the values
    elif name == "unset":
        for w in args.split():
            state.variables.discard(w)
            state.values.pop(w, None)
    elif name in OUTPUT:
        state.pending_output.append(echo_text(args, src.label, line, state.values))
    elif name in INCLUDE and state.follow_includes:
        _include(args, INCLUDE[name], src, state, depth, line)
    return resume


def _include(args: str, relative: bool, src: Source, state: _State, depth: int, line: int) -> None:
    target = args.strip()
    if len(target) >= 2 and target[0] == target[-1] == "'":
        target = target[1:-1]
    if not target:
        raise InputError(f"{src.label}:{line}: \\i needs a file name")
    base = src.path.parent if (relative and src.included and src.path is not None) else state.root
    path = Path(target) if Path(target).is_absolute() or base is None else base / target
    if depth >= _MAX_INCLUDE_DEPTH:
        raise InputError(f"{src.label}:{line}: includes nest deeper than {_MAX_INCLUDE_DEPTH} (a cycle?)")
    try:
        data = read_regular(path)  # a FIFO would block path.read_bytes() for ever
    except OSError as exc:
        raise InputError(f"{src.label}:{line}: cannot read the included file {path}: {exc.strerror}") from None
    try:
        inc_text = without_bom(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{src.label}:{line}: the included file {path} is not UTF-8") from None
    label = str(path)
    if state.root is not None:
        try:
            label = str(path.resolve().relative_to(state.root.resolve()))
        except ValueError:
            pass
    inc = Source(label, inc_text, path, included=True)
    try:
        _parse(inc_text, inc, state, depth + 1)
    except sqltext.SqlSyntaxError as exc:
        raise exc.input_error(label, inc_text) from None


def split(text: str) -> list[sqltext.Statement]:
    """Statements of ``text``; raises :class:`sqltext.SqlSyntaxError` with the
    0-based offset of the problem. Plain SQL takes the cached parse that verify,
    lint and the runner share (:func:`sqltext.split_sql`); callers must not mutate
    the nodes.

    Text that is not plain SQL is read as psql reads it (without following
    ``\\i``): honoured meta-commands are skipped and COPY data is attached, so a
    file psql ran is not a syntax error. A psql feature ddlkit cannot honour
    raises :class:`sqltext.UnsupportedPsqlSyntax`."""
    try:
        return sqltext.split_sql(text)
    except sqltext.SqlSyntaxError:
        pass
    try:
        return parse_script(text, "<text>", follow_includes=False, inline_meta=False).statements  # lint's reading
    except UnsupportedPsql as exc:
        raise sqltext.UnsupportedPsqlSyntax(f"{exc.what} is not supported; {exc.advice}",
                                            sqltext.LineIndex(text).line_start(exc.line)) from None


def send(conn, st: sqltext.Statement) -> None:
    """Run one statement on ``conn`` as psql sends it: ``COPY … FROM stdin``
    through the COPY protocol with its data lines, anything else as a query."""
    if st.copy_data is None:
        conn.execute(st.text)
        return
    with conn.cursor() as cur, cur.copy(st.text) as copy:
        if st.copy_data:
            copy.write(st.copy_data)
