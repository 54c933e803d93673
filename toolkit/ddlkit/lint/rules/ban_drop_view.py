"""ban-drop-view: DROP VIEW / MATERIALIZED VIEW breaks the clients that query it."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    "ban-drop-view",
    {"OBJECT_VIEW": ("VIEW", "view"), "OBJECT_MATVIEW": ("MATERIALIZED VIEW", "matview")},
    consequence="breaks every running query that still reads it (42P01)",
    hint="release code that no longer reads the view first, then drop it in a later migration; "
         "to change a view, CREATE OR REPLACE VIEW keeps it in place",
    summary="DROP VIEW / DROP MATERIALIZED VIEW of a view this file did not create",
    rationale=(
        "A view is part of the schema the application reads: from the moment it is dropped every query of "
        "the running version that uses it fails (42P01), as does the previous version after a rollback. "
        "Drop it only after no deployed version reads it. A view the same file created is exempt. Same "
        "meaning as squawk's ban-drop-view."
    ),
    bad="DROP VIEW IF EXISTS active_users;",
    good="CREATE OR REPLACE VIEW active_users AS SELECT id, email FROM users WHERE active;",
    default=True,
)
