"""ban-revoke: REVOKE takes away a privilege the running application may use (opt-in)."""

from ddlkit.lint.rule import WARNING, Rule


def check(node, ctx):
    if node.node_tag == "GrantStmt" and node.is_grant:
        return
    if node.node_tag == "GrantRoleStmt" and node.is_grant:
        return
    ctx.report("REVOKE takes a privilege away from every session of that role at once: statements of the "
               "running application that need it fail (42501)",
               "revoke only after no deployed version needs the privilege")


RULE = Rule(
    id="ban-revoke",
    severity=WARNING,
    kinds=("GrantStmt", "GrantRoleStmt"),
    summary="REVOKE of a privilege or role membership (policy, off by default)",
    rationale=(
        "A revoked privilege is gone for every session of the role at commit, so the running application "
        "version (and the previous one after a rollback) fails with 42501 wherever it still needs it. An "
        "opt-in policy rule (--select ban-revoke) for teams that want every REVOKE reviewed. Same meaning as "
        "squawk's ban-revoke."
    ),
    bad="REVOKE SELECT ON orders FROM reporting;",
    good="GRANT SELECT ON orders TO reporting;",
    default=False,
    in_sql_tests=False,
    check=check,
)
