"""Records -> rows: each table's typed rows and CSV lines, made where the records are checked.

The worker processes that check the record files also turn each valid record
into rows (its own row, and the rows of the child tables its lists fill) and
return them as one ``Part`` per table and chunk of files: an Arrow table, and
the same rows as CSV text written by the csv module where they were made. The
parent never holds the records themselves: it only concatenates each table's
parts and sorts them by primary key (``merge``).
"""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any, get_args, get_origin

from kdata.records import models
from kdata.records.dates import parse_edtf
from kdata.records.evidence import TextsBeside


@dataclass(frozen=True)
class Part:
    """One table's rows made from one chunk of records: typed, and as the lines of the table's CSV file.

    Attributes:
        arrow: The rows as a ``pyarrow.Table`` typed by the table's Arrow schema.
        csv: The same rows, in the same order, as CSV lines (UTF-8, no header).
        ends: Where each row's line ends in ``csv`` (byte offsets), so that ``merge`` can reorder the lines.
    """

    arrow: Any
    csv: bytes
    ends: Sequence[int]

    def lines(self) -> list[bytes]:
        """Each row's CSV line."""
        return [self.csv[start:end] for start, end in pairwise((0, *self.ends))]


@dataclass(frozen=True)
class TableRows:
    """All rows of one table, sorted by primary key: typed, and as its CSV file without the header.

    Attributes:
        arrow: The rows as a ``pyarrow.Table`` (possibly in several chunks).
        csv: The same rows as CSV lines, in pieces to write one after the other.
    """

    arrow: Any
    csv: tuple[bytes, ...]


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


@cache
def _children(table: str) -> tuple[tuple[str, str, str, bool], ...]:
    """The child tables a record of ``table`` fills: (its list field, child table, owner column, numbered).

    A list of sub-records fills the child table whose model its items are (``Event.citations`` ->
    ``citations``); a list of ids fills the link table that names it (``Claim.targets`` -> ``claim_targets``).
    """
    out = []
    for key, info in models.TABLES[table].model.model_fields.items():
        if get_origin(info.annotation) is list:
            (item,) = get_args(info.annotation)
            out += [
                (key, child, spec.owners[table], spec.numbered)
                for child, spec in models.TABLES.items()
                if table in spec.owners
                and (
                    spec.ids == key
                    if spec.ids
                    else isinstance(item, type) and issubclass(spec.model, item)  # Citation -> PublishedCitation
                )
            ]
    return tuple(out)


@cache
def _link_column(table: str) -> str:
    """The one column of a link table's model: the listed id (``claim_targets`` -> ``actor``)."""
    (column,) = models.TABLES[table].model.model_fields
    return column


#: The field of a published citation that holds its anchor (``PublishedCitation.anchor``).
_ANCHOR = "anchor"


class Rows:
    """Rows of every table for one chunk of records, in the order they were added.

    Args:
        sources: The raw/sources/ folder whose archived texts anchor each citation; without it the
            anchor columns stay empty (rows made for a test of one record).
    """

    def __init__(self, sources: Path | None = None) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in models.TABLES}
        self.texts = TextsBeside(sources) if sources is not None else None

    def add_row(self, table: str, row: dict[str, Any]) -> None:
        """Add one row given as column -> value (missing columns are null)."""
        self.rows[table].append(tuple(map(row.get, columns(table))))

    def add(self, table: str, record: models.Record) -> None:
        """Add a valid record's row, and the rows of the child tables its lists fill (citations, actors)."""
        self.add_row(table, _expand(record, _plan(type(record), table), {}))
        fields = record.__dict__
        rid = fields["id"]
        for key, child, owner, numbered in _children(table):
            if models.TABLES[child].ids:
                for linked in fields[key]:
                    self.add_row(child, {owner: rid, _link_column(child): linked})
                continue
            items: list[models.Record] = fields[key]
            for n, item in enumerate(items, start=1):
                row = {"id": f"{owner}:{rid}:{n}", owner: rid} if numbered else {owner: rid}
                _expand(item, _plan(type(item), child), row)
                if _ANCHOR in models.TABLES[child].model.model_fields:
                    self._anchor(item, child, row)
                self.add_row(child, row)

    def _anchor(self, citation: Any, table: str, row: dict[str, Any]) -> None:
        """Add the anchor columns of a citation's row (empty if its quote is not found: the build refuses it)."""
        found = self.texts.anchor(citation.source, citation.quote) if self.texts else None
        if found is not None:
            anchor = models.QuoteAnchor.model_construct(
                start=found.start,
                end=found.end,
                parts=found.parts_text(),
                exact=found.exact,
                prefix=found.prefix or None,
                suffix=found.suffix or None,
                paragraph=found.paragraph,
            )
            _expand(anchor, _plan(models.QuoteAnchor, table, f"{_ANCHOR}_"), row)

    def tables(self) -> dict[str, Part]:
        """The rows as one ``Part`` per table: an Arrow table typed by its schema, and its CSV lines."""
        import pyarrow as pa

        from kdata.datapackage.schemas import arrow_schema

        out = {}
        for table, rows in self.rows.items():
            schema = arrow_schema(table)
            data = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
            arrays = [pa.array(values, type=f.type) for values, f in zip(data, schema, strict=True)]
            out[table] = Part(pa.Table.from_arrays(arrays, schema=schema), *_csv(table, rows))
        return out


def chunk_tables(records: list[tuple[str, models.Record]], sources: Path | None = None) -> dict[str, Part]:
    """The rows of a chunk of valid (table, record) pairs, one ``Part`` per table (see ``Rows.tables``).

    The build hands this to :func:`kdata.records.validate.load_raw` as ``keep`` (with ``sources``, the
    folder of archived texts that anchor the citations), so worker processes turn records into rows
    where they were checked.
    """
    rows = Rows(sources)
    for table, record in records:
        rows.add(table, record)
    return rows.tables()


def _csv(table: str, rows: list[tuple[Any, ...]]) -> tuple[bytes, array[int]]:
    """The rows as CSV lines (empty cell = null, booleans as true/false), and where each line ends."""
    flags = _bool_columns(table)
    if flags:
        rows = [tuple(_bool(v) if i in flags else v for i, v in enumerate(row)) for row in rows]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    lengths = [writer.writerow(row) for row in rows]  # writerow returns the characters it wrote
    text = out.getvalue()
    data = text.encode("utf-8")
    if len(data) != len(text):  # not all ASCII: count each line's bytes, not its characters
        lengths = [len(text[start:end].encode("utf-8")) for start, end in pairwise(accumulate(lengths, initial=0))]
    return data, array("I", accumulate(lengths))  # 4 bytes a row; a chunk's CSV is far below 4 GB


def _bool(value: Any) -> Any:
    return value if value is None else ("true" if value else "false")


def csv_header(table: str) -> bytes:
    """The header line of a table's CSV file."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(columns(table))
    return out.getvalue().encode("utf-8")


def merge(table: str, parts: Sequence[Part]) -> TableRows:
    """All rows of a table from its parts, sorted by primary key.

    Parts mostly arrive in order already (files are read sorted by name, which
    is the id): then nothing is copied, and the CSV lines are the parts' own
    bytes. The Arrow table may still be in several chunks; the Parquet writer
    combines them, since Parquet bytes depend on the chunks.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = parts or [Rows().tables()[table]]
    joined = pa.concat_tables([part.arrow for part in parts])
    order = pc.sort_indices(joined, [(key, "ascending") for key in models.TABLES[table].primary_key])
    if len(order) and not pc.all(pc.equal(order, pa.array(range(len(order)), type=order.type))).as_py():
        lines = [line for part in parts for line in part.lines()]
        return TableRows(joined.take(order), (b"".join([lines[i] for i in order.to_pylist()]),))
    return TableRows(joined, tuple(part.csv for part in parts))
