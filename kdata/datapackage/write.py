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
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kdata.datapackage.conflicts import QUOTE_SEPARATOR, QUOTES, find_disagreements
from kdata.datapackage.parquet import described, package_metadata
from kdata.datapackage.read import DESCRIPTOR
from kdata.datapackage.rows import Part, Rows, TableRows, csv_header
from kdata.datapackage.schemas import dump_json, table_schema
from kdata.records import models

PARQUET_SUFFIX = "-parquet"
#: The derived tables of disagreements and of their sides.
DISAGREEMENTS = models.table_of(models.Disagreement)
SIDES = models.table_of(models.DisagreementSide)
#: The attributed claims, and the column of a citation that names its claim.
CLAIMS, CLAIM_COLUMN = models.table_of(models.Claim), models.TABLES["citations"].owners["claims"]
#: The table of citations.
CITATIONS = models.table_of(models.PublishedCitation)
#: The table whose rows the descriptor lists as the package's ``sources``.
SOURCES = models.table_of(models.Source)


def table_parts(chunks: Iterable[dict[str, Part]]) -> dict[str, list[Part]]:
    """Each table's parts, in the order of the chunks, plus the rows of the derived disagreement tables.

    Args:
        chunks: The parts of each chunk of records, by table (what ``load_raw`` keeps with
            ``keep=rows.chunk_tables``); left as they are: the lists returned are new.

    Returns:
        Table -> its parts, for every table of ``models.TABLES``.
    """
    parts: dict[str, list[Part]] = {table: [] for table in models.TABLES}
    for chunk in chunks:
        for table, part in chunk.items():
            parts[table].append(part)
    for table, part in _disagreements(parts).items():
        parts[table].append(part)
    return parts


def _disagreements(parts: dict[str, list[Part]]) -> dict[str, Part]:
    """The rows of the derived disagreement tables, as one more part each."""
    import pyarrow.compute as pc

    def rows(table: str, columns: list[str] | None = None, topical: bool = False) -> list[dict[str, Any]]:
        out = []
        for part in parts[table]:
            arrow = part.arrow.filter(pc.is_valid(part.arrow["topic"])) if topical else part.arrow
            out += (arrow if columns is None else arrow.select(columns)).to_pylist()
        return out

    compared = {table: rows(table, topical=True) for table in models.COMPARED}
    _add_quotes(compared[CLAIMS], parts[CITATIONS])
    owners = list(models.TABLES["citations"].owners.values())
    citations = rows("citations", ["id", *owners, "claimant", "source"])
    sources = rows("sources", ["id", "published_start", "published_precision", models.TOMBSTONE])
    found, sides = find_disagreements(compared, citations, sources)
    made = Rows()
    for row in found:
        made.add_row(DISAGREEMENTS, row)
    for row in sides:
        made.add_row(SIDES, row)
    tables = made.tables()
    return {DISAGREEMENTS: tables[DISAGREEMENTS], SIDES: tables[SIDES]}


def _add_quotes(claims: list[dict[str, Any]], citations: list[Part]) -> None:
    """Give each claim row on a topic its citations' quotes, in citation order: what ``wording`` compares."""
    if not claims:
        return
    import pyarrow.compute as pc

    wanted = {row["id"] for row in claims}
    quotes: dict[str, list[tuple[str, str]]] = {}
    for part in citations:
        table = part.arrow.select(["id", CLAIM_COLUMN, "quote"])
        for row in table.filter(pc.is_valid(table[CLAIM_COLUMN])).to_pylist():
            if row[CLAIM_COLUMN] in wanted:
                quotes.setdefault(row[CLAIM_COLUMN], []).append((row["id"], row["quote"]))
    for row in claims:
        found = sorted(quotes.get(row["id"], []), key=lambda q: int(q[0].rsplit(":", 1)[1]))
        row[QUOTES] = QUOTE_SEPARATOR.join(quote for _, quote in found)


def csv_pieces(table: str, rows: TableRows, meta: dict[str, str], previous: Path | None = None) -> list[Any]:
    """The CSV file of a table as pieces to write: header, then one line per row (empty cell = null)."""
    return [csv_header(table), *rows.csv]


def parquet_pieces(table: str, rows: TableRows, meta: dict[str, str], previous: Path | None = None) -> list[Any]:
    """The Parquet file of a table, typed by its Arrow schema and described (``parquet.described``, with ``meta``).

    The columns are combined into one chunk first: Parquet bytes depend on the
    chunks, and must depend only on the rows (the build is reproducible). They
    also name the pyarrow version that wrote them, so where the previous build's
    file (``previous``, the current package folder) holds the same table, its
    bytes are kept: a build with another pyarrow leaves an unchanged table's
    file, its hash and the descriptor as they were.
    """
    import pyarrow.parquet as pq

    table_rows = described(table, rows.arrow.combine_chunks(), meta)
    kept = _same_parquet(previous / f"{table}.parquet", table_rows) if previous else None
    if kept is not None:
        return [kept]
    sink = io.BytesIO()
    pq.write_table(table_rows, sink, compression="zstd")
    return [sink.getbuffer()]


def _same_parquet(path: Path, table_rows: Any) -> bytes | None:
    """The bytes of the Parquet file at ``path`` if it holds ``table_rows`` (schema and metadata too), one zstd row group."""
    import pyarrow.parquet as pq

    try:
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        if not content:
            return None
        with pq.ParquetFile(io.BytesIO(content)) as handle:
            meta = handle.metadata
            chunks = [meta.row_group(g).column(c) for g in range(meta.num_row_groups) for c in range(meta.num_columns)]
            if meta.num_row_groups > 1 or any(chunk.compression != "ZSTD" for chunk in chunks):
                return None
            found = handle.read(use_threads=False)
    except Exception:  # any damaged or foreign file: written afresh
        return None
    return content if found.equals(table_rows, check_metadata=True) else None


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


_KINDS: dict[str, tuple[Callable[[str, TableRows, dict[str, str], Path | None], list[Any]], str, dict[str, str]]] = {
    "csv": (
        csv_pieces,
        "",
        {"type": "table", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8"},
    ),
    # A table with a hash and no bytes, see the module note.
    "parquet": (
        parquet_pieces,
        PARQUET_SUFFIX,
        {"type": "table", "format": "parquet", "mediatype": "application/vnd.apache.parquet"},
    ),
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
    _, suffix, meta = _KINDS[kind]
    return {
        "name": table + suffix,
        "path": f"{table}.{kind}",
        **meta,
        "description": description + (" (Parquet)" if suffix else ""),
        "schema": schema,
    }


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
        spec, counts[table] = models.TABLES[table], rows.arrow.num_rows
        for kind, (pieces, suffix, _) in _KINDS.items():
            size, digest = _write(folder / f"{table}.{kind}", pieces(table, rows, about, previous), sync)
            entry = resource_entry(table, kind, spec.description, table_schema(table, suffix))
            found = {**({} if kind in UNCOUNTED else {"bytes": size}), "hash": f"sha256:{digest}", ROWS: counts[table]}
            schema = entry.pop("schema")  # last, after what the file holds
            resources[kind].append({**entry, **found, "schema": schema})
        if table == SOURCES:
            source_rows = rows.arrow.select(["publisher", "via", "title", "published", "url"]).to_pylist()
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
