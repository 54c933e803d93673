"""The command line: click commands (:mod:`.commands`), shared options and error
handling (:mod:`.options`), and every text/JSON/GitHub rendering (:mod:`.render`)."""

from ddlkit.cli.commands import cli, main

__all__ = ["cli", "main"]
