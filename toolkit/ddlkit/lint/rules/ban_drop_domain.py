"""ban-drop-domain: DROP DOMAIN of one this file did not create (policy, off by default)."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    'ban-drop-domain',
    {'OBJECT_DOMAIN': ('DOMAIN', 'domain')},
    consequence='breaks every column, function and query that still uses it',
    hint="release code that no longer relies on it first, then drop it in a later migration "
         "(suppress this finding there with -- ddlkit:ignore ban-drop-domain)",
    summary='DROP DOMAIN of one this file did not create (policy, off by default)',
    rationale="DROP DOMAIN breaks every column, function and query that still uses it, and the previous application version may rely on it after a rollback. An opt-in policy rule, off by default (--select ban-drop-domain), for teams that want every such drop reviewed; an object the same file created is exempt. Same meaning as squawk's ban-drop-domain.",
    bad='DROP DOMAIN IF EXISTS email_address;',
    good='ALTER DOMAIN email_address DROP CONSTRAINT IF EXISTS email_address_ck;',
)
