"""ban-drop-policy: DROP POLICY of one this file did not create (policy, off by default)."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    'ban-drop-policy',
    {'OBJECT_POLICY': ('POLICY', 'policy')},
    consequence='changes which rows every role may see or write from then on',
    hint="release code that no longer relies on it first, then drop it in a later migration "
         "(suppress this finding there with -- ddlkit:ignore ban-drop-policy)",
    summary='DROP POLICY of one this file did not create (policy, off by default)',
    rationale="DROP POLICY changes which rows every role may see or write from then on, and the previous application version may rely on it after a rollback. An opt-in policy rule, off by default (--select ban-drop-policy), for teams that want every such drop reviewed; an object the same file created is exempt. Same meaning as squawk's ban-drop-policy.",
    bad='DROP POLICY IF EXISTS tenant_rows ON orders;',
    good="ALTER POLICY tenant_rows ON orders USING (tenant_id = current_setting('app.tenant')::bigint);",
)
