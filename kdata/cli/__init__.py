"""The ``kdata`` command: a thin skin over the library.

Commands parse their arguments, call the library and print. ``KdataError``
becomes a message and an exit status here (1 for invalid data, 2 for usage);
only a bug in kdata itself prints a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kdata.cli.report import FORMATS, report
from kdata.datapackage.safety import printable, printable_lines
from kdata.errors import CODES, DataError, KdataError
from kdata.records import vocab

_RAW = click.Path(path_type=Path, file_okay=False)


#: Commands that live in their own modules: name -> ("module:attribute", short help). Each is
#: imported on first use; the short help (the first sentence of its docstring) is repeated here so
#: that ``kdata --help`` imports none of them (a test checks that it matches the command's own).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
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
        except DataError as exc:
            report(exc.issues)
            ctx.exit(1)
        except KdataError as exc:
            click.echo(click.style("Error: ", fg="red") + printable_lines(str(exc)), err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a read or write the command did not word itself: still one line
            from kdata.fs import write_error

            click.echo(click.style("Error: ", fg="red") + f"the command stopped: {write_error(exc)}.", err=True)
            ctx.exit(1)
        except click.ClickException as exc:  # a bad argument or option: one line too, not click's usage block
            where = exc.ctx.command_path if isinstance(exc, click.UsageError) and exc.ctx else ctx.command_path
            message = printable_lines(exc.format_message()).replace("\n", " ")
            click.echo(click.style("Error: ", fg="red") + f"{message.rstrip('.')} (see `{where} --help`).", err=True)
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


@main.command()
@click.argument("raw_dir", type=_RAW, default=Path("raw"))
@click.option(
    "--archive",
    type=click.Path(path_type=Path, file_okay=False),
    help="An outside folder of archived source texts, found by sha256 (default: raw/sources/<id>.txt beside each record).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format: text, JSON, or GitHub workflow annotations.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text output (default: only on a terminal).",
)
@click.option("--no-cache", is_flag=True, help="Check every file afresh instead of reusing results of unchanged files.")
@click.option(
    "--git",
    "use_git",
    is_flag=True,
    help="Ask git what changed since the cache was made (commits, git status) instead of stat-ing every file.",
)
def validate(raw_dir: Path, archive: Path | None, fmt: str, color: bool | None, no_cache: bool, use_git: bool) -> None:
    """Check every record in RAW_DIR (default: raw). Exit 1 if any is invalid."""
    if color is not None:
        click.get_current_context().color = color

    if no_cache or archive is not None:  # texts found by sha256 in an outside folder: every quote checked afresh
        from kdata.records.evidence import verify_quotes
        from kdata.records.validate import load_raw

        data = load_raw(raw_dir, keep="nothing", cache=not no_cache, settle=no_cache)
        issues = data.issues + verify_quotes(data, archive)
        counts = {table: 1 for table, _ in data.results}
        records = len(data.results)
    else:
        from kdata.records.incremental import check_tree

        checked = check_tree(raw_dir, git=use_git)
        issues, counts, records = checked.issues, checked.counts, sum(checked.counts.values())
    report(sorted(issues), fmt)
    if issues:
        sys.exit(1)
    if fmt != "json":
        where = archive if archive else "its source's archived text"
        click.echo(f"{raw_dir} is valid: {records} records in {len(counts)} tables, every quote found in {where}.")


@main.command()
@click.option("--raw", "raw_dir", type=_RAW, default=Path("raw"), show_default=True, help="Folder of YAML records.")
@click.option(
    "--dist",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Folder of the built data package.",
)
@click.option(
    "--schemas",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help="Folder of generated schemas.",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 and name each file that is stale against raw/ and the models."
)
def build(raw_dir: Path, dist: Path, schemas: Path, check: bool) -> None:
    """Validate raw/ and write the data package to dist/ (and schemas/)."""
    from kdata.datapackage import build as builder

    if check:
        blocked = builder.refusals(raw_dir, dist, schemas)
        stale = builder.stale_files(raw_dir, dist, schemas)
        for line in [*blocked, *stale]:
            click.echo(printable(line))
        if blocked:
            click.echo(
                "`kdata build` would refuse as the lines above say: move out what kdata did not write, "
                "then run `kdata build` and commit the result.",
                err=True,
            )
            sys.exit(1)
        if stale:
            click.echo(f"{len(stale)} file(s) stale: run `kdata build` and commit the result.", err=True)
            sys.exit(1)
        click.echo(f"{dist} and {schemas} are fresh.")
        return
    result = builder.build(raw_dir, dist, schemas)
    total = sum(result.rows.values())
    click.echo(f"Built {result.dist}: {total} rows in {len(result.rows)} tables, as CSV and Parquet.")


@main.command()
@click.argument("dist", type=click.Path(path_type=Path, file_okay=False), default=Path("dist"))
def verify(dist: Path) -> None:
    """Check a built package in DIST (default: dist): descriptor, bytes, sha256, types, constraints and keys."""
    from kdata.datapackage.verify import verify as check

    problems = check(dist)
    for line in problems:
        click.echo(printable(line))
    if problems:
        sys.exit(1)
    click.echo(
        f"{dist} is valid: every file matches its sha256 (and its bytes, where declared); types, constraints and keys hold."
    )


@main.command()
@click.argument("dist", type=click.Path(path_type=Path, file_okay=False), required=False)
def info(dist: Path | None) -> None:
    """Print the package name, version, licence and each table's rows (default: bundled)."""
    from kdata.datapackage.read import bundled_dir, read_descriptor

    folder = dist or bundled_dir()
    descriptor = read_descriptor(folder, KdataError)
    licences = ", ".join(lic["name"] for lic in descriptor.get("licenses", []))
    click.echo(printable(f"{descriptor['name']} {descriptor['version']} ({licences})"))
    click.echo(printable(descriptor.get("title", "")))
    click.echo(printable(f"Location: {folder}"))
    tables = [r for r in descriptor["resources"] if r["format"] == "csv"]
    width = max((len(r["name"]) for r in tables), default=0)
    for resource in tables:
        click.echo(printable(f"  {resource['name']:<{width}} {resource['kdata:rows']:>6} rows"))


@main.command()
@click.argument("out", type=click.Path(path_type=Path, file_okay=False), default=Path("schemas"))
def schemas(out: Path) -> None:
    """Write the JSON Schemas and Table Schemas generated from the models to OUT."""
    from kdata.datapackage.schemas import write_schemas

    written = write_schemas(out)
    click.echo(f"Wrote {len(written)} schemas to {out}.")


#: The tables ``kdata conflicts`` reads: the disagreements, their sides and what the sides cite.
_CONFLICT_TABLES = ("disagreements", "disagreement_sides", "citations", "sources", "actors")
#: A quote printed by ``kdata conflicts`` is cut to this many characters (``--format json`` keeps it whole).
QUOTE_WIDTH = 100


#: Table Schema type -> how a CSV cell of that type becomes its value (other types stay text; an empty cell is None).
_CSV_TYPES: dict[str, Callable[[str], Any]] = {"integer": int, "number": float, "boolean": lambda v: v == "true"}


def _read_csv_tables(folder: Path, names: tuple[str, ...]) -> list[list[dict[str, Any]]]:
    """The rows of each CSV table of the package in ``folder``, each cell of the type its Table Schema declares."""
    import csv

    from kdata.datapackage.read import read_descriptor, table_file

    descriptor = read_descriptor(folder, KdataError)
    out = []
    for name in names:
        path = folder / table_file(descriptor, name, "csv")
        resource = next(r for r in descriptor["resources"] if r["path"] == table_file(descriptor, name, "csv"))
        cast = {f["name"]: _CSV_TYPES[f["type"]] for f in resource["schema"]["fields"] if f["type"] in _CSV_TYPES}
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                rows = [
                    {k: cast[k](v) if k in cast and v != "" else v for k, v in row.items()}
                    for row in csv.DictReader(handle)
                ]
        except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise KdataError(f"Cannot read {path}: {reason}.") from None
        out.append(rows)
    return out


def _cut(text: str, width: int = QUOTE_WIDTH) -> str:
    """``text`` cut at a word to at most ``width`` characters, marked with an ellipsis."""
    if len(text) <= width:
        return text
    head = text[: width - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:") + "\u2026"


@main.command()
@click.argument("dist", type=click.Path(path_type=Path, file_okay=False), required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(list(vocab.DISAGREEMENT_KINDS)),
    help="Only disagreements of this kind (repeat for several).",
)
def conflicts(dist: Path | None, fmt: str, kinds: tuple[str, ...]) -> None:
    """List where sources disagree, by topic, with each side's claimants (default package: bundled)."""
    from kdata.datapackage.conflicts import grouped, quoted
    from kdata.datapackage.read import bundled_dir

    found = grouped(*_read_csv_tables(dist or bundled_dir(), _CONFLICT_TABLES))
    found = [d for d in found if not kinds or d["kind"] in kinds]
    if fmt == "json":
        click.echo(printable_lines(json.dumps(found, indent=2, ensure_ascii=False)))
        return
    for d in found:
        head = f"{d['topic']} ({d['table']}): {d['kind']}"
        detail = "" if d["kind"] == d["aspect"] else f", in the {d['aspect']}"
        click.echo(f"{click.style(printable(head), bold=True)}{printable(detail)}, {len(d['sides'])} sides")
        for side in d["sides"]:
            records = ", ".join(record for _, record in side["records"])
            value = side["value"]
            if quoted(d["aspect"]):  # the sources' words: a quotation, attributed to whoever says them
                said = dict.fromkeys(c["claimant_name"] or c["claimant"] for c in side["claims"])
                value = f'"{value}", said by {" and ".join(said)}'
            click.echo(printable(f"  {side['side']}. {value}  [{records}]"))
            for c in side["claims"]:
                who = c["claimant_name"] or c["claimant"]
                where = ", ".join(x for x in (c["outlet"] or c["source"], c["published"]) if x)
                quote = f' "{_cut(c["quote"])}"' if c["quote"] else ""
                click.echo(printable(f"     {who} ({where}):{quote}"))
    click.echo(f"{len(found)} disagreement(s).")


@main.command(name="codes")
def codes() -> None:
    """List every error code with its name, what it means and how to fix it."""
    for code in CODES.values():
        click.echo(f"{code.code}  {code.name:<22} {code.meaning}")
        click.echo(f"{'':<29} Fix: {code.hint}")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 and name each file whose generated sections are stale."
)
def docs(files: tuple[Path, ...], check: bool) -> None:
    """Rewrite the generated sections (data model, error codes) of FILES (default: README.md, CONTRIBUTING.md).

    Without FILES, also CITATION.cff and .zenodo.json where they exist, from the citation of dist/.
    """
    from kdata.datapackage.docs import update

    paths = list(files) or [p for p in (Path("README.md"), Path("CONTRIBUTING.md")) if p.is_file()]
    changed = update(paths, check=check)
    if not files and (Path("dist") / "datapackage.json").is_file():
        from kdata.datapackage.read import read_descriptor
        from kdata.release.cite import update_citation_files

        changed += update_citation_files(Path(), read_descriptor(Path("dist")), check=check)
    for path in changed:
        click.echo(f"{path} {'is stale' if check else 'updated'}")
    if check and changed:
        sys.exit(1)
