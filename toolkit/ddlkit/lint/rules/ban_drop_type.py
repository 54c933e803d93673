"""ban-drop-type: DROP TYPE (or DROP CAST) breaks the clients that use it."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    "ban-drop-type",
    {"OBJECT_TYPE": ("TYPE", "type"), "OBJECT_CAST": ("CAST", "cast")},
    consequence="breaks every running query, function and column definition that still uses it",
    hint="release code that no longer uses it first, then drop it in a later migration",
    summary="DROP TYPE or DROP CAST of one this file did not create",
    rationale=(
        "Queries, functions and client type maps name types and rely on casts: once the type or cast is "
        "dropped they fail (42704), and CASCADE also drops the columns of that type, with their data. "
        "Drop it only after no deployed version uses it. A type the same file created is exempt. Same "
        "meaning as squawk's ban-drop-type (DROP DOMAIN is the opt-in ban-drop-domain)."
    ),
    bad="DROP TYPE IF EXISTS order_status;",
    good="ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';",
    default=True,
)
