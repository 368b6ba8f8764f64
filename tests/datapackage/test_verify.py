"""kdata.datapackage.verify: a built package is checked file by file, then table by table."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kdata.datapackage.build import build
from kdata.datapackage.verify import verify
from kdata.errors import PackageError

GOOD_RAW = Path(__file__).resolve().parents[1] / "data" / "good" / "raw"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The good test project, built once for this module."""
    dist = tmp_path_factory.mktemp("verify") / "dist"
    build(GOOD_RAW, dist)
    return dist


@pytest.fixture
def dist(pristine: Path, tmp_path: Path) -> Path:
    """A copy of the built package for one test to break."""
    return Path(shutil.copytree(pristine, tmp_path / "dist"))


def rehash(folder: Path) -> None:
    """Declare every file's current bytes, sha256 and rows in the descriptor, as a careful forger would."""
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text("utf-8"))
    for resource in descriptor["resources"]:
        content = (folder / resource["path"]).read_bytes()
        resource["bytes"], resource["hash"] = len(content), "sha256:" + hashlib.sha256(content).hexdigest()
        twin = folder / (resource["path"].removesuffix(".csv").removesuffix(".parquet") + ".parquet")
        try:
            resource["kdata:rows"] = pq.read_metadata(twin).num_rows
        except Exception:  # a twin the test made unreadable: its declared rows stay
            pass
    path.write_text(json.dumps(descriptor), "utf-8")


def edit_table(folder: Path, table: str, old: str, new: str) -> None:
    """Replace a text in a table's CSV and in every string column of its Parquet twin, then rehash."""
    csv = folder / f"{table}.csv"
    csv.write_text(csv.read_text("utf-8").replace(old, new), "utf-8")
    parquet = pq.read_table(folder / f"{table}.parquet")
    for i, field in enumerate(parquet.schema):
        if field.type == pa.string():
            column = pc.replace_substring(parquet.column(i), old, new)
            parquet = parquet.set_column(i, field, column)
    pq.write_table(parquet, folder / f"{table}.parquet")
    rehash(folder)


def test_a_fresh_build_verifies(dist: Path) -> None:
    assert verify(dist) == []


def test_a_changed_byte_is_caught_by_its_sha256(dist: Path) -> None:
    path = dist / "events.csv"
    content = path.read_bytes()
    declared = "sha256:" + hashlib.sha256(content).hexdigest()
    path.write_bytes(content.replace(b"Riverton", b"Rivertan", 1))  # same size, other bytes
    tampered = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert verify(dist) == [f"events.csv: sha256 is {tampered}, expected {declared}"]


def test_a_truncated_or_missing_file_is_named(dist: Path) -> None:
    size = (dist / "figures.parquet").stat().st_size
    with open(dist / "figures.parquet", "r+b") as handle:
        handle.truncate(size - 10)
    (dist / "citations.csv").unlink()
    problems = verify(dist)
    assert "citations.csv: missing" in problems
    assert f"figures.parquet: {size - 10} bytes, expected {size}" in problems
    assert any(p.startswith("figures.parquet: sha256 is ") for p in problems)
    assert len(problems) == 3


def test_a_folder_without_a_readable_descriptor_is_no_package(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"Cannot read .*datapackage\.json: No such file"):
        verify(tmp_path)
    (tmp_path / "datapackage.json").write_text("{not json")
    with pytest.raises(PackageError, match=str(tmp_path)):
        verify(tmp_path)


def test_csv_and_parquet_that_disagree_are_caught_even_when_rehashed(dist: Path) -> None:
    csv = dist / "places.csv"
    csv.write_text(csv.read_text("utf-8").replace("Bridge at Riverton", "Ferry at Riverton"), "utf-8")
    rehash(dist)
    assert verify(dist) == ["places.csv and places.parquet do not hold the same rows"]


def test_a_reference_to_no_record_is_caught(dist: Path) -> None:
    edit_table(dist, "citations", "town-council", "town-hall")
    assert verify(dist) == ["citations.claimant: 2 value(s) not found in actors, e.g. 'town-hall'"]


def test_a_duplicate_primary_key_is_caught(dist: Path) -> None:
    """The first place written twice, in both files: each file is intact and they agree, but the key is not."""
    csv = dist / "places.csv"
    lines = csv.read_text("utf-8").splitlines(keepends=True)
    csv.write_text("".join([*lines, lines[1]]), "utf-8")
    table = pq.read_table(dist / "places.parquet")
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), dist / "places.parquet")
    rehash(dist)
    assert verify(dist) == ["places: primary key ['id'] is not unique"]


def test_an_empty_required_cell_is_caught(dist: Path) -> None:
    """Both files agree on an empty name: the rows match, but a required column has a gap."""
    csv = dist / "actors.csv"
    csv.write_text(csv.read_text("utf-8").replace("Town Council", ""), "utf-8")
    table = pq.read_table(dist / "actors.parquet")
    index = table.schema.get_field_index("name")
    names = pc.if_else(pc.equal(table["name"], "Town Council"), pa.scalar(None, pa.string()), table["name"])
    pq.write_table(table.set_column(index, pa.field("name", pa.string()), names), dist / "actors.parquet")
    rehash(dist)
    assert verify(dist) == ["actors: required column 'name' has empty cells"]
