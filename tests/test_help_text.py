"""Every command's --help ends with examples and names the environment
variable of each option that has one."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from ddlkit.cli.commands import cli
from ddlkit.cli.helptext import ENVIRONMENT


def _commands(group: click.Group, path=()):
    for name, cmd in group.commands.items():
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))


COMMANDS = list(_commands(cli))
COMMANDS_BY_PATH = COMMANDS


@pytest.mark.parametrize("path, cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_ends_with_examples_and_names_environment_variables(path, cmd):
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    text = result.output
    tail = text[text.index("Examples:"):]
    examples = [line.strip() for line in tail.splitlines()[1:] if line.strip()]
    assert 1 <= len(examples) <= 3 and all(e.startswith(("ddlkit ", "psql ", "DDLKIT_")) for e in examples)
    assert text.rstrip().endswith(examples[-1])
    for param in cmd.params:
        if isinstance(param, click.Option) and ENVIRONMENT.get(param.name):
            assert f"Env: {ENVIRONMENT[param.name].split(';')[0].split(' (')[0]}" in " ".join(text.split()), \
                param.name


def test_the_readme_documents_every_command():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path, _ in COMMANDS:
        if len(path) == 1:
            assert f"ddlkit {path[0]}" in readme, path


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_the_command_list_summaries_are_each_commands_own_short_help(width):
    """`ddlkit --help` lists the commands from the registry without importing
    them: each summary shortens exactly as the command's own help does."""
    from ddlkit.cli.commands import COMMANDS as REGISTRY

    assert sorted(REGISTRY) == sorted(path[0] for path, _ in COMMANDS_BY_PATH if len(path) == 1)
    for name, (_module, _attribute, summary) in REGISTRY.items():
        real = cli.commands[name]
        assert click.Command(name, help=summary).get_short_help_str(width) == real.get_short_help_str(width), name


def test_help_lists_every_command_without_importing_their_modules():
    import subprocess
    import sys

    code = ("import sys\nfrom ddlkit.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.endswith('_commands')), file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stderr.strip() == "[]", out.stderr
    listed = out.stdout.split("Commands:")[1]
    for path, _ in COMMANDS:
        if len(path) == 1:
            assert f"\n  {path[0]} " in listed, path
