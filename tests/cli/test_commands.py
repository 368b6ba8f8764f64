"""Documentation stays true: generated sections are fresh, every command is documented."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys

import click
import pytest
from conftest import REPO
from inprocess import run_kdata_here

from kdata.cli import LAZY_COMMANDS, main


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
    result = run_kdata_here("docs", "--check", "README.md", "CONTRIBUTING.md", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<!-- generated: data model -->\n### `sources`" in (REPO / "README.md").read_text()
    assert "| `KD104` | `unknown-field` |" in (REPO / "CONTRIBUTING.md").read_text()


def test_help_lists_module_commands_with_their_own_short_help() -> None:
    """`kdata --help` takes the module commands' short help from a table: it must be theirs, word for word."""
    commands = _commands()
    for name, (_, short) in LAZY_COMMANDS.items():
        assert commands[name].get_short_help_str(limit=10_000) == short, f"LAZY_COMMANDS['{name}'] is stale"
    assert isinstance(main, click.Group)
    for width in (50, 80, 200):  # the list as click itself writes it (importing every command), at any width
        ours, clicks = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
        main.format_commands(click.Context(main), ours)
        click.Group.format_commands(main, click.Context(main), clicks)
        assert ours.getvalue() == clicks.getvalue() and "  versions " in ours.getvalue()


def test_help_imports_no_module_command() -> None:
    """Listing the commands does not import the modules that hold them (start-up stays fast)."""
    probe = (
        "import sys\nfrom kdata.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('kdata')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    loaded = out.strip().splitlines()[-1]
    for target, _ in LAZY_COMMANDS.values():
        assert f"'{target.split(':')[0]}'" not in loaded, target


#: What no help text needs: the libraries the commands use, and what only a command's work or report needs.
HEAVY_LIBRARIES = ("pydantic", "yaml", "pyarrow", "pandas", "numpy", "frictionless", "urllib3", "jinja2")
HEAVY_FOR_TOP_HELP = (*HEAVY_LIBRARIES, "json", "pathlib", "dataclasses", "kdata.errors", "kdata.settings")


#: Runs ``kdata ARGV`` as the entry point named by argv[1] does, then prints every module imported as
#: the process ends (``run`` ends it with ``os._exit``, which this probe wraps to look first).
_PROBE = """
import os, runpy, sys
entry, sys.argv = sys.argv[1], ["kdata", *sys.argv[2:]]
ending = os._exit
def _exit(code):
    print(sorted(sys.modules), file=sys.stderr, flush=True)
    ending(code)
os._exit = _exit
if entry == "module":  # python -m kdata
    runpy.run_module("kdata", run_name="__main__", alter_sys=True)
else:  # the console script: what the generated ``kdata`` script does
    from kdata.cli import run
    sys.exit(run())
"""


def _imported(entry: str, *argv: str) -> set[str]:
    """Every module a real ``kdata ARGV`` process imports, started by ``entry`` ("module" or "script")."""
    done = subprocess.run([sys.executable, "-c", _PROBE, entry, *argv], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0 and "Usage: kdata" in done.stdout, done.stdout + done.stderr
    return set(ast.literal_eval(done.stderr.strip().splitlines()[-1]))


@functools.cache
def _bare() -> frozenset[str]:
    """The modules bare Python imports here before any code runs (site, .pth files of the environment)."""
    probe = "import sys; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    return frozenset(ast.literal_eval(done.stdout.strip()))


def _heavy(loaded: set[str], heavy: tuple[str, ...]) -> list[str]:
    """The modules of ``loaded`` (less bare Python's) that are, or are inside, one of ``heavy``, or kdata's library."""
    library = ("kdata.records", "kdata.datapackage", "kdata.release", "kdata.download", "kdata.api", "kdata.cli.")
    added = loaded - _bare()
    return sorted(m for m in added if m in heavy or m.split(".")[0] in heavy or m.startswith(library))


@pytest.mark.parametrize("entry", ["module", "script"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_top_help_imports_only_the_group(entry: str, flag: str) -> None:
    """`kdata --help`, by either entry point, imports click and kdata.cli and nothing heavy (start-up time)."""
    loaded = _imported(entry, flag)
    assert {"click", "kdata.cli"} <= loaded
    assert _heavy(loaded, HEAVY_FOR_TOP_HELP) == []


def test_command_help_imports_no_library() -> None:
    """`kdata COMMAND --help` imports the command's module, but none of the libraries its work needs."""
    assert isinstance(main, click.Group)
    names = main.list_commands(click.Context(main))
    assert len(names) == len(LAZY_COMMANDS) >= 17
    for name in names:
        loaded = _imported("script", name, "--help")
        assert LAZY_COMMANDS[name][0].split(":")[0] in loaded, name
        assert sorted(m for m in loaded - _bare() if m.split(".")[0] in HEAVY_LIBRARIES) == [], name
