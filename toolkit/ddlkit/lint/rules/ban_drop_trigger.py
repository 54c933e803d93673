"""ban-drop-trigger: DROP TRIGGER of one this file did not create (policy, off by default)."""

from ddlkit.lint.rules._drops import drop_rule

RULE = drop_rule(
    'ban-drop-trigger',
    {'OBJECT_TRIGGER': ('TRIGGER', 'trigger')},
    consequence='stops what the trigger enforced or maintained for every write from then on',
    hint="release code that no longer relies on it first, then drop it in a later migration "
         "(suppress this finding there with -- ddlkit:ignore ban-drop-trigger)",
    summary='DROP TRIGGER of one this file did not create (policy, off by default)',
    rationale="DROP TRIGGER stops what the trigger enforced or maintained for every write from then on, and the previous application version may rely on it after a rollback. An opt-in policy rule, off by default (--select ban-drop-trigger), for teams that want every such drop reviewed; an object the same file created is exempt. Same meaning as squawk's ban-drop-trigger.",
    bad='DROP TRIGGER IF EXISTS orders_audit ON orders;',
    good='CREATE OR REPLACE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit();',
)
