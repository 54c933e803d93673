"""analysis-failed: a file the analyser could not process (reported by the engine)."""

from ddlkit.lint.rule import ERROR, Rule

RULE = Rule(
    id="analysis-failed",
    severity=ERROR,
    kinds=None,
    summary="a file lint could not analyse (the reason is in the message); the other files are still checked",
    rationale=(
        "When lint cannot analyse a file (an unreadable file, or a bug in lint), it says so for that file "
        "and goes on with the others, rather than crashing and reporting nothing. The file was not "
        "checked, so this is an error."
    ),
    bad=None,
    good=None,
    engine=True,
)
