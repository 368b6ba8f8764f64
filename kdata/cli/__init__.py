"""The ``kdata`` command: a thin skin over the library.

Commands parse their arguments, call the library and print. ``KdataError``
becomes a message and an exit status here (1 for invalid data, 2 for usage);
only a bug in kdata itself prints a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

#: Every command, each in its own module: name -> ("module:attribute", short help). A module is
#: imported on first use of one of its commands; the short help (the first sentence of the docstring)
#: is repeated here so that ``kdata --help`` imports none of them, nor what they import (json,
#: pathlib, kdata.errors, the library): a test checks that it matches the command's own.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "validate": (
        "kdata.cli.check:validate_command",
        "Check every record in RAW_DIR (default: raw).",
    ),
    "codes": (
        "kdata.cli.check:codes_command",
        "List every error code with its name, what it means and how to fix it.",
    ),
    "build": (
        "kdata.cli.package:build_command",
        "Validate raw/ and write the data package to dist/ (and schemas/).",
    ),
    "verify": (
        "kdata.cli.package:verify_command",
        "Check a built package in DIST (default: dist): descriptor, bytes, sha256, types, constraints and keys.",
    ),
    "info": (
        "kdata.cli.package:info_command",
        "Print the package name, version, licence and each table's rows (default: bundled).",
    ),
    "schemas": (
        "kdata.cli.package:schemas_command",
        "Write the JSON Schemas and Table Schemas generated from the models to OUT.",
    ),
    "docs": (
        "kdata.cli.package:docs_command",
        "Rewrite the generated sections (data model, error codes) of FILES (default: README.md, CONTRIBUTING.md).",
    ),
    "conflicts": (
        "kdata.cli.conflicts:conflicts_command",
        "List where sources disagree, by topic, with each side's claimants (default package: bundled).",
    ),
    "cite": (
        "kdata.cli.release:cite_command",
        "Print how to cite VERSION (default: the bundled data, what kdata.load() reads), as plain text and BibTeX.",
    ),
    "diff": (
        "kdata.cli.release:diff_command",
        "Compare OLD with NEW (default: dist): folders, .zip archives or versions; print the bump needed.",
    ),
    "download": (
        "kdata.cli.release:download_command",
        "Fetch a published VERSION (default: newest) into the cache; print the folder on the last line.",
    ),
    "release": (
        "kdata.cli.release:release_command",
        "Write the reproducible release archive of the current version (zip + SHA256SUMS).",
    ),
    "versions": (
        "kdata.cli.release:versions_command",
        "List the published versions; mark the bundled one, those in the cache and those in dist/releases/.",
    ),
    "site": (
        "kdata.cli.site:site_command",
        "Write a static, offline website of the package to OUT (default: site): open OUT/index.html.",
    ),
    "new": ("kdata.cli.new:new", "Write the record file raw/<table>/ID.yaml with every field to fill."),
    "sources": (
        "kdata.cli.sources:sources_command",
        "Archive a document and read the archived texts (raw/sources/<id>.txt).",
    ),
    "quote": ("kdata.cli.sources:quote_command", "Find the words to quote in the archived texts."),
}


#: Exit status of a command whose reader closed its output: the shell's for a tool ended by SIGPIPE (128 + 13).
PIPE_CLOSED = 141


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that flushing what is left at exit fails no more."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (an in-process runner): nothing to silence
        pass


class _Group(click.Group):
    """Maps kdata's errors to messages and exit statuses; loads module commands lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            import importlib

            module, attribute = LAZY_COMMANDS[cmd_name][0].split(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, as click writes it, without importing the module commands."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # A stand-in command with the same help shortens it exactly as the real one would.
            command = click.Command(name, help=LAZY_COMMANDS[name][1]) if name in LAZY_COMMANDS else self.commands[name]
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._reported(ctx)
        except BrokenPipeError:  # the reader went away (``kdata ... | head``): stop quietly, as Unix tools do
            _quiet_stdout()
            ctx.exit(PIPE_CLOSED)

    def _reported(self, ctx: click.Context) -> Any:
        """Run the command; print kdata's errors as one line each (or the issue report) and exit with their status."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # not an error to word: ``invoke`` ends quietly
            raise
        except OSError as exc:  # a read or write the command did not word itself: still one line
            from kdata.fs import write_error

            click.echo(click.style("Error: ", fg="red") + f"the command stopped: {write_error(exc)}.", err=True)
            ctx.exit(1)
        except click.ClickException as exc:  # a bad argument or option: one line too, not click's usage block
            from kdata.datapackage.safety import printable_lines

            where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else ctx.command_path
            message = printable_lines(exc.format_message()).replace("\n", " ")
            click.echo(click.style("Error: ", fg="red") + f"{message.rstrip('.')} (see `{where} --help`).", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            # kdata's own errors (neither OSError nor click's). Only a loaded kdata.errors can have raised
            # one: ``kdata --help`` and a command's help stay without it (start-up time).
            errors = sys.modules.get("kdata.errors")
            if errors is None or not isinstance(exc, errors.KdataError):
                raise
            if isinstance(exc, errors.DataError):
                from kdata.cli.report import report

                report(exc.issues)
                ctx.exit(1)
            from kdata.datapackage.safety import printable_lines

            click.echo(click.style("Error: ", fg="red") + printable_lines(str(exc)), err=True)
            ctx.exit(exc.exit_code)


def run() -> None:
    """The ``kdata`` program (script and ``python -m kdata``): ``main``, then an exit that skips C++ teardown.

    Under load, pyarrow's global thread pools, torn down while the interpreter exits, have aborted
    a finished process ("terminate called without an active exception", exit status -6), after it
    had printed its result. Once every stream is flushed, ``os._exit`` ends the process with
    ``main``'s status and without that teardown. Only the program exits so: ``main`` called in
    another process (the tests' in-process runner) raises ``SystemExit`` as click does.
    """
    import os

    stdout = sys.stdout
    try:
        main(prog_name="kdata")
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)  # what the interpreter would print for it
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        code = 0
    if sys.stdout is not stdout:  # click wraps it when a closed pipe stopped help or usage text: ended so too
        code = PIPE_CLOSED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader went away before the last of the output: as ``invoke`` ends then
            code = code or PIPE_CLOSED
        except (OSError, ValueError):  # a closed stream: nothing more can be said
            pass
    os._exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kalbajar-data", prog_name="kdata")
def main() -> None:
    """kdata: a cited dataset of the Kalbajar district, and the tools that publish it."""
    from kdata import settings

    settings.check()  # every KDATA_* variable, whichever the command reads: a bad value stops it before any work
