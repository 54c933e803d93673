"""ban-drop-schema: DROP SCHEMA of one this file did not create (policy, off by default)."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    'ban-drop-schema',
    {'OBJECT_SCHEMA': ('SCHEMA', 'schema')},
    consequence='breaks every query that names an object in it, and CASCADE drops all of them with their data',
    hint="release code that no longer relies on it first, then drop it in a later migration "
         "(suppress this finding there with -- ddlkit:ignore ban-drop-schema)",
    summary='DROP SCHEMA of one this file did not create (policy, off by default)',
    rationale="DROP SCHEMA breaks every query that names an object in it, and CASCADE drops all of them with their data, and the previous application version may rely on it after a rollback. An opt-in policy rule, off by default (--select ban-drop-schema), for teams that want every such drop reviewed; an object the same file created is exempt. Same meaning as squawk's ban-drop-schema.",
    bad='DROP SCHEMA IF EXISTS reporting CASCADE;',
    good='CREATE SCHEMA IF NOT EXISTS scratch;\nDROP SCHEMA IF EXISTS scratch;',
)
