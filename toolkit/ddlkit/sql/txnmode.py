"""How a file must run: in one transaction, or statement by statement
(autocommit), and why. The single source of truth for transaction-mode
classification: the runner, ``migrate --dry-run`` and ``ddlkit lint`` all
call :func:`classify` (re-exported by :mod:`ddlkit.sql.sqltext`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parser
from pglast.enums.parsenodes import (AlterSubscriptionType, DiscardMode, ReindexObjectType,
                                     TransactionStmtKind)

from ddlkit.sql.bodywords import sets_for_transaction
from ddlkit.sql.comments import blank_nested_comments
from ddlkit.sql.positions import LineIndex
from ddlkit.sql.tokens import comment_body, is_comment

# A statement here is a ddlkit.sql.sqltext.Statement (not imported: sqltext imports this module).

NONTRANSACTIONAL_HEADER = "transactional: false"

# Transaction statements that mean "this file manages its own transactions".
_OWN_TXN_KINDS = {
    TransactionStmtKind.TRANS_STMT_BEGIN,
    TransactionStmtKind.TRANS_STMT_START,
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_PREPARE,
    TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED,
    TransactionStmtKind.TRANS_STMT_ROLLBACK_PREPARED,
}


@dataclass(frozen=True)
class TxnMode:
    """How the runner executes a file."""

    transactional: bool
    reason: str | None = None  # why the file runs statement by statement
    statement: Any = field(default=None, compare=False)  # the Statement that forced autocommit
    line: int | None = None  # line of that statement, when one forced it

    @property
    def label(self) -> str:
        return "transaction" if self.transactional else "autocommit"

    def describe(self) -> str:
        if self.transactional:
            return "transaction"
        where = f" at line {self.line}" if self.line else ""
        return f"autocommit: {self.reason}{where}"


def _is_false(opt: Any) -> bool:
    """A ``WITH (name = false)`` option, however it was spelled (false, off, 0, no)."""
    arg = getattr(opt, "arg", None)
    if isinstance(arg, ast.Boolean):
        return not arg.boolval
    if isinstance(arg, ast.Integer):
        return arg.ival == 0
    if isinstance(arg, ast.TypeName) and arg.names:
        arg = arg.names[-1]
    value = getattr(arg, "sval", None)
    return isinstance(value, str) and value.lower() in ("false", "off", "0", "no", "f", "n")


def option_on(options: Any, name: str) -> bool:
    """A statement option list (``VACUUM (FULL)``, ``REINDEX (CONCURRENTLY)``)
    turns ``name`` on: present, and not false however it is spelled (false,
    off, 0, no)."""
    return any(getattr(o, "defname", None) == name and not _is_false(o) for o in options or ())


def _option_off(options: Any, *names: str) -> bool:
    return any(getattr(o, "defname", None) in names and _is_false(o) for o in options or ())


def nontransactional_reason(node: Any) -> str | None:
    """The statement's name when PostgreSQL refuses to run it inside a
    transaction block (its PreventInTransactionBlock callers), else None.
    tests/test_robust_classifier.py checks this against a real server."""
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if isinstance(node, ast.DropStmt) and node.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if isinstance(node, ast.ReindexStmt):
        if option_on(node.params, "concurrently"):
            return "REINDEX CONCURRENTLY"
        if node.kind in (ReindexObjectType.REINDEX_OBJECT_DATABASE, ReindexObjectType.REINDEX_OBJECT_SYSTEM):
            return "REINDEX DATABASE/SYSTEM"
        if node.kind == ReindexObjectType.REINDEX_OBJECT_SCHEMA:
            return "REINDEX SCHEMA"
    if isinstance(node, ast.VacuumStmt) and node.is_vacuumcmd:
        return "VACUUM"
    if isinstance(node, ast.AlterSystemStmt):
        return "ALTER SYSTEM"
    if isinstance(node, ast.CreatedbStmt):
        return "CREATE DATABASE"
    if isinstance(node, ast.DropdbStmt):
        return "DROP DATABASE"
    if isinstance(node, ast.AlterDatabaseStmt) and any(getattr(o, "defname", None) == "tablespace"
                                                       for o in node.options or ()):
        return "ALTER DATABASE SET TABLESPACE"
    if isinstance(node, ast.CreateTableSpaceStmt):
        return "CREATE TABLESPACE"
    if isinstance(node, ast.DropTableSpaceStmt):
        return "DROP TABLESPACE"
    if isinstance(node, ast.CreateSubscriptionStmt) and not _option_off(node.options, "connect", "create_slot"):
        return "CREATE SUBSCRIPTION (creating a slot)"
    if isinstance(node, ast.DropSubscriptionStmt):
        return "DROP SUBSCRIPTION"  # refused when the subscription has a slot: decided on the server
    if isinstance(node, ast.AlterSubscriptionStmt):
        if node.kind == AlterSubscriptionType.ALTER_SUBSCRIPTION_REFRESH:
            return "ALTER SUBSCRIPTION … REFRESH PUBLICATION"
        if node.kind in (AlterSubscriptionType.ALTER_SUBSCRIPTION_SET_PUBLICATION,
                         AlterSubscriptionType.ALTER_SUBSCRIPTION_ADD_PUBLICATION,
                         AlterSubscriptionType.ALTER_SUBSCRIPTION_DROP_PUBLICATION) \
                and not _option_off(node.options, "refresh"):
            return "ALTER SUBSCRIPTION … PUBLICATION (with refresh)"
    if isinstance(node, ast.ClusterStmt) and node.relation is None:
        return "CLUSTER (all tables)"
    if isinstance(node, ast.DiscardStmt) and node.target == DiscardMode.DISCARD_ALL:
        return "DISCARD ALL"
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            part = getattr(cmd, "def_", None)
            if isinstance(part, ast.PartitionCmd) and part.concurrent:
                return "DETACH PARTITION CONCURRENTLY"
    return None


# The statement kinds psql_scoped_reason reads the node of (any statement may call set_config).
SCOPED_KINDS = frozenset({"VariableSetStmt", "ConstraintsSetStmt", "DoStmt"})


# The spellings of a false boolean the server accepts (set_config's is_local).
FALSE_WORDS = frozenset({"false", "off", "0", "no", "f", "n"})


def names_set_config(text: str) -> bool:
    """A cheap first test (the parse tree decides): does the text spell ``set_config``?"""
    return "set_config" in text.lower()


def _local_set_config(node: Any) -> bool:
    """A call ``set_config(name, value, is_local)`` whose ``is_local`` is not a
    constant false (true, 't', on, or an expression: it may be true)."""
    from ddlkit.sql.astwalk import iter_nodes  # noqa: PLC0415 - only for a statement that names set_config

    for n in iter_nodes(node):
        if isinstance(n, ast.FuncCall) and n.funcname and getattr(n.funcname[-1], "sval", None) == "set_config" \
                and len(n.args or ()) == 3:
            flag = n.args[2]
            if isinstance(flag, ast.TypeCast):
                flag = flag.arg
            value = getattr(flag, "val", None)
            if isinstance(value, ast.Boolean) and not value.boolval:
                continue
            if isinstance(value, ast.String) and value.sval.strip().lower() in FALSE_WORDS:
                continue
            if isinstance(value, ast.Integer) and value.ival == 0:
                continue
            return True
    return False


def psql_scoped_reason(st: Any) -> str | None:
    """The statement's name when its effect ends with its transaction (``SET
    LOCAL``, ``SET TRANSACTION``, ``SET CONSTRAINTS``, ``set_config(…, true)``):
    psql ran each statement of a file on its own, so outside a ``BEGIN`` block
    such a setting lasted only that statement (psql warns "can only be used in
    transaction blocks"). In one transaction for the whole file it would last to
    the end of the file, and a later ``CREATE`` could land in another schema, as
    another role, or a deferred check pass that psql made at once: such a file
    runs statement by statement, as psql ran it."""
    if not st.has_node:  # decided from the first keyword when it can be: no tree is built for nothing
        first = st.first_word if st.first_word is not None else st.words(1)[0]
        if first not in ("set", "do", "") and not names_set_config(st.text):
            return None
    elif st.kind not in SCOPED_KINDS and not names_set_config(st.text):
        return None  # (lint's statements name their kind without building the tree)
    node = st.node
    if isinstance(node, ast.VariableSetStmt):
        if node.is_local:
            return "SET LOCAL outside a BEGIN block (psql ran it on its own: it ended with its statement)"
        if node.name == "TRANSACTION":
            return "SET TRANSACTION outside a BEGIN block (psql ran it on its own: it had no effect)"
    if isinstance(node, ast.ConstraintsSetStmt):
        return "SET CONSTRAINTS outside a BEGIN block (psql ran it on its own: it had no effect)"
    if isinstance(node, ast.DoStmt) and sets_for_transaction(st.text):
        # Whatever the block sets for its transaction ended with it under psql (running the
        # file statement by statement is psql's behaviour: a false alarm costs only atomicity).
        return "a DO block that sets something for its transaction (psql ran it on its own: it ended with it)"
    if names_set_config(st.text) and _local_set_config(node):
        return "set_config(…, true) outside a BEGIN block (psql ran it on its own: it ended with its statement)"
    return None


def is_transaction_control(node: Any) -> bool:
    return isinstance(node, ast.TransactionStmt) and node.kind in _OWN_TXN_KINDS


def has_nontransactional_header(text: str) -> bool:
    """True when a ``-- transactional: false`` comment precedes the first statement
    (psql meta-command lines, such as ``\\timing``, may come before it)."""
    try:
        tokens = parser.scan(blank_nested_comments(text))
    except Exception:  # noqa: BLE001 - an unscannable file is reported by split()
        return False
    meta_line_end = -1
    for tok in tokens:
        if tok.start < meta_line_end:
            continue  # the rest of a meta-command's line
        if tok.name == "ASCII_92":
            newline = text.find("\n", tok.start)
            meta_line_end = len(text) if newline < 0 else newline
            continue
        if not is_comment(tok):
            return False
        if " ".join(comment_body(text, tok).split()).lower() == NONTRANSACTIONAL_HEADER:
            return True
    return False


def classify(text: str, statements: list[Any], lines: LineIndex | None = None) -> TxnMode:
    """Decide how a file runs. Order of precedence: the explicit header, then
    the first statement that cannot run in a transaction block, then the
    file's own transaction control, then a transaction-scoped setting before
    any (:func:`psql_scoped_reason`)."""
    lines = lines or LineIndex(text)
    head = text if not statements or statements[0].source is not None else text[: statements[0].start]
    if has_nontransactional_header(head):  # scan comments only
        return TxnMode(False, "header -- transactional: false", None, None)
    control = scoped = None
    for st in statements:
        reason = st.txn_reason()
        if reason:
            return TxnMode(False, reason, st, _line(st, lines))
        if control is None and st.txn_control():
            control = st
        if scoped is None and control is None and (why := psql_scoped_reason(st)):
            scoped = (why, st)
    if control is not None:
        return TxnMode(False, "file has its own BEGIN/COMMIT", control, _line(control, lines))
    if scoped is not None:
        return TxnMode(False, scoped[0], scoped[1], _line(scoped[1], lines))
    return TxnMode(True)


def _line(st: Any, lines: LineIndex) -> int:
    """The statement's line in the file (for an included statement: its line in the included file)."""
    return st.position(lines)[1]
