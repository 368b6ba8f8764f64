"""The ``kdata conflicts`` command: where sources disagree, read from a built package's CSV tables."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kdata.datapackage.safety import printable, printable_lines
from kdata.errors import KdataError
from kdata.records import vocab

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


@click.command("conflicts")
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
def conflicts_command(dist: Path | None, fmt: str, kinds: tuple[str, ...]) -> None:
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
