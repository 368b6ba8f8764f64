"""kdata.datapackage.schemas: Table Schemas, JSON Schemas and Arrow schemas, all generated from the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # frictionless's dependency; it ships no type information
import pyarrow as pa
import pytest

from kdata.datapackage import schemas
from kdata.records import models, vocab, yamlio
from kdata.records.dates import PRECISIONS

GOOD_RAW = Path(__file__).resolve().parents[1] / "data" / "good" / "raw"


def fields_by_name(table: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in schemas.table_fields(table)}


def test_an_edtf_date_becomes_four_columns() -> None:
    """The text as stated, the first and last day it covers, and its precision; required where the date is, except the
    days of a date that may be open at one end ('2025-08-21/..'), and those of a publication date, which never is."""
    fields = fields_by_name("events")
    names = list(fields)
    at = names.index("date")
    assert names[at : at + 4] == ["date", "date_start", "date_end", "date_precision"]
    assert [fields[n]["type"] for n in names[at : at + 4]] == ["string", "date", "date", "string"]
    assert [fields[n].get("constraints", {}).get("required") for n in names[at : at + 4]] == [True, None, None, True]
    assert "empty when the date is open at its end" in fields["date_end"]["description"]
    published = fields_by_name("sources")  # closed: its days are as required as the date (optional here)
    assert "open" not in published["published_end"]["description"]
    assert fields["date_precision"]["constraints"]["enum"] == list(PRECISIONS)
    optional = fields_by_name("figures")  # as_of is optional: none of its four columns is required
    assert [optional[n].get("constraints", {}).get("required") for n in ("as_of", "as_of_start", "as_of_end")] == [
        None
    ] * 3
    assert optional["as_of_precision"]["constraints"] == {"enum": list(PRECISIONS)}


def test_sub_records_become_prefixed_columns_and_lists_become_child_tables() -> None:
    events = list(fields_by_name("events"))
    assert events[-2:] == ["retracted_reason", "retracted_version"]
    assert "retracted" not in events and "citations" not in events and "actors" not in events
    version = fields_by_name("events")["retracted_version"]
    assert version["constraints"]["pattern"] == vocab.SEMVER_PATTERN
    assert "required" not in version["constraints"]  # a record need not be retracted
    assert list(fields_by_name("citations"))[:3] == ["id", "event", "figure"]  # child rows name their owner
    assert list(fields_by_name("event_actors")) == ["event", "actor", "role"]


def test_columns_carry_the_models_types_constraints_and_descriptions() -> None:
    for table, spec in models.TABLES.items():
        for field in schemas.table_fields(table):
            assert field["description"], (table, field["name"])
            assert field["type"] in {"string", "integer", "number", "boolean", "date"}
        for name, info in spec.model.model_fields.items():
            if name in fields_by_name(table):
                assert fields_by_name(table)[name]["description"] == info.description, (table, name)
    figures = fields_by_name("figures")
    assert figures["value"]["type"] == "integer" and figures["value"]["constraints"] == {"minimum": 0}
    assert figures["qualifier"]["constraints"] == {"required": True, "enum": list(vocab.QUALIFIERS)}
    assert figures["stated_as"]["constraints"] == {"required": True, "maxLength": 2000}
    assert fields_by_name("sources")["sha256"]["constraints"]["pattern"] == "^[0-9a-f]{64}$"


def test_the_table_schema_has_keys_and_foreign_keys_to_the_named_resources() -> None:
    schema = schemas.table_schema("citations", "-parquet")
    assert schema["primaryKey"] == ["id"] and schema["missingValues"] == [""]
    assert {fk["fields"][0]: fk["reference"]["resource"] for fk in schema["foreignKeys"]} == {
        "event": "events-parquet",
        "figure": "figures-parquet",
        "claim": "claims-parquet",
        "source": "sources-parquet",
        "claimant": "actors-parquet",
    }
    assert all(fk["reference"]["fields"] == ["id"] for fk in schema["foreignKeys"])
    assert not any("x-references" in f for f in schema["fields"])  # the marker becomes the foreign key
    assert schemas.table_schema("event_actors")["primaryKey"] == ["event", "actor", "role"]
    assert "foreignKeys" not in schemas.table_schema("disagreements")
    keys = schemas.table_schema("disagreement_sides")["foreignKeys"]
    sides = {fk["fields"][0]: fk["reference"]["resource"] for fk in keys if len(fk["fields"]) == 1}
    assert [fk for fk in keys if len(fk["fields"]) > 1] == [
        {
            "fields": ["topic", "table", "aspect"],
            "reference": {"resource": "disagreements", "fields": ["topic", "table", "aspect"]},
        }
    ]
    assert sides == {
        "event": "events",
        "figure": "figures",
        "claim": "claims",
        "citation": "citations",
        "claimant": "actors",
        "source": "sources",
    }
    places = schemas.table_schema("places")  # a table may refer to itself
    assert places["foreignKeys"] == [{"fields": ["parent"], "reference": {"resource": "places", "fields": ["id"]}}]


@pytest.mark.parametrize("table", list(models.TABLES))
def test_the_arrow_schema_types_and_nullability_follow_the_table_schema(table: str) -> None:
    arrow = schemas.arrow_schema(table)
    fields = schemas.table_fields(table)
    assert arrow.names == [f["name"] for f in fields]
    types = {"string": pa.string(), "integer": pa.int64(), "date": pa.date32(), "boolean": pa.bool_()}
    for column, field in zip(arrow, fields, strict=True):
        assert column.type == types[field["type"]], (table, field["name"])
        assert column.nullable is not field.get("constraints", {}).get("required", False), (table, field["name"])


def test_the_json_schemas_accept_the_good_records_and_refuse_broken_ones() -> None:
    """What an editor checks with the JSON Schema agrees with what the models check."""
    found = schemas.json_schemas()
    assert set(found) == {f"{t}.schema.json" for t in (*vocab.RECORD_TABLES, "package")}
    for name, schema in found.items():
        assert schema["$id"] == name and schema["$schema"].endswith("/2020-12/schema")
        jsonschema.Draft202012Validator.check_schema(schema)
    for table in vocab.RECORD_TABLES:
        validator = jsonschema.Draft202012Validator(found[f"{table}.schema.json"])
        for path in sorted((GOOD_RAW / table).glob("*.yaml")):
            record = yamlio.parse(path.read_text("utf-8"), path.name).data
            validator.validate(record)
            assert not validator.is_valid({**record, "colour": "red"}), path  # unknown fields refused
            assert not validator.is_valid({**record, "id": "Not An Id"}), path
    figures = jsonschema.Draft202012Validator(found["figures.schema.json"])
    record = yamlio.parse((GOOD_RAW / "figures" / "riverton-bridge-length.yaml").read_text("utf-8"), "f").data
    assert not figures.is_valid({**record, "value": "4"})  # strict: a quoted number is text
    assert not figures.is_valid({**record, "unit": "miles"})


def test_write_schemas_writes_every_file_as_dumped_json(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    written = schemas.write_schemas(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([".kdata-made", *(p.name for p in written)])
    marker = (folder / ".kdata-made").read_text("utf-8").splitlines()
    assert marker[:2] == [
        "# kdata-made: schemas",
        "# Written by `kdata schemas`, which replaces this folder whole. The files it wrote:",
    ]
    assert marker[2:] == sorted(p.name for p in written)
    assert {p.name for p in written} == {
        *schemas.json_schemas(),
        *(f"{table}.tableschema.json" for table in models.TABLES),
    }
    for path in written:
        content = path.read_bytes()
        assert content == schemas.dump_json(json.loads(content)) and content.endswith(b"}\n")
    assert json.loads((folder / "places.tableschema.json").read_bytes()) == schemas.table_schema("places")
    assert schemas.dump_json({"name": "Kəlbəcər"}) == '{\n  "name": "Kəlbəcər"\n}\n'.encode()  # not \u-escaped
