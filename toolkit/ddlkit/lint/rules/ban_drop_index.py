"""ban-drop-index: DROP INDEX of one this file did not create (policy, off by default)."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    'ban-drop-index',
    {'OBJECT_INDEX': ('INDEX', 'index')},
    consequence='may make the queries it served read whole tables',
    hint="release code that no longer relies on it first, then drop it in a later migration "
         "(suppress this finding there with -- ddlkit:ignore ban-drop-index)",
    summary='DROP INDEX of one this file did not create (policy, off by default)',
    rationale="DROP INDEX may make the queries it served read whole tables, and the previous application version may rely on it after a rollback. An opt-in policy rule, off by default (--select ban-drop-index), for teams that want every such drop reviewed; an object the same file created is exempt. Same meaning as squawk's ban-drop-index.",
    bad='DROP INDEX CONCURRENTLY IF EXISTS orders_user_idx;',
    good='CREATE TABLE IF NOT EXISTS tmp (id bigint);\nCREATE INDEX IF NOT EXISTS tmp_idx ON tmp (id);\nDROP INDEX IF EXISTS tmp_idx;',
)
