"""ban-drop-extension: DROP EXTENSION (policy, off by default)."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    'ban-drop-extension',
    {'OBJECT_EXTENSION': ('EXTENSION', 'extension')},
    consequence='removes its types, functions and operators, and breaks every query that uses them',
    hint="release code that no longer relies on it first, then drop it in a later migration "
         "(suppress this finding there with -- ddlkit:ignore ban-drop-extension)",
    summary='DROP EXTENSION (policy, off by default)',
    rationale="DROP EXTENSION removes its types, functions and operators, and breaks every query that uses them, and the previous application version may rely on it after a rollback. An opt-in policy rule, off by default (--select ban-drop-extension), for teams that want every such drop reviewed; an object the same file created is exempt. Same meaning as squawk's ban-drop-extension.",
    bad='DROP EXTENSION IF EXISTS pg_trgm;',
    good='CREATE EXTENSION IF NOT EXISTS pg_trgm;',
)
