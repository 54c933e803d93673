"""The style rules about column types: one check, parameterised by type."""

from __future__ import annotations

from ddlkit.lint.nodes import ident
from ddlkit.lint.rules._ddl import type_name, typed_columns


def type_checker(matches, message, hint):
    """A check that reports every declared column whose type name (pg_catalog
    stripped, e.g. ('int4',)) and TypeName node satisfy ``matches``."""

    def check(node, ctx):
        for at, tn, col in typed_columns(node):
            parts = type_name(tn)
            if parts and matches(parts, tn):
                ctx.report(message.format(col=ident(col), type=parts[-1]), hint, at=at)

    return check
