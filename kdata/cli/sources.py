"""The curators' commands: ``kdata sources add|show`` and ``kdata quote find``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kdata.datapackage.safety import printable

_RAW = click.option(
    "--raw",
    "raw",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("raw"),
    show_default=True,
    help="Folder of YAML records (the archive is its sources/ folder).",
)


@click.group(name="sources")
def sources_command() -> None:
    """Archive a document and read the archived texts (raw/sources/<id>.txt)."""


@sources_command.command(name="add")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--id", "record_id", metavar="ID", help="The new source's id (default: from its date and title).")
@click.option("--title", metavar="TEXT", help="The title to write (a .txt states none; default: an .html page's h1).")
@_RAW
def add(file: Path, record_id: str | None, title: str | None, raw: Path) -> None:
    """Archive FILE (.txt, or .html saved from a browser) and write its source record.

    The text goes to raw/sources/<id>.txt and the record, with its sha256 and only what the
    document states about itself, to raw/sources/<id>.yaml. A document archived already (same
    sha256) or a taken id is refused. A .txt states no title: give one with --title, or the id
    with --id and fill the title in the record.
    """
    from kdata.records.curate import add_source

    added = add_source(file, raw, record_id, title)
    click.echo(f"Archived {added.text} (sha256 {added.sha256}).")
    for note in added.dropped:
        click.echo(f"Note: the document's {printable(note)}")
    filled = ", ".join(added.stated) or "nothing but its sha256"
    click.echo(f"Wrote {added.record}: from the document, {filled}. Fill the empty fields, then `kdata validate`.")


@sources_command.command(name="show")
@click.argument("source_id", metavar="ID")
@_RAW
def show(source_id: str, raw: Path) -> None:
    """Print the archived text of source ID with its paragraph numbers (as locators count them)."""
    from kdata.records.curate import archived_texts, numbered

    archived = archived_texts(raw, only=source_id)[source_id]
    paragraphs = numbered(archived)
    width = len(str(len(paragraphs)))
    for number, text in paragraphs:
        lines = text.split("\n")
        click.echo(f"[{number:>{width}}] {printable(lines[0])}")
        for line in lines[1:]:
            click.echo(f"{'':>{width + 3}}{printable(line)}")
        click.echo()


@click.group(name="quote")
def quote_command() -> None:
    """Find the words to quote in the archived texts."""


@quote_command.command(name="find")
@click.argument("text")
@click.option("--source", "source_id", metavar="ID", help="Search this source's text only (default: every one).")
@click.option("--limit", type=click.IntRange(1, 50), default=5, show_default=True, help="Most passages shown.")
@_RAW
def find(text: str, source_id: str | None, limit: int, raw: Path) -> None:
    """Find TEXT in the archive: exactly, then approximately, then the likeliest passages.

    Prints each passage's source, paragraph and words as a citation to paste. Exit 1 if none.
    """
    from kdata.records.curate import archived_texts
    from kdata.records.quotefind import find as search

    found = search(text, archived_texts(raw, only=source_id), limit)
    if not found:
        where = f"the archived text of '{source_id}'" if source_id else "any archived text"
        click.echo(f"Not found in {where}, not even approximately.", err=True)
        sys.exit(1)
    for passage in found:
        how = passage.how if passage.how != "fuzzy" else f"similar, {passage.score:.0%} alike"
        click.echo(f"{passage.source}, paragraph {passage.paragraph} ({how}):")
        click.echo(f"  - source: {passage.source}")
        click.echo(f"    quote: {printable(_scalar(passage.quote))}")
        click.echo(f"    locator: paragraph {passage.paragraph}")


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain where YAML reads it back as the same string, else single-quoted."""
    import yaml

    if yaml.safe_load(text) == text and not text.startswith(("'", '"')) and ": " not in text and " #" not in text:
        return text
    return "'" + text.replace("'", "''") + "'"
