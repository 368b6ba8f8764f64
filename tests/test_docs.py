"""Documentation stays true: generated sections are fresh, every command is documented."""

from __future__ import annotations

import click
from conftest import REPO, run_kdata

from kdata.cli import main


def _commands() -> dict[str, click.Command]:
    """Every command of the group, the lazily loaded ones included."""
    assert isinstance(main, click.Group)
    ctx = click.Context(main)
    commands = {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}
    return {name: command for name, command in commands.items() if command is not None}


def test_every_command_and_option_has_help() -> None:
    """Each command has a help text, and so does each of its options."""
    for name, command in _commands().items():
        assert command.help, f"kdata {name} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"kdata {name} {param.opts[0]} has no help text"


def test_every_command_and_option_is_in_the_readme() -> None:
    """The README's command reference names every command and every option."""
    readme = (REPO / "README.md").read_text()
    for name, command in _commands().items():
        assert f"`kdata {name}" in readme, f"kdata {name} is not documented in README.md"
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    assert opt in readme, f"kdata {name} {opt} is not documented in README.md"


def test_generated_sections_are_fresh() -> None:
    """README's data model and CONTRIBUTING's error codes match the code."""
    result = run_kdata("docs", "--check", "README.md", "CONTRIBUTING.md", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<!-- generated: data model -->\n### `sources`" in (REPO / "README.md").read_text()
    assert "| `KD104` | `unknown-field` |" in (REPO / "CONTRIBUTING.md").read_text()
