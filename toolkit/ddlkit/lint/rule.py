"""What a lint rule is, and what its check receives.

See :mod:`ddlkit.lint.rules` for how to write one. Nothing in here parses:
the engine (:mod:`ddlkit.lint.engine`) builds these objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ddlkit.lint.nodes import Node
from ddlkit.util.enums import StrEnum



class Severity(StrEnum):
    """How much a finding weighs: errors and warnings make ``ddlkit lint`` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"  # informational: never makes `ddlkit lint` exit 1


ERROR, WARNING, NOTE = Severity.ERROR, Severity.WARNING, Severity.NOTE
SEVERITIES = tuple(Severity)


@dataclass
class Rule:
    """One lint rule, declared as ``RULE = Rule(...)`` in its own module of
    :mod:`ddlkit.lint.rules`."""

    id: str  # kebab-case; squawk's id where the meaning is the same
    severity: Severity  # ERROR or WARNING (NOTE for informational engine messages)
    kinds: tuple[str, ...] | None  # statement node tags the check looks at; None = every statement
    summary: str  # one line, for --list-rules and the README table
    rationale: str  # one paragraph, for --explain
    bad: str | None  # SQL on which the rule fires (the example test requires exactly this rule)
    good: str | None  # the fixed SQL, on which it stays silent
    check: Callable[[Node, "Context"], None] | None = None  # called once per matching statement
    finish: Callable[["FileContext"], None] | None = None  # called once per file, after every statement
    aliases: tuple[str, ...] = ()  # old ids: accepted by --select/--ignore and suppression comments
    default: bool = True  # False: off unless --select names it (style rules)
    example_file: str = "migrations/0001_example.sql"  # where the examples live, relative to the ddl tree
    example_options: dict = field(default_factory=dict)  # extra lint_text keywords for the examples
    in_sql_tests: bool = True  # False: not for ddl/tests files (rolled back, never re-run, scratch tables)
    engine: bool = False  # reported by the engine itself (parse errors, skipped analysis); no check


@dataclass(frozen=True)
class Statement:
    """A statement the rules look at: top level, or inside a ``DO`` block."""

    index: int  # 0-based position among the file's top-level statements
    start: int  # character offset in the file of its first character
    end: int  # one past its last character (the ';' excluded)
    text: str  # its SQL text
    node: Node  # its parse tree (see ddlkit.lint.nodes)
    to_file: Callable[[int], int] = field(repr=False, compare=False, default=None)  # node location -> file offset
    do_block: "Statement | None" = field(default=None, repr=False, compare=False)  # the enclosing DO, if any
    kind: str = field(default="", compare=False)  # the node's tag ("IndexStmt", …)
    byte_start: int = field(default=-1, repr=False, compare=False)  # UTF-8 offset of ``start`` (top level only)

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", self.node.node_tag)

    @property
    def in_do_block(self) -> bool:
        return self.do_block is not None


class FileContext:
    """Everything a rule may know about the file being linted. Updated by the
    engine after each statement, so a check sees the state *before* its
    statement."""

    def __init__(self, *, file: str, text: str, in_migrations: bool, is_dump: bool, sql_test: bool,
                 assume_lock_timeout: bool, statements: list[Statement], transactional: Callable[["FileContext"], bool],
                 line_of: Callable[[int], int], emit: Callable[..., None], lines: Callable[[], Any] | None = None):
        self.file = file  # the label findings carry (relative path)
        self.text = text
        self.in_migrations = in_migrations  # the file is under a migrations/ directory
        self.is_dump = is_dump  # under schema_dump/ or named as a dump: not a migration, runs once
        self.sql_test = sql_test  # ddl/tests/: run by `ddlkit test`, always rolled back
        self.assume_lock_timeout = assume_lock_timeout  # the runner sets lock_timeout (ddlkit migrate)
        self.statements = statements  # every top-level statement of the file
        self._transactional = transactional
        self._transactional_value: bool | None = None
        self.line_of = line_of  # file offset -> 1-based line
        self._lines = lines  # the engine's line index of ``text`` (built when first asked for)
        self._emit = emit
        # -- running state, as of the statement being checked ---------------
        self.previous: list[Statement] = []  # statements already seen (top level and in DO blocks)
        self.created_tables: list[tuple[str | None, str]] = []  # CREATE TABLE / AS / SELECT INTO / matview
        self.fresh_tables: list[tuple[str | None, str]] = []  # … without IF NOT EXISTS (new on every run)
        self.lock_timeout = assume_lock_timeout  # a non-zero lock_timeout is in force
        self.session_lock_timeout = assume_lock_timeout  # … as the session's own (not SET LOCAL) setting
        self.block_lock_timeout = assume_lock_timeout  # the session's setting when the open BEGIN began
        self.transaction_block: Statement | None = None  # the open BEGIN, if any
        self.state: dict[str, dict[str, Any]] = {}  # per-rule scratch space: ctx.rule_state
        self.bodies: dict[int, Any] = {}  # statement start -> ddlkit.lint.bodies.FunctionBody (CREATE FUNCTION, DO)
        # the runner's statements (ddlkit.sql.psqlscript.split: sqltext.Statement with pglast nodes) built
        # from the engine's parse (ddlkit.lint.pgast), or None when they cannot be; see pgast.runner_statements
        self.runner_split: Callable[[], list | None] | None = None

    @property
    def transactional(self) -> bool:
        """True when the runner runs the file in one transaction (ddlkit.sql.sqltext.classify)."""
        if self._transactional_value is None:
            self._transactional_value = self._transactional(self)
        return self._transactional_value

    @property
    def lines(self) -> Any:
        """The file's :class:`ddlkit.sql.positions.LineIndex` (the engine's, shared by the rules)."""
        if self._lines is None:
            from ddlkit.sql.positions import LineIndex  # noqa: PLC0415

            index = LineIndex(self.text)
            self._lines = lambda: index
        return self._lines()

    def report(self, offset: int, rule_id: str, message: str, hint: str | None = None) -> None:
        """A finding at a file offset, for ``finish`` hooks (checks use ``ctx.report``)."""
        self._emit(offset, rule_id, message, hint)

    def pglast_node(self, stmt: Statement) -> Any:
        """The statement as pglast's Python node (parsed on demand, cached), for
        the few checks that share code with the runner (ddlkit.sql.sqltext)."""
        cache = self.state.setdefault("_pglast", {})
        key = (stmt.start, stmt.text)
        if key not in cache and stmt.kind in ("IndexStmt", "DropStmt"):
            # the common CONCURRENTLY cases: the flags, without a second parse
            from pglast import ast  # noqa: PLC0415

            try:
                cache[key] = getattr(ast, stmt.kind)(**{k: v for k, v in stmt.node.data.items() if type(v) is bool})
            except Exception:  # noqa: BLE001 - a field pglast does not know: parse it below
                pass
        if key not in cache:
            from pglast import parser  # noqa: PLC0415

            try:
                (raw,) = parser.parse_sql(stmt.text)
                cache[key] = raw.stmt
            except Exception:  # noqa: BLE001 - the file parsed; a statement alone does too
                cache[key] = None
        return cache[key]

    def created(self, table: tuple[str | None, str]) -> bool:
        """True when an earlier statement of this file created ``table`` ((schema or None, name))."""
        return _matches(table, self.created_tables)

    def fresh(self, table: tuple[str | None, str]) -> bool:
        """True when an earlier statement created ``table`` without IF NOT EXISTS."""
        return _matches(table, self.fresh_tables)


def _matches(target: tuple[str | None, str], pool: list[tuple[str | None, str]]) -> bool:
    schema, name = target
    for s, n in pool:
        if n == name and (schema is None or s is None or s == schema):
            return True
    return False


class Context:
    """What a check receives next to the statement's node."""

    __slots__ = ("rule", "stmt", "file")

    def __init__(self, rule: Rule, stmt: Statement, file: FileContext):
        self.rule = rule
        self.stmt = stmt
        self.file = file

    # the questions rules ask most
    @property
    def in_transaction(self) -> bool:
        """The statement runs inside a transaction: an open BEGIN, or a file the runner wraps."""
        return self.file.transaction_block is not None or self.file.transactional

    @property
    def rule_state(self) -> dict[str, Any]:
        """A dict private to this rule, kept for the whole file."""
        return self.file.state.setdefault(self.rule.id, {})

    def offset(self, at: Any = None) -> int:
        """File offset of ``at``: a Node (its location, or the smallest one
        below it), an int location in the statement's parse, or None (the
        statement's start)."""
        if isinstance(at, Node):
            loc = at.data.get("location")
            if type(loc) is not int or loc < 0:
                loc = at.min_location()
            at = loc
        if at is None:
            return self.stmt.start
        return self.stmt.to_file(at)

    def report(self, message: str, hint: str | None = None, at: Any = None, *, offset: int | None = None,
               rule: str | None = None) -> None:
        """Report a finding of this rule at ``at`` (see :meth:`offset`), or at
        the file offset ``offset``."""
        where = offset if offset is not None else self.offset(at)
        self.file._emit(where, rule or self.rule.id, message, hint)
