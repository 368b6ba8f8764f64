"""kdata.datapackage.parquet: a Parquet file read whole, or some of its columns, from a path or a file object."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kdata.datapackage.parquet import read_parquet
from kdata.errors import PackageError

TABLE = pa.table(
    {
        "id": pa.array(["a", "b", "c"]),
        "value": pa.array([1, None, 3], type=pa.int64()),
        "date_start": pa.array([dt.date(1993, 4, 1), None, dt.date(2020, 3, 2)], type=pa.date32()),
    }
)


@pytest.fixture(params=[False, True], ids=["file-reader", "ahead"])
def ahead(request: pytest.FixtureRequest) -> bool:
    """Read with pyarrow's file reader, or ahead through ``pq.read_table`` (as ``kdata.load`` does)."""
    return bool(request.param)


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.parquet"
    pq.write_table(TABLE, path, compression="zstd")
    return path


def test_reads_the_whole_table_with_types_and_nulls(parquet_file: Path, ahead: bool) -> None:
    table = read_parquet(parquet_file, ahead=ahead)
    assert table.equals(TABLE)
    assert table.schema.field("date_start").type == pa.date32()
    assert table.column("value").null_count == 1


def test_reads_from_a_path_string_or_a_binary_file_object(parquet_file: Path, ahead: bool) -> None:
    assert read_parquet(str(parquet_file), ahead=ahead).equals(TABLE)
    assert read_parquet(io.BytesIO(parquet_file.read_bytes()), ahead=ahead).equals(TABLE)
    with open(parquet_file, "rb") as handle:
        assert read_parquet(handle, threads=False, ahead=ahead).equals(TABLE)


def test_reads_only_the_columns_asked_for_in_the_order_asked(parquet_file: Path, ahead: bool) -> None:
    assert read_parquet(parquet_file, columns=["value", "id"], ahead=ahead).equals(TABLE.select(["value", "id"]))
    assert read_parquet(parquet_file, columns=["id"], ahead=ahead).equals(TABLE.select(["id"]))


def test_refuses_a_file_that_is_not_parquet(tmp_path: Path, ahead: bool) -> None:
    path = tmp_path / "events.parquet"
    path.write_text("id,value\na,1\n")
    with pytest.raises(PackageError) as caught:
        read_parquet(path, ahead=ahead)
    assert str(caught.value).startswith(f"{path}: not a readable Parquet file (")
    assert "\n" not in str(caught.value)


def test_a_folder_in_place_of_the_file_is_refused_not_read_as_a_dataset(tmp_path: Path, ahead: bool) -> None:
    """pq.read_table given a folder's path reads it as a dataset (an empty table here): never through kdata."""
    folder = tmp_path / "events.parquet"
    folder.mkdir()
    pq.write_table(TABLE, folder / "part-0.parquet")
    with pytest.raises(OSError, match="directory"):
        read_parquet(folder, ahead=ahead)
