"""The package explains itself: vocabularies with their meanings, Parquet files with their metadata.

Generic over ``models.TABLES`` and ``records.vocab``: a table or vocabulary added later is
covered without touching these tests.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import REPO
from pydantic import Field

import kdata
from kdata.datapackage.build import created
from kdata.datapackage.schemas import MEANING, json_schemas, table_schema
from kdata.records import models, vocab

DIST = REPO / "dist"
#: Every vocabulary of records.vocab: a dict of term -> meaning.
VOCABULARIES = {name: terms for name, terms in vars(vocab).items() if name.isupper() and isinstance(terms, dict)}


def _vocabulary(terms: list[str]) -> dict[str, str]:
    """The vocabulary whose terms are ``terms``, in order."""
    found = [v for v in VOCABULARIES.values() if list(v) == terms]
    assert len(found) == 1, f"no single vocabulary in records.vocab has the terms {terms}"
    return found[0]


def _enum_fields() -> list[tuple[str, dict[str, Any]]]:
    return [
        (table, field)
        for table in models.TABLES
        for field in table_schema(table)["fields"]
        if "enum" in field.get("constraints", {})
    ]


def test_every_vocabulary_has_a_meaning_for_every_term() -> None:
    assert len(VOCABULARIES) >= 11
    for name, terms in VOCABULARIES.items():
        assert terms and all(isinstance(m, str) and m.strip() for m in terms.values()), name


@pytest.mark.parametrize(("table", "field"), _enum_fields(), ids=lambda x: x if isinstance(x, str) else x["name"])
def test_every_enum_field_carries_v2_categories_from_its_vocabulary(table: str, field: dict[str, Any]) -> None:
    """value = each term in order, label = the term in words (unique), kdata:description = its meaning."""
    terms = _vocabulary(field["constraints"]["enum"])
    assert field["categories"] == [
        {"value": term, "label": term.replace("_", " "), MEANING: meaning} for term, meaning in terms.items()
    ]
    labels = [c["label"] for c in field["categories"]]
    assert len(set(labels)) == len(labels)


def test_every_vocabulary_reaches_the_package() -> None:
    """No vocabulary is left out: each one's terms are the categories of some published field."""
    published = {tuple(f["constraints"]["enum"]) for _, f in _enum_fields()}
    assert {tuple(v) for v in VOCABULARIES.values()} <= published


def test_descriptor_in_dist_carries_the_categories() -> None:
    """The built datapackage.json has the same categories as the models generate (dist/ is fresh)."""
    for resource in kdata.metadata(DIST)["resources"]:
        table = resource["name"].removesuffix("-parquet")
        assert resource["schema"]["fields"] == table_schema(table)["fields"], resource["name"]
    kinds = next(f for f in kdata.metadata(DIST)["resources"][3]["schema"]["fields"] if f["name"] == "kind")
    assert {"value": "ceasefire", "label": "ceasefire", MEANING: vocab.EVENT_KINDS["ceasefire"]} in kinds["categories"]


def _enums(schema: Any) -> list[dict[str, Any]]:
    """Every subschema that has an enum, anywhere in ``schema``."""
    if isinstance(schema, dict):
        return ([schema] if "enum" in schema else []) + [s for v in schema.values() for s in _enums(v)]
    if isinstance(schema, list):
        return [s for v in schema for s in _enums(v)]
    return []


def test_editor_json_schemas_give_every_term_its_meaning() -> None:
    """enumDescriptions beside every enum, index for index: what VS Code's YAML extension shows on hover."""
    found = 0
    for name, schema in json_schemas().items():
        committed = json.loads((REPO / "schemas" / name).read_text("utf-8"))
        assert committed == schema, f"schemas/{name} is stale: run kdata build"
        for sub in _enums(schema):
            terms = _vocabulary(sub["enum"])
            assert sub["enumDescriptions"] == list(terms.values()), name
            found += 1
    assert found >= len(models.RECORD_TABLES)  # at least one vocabulary a record kind


def test_a_new_table_is_covered_and_an_enum_without_meanings_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table added to models.TABLES gets categories from OneOf; a bare Literal enum stops the build, named."""
    from typing import Literal

    class Claim(models.Record):
        id: models.Id = Field(description="Stable identifier.")
        status: models.EventStatus = Field(description="Claimed status.")

    class Loose(models.Record):
        id: models.Id = Field(description="Stable identifier.")
        side: Literal["a", "b"] = Field(description="A side, with no meanings.")

    monkeypatch.setitem(models.TABLES, "claims_test", models.TableSpec(Claim, ("id",), {}, "Claims."))
    status = table_schema("claims_test")["fields"][1]
    assert [c[MEANING] for c in status["categories"]] == list(vocab.EVENT_STATUSES.values())
    monkeypatch.setitem(models.TABLES, "loose_test", models.TableSpec(Loose, ("id",), {}, "Loose."))
    with pytest.raises(TypeError, match=r"side: an enum needs a meaning for every term"):
        table_schema("loose_test")


@pytest.mark.parametrize("table", list(models.TABLES))
def test_parquet_files_carry_field_descriptions_and_package_metadata(table: str) -> None:
    """Read back with pyarrow: each field's description, and the package's name, version and licence."""
    descriptor = kdata.metadata(DIST)
    schema = pq.read_schema(DIST / f"{table}.parquet")
    fields = table_schema(table)["fields"]
    assert [f.name for f in schema] == [f["name"] for f in fields]
    for column, field in zip(schema, fields, strict=True):
        assert column.metadata == {b"description": field["description"].encode()}, column.name
    meta = {k.decode(): v.decode() for k, v in schema.metadata.items()}
    licences = "; ".join(f"{lic['name']} ({lic['path']})" for lic in descriptor["licenses"])
    assert meta["kdata.package"] == descriptor["name"] and meta["kdata.version"] == descriptor["version"]
    assert meta["kdata.license"] == licences and meta["kdata.title"] == descriptor["title"]
    assert meta["kdata.table"] == table and meta["kdata.description"] == models.TABLES[table].description
    pandas = json.loads(meta["pandas"])
    assert [c["name"] for c in pandas["columns"]] == [f["name"] for f in fields]
    assert "pandas_version" not in pandas and "creator" not in pandas  # no library versions in the bytes


def test_created_is_the_changelog_date_of_the_version(tmp_path: Path) -> None:
    """created: the version's dated changelog entry as midnight UTC; None when undated or absent, never the clock."""
    descriptor = kdata.metadata(DIST)
    assert descriptor.get("created") == created(REPO / "raw", descriptor["version"])  # a -dev build has no date
    if "created" in descriptor:
        assert dt.datetime.fromisoformat(descriptor["created"].replace("Z", "+00:00")).tzinfo is not None
    raw = tmp_path / "raw"
    raw.mkdir()
    assert created(raw, "1.2.0") is None
    changelog = tmp_path / "CHANGELOG.md"
    cases = {
        "## [1.2.0] - 2027-03-04\n": "2027-03-04T00:00:00Z",
        "## [Unreleased]\n\n## [1.1.0] - 2027-01-01\n": None,
        "## [1.2.0]\n": None,
        "## [1.2.0] - 2027-03-04 [YANKED]\n": "2027-03-04T00:00:00Z",
        "## [1.2.0] - 2027-03-045\n": None,
        "## [1.2.00] - 2027-03-04\n": None,
        "## [1.2.0] - 2027-3-4\n": None,
        "# [1.2.0] - 2027-03-04\n": None,
        "## [1.1.0] - 2027-01-01\n## [1.2.0] - 2027-03-04\n": "2027-03-04T00:00:00Z",
    }
    for text, expected in cases.items():
        changelog.write_text(text, "utf-8")
        assert created(raw, "1.2.0") == expected, text
    changelog.write_bytes(b"\xff## [1.2.0] - 2027-03-04\n")
    assert created(raw, "1.2.0") is None  # not UTF-8: no date rather than a crash
