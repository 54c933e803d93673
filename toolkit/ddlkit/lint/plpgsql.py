"""Compiling PL/pgSQL bodies without a catalog.

pglast's PL/pgSQL parser has no catalog. It rejects, although PostgreSQL
accepts them, ``%TYPE`` in a signature, ``%type[]``/``%rowtype[]``,
``VARIADIC`` parameters, arrays of user-defined types and fields of
``%ROWTYPE`` variables. :func:`parse_plpgsql` therefore neutralises those
(same body, same names, catalog-free types) when the original fails for such
a reason, and only a *syntax* error is reported as a parse error.
"""

from __future__ import annotations

from typing import Any

from pglast import parser

from ddlkit.sql.tokens import without_comments
from ddlkit.lint.bodies import FunctionBody
from ddlkit.lint.nodes import Node, names



def is_syntax_error(message: str) -> bool:
    """A PL/pgSQL compile error that PostgreSQL would raise too (the body is
    wrong), as opposed to one caused by pglast having no catalog."""
    m = message.lower()
    return m.startswith(("syntax error", "missing expression", "unterminated", "mismatched", "unexpected end",
                         "syntax error at end of input", "too many parameters", "query has no destination",
                         "cursor fields", "label", "block label", "end label", "unrecognized", "invalid",
                         "redundant", "duplicate declaration", "there is no"))


def parse_plpgsql(source_stmt: str, fb: FunctionBody, stmt_node: Node | None, rel_quote: tuple[int, int] | None
                  ) -> tuple[Any, str | None, str | None]:
    """Parse a PL/pgSQL body. Returns (JSON text or None, syntax error message
    or None, skipped reason or None).

    Tried in order: the statement as written (``%ROWTYPE``/``%TYPE`` made
    catalog-free); then the same body under a neutral signature (parameters of
    type text, VARIADIC anyarray). A variable declared with an array of a type
    pglast cannot know (``mood[]``) is re-declared ``text[]`` and the parse
    retried. Only a syntax error counts as one."""
    body = fb.body
    value = body.value
    rewritten = _catalog_free(value)
    parse_value = value if rewritten is None or body.offsets is None else rewritten
    tag = "$ddlkit$"
    while tag in parse_value:
        tag = tag[:-1] + "x$"
    builders: list = []
    if stmt_node is None:  # DO block
        builders.append(lambda v: f"CREATE FUNCTION ddlkit_do_block() RETURNS void LANGUAGE plpgsql AS {tag}{v}{tag}")
    else:
        if rel_quote is not None:
            start, end = rel_quote
            builders.append(lambda v: source_stmt[:start] + tag + v + tag + source_stmt[end:])
        elif parse_value is value:
            builders.append(lambda v: source_stmt)
        builders.append(lambda v: f"{_neutral_header(stmt_node)} AS {tag}{v}{tag}")
    first_error = None
    for build in builders:
        current = parse_value
        for _attempt in range(50):
            try:
                return parser.parse_plpgsql_json(build(current)), None, None
            except parser.ParseError as exc:
                message = str(exc.args[0]) if exc.args else "does not parse"
            except Exception as exc:  # noqa: BLE001 - pglast limitation, not the file's fault
                message = f"{type(exc).__name__}: {exc}"
                first_error = first_error or message
                break
            if is_syntax_error(message):
                return None, message, None
            retyped = _retype_variable(current, message)
            if retyped is None:
                first_error = first_error or message
                break
            current = retyped
    return None, None, first_error


def _retype_variable(value: str, message: str) -> str | None:
    """For pglast's 'variable "x" has pseudo-type _record' (an array of a type
    it cannot look up): the body with x's declared type replaced by text[]."""
    if not message.startswith('variable "') or "pseudo-type" not in message:
        return None
    name = message.split('"')[1]
    try:
        toks = without_comments(parser.scan(value))
    except Exception:  # noqa: BLE001
        return None
    if not value.isascii():
        return None  # token offsets are bytes
    for k, tok in enumerate(toks[:-1]):
        word = value[tok.start : tok.end + 1]
        if word.lower() != name.lower() and word != f'"{name}"':
            continue
        j = k + 1
        if j < len(toks) and value[toks[j].start : toks[j].end + 1].lower() == "constant":
            j += 1
        first = j
        while j < len(toks) and toks[j].name not in ("ASCII_59", "COLON_EQUALS", "ASCII_61", "DEFAULT", "NOT",
                                                     "COLLATE"):
            j += 1
        if j == first or j >= len(toks) or toks[j - 1].name != "ASCII_93":
            continue  # not a declaration of an array type
        return value[: toks[first].start] + "text[]" + value[toks[j - 1].end + 1 :]
    return None


def _neutral_header(node: Node) -> str:
    """``CREATE FUNCTION ddlkit_body(<same names, type text>) RETURNS …``:
    what the body needs from the signature (its variable names and whether it
    returns a set, a trigger or nothing) without any catalog lookup."""
    params = []
    table_cols = []
    for p in node.parameters or ():
        pname = p.data.get("name")
        mode = p.data.get("mode", "FUNC_PARAM_IN")
        if mode == "FUNC_PARAM_TABLE":
            table_cols.append(f'"{pname}" text')
            continue
        word = {"FUNC_PARAM_OUT": "OUT ", "FUNC_PARAM_INOUT": "INOUT ", "FUNC_PARAM_VARIADIC": "VARIADIC "}.get(mode, "")
        typ = "anyarray" if mode == "FUNC_PARAM_VARIADIC" else "text"
        params.append(f'{word}"{pname}" {typ}' if pname else f"{word}{typ}")
    ret = node.returnType
    if table_cols:
        returns = f" RETURNS TABLE({', '.join(table_cols)})"
    elif node.is_procedure or ret is None:
        returns = "" if node.is_procedure else " RETURNS void"
    else:
        tname = names(ret)[-1:] or ("text",)
        base = tname[0].lower()
        if base in ("trigger", "event_trigger", "void", "record"):
            returns = f" RETURNS {'SETOF ' if ret.setof else ''}{base}"
        else:
            returns = f" RETURNS {'SETOF ' if ret.setof else ''}text"
    word = "PROCEDURE" if node.is_procedure else "FUNCTION"
    n_out = sum(p.data.get("mode") in ("FUNC_PARAM_OUT", "FUNC_PARAM_INOUT") for p in node.parameters or ())
    if n_out and not node.is_procedure and not table_cols:
        # the result type follows from the OUT parameters (all text here)
        returns = "" if not (ret is not None and ret.setof) else f" RETURNS SETOF {'text' if n_out == 1 else 'record'}"
    return f"CREATE {word} ddlkit_body({', '.join(params)}){returns} LANGUAGE plpgsql"


def _catalog_free(value: str) -> str | None:
    """``value`` with every ``name%ROWTYPE`` / ``name%TYPE`` (and their array
    forms) replaced by ``record`` / ``text`` (same length, newlines kept), or
    None when there is none. pglast's PL/pgSQL parser has no catalog, so it
    cannot resolve them, although PostgreSQL accepts them."""
    low = value.lower()
    if "%rowtype" not in low and "%type" not in low:
        return None
    try:
        toks = without_comments(parser.scan(value))
    except Exception:  # noqa: BLE001
        return None
    chars = list(value)
    changed = False
    for k in range(1, len(toks) - 1):
        pct, word = toks[k], toks[k + 1]
        kw = value[word.start : word.end + 1].lower()
        if value[pct.start : pct.end + 1] != "%" or kw not in ("rowtype", "type"):
            continue
        is_array = k + 3 < len(toks) and toks[k + 2].name == "ASCII_91" and toks[k + 3].name == "ASCII_93"
        j = k - 1
        while j >= 2 and value[toks[j - 1].start : toks[j - 1].end + 1] == ".":
            j -= 2
        start, end = toks[j].start, word.end + 1
        new = "record" if kw == "rowtype" and not is_array else "text"
        if end - start < len(new):
            continue
        repl = new.ljust(end - start)
        for p in range(start, end):
            chars[p] = "\n" if value[p] == "\n" else repl[p - start]
        changed = True
    return "".join(chars) if changed else None
