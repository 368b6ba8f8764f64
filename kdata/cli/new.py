"""The ``kdata new`` command: write a record template to fill."""

from __future__ import annotations

from pathlib import Path

import click

from kdata.records.scaffold import KINDS


@click.command(name="new")
@click.argument("kind", type=click.Choice(sorted(KINDS), case_sensitive=False), metavar="KIND")
@click.argument("record_id", metavar="ID")
@click.option(
    "--raw",
    "raw",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("raw"),
    show_default=True,
    help="Folder of YAML records to write into.",
)
def new(kind: str, record_id: str, raw: Path) -> None:
    """Write the record file raw/<table>/ID.yaml with every field to fill.

    KIND is the table: sources, actors, places, events, figures or claims (singular works too).
    """
    from kdata.records.scaffold import new_record

    path = new_record(kind, record_id, raw)
    click.echo(f"Wrote {path}: fill the empty fields, then run `kdata validate`.")
