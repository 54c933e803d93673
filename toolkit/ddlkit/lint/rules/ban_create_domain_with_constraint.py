"""ban-create-domain-with-constraint: a domain with a CHECK or NOT NULL constraint."""

from ddlkit.lint.nodes import dotted, names
from ddlkit.lint.rule import WARNING, Rule

_WORD = {"CONSTR_CHECK": "CHECK", "CONSTR_NOTNULL": "NOT NULL"}


def check(node, ctx):
    for con in node.constraints or ():
        if con.node_tag == "Constraint" and con.contype in _WORD:
            domain = dotted(names(node.domainname))
            ctx.report(
                f"CREATE DOMAIN {domain} with a {_WORD[con.contype]} constraint: changing it later means ALTER "
                "DOMAIN, which re-checks every column of the domain in every table under lock",
                "use a plain domain (or the base type) and put the constraint on each table column",
                at=con,
            )
            return


RULE = Rule(
    id="ban-create-domain-with-constraint",
    severity=WARNING,
    kinds=("CreateDomainStmt",),
    summary="CREATE DOMAIN with a CHECK or NOT NULL constraint",
    rationale=(
        "A constraint on a domain is shared by every column of that type. Tightening or replacing it later "
        "goes through ALTER DOMAIN … ADD CONSTRAINT, which checks all those columns in every table at once "
        "under a SHARE lock on each (see ban-alter-domain-with-add-constraint); a table CHECK constraint "
        "can instead be added NOT VALID and validated without blocking writes."
    ),
    bad=(
        "DO $$ BEGIN\n"
        "    CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);\n"
        "EXCEPTION WHEN duplicate_object THEN NULL;\n"
        "END $$;"
    ),
    good="CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, qty integer CHECK (qty > 0));",
    in_sql_tests=False,
    check=check,
)
