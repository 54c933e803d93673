"""ban-drop-function: DROP FUNCTION / PROCEDURE of one this file did not create (policy, off by default)."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    'ban-drop-function',
    {'OBJECT_FUNCTION': ('FUNCTION', 'function'), 'OBJECT_PROCEDURE': ('PROCEDURE', 'function'), 'OBJECT_ROUTINE': ('ROUTINE', 'function')},
    consequence='breaks every caller still running (42883), including triggers and defaults that call it',
    hint="release code that no longer relies on it first, then drop it in a later migration "
         "(suppress this finding there with -- ddlkit:ignore ban-drop-function)",
    summary='DROP FUNCTION / PROCEDURE of one this file did not create (policy, off by default)',
    rationale="DROP FUNCTION / PROCEDURE breaks every caller still running (42883), including triggers and defaults that call it, and the previous application version may rely on it after a rollback. An opt-in policy rule, off by default (--select ban-drop-function), for teams that want every such drop reviewed; an object the same file created is exempt. Same meaning as squawk's ban-drop-function.",
    bad='DROP FUNCTION IF EXISTS order_total(bigint);',
    good="CREATE OR REPLACE FUNCTION order_total(o bigint) RETURNS numeric LANGUAGE sql AS 'SELECT 0';",
)
