"""ban-drop-sequence: DROP SEQUENCE of one this file did not create (policy, off by default)."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    'ban-drop-sequence',
    {'OBJECT_SEQUENCE': ('SEQUENCE', 'sequence')},
    consequence='breaks every insert whose default still calls nextval on it',
    hint="release code that no longer relies on it first, then drop it in a later migration "
         "(suppress this finding there with -- ddlkit:ignore ban-drop-sequence)",
    summary='DROP SEQUENCE of one this file did not create (policy, off by default)',
    rationale="DROP SEQUENCE breaks every insert whose default still calls nextval on it, and the previous application version may rely on it after a rollback. An opt-in policy rule, off by default (--select ban-drop-sequence), for teams that want every such drop reviewed; an object the same file created is exempt. Same meaning as squawk's ban-drop-sequence.",
    bad='DROP SEQUENCE IF EXISTS invoice_no_seq;',
    good='CREATE SEQUENCE IF NOT EXISTS tmp_seq;\nDROP SEQUENCE IF EXISTS tmp_seq;',
)
