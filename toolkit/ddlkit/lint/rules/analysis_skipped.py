"""analysis-skipped: a PL/pgSQL body was not analysed because that needs the catalog (reported by the engine)."""

from ddlkit.lint.rule import NOTE, Rule

RULE = Rule(
    id="analysis-skipped",
    severity=NOTE,
    kinds=None,
    summary="a PL/pgSQL body that cannot be analysed without the database catalog (a note, never a failure)",
    rationale=(
        "Lint parses PL/pgSQL bodies without a database. Most catalog references (%TYPE, %ROWTYPE and "
        "their arrays, VARIADIC, arrays of your own types) are neutralised and the body is still analysed; "
        "when a body still needs the catalog to compile, it is skipped and this note says so, so that "
        "silence is never mistaken for a clean bill. It never makes lint fail."
    ),
    bad=None,
    good=None,
    engine=True,
)
