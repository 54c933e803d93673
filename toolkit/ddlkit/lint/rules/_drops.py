"""The ban-drop-* family: one rule per kind of object, each in its own module,
built here. An object the same file created earlier is exempt (a work object)."""

from __future__ import annotations

from ddlkit.lint.nodes import dotted, names
from ddlkit.lint.rule import WARNING, Rule
from ddlkit.lint.rules._objects import created_earlier


def drop_rule(rule_id: str, remove_types: dict[str, tuple[str, str]], *, consequence: str, hint: str,
              summary: str, rationale: str, bad: str, good: str, default: bool = False) -> Rule:
    """``remove_types``: DropStmt.removeType -> (the word for it in a message, its kind for
    :func:`created_earlier`)."""

    def check(node, ctx):
        entry = remove_types.get(node.removeType)
        if entry is None:
            return
        word, kind = entry
        dropped = [dotted(names(o)) for o in node.objects or ()
                   if not (names(o) and created_earlier(ctx, kind, names(o)))]
        if dropped:
            ctx.report(f"DROP {word} {', '.join(dropped)} {consequence}", hint)

    return Rule(id=rule_id, severity=WARNING, kinds=("DropStmt",), summary=summary, rationale=rationale, bad=bad,
                good=good, default=default, in_sql_tests=False, check=check,
                example_options={"assume_lock_timeout": True})
