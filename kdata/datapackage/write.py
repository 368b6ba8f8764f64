"""Rows -> CSV + Parquet + datapackage.json: the files of the data package.

Every table is written twice: CSV (the Data Package's own format) and Parquet (typed and fast
for ``kdata.load``), and both are declared as tables (``type: table``), as the Data Package v2
profile requires of any resource that has a ``type``: frictionless reads the Parquet rows too
(its parquet format, through pyarrow and pandas).

Design note on Parquet, measured with frictionless 5.21 (see docs/PITFALLS.md): frictionless
does not count or hash a Parquet file it reads as a table. A declared ``bytes`` is then reported
invalid ("expected is N and actual is None"), and a declared ``hash`` is skipped without a word.
So a Parquet resource declares its ``hash`` (for every other tool, and for ``kdata verify``) but
no ``bytes``; ``kdata verify`` checks every file's sha256 itself, and the Parquet rows and types
against the Table Schema and the CSV's.

Both files of a table are written as its rows stream in (``rows.TableRows.chunks``): the CSV line
by line, the Parquet in row groups of ``ROW_GROUP_ROWS`` rows, each combined into one chunk first
(Parquet bytes depend on the chunks, and must depend only on the rows: the build is reproducible).
So a build holds one row group of a table at a time, never a whole table.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kdata.datapackage.conflicts import QUOTE_SEPARATOR, QUOTES, each_disagreement
from kdata.datapackage.parquet import described, package_metadata
from kdata.datapackage.read import DESCRIPTOR
from kdata.datapackage.rows import Chunked, Part, Rows, TableRows, csv_header
from kdata.datapackage.schemas import dump_json, table_schema
from kdata.records import models

PARQUET_SUFFIX = "-parquet"
#: Rows in each row group of a Parquet file (the last one holds the rest): what a build holds of a table at a time.
ROW_GROUP_ROWS = 1 << 17
#: The derived tables of disagreements and of their sides.
DISAGREEMENTS = models.table_of(models.Disagreement)
SIDES = models.table_of(models.DisagreementSide)
#: The attributed claims, and the column of a citation that names its claim.
CLAIMS, CLAIM_COLUMN = models.table_of(models.Claim), models.TABLES["citations"].owners["claims"]
#: The table of citations.
CITATIONS = models.table_of(models.PublishedCitation)
#: The table whose rows the descriptor lists as the package's ``sources``.
SOURCES = models.table_of(models.Source)


def table_parts(chunks: Iterable[dict[str, Chunked]]) -> dict[str, list[Chunked]]:
    """Each table's parts, in the order of the chunks, plus the rows of the derived disagreement tables.

    Args:
        chunks: The parts of each chunk of records, by table (what ``load_raw`` keeps with
            ``keep=rows.chunk_tables``); left as they are: the lists returned are new.

    Returns:
        Table -> its parts, for every table of ``models.TABLES``.
    """
    parts: dict[str, list[Chunked]] = {table: [] for table in models.TABLES}
    for chunk in chunks:
        for table, part in chunk.items():
            parts[table].append(part)
    for table, made in _disagreements(parts).items():
        parts[table] += made
    return parts


#: Rows of ``disagreement_sides`` held as Python objects at once: the derived tables are made in parts of about this many.
DERIVED_BATCH = 20_000


def _disagreements(parts: dict[str, list[Chunked]]) -> dict[str, list[Part]]:
    """The rows of the derived disagreement tables, as more parts of each.

    The rows on a topic shared by two or more records, and their citations, are gathered as Arrow
    tables; one topic's rows at a time become Python objects (``conflicts.each_disagreement``), and
    the rows made are turned into parts ``DERIVED_BATCH`` sides at a time: a million records, their
    citations or their sides as dicts would take gigabytes.
    """
    source_columns = ["id", "published_start", "published_precision", models.TOMBSTONE]
    sources = [row for part in parts[SOURCES] for row in part.select(source_columns).to_pylist()]
    topical = {table: _on_topic(table, parts[table]) for table in models.COMPARED}
    cited = {table: _Cited(parts[CITATIONS], table, rows["id"]) for table, rows in topical.items()}
    out: dict[str, list[Part]] = {DISAGREEMENTS: [], SIDES: []}
    made = Rows()
    groups = _topics(topical, cited)
    for row, sides in each_disagreement(groups, lambda table, rid: cited[table].of(rid), sources):
        made.add_row(DISAGREEMENTS, row)
        for side in sides:
            made.add_row(SIDES, side)
        if len(made.rows[SIDES]) >= DERIVED_BATCH:
            _add_parts(out, made)
            made = Rows()
    if made.rows[DISAGREEMENTS] or not out[DISAGREEMENTS]:  # every table has a part, maybe an empty one
        _add_parts(out, made)
    return out


def _on_topic(table: str, parts: list[Chunked]) -> Any:
    """A compared table's rows whose topic two or more rows share, sorted by topic and id (an Arrow table)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from kdata.datapackage.schemas import arrow_schema

    pieces = [arrow_schema(table).empty_table()]
    for part in parts:
        arrow = part.select()
        pieces.append(arrow.filter(pc.fill_null(pc.not_equal(arrow["topic"], ""), False)))
    rows = pa.concat_tables(pieces)
    counts = pc.value_counts(rows["topic"])
    shared = counts.field("values").filter(pc.greater_equal(counts.field("counts"), 2))
    rows = rows.filter(pc.is_in(rows["topic"], value_set=shared))
    return rows.sort_by([("topic", "ascending"), ("id", "ascending")]).combine_chunks()


class _Cited:
    """The citations of a compared table's rows on a topic, gathered in citation order, found by record id."""

    def __init__(self, citations: list[Chunked], table: str, ids: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self.column = models.TABLES["citations"].owners[table]
        columns = ["id", *models.TABLES["citations"].owners.values(), "claimant", "source"]
        if table == CLAIMS:
            columns.append("quote")  # a claim's words are its citations' quotes
        pieces = []
        for part in citations:
            arrow = part.select(columns)
            pieces.append(arrow.filter(pc.fill_null(pc.is_in(arrow[self.column], value_set=ids), False)))
        rows = pa.concat_tables(pieces) if pieces else pa.table({c: pa.array([], pa.string()) for c in columns})
        self.rows = rows.take(pc.sort_indices(rows, [(self.column, "ascending")])).combine_chunks()  # stable
        self.where = {owner: (start, length) for owner, start, length in _runs(self.rows[self.column].to_pylist())}

    def of(self, rid: str) -> list[dict[str, Any]]:
        """The citations of record ``rid``, in citation order."""
        at = self.where.get(rid)
        return self.rows.slice(*at).to_pylist() if at is not None else []


def _topics(topical: dict[str, Any], cited: dict[str, _Cited]) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """(table, topic, rows) of each topic shared in a compared table, sorted; a claim's rows carry their quotes."""
    for table in sorted(topical):
        rows = topical[table]
        for topic, start, length in _runs(rows["topic"].to_pylist()):
            group = rows.slice(start, length).to_pylist()
            if table == CLAIMS:
                for row in group:
                    found = sorted(cited[table].of(row["id"]), key=lambda c: int(c["id"].rsplit(":", 1)[1]))
                    row[QUOTES] = QUOTE_SEPARATOR.join(c["quote"] for c in found)
            yield table, topic, group


def _runs(values: list[Any]) -> Iterator[tuple[Any, int, int]]:
    """(value, start, length) of each run of equal values in a sorted list."""
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or values[end] != values[start]:
            yield values[start], start, end - start
            start = end


def _add_parts(out: dict[str, list[Part]], made: Rows) -> None:
    """Turn the rows made so far of each derived table into one more part of it."""
    tables = made.tables(list(out))
    for table, found in out.items():
        found.append(tables[table])


class _Parquet:
    """A table's Parquet file, written a row group at a time as rows come (see the module note).

    Where the previous build's file (``previous``) holds the same rows in the same row groups, with the
    same metadata, its bytes are kept instead: Parquet bytes name the pyarrow version that wrote them,
    so a build with another pyarrow leaves an unchanged table's file, its hash and the descriptor as
    they were. Row groups are compared one by one as they are written, so that needs no more memory.
    """

    def __init__(self, path: Path, table: str, meta: dict[str, str], previous: Path | None) -> None:
        import pyarrow.parquet as pq

        from kdata.datapackage.schemas import arrow_schema

        self.path, self.previous, self.groups, self.buffered = path, previous, 0, 0
        self.pending: list[Any] = []
        self.schema = described(table, arrow_schema(table).empty_table(), meta).schema
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.old = _open_previous(previous, self.schema) if previous is not None else None

    def add(self, rows: Any) -> None:
        """Take more rows (an Arrow table of the table's columns); write each row group as it fills."""
        if rows.num_rows:
            self.pending.append(rows)
            self.buffered += rows.num_rows
        while self.buffered >= ROW_GROUP_ROWS:
            self._flush(ROW_GROUP_ROWS)

    def _flush(self, size: int) -> None:
        import pyarrow as pa

        joined = pa.concat_tables(self.pending) if self.pending else self.schema.empty_table()
        group = pa.Table.from_arrays(joined.slice(0, size).combine_chunks().columns, schema=self.schema)
        rest = joined.slice(size)
        self.pending, self.buffered = ([rest] if rest.num_rows else []), rest.num_rows
        self.writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
        if self.old is not None and not _same_group(self.old, self.groups, group):
            self.old.close()
            self.old = None
        self.groups += 1

    def close(self) -> None:
        """Write the last row group (an empty table has one empty row group, as ``pq.write_table`` writes it)."""
        if self.buffered or not self.groups:
            self._flush(self.buffered)
        self.writer.close()
        if self.old is not None:
            same = self.old.metadata.num_row_groups == self.groups
            self.old.close()
            if same and self.previous is not None:
                shutil.copyfile(self.previous, self.path)


def _open_previous(path: Path, schema: Any) -> Any:
    """The previous build's Parquet file of the table, open, if it could hold the same rows; else None."""
    import pyarrow.parquet as pq

    try:
        if not path.is_file() or path.is_symlink():
            return None
        handle = pq.ParquetFile(str(path))
        meta = handle.metadata
        chunks = [meta.row_group(g).column(c) for g in range(meta.num_row_groups) for c in range(meta.num_columns)]
        if any(chunk.compression != "ZSTD" for chunk in chunks) or not handle.schema_arrow.equals(
            schema, check_metadata=True
        ):
            handle.close()
            return None
    except Exception:  # any damaged or foreign file: written afresh
        return None
    return handle


def _same_group(old: Any, index: int, group: Any) -> bool:
    """Whether row group ``index`` of the previous file holds exactly ``group`` (rows, schema and metadata)."""
    try:
        if index >= old.metadata.num_row_groups or old.metadata.row_group(index).num_rows != group.num_rows:
            return False
        return bool(old.read_row_group(index, use_threads=False).equals(group, check_metadata=True))
    except Exception:  # a damaged previous file: written afresh
        return False


def _write(path: Path, pieces: list[Any], sync: bool) -> tuple[int, str]:
    """Write a file from bytes-like pieces; return its size and sha256."""
    digest, size = hashlib.sha256(), 0
    with open(path, "wb") as handle:
        for piece in pieces:
            handle.write(piece)
            digest.update(piece)
            size += memoryview(piece).nbytes
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    return size, digest.hexdigest()


#: Each format's resource fields. A Parquet resource is a table with a hash and no bytes, see the module note.
_KINDS: dict[str, tuple[str, dict[str, str]]] = {
    "csv": ("", {"type": "table", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8"}),
    "parquet": (PARQUET_SUFFIX, {"type": "table", "format": "parquet", "mediatype": "application/vnd.apache.parquet"}),
}
#: Formats whose resources declare no ``bytes`` (frictionless 5.21 never counts them, see the module note).
UNCOUNTED = ("parquet",)
#: The Data Package profile the descriptor declares (``$schema``).
PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
#: The descriptor key naming the format generation of the package, and the one this kdata writes.
#: Format 1 (no key; 0.1.0 and before): Parquet twins as ``type: file``, no categories, no Parquet
#: metadata. Format 2: every resource a table, categories, Parquet metadata (``verify`` checks them
#: exactly). A change of the layout (a key, a kind of resource, a metadata key) is a new format.
FORMAT_KEY, FORMAT = "kdata:format", 2
#: The key of the rows a resource holds.
ROWS = "kdata:rows"
#: The keys of a resource entry that depend on its file's content; the others follow from the table.
CONTENT_KEYS = ("bytes", "hash", ROWS)


def twin_schema(schema: dict[str, Any], suffix: str) -> dict[str, Any]:
    """``schema`` (a CSV resource's) for the twin named ``<table><suffix>``: foreign keys point at the twins."""
    if not suffix or "foreignKeys" not in schema:
        return schema
    keys = [
        {**fk, "reference": {**fk["reference"], "resource": fk["reference"]["resource"] + suffix}}
        for fk in schema["foreignKeys"]
    ]
    return {**schema, "foreignKeys": keys}


def resource_entry(table: str, kind: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The entry of ``table``'s resource of ``kind`` (csv, parquet) in the descriptor, but for ``CONTENT_KEYS``.

    Args:
        table: The table's name.
        kind: A key of ``_KINDS``.
        description: The table's description.
        schema: Its Table Schema, as the resource of that kind declares it.
    """
    suffix, meta = _KINDS[kind]
    return {
        "name": table + suffix,
        "path": f"{table}.{kind}",
        **meta,
        "description": description + (" (Parquet)" if suffix else ""),
        "schema": schema,
    }


def _digest(path: Path, sync: bool) -> tuple[int, str]:
    """A written file's size and sha256, read back in blocks; fsync'ed first if asked."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        if sync:
            os.fsync(handle.fileno())
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def write_table(
    table: str, rows: TableRows, folder: Path, meta: dict[str, str], previous: Path | None = None, sync: bool = True
) -> dict[str, tuple[int, str]]:
    """Write a table's CSV and Parquet files as its rows stream in; return each format's size and sha256.

    Args:
        table: The table.
        rows: Its rows (see ``rows.merge``).
        folder: Where to write ``<table>.csv`` and ``<table>.parquet``.
        meta: The package's Parquet metadata (``parquet.package_metadata``).
        previous: The package folder this one replaces: its Parquet file is kept where it holds the same table.
        sync: fsync both files.
    """
    parquet = _Parquet(folder / f"{table}.parquet", table, meta, previous / f"{table}.parquet" if previous else None)
    try:
        with open(folder / f"{table}.csv", "wb") as csv_file:
            csv_file.write(csv_header(table))
            for part in rows.chunks():
                csv_file.write(part.csv)
                parquet.add(part.arrow)
    finally:
        parquet.close()
    return {kind: _digest(folder / f"{table}.{kind}", sync) for kind in _KINDS}


def write_package(
    info: models.PackageInfo,
    tables: Iterable[tuple[str, TableRows]],
    folder: Path,
    sync: bool = True,
    previous: Path | None = None,
    created: str | None = None,
) -> dict[str, int]:
    """Write every file of the data package into ``folder``, ``datapackage.json`` last.

    Each table is written as CSV and Parquet as it comes. Given a generator that
    merges each table only when asked for it (as the build does), only one
    table's rows are held twice at a time.

    Args:
        info: The package metadata (``raw/package.yaml``).
        tables: Every table of ``models.TABLES``, in that order, with its rows (see ``rows.merge``).
        folder: An empty folder (the build's staging folder).
        sync: fsync each file (a build does; a freshness check writes to a scratch folder).
        previous: The package folder this one replaces: its Parquet files are kept where their tables are unchanged.
        created: The descriptor's ``created`` (RFC 3339), if known; never the clock (see ``build.created``).

    Returns:
        Rows by table.
    """
    resources: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
    counts: dict[str, int] = {}
    source_rows: list[dict[str, Any]] = []
    about = package_metadata(info)
    for table, rows in tables:
        spec, counts[table] = models.TABLES[table], rows.num_rows
        written = write_table(table, rows, folder, about, previous, sync)
        for kind, (suffix, _) in _KINDS.items():
            size, digest = written[kind]
            entry = resource_entry(table, kind, spec.description, table_schema(table, suffix))
            found = {**({} if kind in UNCOUNTED else {"bytes": size}), "hash": f"sha256:{digest}", ROWS: counts[table]}
            schema = entry.pop("schema")  # last, after what the file holds
            resources[kind].append({**entry, **found, "schema": schema})
        if table == SOURCES:  # a small table: read again from its Parquet file for the descriptor's list
            source_rows = _source_rows(folder / f"{table}.parquet")
    sources = [
        {
            "title": f"{s['publisher'] or s['via'] or 'Unnamed publisher'}: {s['title']}"
            + (f" ({s['published']})" if s["published"] else ""),
            **({"path": s["url"]} if s["url"] else {}),
        }
        for s in source_rows
    ]
    descriptor = {
        "$schema": PROFILE,
        FORMAT_KEY: FORMAT,
        **info.model_dump(exclude_none=True),
        **({"created": created} if created else {}),
        "sources": sources,
        "resources": [r for kind in _KINDS for r in resources[kind]],
    }
    _write(folder / DESCRIPTOR, [dump_json(descriptor)], sync)
    return counts


def _source_rows(path: Path) -> list[dict[str, Any]]:
    """The columns of the sources table the descriptor's ``sources`` list shows."""
    from kdata.datapackage.parquet import read_parquet

    return list(read_parquet(path, ["publisher", "via", "title", "published", "url"], threads=False).to_pylist())
