"""The floor: the same per-file work as kdata, done the plainest fast way, in one process or several.

``validate``: every record file under ``raw/<table>/`` is read, parsed with PyYAML's C loader
(``CSafeLoader`` without the timestamp resolver, so dates stay text as kdata's models want) and
checked by the same pydantic model as kdata's (``model_validate``, strict); each citation's quote
is looked up in its source's archived text (``quote in text``, the text read once per process).
``build`` does that, and also writes the tables kdata writes from the records: each record
table, ``citations`` (with the quote's offsets in its text, ``str.find``), ``event_actors`` and
the ``claim_*`` link tables, as CSV (the csv module) and Parquet (pyarrow, zstd).

With ``--jobs N`` (N > 1) the files are checked in chunks by N worker processes (fork), which
also make each chunk's CSV text and Arrow tables, as kdata's workers do; the parent joins them and
writes the files. The garbage collector is paused, as kdata pauses it.

What the floor leaves out, so kdata should cost more: positions of every value (kdata keeps
them for its messages), strictness beyond PyYAML (duplicate keys, implicit types), the checks
across records (ids, references, cycles, dates against sources), the rules (KD110-KD112),
quote normalisation and anchors' paragraphs and context, EDTF dates expanded into four columns,
typed Arrow schemas, the disagreement tables, the descriptor, hashes and the atomic swap.

Usage: python benchmarks/floor.py validate|build RAW_DIR OUT_DIR [--jobs N]
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml

from kdata.records import models

#: Files per chunk handed to a worker (kdata's scan uses up to 2000, fewer for small trees).
CHUNK = 1000


class _Loader(yaml.CSafeLoader):
    """The C loader without timestamp resolution (kdata's models take dates as text)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}

#: Record table -> its list fields that fill a child table: (field, child table, owner column).
CHILDREN: dict[str, tuple[tuple[str, str, str], ...]] = {
    "events": (("actors", "event_actors", "event"), ("citations", "citations", "event")),
    "figures": (("citations", "citations", "figure"),),
    "claims": (
        ("citations", "citations", "claim"),
        *((field, f"claim_{field}", "claim") for field in ("targets", "events", "places", "figures")),
    ),
}

_texts: dict[str, str] = {}
_raw = Path()


def _text(source: str) -> str:
    """A source's archived text, read once per process."""
    if source not in _texts:
        _texts[source] = (_raw / "sources" / f"{source}.txt").read_text("utf-8")
    return _texts[source]


def _flat(record: models.Record) -> dict[str, Any]:
    """A record's row: its plain fields, a sub-record's fields prefixed (``retracted_reason``)."""
    row: dict[str, Any] = {}
    for key, value in record.__dict__.items():
        if isinstance(value, models.Record):
            row.update({f"{key}_{k}": v for k, v in value.__dict__.items()})
        elif not isinstance(value, list):
            row[key] = value
    return row


def _rows(table: str, record: models.Record, out: dict[str, list[dict[str, Any]]]) -> None:
    """Add a record's row and its child rows to ``out``."""
    out.setdefault(table, []).append(_flat(record))
    rid = record.__dict__["id"]
    for field, child, owner in CHILDREN.get(table, ()):
        rows = out.setdefault(child, [])
        for n, item in enumerate(record.__dict__[field], start=1):
            if isinstance(item, str):  # a link table: one id
                rows.append({owner: rid, field: item})
            elif child == "citations":
                start = _text(item.source).find(item.quote)
                rows.append(
                    {
                        "id": f"{owner}:{rid}:{n}",
                        owner: rid,
                        **_flat(item),
                        "start": start,
                        "end": start + len(item.quote),
                    }
                )
            else:
                rows.append({owner: rid, **_flat(item)})


@cache
def _fields(model: type[models.Record], prefix: str = "") -> tuple[str, ...]:
    """A model's columns: its plain fields, a sub-record's prefixed, lists left out (they are child tables)."""
    out: list[str] = []
    for key, info in model.model_fields.items():
        if get_origin(info.annotation) is list:
            continue
        subs = [a for a in get_args(info.annotation) if isinstance(a, type) and issubclass(a, models.Record)]
        out += _fields(subs[0], f"{prefix}{key}_") if subs else [prefix + key]
    return tuple(out)


@cache
def columns(table: str) -> tuple[str, ...]:
    """The columns of a table the floor writes, the same in every chunk."""
    if table in models.RECORD_TABLES:
        return _fields(models.RECORD_TABLES[table])
    if table == "citations":
        return ("id", "event", "figure", "claim", *_fields(models.Citation), "start", "end")
    if table == "event_actors":
        return ("event", *_fields(models.EventActor))
    return ("claim", table.removeprefix("claim_"))


def _tables(rows: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[bytes, Any]]:
    """Each table's rows as (CSV lines without header, Arrow table)."""
    import pyarrow as pa

    out = {}
    for table, dicts in rows.items():
        names = columns(table)
        tuples = [tuple(map(d.get, names)) for d in dicts]
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(tuples)
        arrays = [pa.array(values) for values in zip(*tuples, strict=True)]
        out[table] = (text.getvalue().encode("utf-8"), pa.Table.from_arrays(arrays, names=list(names)))
    return out


def check(chunk: list[tuple[str, str]], build: bool) -> tuple[int, dict[str, tuple[bytes, Any]]]:
    """Parse and validate a chunk of (table, path) files; with ``build``, their tables' CSV and Arrow parts."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for table, path in chunk:
        with open(path, "rb") as f:
            data = yaml.load(f.read(), Loader=_Loader)
        record = models.RECORD_TABLES[table].model_validate(data)
        for citation in record.__dict__.get("citations", ()):
            if citation.quote not in _text(citation.source):
                raise SystemExit(f"{path}: quote not found in {citation.source}.txt")
        if build:
            _rows(table, record, rows)
    return len(chunk), _tables(rows) if build else {}


def _files(raw: Path) -> list[tuple[str, str]]:
    return [
        (table, os.path.join(raw, table, name))
        for table in models.RECORD_TABLES
        if (raw / table).is_dir()
        for name in sorted(os.listdir(raw / table))
        if name.endswith(".yaml")
    ]


def _check_all(files: list[tuple[str, str]], jobs: int, build: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    chunks = [files[i : i + CHUNK] for i in range(0, len(files), CHUNK)]
    if jobs <= 1:
        yield from (check(chunk, build) for chunk in chunks)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from itertools import repeat

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(check, chunks, repeat(build))


def _write(out: Path, parts: dict[str, list[tuple[bytes, Any]]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    for table, pieces in parts.items():
        with open(out / f"{table}.csv", "wb") as f:
            f.write((",".join(columns(table)) + "\n").encode())
            for lines, _ in pieces:
                f.write(lines)
        # a column that one chunk leaves empty is of Arrow's null type there: promoted to the others' type
        arrow = pa.concat_tables([p[1] for p in pieces], promote_options="permissive")
        pq.write_table(arrow, out / f"{table}.parquet", compression="zstd")


def run(mode: str, raw: Path, out: Path, jobs: int) -> int:
    """Check every record file (and with ``mode == "build"`` write its tables); return the number of files."""
    global _raw
    _raw = raw
    gc.disable()
    total, parts = 0, {}
    for count, tables in _check_all(_files(raw), jobs, mode == "build"):
        total += count
        for table, part in tables.items():
            parts.setdefault(table, []).append(part)
    if mode == "build":
        _write(out, parts)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("validate", "build"))
    parser.add_argument("raw", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--jobs", type=int, default=1, help="Worker processes (1: all in this process).")
    args = parser.parse_args()
    print(run(args.mode, args.raw, args.out, args.jobs))


if __name__ == "__main__":
    main()
