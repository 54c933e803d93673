"""The running file state rules read (:class:`ddlkit.lint.rule.FileContext`),
updated after each statement: tables created, lock_timeout, the open BEGIN;
and the runner's transaction verdict for the file."""

from __future__ import annotations

from typing import Any

from ddlkit.lint.nodes import Node, const_value, names, rangevar
from ddlkit.lint.rule import FileContext, Statement
from ddlkit.sql.txnmode import FALSE_WORDS, SCOPED_KINDS, names_set_config

_BEGIN_KINDS = ("TRANS_STMT_BEGIN", "TRANS_STMT_START")
_ROLLBACK_KINDS = ("TRANS_STMT_ROLLBACK", "TRANS_STMT_ROLLBACK_PREPARED")
_END_KINDS = ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE", "TRANS_STMT_COMMIT_PREPARED",
              "TRANS_STMT_ROLLBACK_PREPARED")


def track(st: Statement, f: FileContext) -> None:
    kind = st.kind
    if kind not in _TRACKED:
        f.previous.append(st)
        return
    node = st.node
    if kind == "CreateStmt":
        name = rangevar(node.relation)
        f.created_tables.append(name)
        if not node.if_not_exists or _temporary(node.relation):
            f.fresh_tables.append(name)
    elif kind == "CreateTableAsStmt":
        name = rangevar(node.into.rel)
        f.created_tables.append(name)
        if not node.if_not_exists or _temporary(node.into.rel):
            f.fresh_tables.append(name)
    elif kind == "SelectStmt":
        if node.intoClause is not None:
            name = rangevar(node.intoClause.rel)
            f.created_tables.append(name)
            f.fresh_tables.append(name)
        setting = _set_config_lock_timeout(node, st.text)
        if setting is not None:
            _set_lock_timeout(st, f, *setting)
    elif kind == "VariableSetStmt":
        if node.name == "lock_timeout":
            value = None
            if node.kind == "VAR_SET_VALUE" and node.args:
                value = const_value(node.args[0])
            _set_lock_timeout(st, f, not _is_zero_timeout(value), bool(node.is_local))
        elif node.kind == "VAR_RESET_ALL":
            _set_lock_timeout(st, f, False, False)
    elif kind == "TransactionStmt" and st.do_block is None:
        if node.kind in _BEGIN_KINDS:
            if f.transaction_block is None:
                f.block_lock_timeout = f.session_lock_timeout
            f.transaction_block = f.transaction_block or st
        elif node.kind in _END_KINDS:
            if node.kind in _ROLLBACK_KINDS:  # the block's own SETs are undone too
                f.session_lock_timeout = f.block_lock_timeout
            f.lock_timeout = f.block_lock_timeout = f.session_lock_timeout  # SET LOCAL ends with the block
            if not node.chain:
                f.transaction_block = None
    f.previous.append(st)


def _set_lock_timeout(st: Statement, f: FileContext, on: bool, local: bool) -> None:
    """``SET [LOCAL] lock_timeout`` (or ``set_config``). A local setting lasts
    until the open ``BEGIN`` block ends, or, inside a ``DO`` block outside one,
    until that ``DO`` ends (:func:`leave_do_block`). Outside both, psql ran it as
    a statement of its own ("SET LOCAL can only be used in transaction blocks"),
    and ddlkit runs such a file statement by statement as psql did: it sets
    nothing for the statements after it."""
    if not local:
        f.session_lock_timeout = f.lock_timeout = on
    elif f.transaction_block is not None or st.do_block is not None:
        f.lock_timeout = on


def leave_do_block(f: FileContext) -> None:
    """A top-level ``DO`` block has ended: what it set locally outside a ``BEGIN`` block ended with it."""
    if f.transaction_block is None:
        f.lock_timeout = f.session_lock_timeout


def _temporary(rv: Node | None) -> bool:
    """A temporary table is new on every run: each run is a new session."""
    return rv is not None and rv.relpersistence == "t"


_TRACKED = frozenset({"CreateStmt", "CreateTableAsStmt", "SelectStmt", "VariableSetStmt", "TransactionStmt"})


def _is_zero_timeout(value: Any) -> bool:
    if value is None:
        return True
    s = str(value).strip().lower()
    digits = s.rstrip("abcdefghijklmnopqrstuvwxyz ")
    try:
        return float(digits) == 0
    except ValueError:
        return False


def _set_config_lock_timeout(node: Node, st_text: str) -> tuple[bool, bool] | None:
    """``SELECT set_config('lock_timeout', '5s', is_local)``: (a non-zero value,
    local), or None. ``is_local`` other than a constant false counts as local."""
    if not node.targetList or not names_set_config(st_text):
        return None
    result = None
    for fc in Node(None, {"t": node.data.get("targetList")}).find("FuncCall"):
        if names(fc.funcname)[-1:] == ("set_config",) and fc.args and const_value(fc.args[0]) == "lock_timeout":
            value = const_value(fc.args[1]) if len(fc.args) > 1 else None
            flag = const_value(fc.args[2]) if len(fc.args) > 2 else None
            local = not (flag is False or str(flag).strip().lower() in FALSE_WORDS)
            result = (not _is_zero_timeout(value), local)
    return result


# The statement kinds that can make a file run outside a transaction: those
# ddlkit.sql.txnmode.nontransactional_reason and is_transaction_control test for
# (they look at no other node class); the classifier needs the pglast node of
# these only. tests/test_lint_lock_model_inputs.py checks the list against them.
MAYBE_NONTXN = frozenset({
    "IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "AlterSystemStmt", "CreatedbStmt", "DropdbStmt",
    "AlterDatabaseStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt", "CreateSubscriptionStmt",
    "DropSubscriptionStmt", "AlterSubscriptionStmt", "ClusterStmt", "DiscardStmt", "AlterTableStmt",
    "TransactionStmt",
})


def never_nontransactional(kind: str, text: str) -> bool:
    """True when a statement of this kind and text can never make a file run
    outside a transaction (:func:`ddlkit.sql.sqltext.nontransactional_reason` and
    :func:`ddlkit.sql.txnmode.psql_scoped_reason` are None, and it is no
    transaction control), known without its pglast node."""
    if kind in SCOPED_KINDS or names_set_config(text):  # outside BEGIN: statement by statement, as psql ran it
        return False
    if kind not in MAYBE_NONTXN:
        return True
    return kind in ("IndexStmt", "DropStmt", "AlterTableStmt") and "concurrent" not in text.lower()


def transactional(text: str, statements: list[Statement], fctx: FileContext, lines: Any) -> bool:
    """The runner's verdict (ddlkit.sql.sqltext.classify) without building pglast
    nodes for the statements that cannot change it. The header comment must
    precede the first statement, so only that prefix is scanned for it."""
    from ddlkit.sql import sqltext  # noqa: PLC0415 - only files that need it pay for it

    nodes = []
    for st in statements:
        if never_nontransactional(st.kind, st.text):
            continue
        node = fctx.pglast_node(st)
        if node is not None:
            nodes.append(sqltext.Statement(len(nodes), st.start, st.end, st.text, node))
    head = text[: statements[0].start] if statements else text
    return sqltext.classify(head, nodes, lines).transactional
