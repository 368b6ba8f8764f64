"""Other tools read the package as kdata does: DuckDB and polars the Parquet files, pandas the CSV files.

For every table, each tool must find the same rows, the column types the Table
Schema declares (dates are dates, counts are integers) and the same missing
values, in the same places, as ``kdata.load_table``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from conftest import REPO

import kdata

DIST = REPO / "dist"
TABLES = kdata.resources(DIST)
#: Table Schema type -> the type each tool must report.
DUCKDB_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE"}
POLARS_TYPES = {"string": "String", "integer": "Int64", "number": "Float64", "boolean": "Boolean", "date": "Date"}
PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}


def _fields(table: str) -> list[dict[str, Any]]:
    resource = next(r for r in kdata.metadata(DIST)["resources"] if r["name"] == table)
    fields: list[dict[str, Any]] = resource["schema"]["fields"]
    return fields


def _expected(table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows as kdata reads them, and a check of the Arrow types against the Table Schema."""
    arrow = kdata.load_table(table, package=DIST, include_retracted=True)  # other tools see every row
    arrow_types = {"string": "string", "integer": "int64", "number": "double", "boolean": "bool", "date": "date32[day]"}
    for field, column in zip(_fields(table), arrow.schema, strict=True):
        assert column.name == field["name"] and str(column.type) == arrow_types[field["type"]], column
        assert column.nullable == (not field.get("constraints", {}).get("required", False)), column
    rows = [tuple(row.values()) for row in arrow.to_pylist()]
    return arrow.column_names, rows


def _nulls(rows: list[tuple[Any, ...]]) -> list[int]:
    return [sum(value is None for value in column) for column in zip(*rows, strict=True)] if rows else []


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_reads_the_parquet_files(table: str) -> None:
    """DuckDB: same rows, DATE and BIGINT where the schema says date and integer, NULLs in place."""
    import duckdb

    names, rows = _expected(table)
    relation = duckdb.connect().read_parquet(str(DIST / f"{table}.parquet"))
    assert relation.columns == names
    assert [str(t) for t in relation.types] == [DUCKDB_TYPES[f["type"]] for f in _fields(table)]
    got = relation.fetchall()
    assert len(got) == len(rows) == kdata.metadata(DIST)["resources"][TABLES.index(table)]["kdata:rows"]
    assert got == rows


@pytest.mark.parametrize("table", TABLES)
def test_polars_reads_the_parquet_files(table: str) -> None:
    """polars: same rows, Date and Int64 columns, nulls in place."""
    import polars as pl

    names, rows = _expected(table)
    frame = pl.read_parquet(DIST / f"{table}.parquet")
    assert frame.columns == names
    assert [str(t) for t in frame.dtypes] == [POLARS_TYPES[f["type"]] for f in _fields(table)]
    assert frame.height == len(rows)
    assert list(frame.null_count().row(0)) == (_nulls(rows) or [0] * len(names))
    assert frame.rows() == rows


@pytest.mark.parametrize("table", TABLES)
def test_pandas_reads_the_csv_files(table: str) -> None:
    """pandas, told the Table Schema's types: same rows, dates, nullable integers, missing values in place."""
    import pandas as pd

    names, rows = _expected(table)
    fields = _fields(table)
    dates = [f["name"] for f in fields if f["type"] == "date"]
    frame = pd.read_csv(
        DIST / f"{table}.csv",
        dtype={f["name"]: PANDAS_TYPES[f["type"]] for f in fields if f["type"] != "date"},
        parse_dates=dates,
        date_format="%Y-%m-%d",
        keep_default_na=False,  # the Table Schema's only missing value is the empty string
        na_values=[""],
    )
    assert list(frame.columns) == names and len(frame) == len(rows)
    for field in fields:
        column = frame[field["name"]]
        if field["type"] == "date":  # pandas types no date column of an empty table (nothing to parse)
            assert pd.api.types.is_datetime64_any_dtype(column) or not rows, field["name"]
        else:
            assert str(column.dtype) == PANDAS_TYPES[field["type"]], field["name"]

    def value(v: Any) -> Any:
        if v is pd.NaT or v is pd.NA:
            return None
        return v.date() if isinstance(v, pd.Timestamp) else v

    got = [tuple(value(v) for v in row) for row in frame.itertuples(index=False)]
    assert got == rows
    assert _nulls(got) == _nulls(rows)


def test_nullable_integers_and_dates_keep_their_gaps() -> None:
    """figures.value has gaps: every tool keeps them as missing, not as 0 or NaN floats."""
    import duckdb
    import pandas as pd
    import polars as pl

    arrow = kdata.load_table("figures", package=DIST)
    gaps = arrow.column("value").null_count
    assert 0 < gaps < arrow.num_rows
    assert pl.read_parquet(DIST / "figures.parquet")["value"].null_count() == gaps
    sql = f"SELECT count(*) FROM read_parquet('{DIST / 'figures.parquet'}') WHERE value IS NULL"
    assert duckdb.connect().sql(sql).fetchall() == [(gaps,)]
    csv = pd.read_csv(DIST / "figures.csv", dtype={"value": "Int64"}, keep_default_na=False, na_values=[""])
    assert csv["value"].isna().sum() == gaps and str(csv["value"].dtype) == "Int64"
    starts = kdata.load_table("events", package=DIST).column("date_start").to_pylist()
    assert all(isinstance(d, dt.date) for d in starts)


def test_readme_duckdb_query_and_its_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's DuckDB query runs from the checkout, and the output it shows is today's."""
    import duckdb

    readme = (REPO / "README.md").read_text("utf-8")
    match = re.search(r"```sql\n(.*?)```\n+```text\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md has no ```sql block followed by its ```text output"
    query, shown = match.groups()
    assert all(f"'dist/{t}.parquet'" in query for t in ("events", "citations", "sources"))
    monkeypatch.chdir(REPO)
    rows = duckdb.connect().sql(query).fetchall()
    assert rows, "the README's query returns no rows"
    lines = [re.sub(r"\s*│\s*", "|", line).strip("|") for line in shown.splitlines() if line.startswith("│")]
    cells = [line.split("|") for line in lines]
    body = [c for c in cells if len(c) == len(rows[0])][2:]  # after the names and the types
    assert body == [[str(v) for v in row] for row in rows], "README's DuckDB output is stale: run the query again"
