"""The lint engine for one SQL text: parse, collect statements (top level and
inside DO blocks), parse function bodies, run the enabled rules, apply
``-- ddlkit:ignore`` comments.

Parsing goes through pglast's JSON output (five times cheaper than its
Python node objects); rules read it through :class:`ddlkit.lint.nodes.Node`.
No regular expression ever looks at SQL.
"""

from __future__ import annotations

import functools
from typing import Any

from pglast import parser

from ddlkit.sql.comments import blank_nested_comments
from ddlkit.sql.tokens import comment_body, is_comment
from ddlkit.util.errors import InputError
from ddlkit.lint import bodies as B
from ddlkit.lint import pgast, plpgsql
from ddlkit.lint import registry
from ddlkit.lint.finding import Finding
from ddlkit.lint.nodes import Node, loads, names
from ddlkit.sql.positions import ByteMap, LineIndex, parse_error_offset
from ddlkit.lint.rule import Context, FileContext, Rule, Statement
from ddlkit.lint.state import leave_do_block, track, transactional

SUPPRESS_MARKER = "ddlkit:ignore"
PARSE_ERROR = "parse-error"
SKIPPED = "analysis-skipped"


def parse_statements(text: str, bmap: ByteMap | None = None, to_file=None, do_block: Statement | None = None,
                     index: int = 0) -> list[Statement]:
    """Parse ``text`` (raises parser.ParseError). ``to_file`` maps a character
    offset in ``text`` to the file (identity for the file itself)."""
    bmap = bmap or ByteMap(text)
    data = loads(parser.parse_sql_json(text))
    out = []
    char = bmap.char
    for i, raw in enumerate(data.get("stmts", ())):
        b_start = raw.get("stmt_location", 0)
        b_len = raw.get("stmt_len", 0)
        start = char(b_start)
        end = char(b_start + b_len) if b_len else len(text)
        tag, inner = next(iter(raw["stmt"].items()))
        node = Node(tag, inner)
        if to_file is None:
            mapper = char
            fstart, fend = start, end
        else:
            def mapper(loc: int, _c=char, _f=to_file) -> int:
                return _f(_c(loc))
            fstart, fend = to_file(start), to_file(end)
        out.append(Statement(index if do_block else i, fstart, fend, text[start:end], node, mapper, do_block, tag,
                             b_start if to_file is None else -1))
    return out


class FileLinter:
    def __init__(self, text: str, file: str, *, in_migrations: bool, is_dump: bool, sql_test: bool,
                 rules: frozenset[str], assume_lock_timeout: bool):
        self.text = blank_nested_comments(text)  # same offsets; the parser is quadratic on nested comments
        self._original = text
        self.script_split = None  # a psql script's runner_split (see psql_statements)
        self.file = file
        self.rules = rules
        self.raw: list[tuple[int, str, str, str | None]] = []
        self.body_values: list[B.Body] = []
        self._lines: LineIndex | None = None
        self.bmap = ByteMap(self.text)  # of the text parsed: a blanked nested comment's non-ASCII is gone
        self.flags = dict(in_migrations=in_migrations, is_dump=is_dump, sql_test=sql_test,
                          assume_lock_timeout=assume_lock_timeout)

    @property
    def lines(self) -> LineIndex:
        """The file's line index, built when a position is first needed."""
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a file offset (what ddlkit.sql.sqltext.classify asks of a line index)."""
        return self.lines.position(offset)

    def emit(self, offset: int, rule: str, message: str, hint: str | None = None) -> None:
        if rule in self.rules:
            self.raw.append((max(0, min(offset, len(self.text))), rule, message, hint))

    def run(self) -> list[Finding]:
        try:
            statements = parse_statements(self.text, self.bmap)
            runner_split = None
            if self.text is self._original or self._original.isascii():  # else a blanked nested comment held
                runner_split = functools.partial(pgast.from_parse, statements, self.bmap.char)  # non-ASCII
        except parser.ParseError as exc:
            statements = self.psql_statements(exc)
            runner_split = self.script_split
            if statements is None:
                return self.finish()
        fctx = FileContext(file=self.file, text=self.text, statements=statements,
                           transactional=functools.partial(transactional, self.text, statements, lines=self),
                           line_of=lambda off: self.lines.position(off)[0], emit=self.emit,
                           lines=lambda: self.lines, **self.flags)
        fctx.runner_split = runner_split  # (self.bmap would not be the parsed text's: the rule splits again)
        by_kind, every = _dispatch(self.rules)
        contexts: dict[str, Context] = {}  # one per rule that meets a statement of its kinds
        for st in statements:
            if st.kind in ("CreateFunctionStmt", "DoStmt"):
                fb = self.function_body(st)
                if fb is not None:
                    fctx.bodies[st.start] = fb
            self.check(st, fctx, by_kind.get(st.kind, every), contexts)
            if st.kind == "DoStmt" and st.start in fctx.bodies:
                for inner in self.do_statements(st, fctx.bodies[st.start]):
                    self.check(inner, fctx, by_kind.get(inner.kind, every), contexts)
                leave_do_block(fctx)
        for rule in registry.all_rules().values():
            if rule.finish is not None and rule.id in self.rules:
                rule.finish(fctx)
        return self.finish()

    def psql_statements(self, exc: parser.ParseError) -> list[Statement] | None:
        """A file written for psql (the runner reads it as psql does, see
        :mod:`ddlkit.sql.psqlscript`): the SQL psql would send, parsed with every
        other character (meta-command lines, COPY data) blanked, so offsets stay
        the file's. None, with a ``parse-error`` finding, when it is not such a
        file: a real syntax error, or a psql feature ddlkit cannot honour."""
        from ddlkit.sql import psqlscript, sqltext  # noqa: PLC0415 - only for files that are not plain SQL

        try:
            script = psqlscript.parse_script(self.text, self.file, follow_includes=False, inline_meta=False,
                                             plain_first=False)  # (the whole text's parse just failed)
        except psqlscript.UnsupportedPsql as unsupported:
            self.emit(self.lines.line_start(unsupported.line), PARSE_ERROR,
                      f"{unsupported.what} is not supported; {unsupported.advice}")
            return None
        except sqltext.SqlSyntaxError as script_error:
            # where psql's reading (the runner's, verify's) finds the error: each statement parsed as
            # psql sends it. The whole text's parse may stop elsewhere: at a meta-command, or, for a
            # statement nested too deeply, a few tokens earlier (the earlier statements are on the
            # parser's stack too), or with no position at all
            self.emit(script_error.offset, PARSE_ERROR, f"SQL does not parse: {script_error.message}")
            return None
        except InputError:
            script = None
        if script is not None:
            text = _mask(self.text, script.statements)
            try:
                bmap = ByteMap(text)
                parsed = parse_statements(text, bmap)
            except parser.ParseError as script_exc:
                exc = script_exc  # the SQL psql would send has the error (the masked text keeps the file's offsets)
            else:
                self.script_split = functools.partial(pgast.from_script, script.statements, parsed, text, bmap.char)
                return parsed
        self.emit(parse_error_offset(exc, len(self.text.rstrip())), PARSE_ERROR,
                  f"SQL does not parse: {exc.args[0]}")
        return None

    def check(self, st: Statement, fctx: FileContext, rules: tuple[Rule, ...], contexts: dict) -> None:
        """Run ``rules`` (the statement kind's, from :func:`_dispatch`) on ``st``."""
        node = st.node
        for rule in rules:
            ctx = contexts.get(rule.id)
            if ctx is None:
                ctx = contexts[rule.id] = Context(rule, st, fctx)
            else:
                ctx.stmt = st
            rule.check(node, ctx)
        track(st, fctx)

    # -- bodies -------------------------------------------------------------

    def function_body(self, st: Statement) -> B.FunctionBody | None:
        node = st.node
        if st.kind == "DoStmt":
            opt = B.as_option(node.args)
            value = B.as_value(opt) if opt is not None else None
            if value is None or B.function_language(node.args, "plpgsql") != "plpgsql":
                return None
            loc = opt.data.get("arg_location", -1)
            body = B.locate_body(self.text, st.to_file(loc) if loc >= 0 else None, value)
            fb = B.FunctionBody("DO block", "plpgsql", body)
            self.body_values.append(body)
            self.parse_plpgsql(st, fb, None)
            return fb
        what = B.describe(bool(node.is_procedure), node.funcname)
        params = frozenset(p.data["name"] for p in node.parameters or () if p.data.get("name"))
        fname = names(node.funcname)[-1:]
        if node.sql_body is not None:  # BEGIN ATOMIC … END, or RETURN expr: parsed with the statement
            return B.FunctionBody(what, "sql", None, params, fname)
        language = B.function_language(node.options, "sql")
        opt = B.as_option(node.options)
        value = B.as_value(opt) if opt is not None else None
        if value is None or language not in ("sql", "plpgsql"):
            return None
        loc = opt.data.get("arg_location", -1)
        body = B.locate_body(self.text, st.to_file(loc) if loc >= 0 else None, value)
        self.body_values.append(body)
        fb = B.FunctionBody(what, language, body, params, fname)
        if language == "sql":
            try:
                parser.parse_sql_json(value)
            except parser.ParseError as exc:
                self.emit(body.to_file(parse_error_offset(exc, len(value.rstrip()))), PARSE_ERROR,
                          f"body of {what} does not parse: {exc.args[0]}")
        else:
            self.parse_plpgsql(st, fb, node)
        return fb

    def parse_plpgsql(self, st: Statement, fb: B.FunctionBody, node: Node | None) -> None:
        if PARSE_ERROR not in self.rules and not self.rules - {PARSE_ERROR, SKIPPED} and node is not None:
            return
        body = fb.body
        rel = (body.quote_start - st.start, body.quote_end - st.start) if body.offsets is not None else None
        tree, error, skipped = plpgsql.parse_plpgsql(st.text, fb, node, rel)
        if error is not None:
            self.emit(body.quote_start, PARSE_ERROR, f"PL/pgSQL body of {fb.what} does not parse: {error}")
        elif skipped is not None:
            fb.skipped = skipped
            self.emit(body.quote_start, SKIPPED,
                      f"PL/pgSQL body of {fb.what} not analysed: it needs the database catalog ({skipped})")
        fb.plpgsql_raw = tree

    def do_statements(self, st: Statement, fb: B.FunctionBody) -> list[Statement]:
        """The SQL statements a DO block runs (PL/pgSQL's execsql), located in the file."""
        out: list[Statement] = []
        for expr in fb.exprs():
            if expr.mode != B.RAW_PARSE_DEFAULT or expr.parent != "PLpgSQL_stmt_execsql":
                continue
            try:
                out.extend(parse_statements(expr.query, None, expr.to_file, st, st.index))
            except parser.ParseError:
                continue  # PL/pgSQL already vouched for the syntax; nothing to add
        return out

    # -- output -------------------------------------------------------------

    def finish(self) -> list[Finding]:
        suppressed = self.suppressions() if self.raw and SUPPRESS_MARKER in self.text else {}
        out = []
        seen = set()
        rules = registry.all_rules()
        for offset, rule, message, hint in self.raw:
            line, col = self.lines.position(offset)
            if suppressed and rule in suppressed.get(line - 1, ()):
                continue
            key = (line, col, rule, message)
            if key in seen:
                continue
            seen.add(key)
            out.append(Finding(self.file, line, col, rules[rule].severity, rule, message, hint))
        out.sort(key=lambda f: (f.line, f.col, f.rule, f.message))
        return out

    def suppressions(self) -> dict[int, set[str]]:
        """line -> rule ids named by ``-- ddlkit:ignore`` comments on it (aliases expanded)."""
        out: dict[int, set[str]] = {}
        sources: list[tuple[str, Any]] = [(self.text, None)]
        sources += [(b.value, b.to_file) for b in self.body_values if SUPPRESS_MARKER in b.value]
        for source, to_file in sources:
            try:
                tokens = parser.scan(source)
            except Exception:  # noqa: BLE001 - an unscannable text has no usable comments
                continue
            for tok in tokens:
                if not is_comment(tok):
                    continue
                start = tok.start  # the scanner's offsets are characters
                body = comment_body(source, tok).strip()
                if not body.startswith(SUPPRESS_MARKER):
                    continue
                ids = body[len(SUPPRESS_MARKER) :].replace(",", " ").split()
                line = self.lines.position(start if to_file is None else to_file(start))[0]
                bucket = out.setdefault(line, set())
                for name in ids:
                    bucket.update(registry.expand(name) or {name})
        return out


def _mask(text: str, statements: list) -> str:
    """``text`` with only ``statements`` kept (each followed by a ';'), every
    other character a space, newlines kept: same offsets and lines."""
    pieces, at = [], 0
    for st in statements:
        if st.start < at:  # overlapping (never for one file's statements): character by character
            masked = [ch if ch == "\n" else " " for ch in text]
            for st in statements:
                masked[st.start:st.end] = text[st.start:st.end]
                if st.end < len(masked):
                    masked[st.end] = ";"
            return "".join(masked)
        pieces += [_blank(text[at:st.start]), text[st.start:st.end]]
        at = st.end
        if at < len(text):
            pieces.append(";")
            at += 1
    pieces.append(_blank(text[at:]))
    return "".join(pieces)


def _blank(text: str) -> str:
    """``text`` as spaces, its newlines kept (same offsets and lines)."""
    return "\n".join(" " * len(line) for line in text.split("\n"))


@functools.lru_cache(maxsize=16)
def _dispatch(enabled: frozenset[str]) -> tuple[dict[str, tuple[Rule, ...]], tuple[Rule, ...]]:
    """statement kind -> the enabled rules that check it (its own, then those
    of every kind), and the rules of every kind (for any other statement kind)."""
    by_kind: dict[str, list[Rule]] = {}
    every: list[Rule] = []
    for rule in registry.all_rules().values():
        if rule.id not in enabled or rule.check is None:
            continue
        if rule.kinds is None:
            every.append(rule)
        else:
            for kind in rule.kinds:
                by_kind.setdefault(kind, []).append(rule)
    return {kind: (*rules, *every) for kind, rules in by_kind.items()}, tuple(every)


_PG_DUMP_HEADERS = ("-- PostgreSQL database dump", "-- PostgreSQL database cluster dump")


def is_pg_dump(text: str) -> bool:
    """pg_dump (or pg_dumpall) output, recognised by the comment header it
    writes before anything else: ``--`` / ``-- PostgreSQL database dump`` /
    ``--``, whatever the file is called."""
    for line in text[:2000].splitlines()[:12]:
        line = line.strip()
        if line in _PG_DUMP_HEADERS:
            return True
        if line and not line.startswith(("--", "\\")):
            return False  # SQL came first: not a dump's header
    return False


def lint_text(text: str, *, file: str = "<sql>", in_migrations: bool = False, sql_test: bool = False,
              is_dump: bool = False, rules: Any = None, assume_lock_timeout: bool = False) -> list[Finding]:
    """Lint one SQL text; findings come back ordered by position.

    ``in_migrations``: the file is under ``migrations/``. ``is_dump``: it is a
    schema dump (under ``schema_dump/`` or named as one), run once, not a
    migration; pg_dump output is recognised by its header whatever its name. ``sql_test``: a ``ddl/tests`` file, which ``ddlkit test`` runs
    in a transaction that is always rolled back: the rules about production
    tables and re-runs do not apply. ``rules``: ids to run (default: every
    default rule)."""
    enabled = registry.enabled() if rules is None else frozenset(rules)
    is_dump = is_dump or is_pg_dump(text)
    if sql_test:
        all_rules = registry.all_rules()
        enabled = frozenset(r for r in enabled if all_rules[r].in_sql_tests)
    return FileLinter(text, file, in_migrations=in_migrations, is_dump=is_dump, sql_test=sql_test, rules=enabled,
                      assume_lock_timeout=assume_lock_timeout).run()
