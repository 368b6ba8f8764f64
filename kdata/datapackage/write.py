"""Records -> rows -> CSV + Parquet + datapackage.json.

Every table is written twice: CSV (the Data Package's own format, validated by
``frictionless validate``) and Parquet (typed and fast for ``kdata.load``).

Design note on Parquet: frictionless 5.21 cannot count or hash a Parquet file it
reads as a table, so a Parquet resource declared as a table with ``bytes`` and
``hash`` is reported invalid. We declare each Parquet twin as a ``file``
resource: frictionless then checks its bytes and hash itself, and the twin still
carries its Table Schema for readers. ``kdata verify`` checks the Parquet rows
and types against that schema, and that they equal the CSV's.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kdata.datapackage.conflicts import COMPARED, find_conflicts
from kdata.datapackage.rows import CSV_COLUMN, Rows, csv_header, merge
from kdata.datapackage.schemas import dump_json, table_schema
from kdata.records import models
from kdata.records.validate import RawData

PARQUET_SUFFIX = "-parquet"


def _conflicts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows of the derived conflicts table, as one more part."""
    import pyarrow.compute as pc

    compared = {
        table: [row for part in parts for row in part[table].filter(pc.is_valid(part[table]["topic"])).to_pylist()]
        for table in COMPARED
    }
    found = Rows()
    for row in find_conflicts(compared):
        found.add_row("conflicts", row)
    return found.tables()


def package_tables(data: RawData) -> Iterator[tuple[str, Any]]:
    """Each table in turn as one Arrow table sorted by primary key (with its CSV lines).

    Consumes ``data.parts``: each table's chunks are freed once it is merged.
    """
    parts, data.parts = data.parts, []
    parts.append(_conflicts(parts))
    for table in models.TABLES:
        yield table, merge(table, [part.pop(table) for part in parts])


def csv_pieces(table: str, rows: Any) -> list[Any]:
    """The CSV file of a table as pieces to write: header, then one line per row (empty cell = null)."""
    pieces = [csv_header(table)]
    for lines in rows[CSV_COLUMN].chunks:
        if not len(lines):
            continue
        assert not lines.null_count, "every row carries its CSV line"
        # The chunk's lines lie back to back, UTF-8, in its data buffer: write them as they are (no copy).
        offsets, data = lines.buffers()[1:3]
        first, last = (
            int.from_bytes(offsets[i * 4 : i * 4 + 4], "little") for i in (lines.offset, lines.offset + len(lines))
        )
        pieces.append(data.slice(first, last - first))
    return pieces


def parquet_pieces(table: str, rows: Any) -> list[Any]:
    """The Parquet file of a table, typed by its Arrow schema.

    The columns are combined into one chunk first: Parquet bytes depend on the
    chunks, and must depend only on the rows (the build is reproducible).
    """
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(rows.drop_columns([CSV_COLUMN]).combine_chunks(), sink, compression="zstd")
    return [sink.getbuffer()]


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


_KINDS: dict[str, tuple[Callable[[str, Any], list[Any]], str, dict[str, str]]] = {
    "csv": (
        csv_pieces,
        "",
        {"type": "table", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8"},
    ),
    # A file resource, see the module note: frictionless checks its bytes and hash.
    "parquet": (
        parquet_pieces,
        PARQUET_SUFFIX,
        {"type": "file", "format": "parquet", "mediatype": "application/vnd.apache.parquet"},
    ),
}


def write_package(data: RawData, folder: Path, sync: bool = True) -> dict[str, int]:
    """Write every file of the data package into ``folder``, ``datapackage.json`` last.

    Each table is merged, written as CSV and Parquet, and freed before the next,
    so only one table's rows are held twice at a time.

    Args:
        data: Valid raw data, read with ``keep=rows.chunk_tables`` (its ``parts`` are consumed).
        folder: An empty folder (the build's staging folder).
        sync: fsync each file (a build does; a freshness check writes to a scratch folder).

    Returns:
        Rows by table.
    """
    assert data.info is not None, "write_package needs valid package metadata"
    resources: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
    counts: dict[str, int] = {}
    source_rows: list[dict[str, Any]] = []
    for table, rows in package_tables(data):
        spec, counts[table] = models.TABLES[table], rows.num_rows
        for kind, (pieces, suffix, meta) in _KINDS.items():
            path = f"{table}.{kind}"
            size, digest = _write(folder / path, pieces(table, rows), sync)
            description = spec.description + (" (Parquet)" if suffix else "")
            resources[kind].append(
                {
                    "name": table + suffix,
                    "path": path,
                    **meta,
                    "description": description,
                    "bytes": size,
                    "hash": f"sha256:{digest}",
                    "kdata:rows": rows.num_rows,
                    "schema": table_schema(table, suffix),
                }
            )
        if table == "sources":
            source_rows = rows.select(["publisher", "via", "title", "published", "url"]).to_pylist()
    sources = [
        {
            "title": f"{s['publisher'] or s['via'] or 'Unnamed publisher'}: {s['title']}"
            + (f" ({s['published']})" if s["published"] else ""),
            **({"path": s["url"]} if s["url"] else {}),
        }
        for s in source_rows
    ]
    descriptor = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        **data.info.model_dump(exclude_none=True),
        "sources": sources,
        "resources": [r for kind in _KINDS for r in resources[kind]],
    }
    _write(folder / "datapackage.json", [dump_json(descriptor)], sync)
    return counts
