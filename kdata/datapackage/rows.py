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
from typing import Any, get_args, get_origin

from kdata.records import models
from kdata.records.dates import parse_edtf

#: The column of each chunk table that holds a row's CSV line (dropped before Parquet).
CSV_COLUMN = "_csv"
_OWNER_PREFIX = {"events": "event", "figures": "figure"}


@cache
def columns(table: str) -> tuple[str, ...]:
    """The column names of ``table``, in order."""
    from kdata.datapackage.schemas import table_fields

    return tuple(f["name"] for f in table_fields(table))


@cache
def _bool_columns(table: str) -> tuple[int, ...]:
    from kdata.datapackage.schemas import table_fields

    return tuple(i for i, f in enumerate(table_fields(table)) if f["type"] == "boolean")


_PLAIN, _DATE, _SUB = range(3)
#: How one field becomes columns: (field name, column name, kind, plan of the sub-record or None).
Step = tuple[str, str, int, Any]


@cache
def _plan(model: type[models.Record], table: str, prefix: str = "") -> tuple[Step, ...]:
    """How a model's fields become columns of ``table``; worked out once per model, not per record."""
    names = set(columns(table))
    steps: list[Step] = []
    for key, info in model.model_fields.items():
        name = prefix + key
        if get_origin(info.annotation) is list:
            continue  # lists of sub-records are child tables
        subs = [
            a
            for a in get_args(info.annotation) or (info.annotation,)
            if isinstance(a, type) and issubclass(a, models.Record)
        ]
        if subs:
            steps.append((key, name, _SUB, _plan(subs[0], table, f"{name}_")))
        elif f"{name}_precision" in names:
            steps.append((key, name, _DATE, None))
        elif name in names:
            steps.append((key, name, _PLAIN, None))
    return tuple(steps)


def _expand(record: models.Record, plan: tuple[Step, ...], row: dict[str, Any]) -> dict[str, Any]:
    """Add a record's columns to ``row``: each EDTF date as four columns, a sub-record as prefixed columns."""
    fields = record.__dict__  # the fields, without pydantic's slower __iter__
    for key, name, kind, sub in plan:
        value = fields[key]
        if kind == _PLAIN:
            row[name] = value
        elif kind == _SUB:
            if value is not None:
                _expand(value, sub, row)
        elif value is not None:
            parsed = parse_edtf(value)
            row[name], row[f"{name}_start"], row[f"{name}_end"] = value, parsed.start, parsed.end
            row[f"{name}_precision"] = parsed.precision
    return row


class Rows:
    """Rows of every table for one chunk of records, in the order they were added."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in models.TABLES}

    def add_row(self, table: str, row: dict[str, Any]) -> None:
        """Add one row given as column -> value (missing columns are null)."""
        self.rows[table].append(tuple(map(row.get, columns(table))))

    def add(self, table: str, record: models.Record) -> None:
        """Add a valid record's row, and the rows of its citations and actors."""
        self.add_row(table, _expand(record, _plan(type(record), table), {}))
        fields = record.__dict__
        rid = fields["id"]
        for n, citation in enumerate(fields.get("citations", ()), start=1):
            owner = _OWNER_PREFIX[table]
            row = {"id": f"{owner}:{rid}:{n}", owner: rid}
            self.add_row("citations", _expand(citation, _plan(models.Citation, "citations"), row))
        for link in fields.get("actors", ()):
            self.add_row("event_actors", _expand(link, _plan(models.EventActor, "event_actors"), {"event": rid}))

    def tables(self) -> dict[str, Any]:
        """The rows as one Arrow table per table, typed by its schema, plus the ``_csv`` column."""
        import pyarrow as pa

        from kdata.datapackage.schemas import arrow_schema

        out = {}
        for table, rows in self.rows.items():
            schema = arrow_schema(table)
            data = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
            arrays = [pa.array(values, type=f.type) for values, f in zip(data, schema, strict=True)]
            arrays.append(pa.array(_csv_lines(table, rows), type=pa.string()))
            out[table] = pa.Table.from_arrays(arrays, schema=schema.append(pa.field(CSV_COLUMN, pa.string())))
        return out


def chunk_tables(records: list[tuple[str, models.Record]]) -> dict[str, Any]:
    """The rows of a chunk of valid (table, record) pairs, one Arrow table per table (see ``Rows.tables``).

    The build hands this to :func:`kdata.records.validate.load_raw` as ``keep``, so
    worker processes turn records into rows where they were checked.
    """
    rows = Rows()
    for table, record in records:
        rows.add(table, record)
    return rows.tables()


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
