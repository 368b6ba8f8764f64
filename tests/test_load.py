"""``kdata.load`` against the package's files as they are now: rebuilds, edits and damage after an earlier load.

``load`` keeps what it learnt from a package between calls (the descriptor's layout, the ids of an owner
table's tombstones); these tests change the package under it and compare each frame with one computed
from the Parquet files directly.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import GOOD

import kdata
from kdata.datapackage import read
from kdata.datapackage.build import build
from kdata.records.models import TABLES, TOMBSTONE

RETRACTION = "retracted:\n  reason: Misread the source.\n  version: 0.2.0\n"
#: One record of each owner table, retracted and restored by the tests.
RETRACTED = {
    "events": "riverton-return-2020",
    "figures": "riverton-returnees-other",
    "claims": "town-council-says-residents-returned",
}


def expected(folder: Path, name: str) -> pd.DataFrame:
    """``load(name)`` from first principles: the whole Parquet file, less tombstones and the rows of owners' tombstones."""
    table = pq.read_table(folder / f"{name}.parquet")
    if TOMBSTONE in table.column_names:
        table = table.filter(pc.is_null(table[TOMBSTONE]))
    for owner, column in TABLES[name].owners.items():
        owners = pq.read_table(folder / f"{owner}.parquet").to_pylist()
        gone = {row["id"] for row in owners if row.get(TOMBSTONE) is not None}
        keep = [value not in gone for value in table[column].to_pylist()]
        table = table.filter(pa.array(keep, pa.bool_()))
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def same_as_files(folder: Path) -> dict[str, int]:
    """Assert that every table loads as ``expected``; its row counts."""
    counts = {}
    for name in kdata.resources(folder):
        frame, want = kdata.load(name, package=folder), expected(folder, name)
        pd.testing.assert_frame_equal(frame, want, check_dtype=True, check_exact=True)
        counts[name] = len(frame)
    return counts


def built_copy(built_once: Path, dist: Path) -> None:
    """A copy of the test project's dist/ as the real command built it once (``conftest._built_once``):
    new files, each status changed now, as a build into ``dist`` would leave them."""
    shutil.copytree(built_once / "dist", dist)


def retract(raw: Path, table: str, on: bool) -> None:
    record = raw / table / f"{RETRACTED[table]}.yaml"
    text = record.read_text("utf-8").replace(RETRACTION, "")
    record.write_text(text + RETRACTION if on else text, "utf-8")


@pytest.mark.parametrize("settled", [True, False], ids=["trusted-at-once", "trusted-when-settled"])
def test_load_follows_rebuilds_of_the_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settled: bool, _built_once: Path
) -> None:
    """Each owner retracted, then restored, rebuilt each time into the same folder, loaded between: never stale."""
    if settled:
        monkeypatch.setattr(read, "SETTLED_NS", -(10**18))  # every status trusted at once: the strictest case
    raw, dist = tmp_path / "raw", tmp_path / "dist"
    shutil.copytree(GOOD / "raw", raw)
    built_copy(_built_once, dist)
    full = same_as_files(dist)
    assert full["citations"] and full["claim_targets"] and full["event_actors"]
    for owner in RETRACTED:
        retract(raw, owner, on=True)
        build(raw, dist)
        fewer = same_as_files(dist)
        assert fewer[owner] == full[owner] - 1
        assert RETRACTED[owner] not in set(kdata.load(owner, package=dist)["id"])
        children = [t for t, spec in TABLES.items() if owner in spec.owners and full[t]]
        assert any(fewer[t] < full[t] for t in children), owner
        retract(raw, owner, on=False)
        build(raw, dist)
        assert same_as_files(dist) == full


def _rewrite(file: Path, ids: set[str], **options: object) -> None:
    """Rewrite an owner table's Parquet file in place (same path, same inode) with ``ids`` retracted, nothing else."""
    table = pq.read_table(file)
    marks = [("0.2.0" if row in ids else None) for row in table["id"].to_pylist()]
    index = table.schema.get_field_index(TOMBSTONE)
    table = table.set_column(index, table.schema.field(index), pa.array(marks, pa.string()))
    with open(file, "r+b") as stream:
        stream.truncate(0)
        pq.write_table(table, stream, **options)  # type: ignore[arg-type]  # pyarrow's options are untyped


@pytest.mark.parametrize(
    "options",
    [{}, {"write_statistics": False}, {"row_group_size": 1}, {"row_group_size": 1, "write_statistics": False}],
    ids=["statistics", "no-statistics", "row-groups", "row-groups-no-statistics"],
)
def test_an_owner_file_changed_in_place_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, object], _built_once: Path
) -> None:
    """The descriptor unchanged (its layout reused), figures.parquet rewritten in place: citations follow it,
    whether the file has statistics in its footer or not, in one row group or many."""
    monkeypatch.setattr(read, "SETTLED_NS", -(10**18))
    dist = tmp_path / "dist"
    built_copy(_built_once, dist)
    figures = dist / "figures.parquet"
    cited = set(kdata.load("citations", package=dist)["figure"].dropna())
    assert RETRACTED["figures"] in cited
    for ids in ({RETRACTED["figures"]}, set(), set(cited), {RETRACTED["figures"]}):
        _rewrite(figures, ids, **options)
        same_as_files(dist)
        assert set(kdata.load("citations", package=dist)["figure"].dropna()) == cited - ids


def one_line(error: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("settled", [True, False], ids=["trusted-at-once", "trusted-when-settled"])
def test_damage_after_a_load_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settled: bool, _built_once: Path
) -> None:
    """What the first load checked is checked again: a file swapped for a symlink out or a FIFO, a descriptor edited."""
    if settled:
        monkeypatch.setattr(read, "SETTLED_NS", -(10**18))
    dist = tmp_path / "dist"
    built_copy(_built_once, dist)
    kdata.load("citations", package=dist)
    outside = tmp_path / "elsewhere.parquet"
    shutil.copy(dist / "figures.parquet", outside)
    (dist / "figures.parquet").unlink()
    (dist / "figures.parquet").symlink_to(outside)
    for name in ("figures", "citations"):  # the table itself, and a table whose owner it is
        with pytest.raises(kdata.PackageError) as error:
            kdata.load(name, package=dist)
        assert "'figures.parquet' resolves to a place outside the package folder" in one_line(error)
    (dist / "figures.parquet").unlink()
    os.mkfifo(dist / "figures.parquet")
    with pytest.raises(kdata.PackageError) as error:
        kdata.load("citations", package=dist)
    assert "'figures.parquet' is not a regular file" in one_line(error)
    (dist / "figures.parquet").unlink()
    shutil.copy(outside, dist / "figures.parquet")
    same_as_files(dist)
    descriptor = dist / "datapackage.json"
    content = json.loads(descriptor.read_text("utf-8"))
    content["resources"][0]["path"] = "../sources.csv"
    descriptor.write_text(json.dumps(content), "utf-8")
    with pytest.raises(kdata.PackageError) as error:
        kdata.load("events", package=dist)
    assert "resources[0].path must not hold an empty, '.' or '..' segment" in one_line(error)
    descriptor.write_text("{", "utf-8")
    with pytest.raises(kdata.PackageError) as error:
        kdata.load("events", package=dist)
    assert one_line(error).startswith(f"Cannot read {descriptor}:")
