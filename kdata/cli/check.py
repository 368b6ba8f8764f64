"""Commands about the records in raw/: validate, and codes (what each error code of its report means)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kdata.cli.report import FORMATS, report
from kdata.errors import CODES


@click.command("validate")
@click.argument("raw_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("raw"))
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
def validate_command(
    raw_dir: Path, archive: Path | None, fmt: str, color: bool | None, no_cache: bool, use_git: bool
) -> None:
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


@click.command("codes")
def codes_command() -> None:
    """List every error code with its name, what it means and how to fix it."""
    for code in CODES.values():
        click.echo(f"{code.code}  {code.name:<22} {code.meaning}")
        click.echo(f"{'':<29} Fix: {code.hint}")
