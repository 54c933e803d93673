"""ALTER TABLE helpers shared by the rules that look at its sub-commands."""

from __future__ import annotations

from pglast import parser

from ddlkit.sql.tokens import without_comments
from ddlkit.lint.nodes import Node, qual, rangevar



def table_cmds(node: Node, ctx, maybe_live: bool = False) -> list[tuple[Node, int, tuple[str | None, str]]]:
    """(sub-command, its file offset, table) of an ``ALTER TABLE`` on a table
    this file did not create (on one it created, nothing is locked or
    scanned). ``maybe_live``: also on a table the file creates with ``CREATE
    TABLE IF NOT EXISTS``, which may exist, and be in use, when the file runs
    again. Offsets come from the statement's tokens. Computed once per
    statement, whichever rule asks first."""
    cache = ctx.file.state.setdefault("_table_cmds_live" if maybe_live else "_table_cmds", {})
    key = id(ctx.stmt)
    found = cache.get(key)
    if found is None or found[0] is not ctx.stmt:
        found = cache[key] = (ctx.stmt, _table_cmds(node, ctx, maybe_live))
    return found[1]


def _table_cmds(node: Node, ctx, maybe_live: bool) -> list:
    if node.objtype != "OBJECT_TABLE" or node.relation is None:
        return []
    table = rangevar(node.relation)
    if ctx.file.fresh(table) if maybe_live else ctx.file.created(table):
        return []
    cmds = node.cmds or ()
    offsets = cmd_offsets(ctx, node)
    return [(cmd, offsets[k] if offsets else ctx.stmt.start, table)
            for k, cmd in enumerate(cmds) if cmd.node_tag == "AlterTableCmd"]


def cmd_offsets(ctx, node: Node) -> list[int] | None:
    """File offset of each sub-command of an ALTER TABLE, cached per statement."""
    cache = ctx.file.state.setdefault("_alter_offsets", {})
    key = (ctx.stmt.start, ctx.stmt.text)
    if key not in cache:
        cache[key] = _cmd_offsets(ctx, node, len(node.cmds or ()))
    return cache[key]


def shown(table: tuple[str | None, str]) -> str:
    return qual(*table)


def _cmd_offsets(ctx, node: Node, count: int) -> list[int] | None:
    """File offset of each sub-command (``ADD …``, ``ALTER …``): the first
    follows the table name, the others follow a comma outside parentheses.
    None when the tokens do not add up."""
    st = ctx.stmt
    rel = ctx.offset(node.relation) - st.start
    text = st.text
    try:
        toks = without_comments(parser.scan(text))
    except Exception:  # noqa: BLE001
        return None
    if not text.isascii():
        return None  # token offsets are bytes; the statement start is close enough
    i = next((k for k, t in enumerate(toks) if t.start == rel), None)
    if i is None:
        return None
    i += 1
    while i + 1 < len(toks) and toks[i].name == "ASCII_46":  # schema.table
        i += 2
    if i < len(toks) and toks[i].name == "ASCII_42":  # table *
        i += 1
    if i >= len(toks):
        return None
    starts = [toks[i].start]
    depth = 0
    for k in range(i, len(toks)):
        name = toks[k].name
        if name in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif name == "ASCII_44" and depth == 0 and k + 1 < len(toks):
            starts.append(toks[k + 1].start)
    if len(starts) != count:
        return None
    return [st.start + s for s in starts]


def report_unvalidated(node: Node, ctx, contype: str, word: str) -> None:
    """``ADD CONSTRAINT`` of ``contype`` without NOT VALID: it checks every row under its lock."""
    from ddlkit.lint.nodes import ident  # noqa: PLC0415
    from ddlkit.lint.rules._common import with_timeout  # noqa: PLC0415

    for cmd, where, table in table_cmds(node, ctx):
        con = cmd.def_
        if cmd.subtype != "AT_AddConstraint" or con is None or con.contype != contype or con.skip_validation:
            continue  # NOT VALID: require-lock-timeout speaks for the lock wait
        label = f"ADD CONSTRAINT {ident(con.conname)}" if con.conname else "ADD"
        message, hint = with_timeout(
            ctx,
            f"{label} {word} checks every row of {shown(table)} while holding its lock",
            f"add it NOT VALID, then ALTER TABLE {shown(table)} VALIDATE CONSTRAINT … in a later transaction: "
            "validation takes a weaker lock",
        )
        ctx.report(message, hint, offset=where)
