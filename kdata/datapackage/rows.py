"""Records -> rows: each table's typed rows and CSV lines, made where the records are checked.

The worker processes that check the record files also turn each valid record
into rows (its own row, and the rows of the child tables its lists fill): one
``Part`` per table and chunk of files, an Arrow table and the same rows as CSV
text written by the csv module where they were made. The build's workers sort
each part by primary key and write it to a spill folder (``spill_chunk``), so
the parent holds neither the records nor all the rows: it only notes each part's
first and last key, and ``merge`` streams each table in key order, loading at a
time only the parts whose key ranges overlap (usually one: files are read in
name order, which is mostly key order).
"""

from __future__ import annotations

import csv
import io
import os
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, count, pairwise
from pathlib import Path
from typing import Any, Protocol, get_args, get_origin

from kdata.records import models
from kdata.records.dates import parse_edtf
from kdata.records.texts import TextsBeside, take_anchors


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

    @property
    def rows(self) -> int:
        """How many rows the part holds."""
        return int(self.arrow.num_rows)

    def load(self) -> Part:
        """The part itself (a ``Spilled`` part reads itself back)."""
        return self

    def select(self, names: list[str] | None = None) -> Any:
        """The Arrow rows, only the columns ``names`` if given."""
        return self.arrow if names is None else self.arrow.select(names)


#: A table's key of one row: its primary key's values.
Key = tuple[Any, ...]


@dataclass(frozen=True)
class Spilled:
    """A ``Part`` sorted by primary key and written to disk by the worker that made it.

    Attributes:
        stem: The files' path without suffix: ``.arrow`` (Arrow IPC), ``.csv`` (the lines), ``.ends``.
        rows: How many rows it holds.
        first, last: The keys of its first and last row; None when a key holds a null (ordered as Arrow does).
    """

    stem: str
    rows: int
    first: Key | None
    last: Key | None

    def load(self) -> Part:
        """The part, read back into memory."""
        import pyarrow as pa

        with pa.OSFile(self.stem + ".arrow") as source:
            arrow = pa.ipc.open_file(source).read_all()
        ends = array("I")
        with open(self.stem + ".ends", "rb") as handle:
            ends.fromfile(handle, self.rows)
        with open(self.stem + ".csv", "rb") as handle:
            return Part(arrow, handle.read(), ends)

    def select(self, names: list[str] | None = None) -> Any:
        """The Arrow rows, only the columns ``names`` if given (the others are never read)."""
        import pyarrow as pa

        with pa.memory_map(self.stem + ".arrow") as source:
            arrow = pa.ipc.open_file(source).read_all()
            picked = arrow if names is None else arrow.select(names)
            return picked.combine_chunks() if picked.num_rows else picked  # a copy: the map closes


class Chunked(Protocol):
    """A chunk's rows of one table, in memory (``Part``) or on disk (``Spilled``)."""

    @property
    def rows(self) -> int: ...

    def load(self) -> Part: ...

    def select(self, names: list[str] | None = None) -> Any: ...


@dataclass(frozen=True)
class TableRows:
    """All rows of one table, to stream in primary-key order: the parts, in groups whose key ranges overlap.

    Attributes:
        table: The table.
        groups: The parts, grouped: every key of a group sorts before every key of the next one.
        num_rows: How many rows the table holds.
    """

    table: str
    groups: tuple[tuple[Chunked, ...], ...]
    num_rows: int

    def chunks(self) -> Iterator[Part]:
        """The rows in primary-key order, one ``Part`` per group (its ``ends`` left empty but for a lone part)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for group in self.groups:
            if len(group) == 1:
                yield group[0].load()  # sorted already (see ``merge``)
                continue
            loaded = [part.load() for part in group]
            joined = pa.concat_tables([part.arrow for part in loaded])
            order = pc.sort_indices(joined, _sort_keys(self.table)).to_pylist()
            lines = [line for part in loaded for line in part.lines()]
            del loaded
            yield Part(joined.take(order), b"".join([lines[i] for i in order]), array("I"))

    def collect(self) -> Part:
        """All rows at once (for small tables and tests): one Arrow table and the CSV lines, sorted."""
        import pyarrow as pa

        parts = list(self.chunks()) or [Rows().tables()[self.table]]
        return Part(pa.concat_tables([p.arrow for p in parts]), b"".join(p.csv for p in parts), array("I"))


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
            anchor columns stay empty (rows made for a test of one record). The anchors the worker's
            ``texts.settle`` just found for this chunk are reused, not searched again.
    """

    def __init__(self, sources: Path | None = None) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in models.TABLES}
        self.texts = TextsBeside(sources, take_anchors(sources)) if sources is not None else None

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

    def tables(self, only: list[str] | None = None) -> dict[str, Part]:
        """The rows as one ``Part`` per table (or per table of ``only``): an Arrow table typed by its schema,
        and its CSV lines."""
        import pyarrow as pa

        from kdata.datapackage.schemas import arrow_schema

        out = {}
        for table, rows in self.rows.items():
            if only is not None and table not in only:
                continue
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


def _sort_keys(table: str) -> list[tuple[str, str]]:
    return [(key, "ascending") for key in models.TABLES[table].primary_key]


def _key(arrow: Any, table: str, row: int) -> Key | None:
    """The primary key of one row, or None if it holds a null (Arrow sorts nulls last; Python cannot compare them)."""
    key = tuple(arrow[name][row].as_py() for name in models.TABLES[table].primary_key)
    return None if None in key else key


def _sorted(table: str, part: Part) -> Part:
    """The part with its rows (and their CSV lines) in primary-key order; the part itself if they are already."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = pc.sort_indices(part.arrow, _sort_keys(table))
    if not len(order) or pc.all(pc.equal(order, pa.array(range(len(order)), type=order.type))).as_py():
        return part
    lines, picked = part.lines(), order.to_pylist()
    moved = [lines[i] for i in picked]
    return Part(part.arrow.take(order), b"".join(moved), array("I", accumulate(map(len, moved))))


#: Numbers the spilled parts of one process (with its id, a unique file name).
_SPILLS = count()


def spill_chunk(records: list[tuple[str, models.Record]], sources: Path | None, folder: Path) -> dict[str, Spilled]:
    """The rows of a chunk of records (see ``chunk_tables``), each table's sorted and written into ``folder``.

    The build hands this to :func:`kdata.records.validate.load_raw` as ``keep``: worker
    processes write the rows they make, and only a ``Spilled`` per table reaches the parent.
    Tables without rows are left out.
    """
    import pyarrow as pa

    out = {}
    for table, made in chunk_tables(records, sources).items():
        if not made.rows:
            continue
        part = _sorted(table, made)
        stem = str(folder / f"{table}-{os.getpid()}-{next(_SPILLS)}")
        with pa.OSFile(stem + ".arrow", "wb") as sink, pa.ipc.new_file(sink, part.arrow.schema) as writer:
            writer.write_table(part.arrow)
        with open(stem + ".csv", "wb") as handle:
            handle.write(part.csv)
        with open(stem + ".ends", "wb") as handle:
            array("I", part.ends).tofile(handle)
        out[table] = Spilled(stem, part.rows, _key(part.arrow, table, 0), _key(part.arrow, table, part.rows - 1))
    return out


def merge(table: str, parts: Sequence[Chunked]) -> TableRows:
    """All rows of a table from its parts, to stream sorted by primary key (as a stable sort of them all would).

    Each part is sorted on its own (``Spilled`` parts are already); parts whose key
    ranges overlap form one group, sorted together when streamed. Files are read in
    name order, which is mostly key order, so a group is nearly always one part: the
    table streams one part at a time. A key with a null puts every part in one group.
    """
    kept = [part if isinstance(part, Spilled) else _sorted(table, part.load()) for part in parts if part.rows]
    bounds = [
        (part.first, part.last)
        if isinstance(part, Spilled)
        else (_key(part.arrow, table, 0), _key(part.arrow, table, part.rows - 1))
        for part in kept
    ]
    keys = [(first, last) for first, last in bounds if first is not None and last is not None]
    if len(keys) < len(bounds):
        groups = [list(range(len(kept)))] if kept else []
    else:
        groups, high = [], ()
        for i in sorted(range(len(kept)), key=lambda i: (keys[i][0], i)):
            first, last = keys[i]
            if groups and first <= high:  # equal keys too: their order is the parts' order, as a stable sort keeps it
                groups[-1].append(i)
                high = max(high, last)
            else:
                groups.append([i])
                high = last
    ordered = tuple(tuple(kept[i] for i in sorted(group)) for group in groups)
    return TableRows(table, ordered, sum(part.rows for part in kept))
