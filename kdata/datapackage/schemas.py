"""Generate every schema from the pydantic models: Table Schemas, JSON Schemas, Arrow schemas.

The models' JSON Schema is the single description of each field (type, enum,
bounds, pattern, description). This module translates it: scalar fields become
columns, an EDTF date becomes four columns (the text, first day, last day,
precision), a single sub-record becomes prefixed columns (``retracted`` ->
``retracted_reason``, ``retracted_version``), lists of sub-records become child
tables, and ``x-references`` becomes a foreign key. A field with an ``enum``
(a controlled vocabulary, ``records.vocab``) also gets Data Package v2
``categories``: each term as ``value``, a readable ``label``, and its meaning as
``kdata:description`` (v2 category objects define only value and label; the
standard allows namespaced custom properties anywhere).
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
from pathlib import Path
from typing import Any

from kdata.records import models, vocab

#: JSON Schema type -> Table Schema type.
_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}
#: Table Schema constraint -> JSON Schema keyword it comes from.
_CONSTRAINTS = {
    "enum": "enum",
    "minimum": "minimum",
    "maximum": "maximum",
    "maxLength": "maxLength",
    "pattern": "pattern",
}


#: The custom property that carries a category's meaning (v2 categories define only value and label).
MEANING = "kdata:description"


def categories(terms: dict[str, str]) -> list[dict[str, str]]:
    """The v2 ``categories`` of a vocabulary: value, label (the term in words), meaning."""
    return [{"value": term, "label": term.replace("_", " "), MEANING: meaning} for term, meaning in terms.items()]


def _flatten(prop: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The non-null branch of a property, merged with its own keys, and whether it may be null."""
    branches = prop.get("anyOf")
    if not branches:
        return prop, False
    real = [b for b in branches if b.get("type") != "null"]
    merged = {**real[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
    return merged, len(real) < len(branches)


def _columns(name: str, prop: dict[str, Any], required: bool, defs: dict[str, Any]) -> list[dict[str, Any]]:
    prop, nullable = _flatten(prop)
    if prop.get("type") == "array":
        return []  # lists of sub-records become child tables
    must = required and not nullable
    if "$ref" in prop:  # one sub-record: its fields become columns named <name>_<field>
        sub = defs[prop["$ref"].rsplit("/", 1)[-1]]
        inner = set(sub.get("required", ())) if must else set()
        return [c for key, p in sub["properties"].items() for c in _columns(f"{name}_{key}", p, key in inner, defs)]
    description = prop.get("description", "")
    if prop.get("x-edtf"):
        req = {"constraints": {"required": True}} if must else {}
        closed = prop["x-edtf"] == "closed"  # no '..': both days are known whenever the date is
        ends = req if closed else {}
        starts = "." if closed else "; empty when the date is open at its start ('../2020-04-02')."
        stops = "." if closed else "; empty when the date is open at its end ('2025-08-21/..')."
        return [
            {
                "name": name,
                "type": "string",
                "description": description + ("" if "EDTF" in description else " (EDTF)"),
                **req,
            },
            {"name": f"{name}_start", "type": "date", "description": "First day the date covers" + starts, **ends},
            {"name": f"{name}_end", "type": "date", "description": "Last day the date covers" + stops, **ends},
            {
                "name": f"{name}_precision",
                "type": "string",
                "description": "Precision of the date as stated: day, month or year.",
                "constraints": {**({"required": True} if must else {}), "enum": list(vocab.DATE_PRECISIONS)},
                "categories": categories(vocab.DATE_PRECISIONS),
            },
        ]
    column: dict[str, Any] = {"name": name, "type": _TYPES[prop.get("type", "string")], "description": description}
    constraints = {key: prop[src] for key, src in _CONSTRAINTS.items() if src in prop}
    if must:
        constraints = {"required": True, **constraints}
    if constraints:
        column["constraints"] = constraints
    if "enum" in prop:  # a vocabulary: OneOf gives each term's meaning as enumDescriptions
        meanings = prop.get("enumDescriptions", [])
        if len(meanings) != len(prop["enum"]):
            raise TypeError(f"{name}: an enum needs a meaning for every term; declare it with models.OneOf(vocab...)")
        column["categories"] = categories(dict(zip(prop["enum"], meanings, strict=True)))
    if "x-references" in prop:
        column["x-references"] = prop["x-references"]
    return [column]


@functools.cache
def _generated(model: type[models.Record]) -> dict[str, Any]:
    """The JSON Schema pydantic generates for ``model``, once per process (a build asks for each one dozens of times)."""
    return model.model_json_schema()


def model_schema(model: type[models.Record]) -> dict[str, Any]:
    """The JSON Schema of ``model``: a copy of its one generation, free to change."""
    return copy.deepcopy(_generated(model))


def table_fields(table: str) -> list[dict[str, Any]]:
    """The Table Schema fields of ``table``, in column order (with ``x-references`` markers)."""
    spec = models.TABLES[table]
    schema = model_schema(spec.model)
    fields: list[dict[str, Any]] = []
    if spec.numbered:  # the id the build makes: "Citation id: '<event|figure>:<record id>:<n>'."
        owners = "|".join(spec.owners.values())
        fields.append(
            {
                "name": "id",
                "type": "string",
                "description": f"{spec.model.__name__} id: '<{owners}>:<record id>:<n>'.",
                "constraints": {"required": True},
            }
        )
    for owner, column in spec.owners.items():
        fields.append(
            {
                "name": column,
                "type": "string",
                "description": f"Id of the record in {owner} this row belongs to.",
                "x-references": owner,
            }
        )
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        fields.extend(_columns(name, prop, name in required, schema.get("$defs", {})))
    return fields


def table_schema(table: str, resource_suffix: str = "") -> dict[str, Any]:
    """The Table Schema of ``table``; foreign keys point at resources named ``<table><suffix>``."""
    spec = models.TABLES[table]
    fields, foreign = [], []
    for f in table_fields(table):
        target = f.pop("x-references", None)
        if target:
            foreign.append(
                {"fields": [f["name"]], "reference": {"resource": target + resource_suffix, "fields": ["id"]}}
            )
        fields.append(f)
    for columns, target in spec.composite:
        key = list(models.TABLES[target].primary_key)
        foreign.append({"fields": list(columns), "reference": {"resource": target + resource_suffix, "fields": key}})
    schema: dict[str, Any] = {"fields": fields, "primaryKey": list(spec.primary_key)}
    if foreign:
        schema["foreignKeys"] = foreign
    schema["missingValues"] = [""]
    return schema


def arrow_schema(table: str) -> Any:
    """The pyarrow schema of ``table``, nullable exactly where the Table Schema allows."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
    }
    return pa.schema(
        [
            pa.field(f["name"], types[f["type"]], nullable=not f.get("constraints", {}).get("required", False))
            for f in table_fields(table)
        ]
    )


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of the record files, for editors: ``<table>.schema.json`` -> schema."""
    out = {}
    kinds: dict[str, type[models.Record]] = {**models.RECORD_TABLES, "package": models.PackageInfo}
    for table, model in kinds.items():
        schema = model_schema(model)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"{table}.schema.json"
        out[f"{table}.schema.json"] = schema
    return out


def schema_files() -> dict[str, bytes]:
    """Every file of schemas/: JSON Schemas of records and Table Schemas of the package."""
    files = {name: schema for name, schema in json_schemas().items()}
    files.update({f"{table}.tableschema.json": table_schema(table) for table in models.TABLES})
    return {name: dump_json(content) for name, content in sorted(files.items())}


def dump_json(content: Any) -> bytes:
    """JSON as kdata writes it: sorted only where order has no meaning, indented, newline-terminated."""
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_schemas(folder: Path, command: str = "kdata schemas") -> list[Path]:
    """Replace the folder ``folder`` with the generated schemas in one step; return the files written.

    Args:
        folder: The schemas folder; it must be new, empty or written by kdata (``fs.check_replaceable``).
        command: The command that writes it, for its marker and messages.

    Raises:
        UsageError: ``folder`` holds something kdata did not write.
        OSError: The files could not be written; ``folder`` is unchanged.
    """
    from kdata import fs

    fs.check_replaceable(folder, command, "schemas")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with fs.locked(folder):
        fs.clear_staging(folder)
        stage = fs.staging_dir(folder)
        try:
            names = []
            for name, content in schema_files().items():
                (stage / name).write_bytes(content)
                names.append(name)
            fs.swap_in(stage, folder, command, "schemas")
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return [folder / name for name in names]
