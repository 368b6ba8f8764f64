"""The floor: the least work a build must do, as one plain single-process script.

Reads every record file, parses it with PyYAML's C loader (without the date
resolver, so dates stay text as kdata's models want), validates each table in
one pydantic batch, and writes one CSV and one Parquet file per table with
pyarrow. No positions, no cross-record checks, no descriptor: ``kdata build``
is measured against this.

Usage: python benchmarks/floor.py RAW_DIR OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml
from pydantic import TypeAdapter

from kdata.records import models


class _Loader(yaml.CSafeLoader):
    """The C loader without timestamp resolution (kdata's models take dates as text)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def run(raw: Path, out: Path) -> int:
    """Parse, validate and write every table; return the number of records."""
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for table, model in models.RECORD_TABLES.items():
        data = [yaml.load(p.read_bytes(), Loader=_Loader) for p in sorted((raw / table).glob("*.yaml"))]
        records = TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
        rows = [{k: v for k, v in r.model_dump().items() if not isinstance(v, list | dict)} for r in records]
        arrow = pa.Table.from_pylist(rows)
        pacsv.write_csv(arrow, out / f"{table}.csv")
        pq.write_table(arrow, out / f"{table}.parquet", compression="zstd")
        total += len(records)
    return total


if __name__ == "__main__":
    print(run(Path(sys.argv[1]), Path(sys.argv[2])))
