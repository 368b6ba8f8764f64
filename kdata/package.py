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

import csv
import hashlib
import io
import os
from pathlib import Path
from typing import Any

from . import models
from .conflicts import find_conflicts
from .dates import parse_edtf
from .schemas import arrow_schema, dump_json, table_fields, table_schema
from .validate import RawData

PARQUET_SUFFIX = "-parquet"
_OWNER_PREFIX = {"events": "event", "figures": "figure"}


def _expand(record: models.Record, columns: set[str] | list[str], prefix: str = "") -> dict[str, Any]:
    """One row of a record: its scalar fields, each EDTF date as four columns, a sub-record as prefixed columns."""
    row: dict[str, Any] = {}
    for key, value in record.__dict__.items():  # the fields, without pydantic's slower __iter__
        name = prefix + key
        if isinstance(value, list):
            continue
        if isinstance(value, models.Record):
            row.update(_expand(value, columns, f"{name}_"))
            continue
        row[name] = value
        if f"{name}_precision" in columns:
            parsed = parse_edtf(value) if value is not None else None
            row[f"{name}_start"] = parsed.start if parsed else None
            row[f"{name}_end"] = parsed.end if parsed else None
            row[f"{name}_precision"] = parsed.precision if parsed else None
    return row


def table_rows(data: RawData) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table, sorted by primary key."""
    names = {t: [f["name"] for f in table_fields(t)] for t in models.TABLES}
    columns = {t: set(n) for t, n in names.items()}
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in models.TABLES}
    for table in models.RECORD_TABLES:
        for record in data.records.get(table, []):
            rows[table].append(_expand(record, columns[table]))
            for n, citation in enumerate(getattr(record, "citations", []), start=1):
                owner = _OWNER_PREFIX[table]
                cid = f"{owner}:{record.id}:{n}"
                rows["citations"].append(
                    {
                        "id": cid,
                        "event": None,
                        "figure": None,
                        owner: record.id,
                        **_expand(citation, columns["citations"]),
                    }
                )
            for link in getattr(record, "actors", []):
                rows["event_actors"].append({"event": record.id, **_expand(link, columns["event_actors"])})
    rows["conflicts"] = find_conflicts(data.records)
    for table, spec in models.TABLES.items():
        rows[table] = [{c: row.get(c) for c in names[table]} for row in rows[table]]
        rows[table].sort(key=lambda r: tuple(r[k] for k in spec.primary_key))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def csv_bytes(table: str, rows: list[dict[str, Any]]) -> bytes:
    """The CSV file of a table: header, then one line per row; empty cell = null."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = [f["name"] for f in table_fields(table)]
    writer.writerow(names)
    writer.writerows([_cell(row[n]) for n in names] for row in rows)
    return out.getvalue().encode("utf-8")


def parquet_bytes(table: str, rows: list[dict[str, Any]]) -> bytes:
    """The Parquet file of a table, typed by its Arrow schema (deterministic for one pyarrow)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(table)
    arrays = [pa.array([row[f.name] for row in rows], type=f.type) for f in schema]
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), sink, compression="zstd")
    return sink.getvalue()


def _resource(
    name: str, path: str, content: bytes, kind: str, schema: dict[str, Any], description: str, rows: int
) -> dict[str, Any]:
    meta = {
        "csv": {"type": "table", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8"},
        # A file resource, see the module note: frictionless checks its bytes and hash.
        "parquet": {"type": "file", "format": "parquet", "mediatype": "application/vnd.apache.parquet"},
    }[kind]
    return {
        "name": name,
        "path": path,
        **meta,
        "description": description,
        "bytes": len(content),
        "hash": "sha256:" + hashlib.sha256(content).hexdigest(),
        "kdata:rows": rows,
        "schema": schema,
    }


def package_files(data: RawData) -> dict[str, bytes]:
    """Every file of the data package, by relative path, ``datapackage.json`` included."""
    assert data.info is not None, "package_files needs valid package metadata"
    rows = table_rows(data)
    files: dict[str, bytes] = {}
    csv_resources, parquet_resources = [], []
    for table, spec in models.TABLES.items():
        files[f"{table}.csv"] = csv_bytes(table, rows[table])
        files[f"{table}.parquet"] = parquet_bytes(table, rows[table])
        n = len(rows.pop(table))  # each table's rows are freed once written
        csv_resources.append(
            _resource(table, f"{table}.csv", files[f"{table}.csv"], "csv", table_schema(table), spec.description, n)
        )
        parquet_resources.append(
            _resource(
                table + PARQUET_SUFFIX,
                f"{table}.parquet",
                files[f"{table}.parquet"],
                "parquet",
                table_schema(table, PARQUET_SUFFIX),
                spec.description + " (Parquet)",
                n,
            )
        )
    info = data.info.model_dump(exclude_none=True)
    sources = [
        {
            "title": f"{s.publisher or s.via or 'Unnamed publisher'}: {s.title}"
            + (f" ({s.published})" if s.published else ""),
            **({"path": s.url} if s.url else {}),
        }
        for s in sorted(data.records.get("sources", []), key=lambda s: s.id)
    ]
    descriptor = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        **info,
        "sources": sources,
        "resources": csv_resources + parquet_resources,
    }
    files["datapackage.json"] = dump_json(descriptor)
    return files


def write_package(folder: Path, files: dict[str, bytes]) -> None:
    """Write package files into an (empty, staging) folder."""
    for name, content in files.items():
        with open(folder / name, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
