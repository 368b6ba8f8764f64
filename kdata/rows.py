"""Records -> rows: each table's typed rows and CSV lines, made where the records are checked.

The worker processes that check the record files also turn each valid record
into rows (its own row, its citations, its actors) and return them as Arrow
tables, one per table and chunk of files. The parent never holds the records
themselves: it only concatenates the chunks and sorts them by primary key
(``merge``). Each row carries its CSV line too (column ``_csv``), written by the
csv module where the row was made, so the parent only joins them.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from typing import Any

from . import models
from .dates import parse_edtf

#: The column of each chunk table that holds a row's CSV line (dropped before Parquet).
CSV_COLUMN = "_csv"
_OWNER_PREFIX = {"events": "event", "figures": "figure"}


@cache
def columns(table: str) -> tuple[str, ...]:
    """The column names of ``table``, in order."""
    from .schemas import table_fields

    return tuple(f["name"] for f in table_fields(table))


@cache
def _bool_columns(table: str) -> tuple[int, ...]:
    from .schemas import table_fields

    return tuple(i for i, f in enumerate(table_fields(table)) if f["type"] == "boolean")


def _expand(record: models.Record, names: set[str], row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Add a record's scalar fields to ``row``: each EDTF date as four columns, a sub-record as prefixed columns."""
    for key, value in record.__dict__.items():  # the fields, without pydantic's slower __iter__
        name = prefix + key
        if isinstance(value, list):
            continue
        if isinstance(value, models.Record):
            _expand(value, names, row, f"{name}_")
            continue
        row[name] = value
        if f"{name}_precision" in names:
            parsed = parse_edtf(value) if value is not None else None
            row[f"{name}_start"] = parsed.start if parsed else None
            row[f"{name}_end"] = parsed.end if parsed else None
            row[f"{name}_precision"] = parsed.precision if parsed else None
    return row


class Rows:
    """Rows of every table for one chunk of records, in the order they were added."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in models.TABLES}
        self._names = {table: set(columns(table)) for table in models.TABLES}

    def add_row(self, table: str, row: dict[str, Any]) -> None:
        """Add one row given as column -> value (missing columns are null)."""
        self.rows[table].append(tuple(map(row.get, columns(table))))

    def add(self, table: str, record: models.Record) -> None:
        """Add a valid record's row, and the rows of its citations and actors."""
        self.add_row(table, _expand(record, self._names[table], {}))
        fields = record.__dict__
        rid = fields["id"]
        for n, citation in enumerate(fields.get("citations", ()), start=1):
            owner = _OWNER_PREFIX[table]
            row = {"id": f"{owner}:{rid}:{n}", owner: rid}
            self.add_row("citations", _expand(citation, self._names["citations"], row))
        for link in fields.get("actors", ()):
            self.add_row("event_actors", _expand(link, self._names["event_actors"], {"event": rid}))

    def tables(self) -> dict[str, Any]:
        """The rows as one Arrow table per table, typed by its schema, plus the ``_csv`` column."""
        import pyarrow as pa

        from .schemas import arrow_schema

        out = {}
        for table, rows in self.rows.items():
            schema = arrow_schema(table)
            data = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
            arrays = [pa.array(values, type=f.type) for values, f in zip(data, schema, strict=True)]
            arrays.append(pa.array(_csv_lines(table, rows), type=pa.string()))
            out[table] = pa.Table.from_arrays(arrays, schema=schema.append(pa.field(CSV_COLUMN, pa.string())))
        return out


def _csv_lines(table: str, rows: list[tuple[Any, ...]]) -> list[str]:
    """Each row as its CSV line (empty cell = null, booleans as true/false)."""
    flags = _bool_columns(table)
    if flags:
        rows = [tuple(_bool(v) if i in flags else v for i, v in enumerate(row)) for row in rows]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    lengths = [writer.writerow(row) for row in rows]  # writerow returns the characters it wrote
    text, lines, start = out.getvalue(), [], 0
    for length in lengths:
        lines.append(text[start : start + length])
        start += length
    return lines


def _bool(value: Any) -> Any:
    return value if value is None else ("true" if value else "false")


def csv_header(table: str) -> bytes:
    """The header line of a table's CSV file."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(columns(table))
    return out.getvalue().encode("utf-8")


def merge(table: str, parts: list[Any]) -> Any:
    """One Arrow table from a table's chunks, sorted by primary key.

    Chunks mostly arrive in order already (files are read sorted by name, which
    is the id): then nothing is copied. The result may still be in several
    chunks; ``package`` combines the columns it writes to Parquet, whose bytes
    depend on the chunks.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    joined = pa.concat_tables(parts) if parts else Rows().tables()[table]
    parts.clear()  # the joined table holds the chunks now
    order = pc.sort_indices(joined, [(key, "ascending") for key in models.TABLES[table].primary_key])
    if not pc.all(pc.equal(order, pa.array(range(len(order)), type=order.type))).as_py() and len(order):
        joined = joined.take(order)
    return joined
