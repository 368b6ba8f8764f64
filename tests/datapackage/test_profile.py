"""Conformance: the built package is what the Data Package v2 standard says, read by the standard's tools.

The official v2 profile (vendored under tests/data/profiles, see its README) validates
``dist/datapackage.json`` with jsonschema; frictionless-py reads every resource, the Parquet
twins included, as a table whose rows equal the CSV's (tests/test_frictionless.py validates every
row of the whole package).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import frictionless
import jsonschema
import pytest
from conftest import DATA, REPO

import kdata
from kdata.api import package
from kdata.records import models

PROFILE = DATA / "profiles" / "datapackage-2.0.json"
DIST = REPO / "dist"


def _profile_errors(descriptor: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(PROFILE.read_text("utf-8")))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(descriptor)]


def test_the_vendored_profile_is_the_v2_datapackage_profile() -> None:
    """The copy is the draft-07 schema the descriptor's $schema names, and a valid JSON Schema itself."""
    profile = json.loads(PROFILE.read_text("utf-8"))
    jsonschema.Draft7Validator.check_schema(profile)
    assert profile["$schema"] == "http://json-schema.org/draft-07/schema#" and profile["title"] == "Data Package"
    descriptor = kdata.metadata(DIST)
    assert descriptor["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"


def test_built_descriptor_passes_the_official_v2_profile() -> None:
    assert _profile_errors(kdata.metadata(DIST)) == []


@pytest.mark.parametrize(
    ("where", "value", "found"),
    [
        (("resources", -1, "type"), "file", "'file' is not one of ['table']"),
        (("resources", 0, "schema", "fields", 0, "categories"), [{"label": "no value"}], "categories"),
        (("resources", 0, "hash"), 7, "hash"),
        (("created",), 20231101, "created"),
        (("resources",), [], "resources"),
    ],
)
def test_the_profile_check_catches_what_the_standard_refuses(where: tuple[Any, ...], value: Any, found: str) -> None:
    """The check is live: each departure from the standard (the old Parquet 'file' type first) is an error."""
    broken = copy.deepcopy(kdata.metadata(DIST))
    target = broken
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    errors = _profile_errors(broken)
    assert errors and any(found in e for e in errors), errors


def test_every_resource_is_a_table_and_parquet_declares_no_bytes() -> None:
    """Every resource has type table; Parquet resources declare their sha256 but no byte count (frictionless 5.21)."""
    resources = kdata.metadata(DIST)["resources"]
    assert {r["type"] for r in resources} == {"table"}
    assert {r["format"] for r in resources} == {"csv", "parquet"}
    for r in resources:
        assert r["hash"].startswith("sha256:")
        assert ("bytes" in r) == (r["format"] == "csv"), r["name"]


def test_frictionless_reads_every_resource_as_a_table_with_the_csv_rows(_built_once: Path) -> None:
    """Every resource, Parquet included, is a frictionless TableResource; each Parquet twin's rows equal its CSV's.

    On the test project's package (every table has rows; dates, counts, texts and empty cells alike):
    frictionless reads Parquet a row at a time through pandas (seconds for the repository's package), and
    tests/test_frictionless.py validates every row of the repository's package already.
    """
    dist = _built_once / "dist"
    bundled = package(dist)
    by_name = {r.name: r for r in bundled.resources}
    assert len(by_name) == 2 * len(kdata.resources(dist)) == 2 * len(models.TABLES)
    for name in kdata.resources(dist):
        csv, twin = by_name[name], by_name[f"{name}-parquet"]
        assert isinstance(csv, frictionless.resources.TableResource) and csv.format == "csv"
        assert isinstance(twin, frictionless.resources.TableResource) and twin.format == "parquet"
        csv_rows = [row.to_dict() for row in csv.read_rows()]
        twin_rows = [row.to_dict() for row in twin.read_rows()]
        assert twin_rows == csv_rows, name
        assert len(twin_rows) == kdata.load_table(name, dist, include_retracted=True).num_rows > 0, name
        assert twin.schema.field_names == csv.schema.field_names


def test_frictionless_sees_a_wrong_parquet_row(tmp_path: Path) -> None:
    """frictionless types Parquet cells by the Table Schema: a count read as text is a type error, named."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    copy_dir = tmp_path / "dist"
    copy_dir.mkdir()
    for path in DIST.iterdir():
        if path.is_file():
            (copy_dir / path.name).write_bytes(path.read_bytes())
    table = pq.read_table(copy_dir / "figures.parquet")  # the pandas metadata would name Int64: dropped below
    index = table.schema.get_field_index("value")
    values = ["many" if v is not None else None for v in table.column("value").to_pylist()]
    wrong = table.set_column(index, pa.field("value", pa.string()), pa.array(values)).replace_schema_metadata(None)
    pq.write_table(wrong, copy_dir / "figures.parquet")
    # The other files are the bytes of dist/, which test_frictionless validates whole: this resource only.
    report = package(copy_dir).get_resource("figures-parquet").validate()
    assert not report.valid
    errors = report.flatten(["type", "fieldName", "cell"])
    assert ["type-error", "value", "many"] in errors, errors
