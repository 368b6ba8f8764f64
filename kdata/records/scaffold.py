"""``kdata new KIND ID``: write a record file with every field, ready to fill.

The scaffold is generated from the model's JSON Schema, the same one editors
read: every required field gets an empty value and a comment with its
description (allowed terms, the table an id refers to), every optional field
is commented out. An empty value reads as null, so ``kdata validate`` names
each field still to fill. The first line maps the file to its JSON Schema for
editors that run the YAML language server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kdata.errors import UsageError
from kdata.fs import create_new
from kdata.records import vocab

#: KIND as typed on the command line (table or singular) -> record table.
KINDS: dict[str, str] = {name: table for table in vocab.RECORD_TABLES for name in (table, table.removesuffix("s"))}

#: Words added to a comment for a field's JSON type.
_TYPE_HINTS: dict[str, str] = {"integer": "A whole number, unquoted.", "boolean": "true or false."}
#: Enums longer than this are not listed in the comment (the editor completes them).
_MAX_LISTED = 12


def _hedges() -> str:
    """Which numbers each qualifier needs, from the rules the model enforces."""
    from kdata.records import models

    needs: dict[str, list[str]] = {}
    for qualifier, hedge in models.HEDGES.items():
        fields = " and ".join(name for name in models.NUMBERS if getattr(hedge, name))
        needs.setdefault(fields, []).append(qualifier)
    return "Then fill " + "; ".join(f"{fields} for {', '.join(qs)}" for fields, qs in needs.items()) + "."


#: (table, field) -> the function that writes extra advice for its comment, beyond what the schema says.
_ADVICE: dict[tuple[str, str], Callable[[], str]] = {("figures", "qualifier"): _hedges}


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A property without its null branch and with its ``$ref`` inlined; its own keys win."""
    branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
    node = {**branches[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
    ref = node.pop("$ref", None)
    return {**defs[ref.rsplit("/", 1)[-1]], **node} if ref else node


def _comment(node: dict[str, Any], advice: str) -> str:
    parts = [" ".join(str(node.get("description", "")).split())]
    enum = node.get("enum")
    if enum:
        listed = ", ".join(enum) if len(enum) <= _MAX_LISTED else f"{len(enum)} terms, see README.md 'Data model'"
        parts.append(f"One of: {listed}.")
    refers = node.get("x-references") or node.get("items", {}).get("x-references")
    if refers:
        parts.append(f"An id in raw/{refers}/." if "items" not in node else f"Ids in raw/{refers}/.")
    parts.append(_TYPE_HINTS.get(str(node.get("type")), ""))
    parts.append(advice)
    return " ".join(p for p in parts if p)


def _field(name: str, prop: dict[str, Any], required: bool, defs: dict[str, Any], table: str, value: str) -> list[str]:
    """The lines of one field (``value`` filled in, if any); commented out when optional."""
    node = _resolve(prop, defs)
    head = f"{name}: {value}" if value else f"{name}:"
    lines = [f"{head}  # {_comment(node, _ADVICE[(table, name)]() if (table, name) in _ADVICE else '')}"]
    items = _resolve(node["items"], defs) if node.get("type") == "array" else None
    if items is not None and items.get("type") == "object":
        sub = _mapping(items, defs, table, {})
        lines += ["  - " + sub[0], *("    " + line for line in sub[1:])]
    elif items is not None:
        lines.append("  -")
    elif node.get("type") == "object":
        lines += ["  " + line for line in _mapping(node, defs, table, {})]
    return lines if required else ["# " + line for line in lines]


def _mapping(node: dict[str, Any], defs: dict[str, Any], table: str, values: dict[str, str]) -> list[str]:
    required = set(node.get("required", []))
    lines: list[str] = []
    for name, prop in node["properties"].items():
        lines += _field(name, prop, name in required, defs, table, values.get(name, ""))
    return lines


def render(table: str, record_id: str) -> str:
    """The text of a new record file for ``table`` with the id ``record_id``.

    Args:
        table: A key of ``models.RECORD_TABLES``.
        record_id: The new record's id (not checked here).

    Returns:
        YAML text: the schema line, a header comment, then every field.
    """
    from kdata.records import models

    schema = models.RECORD_TABLES[table].model_json_schema()
    lines = [
        f"# yaml-language-server: $schema=../../schemas/{table}.schema.json",
        f"# New {table} record: fill every empty field, uncomment the optional ones you need,",
        "# delete the rest, then run `kdata validate`. CONTRIBUTING.md explains each rule.",
        *_mapping(schema, schema.get("$defs", {}), table, {"id": record_id}),
    ]
    return "\n".join(lines) + "\n"


def check_id(record_id: str) -> None:
    """Refuse an id the models would refuse.

    Raises:
        UsageError: The id is not lowercase words of a-z0-9 joined by single hyphens.
    """
    from pydantic import TypeAdapter, ValidationError

    try:
        from kdata.records import models

        TypeAdapter(models.Id).validate_python(record_id)
    except ValidationError:
        raise UsageError(
            f"'{record_id}' is not a valid id. Expected lowercase words of a-z and 0-9 joined by single "
            "hyphens, at most 100 characters, e.g. 'kalbajar-district'."
        ) from None


def new_record(kind: str, record_id: str, raw: Path = Path("raw")) -> Path:
    """Write the scaffold of a new record to ``raw/<table>/<id>.yaml``.

    Args:
        kind: A table (``events``) or its singular (``event``).
        record_id: The id of the new record, which names the file.
        raw: The raw/ folder.

    Returns:
        The path written.

    Raises:
        UsageError: Unknown kind, invalid id, no raw/ folder, raw/ or the table folder a symlink or not a
            folder, the file exists already, or it cannot be written.
    """
    table = KINDS.get(kind.lower())
    if table is None:
        raise UsageError(f"'{kind}' is not a kind of record. Expected one of {', '.join(vocab.RECORD_TABLES)}.")
    check_id(record_id)
    if not raw.is_dir():
        raise UsageError(f"No raw data folder at '{raw}'. Run kdata new from the project root, or pass --raw.")
    path = raw / table / f"{record_id}.yaml"
    for folder in (raw, path.parent):  # what validate refuses, new never writes into (nor through)
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            what = "a symlink" if folder.is_symlink() else "not a folder"
            raise UsageError(f"'{folder}' is {what}; kdata writes records only into real folders inside raw/.")
    try:
        path.parent.mkdir(exist_ok=True)
        create_new(path, render(table, record_id).encode("utf-8"))  # whole or not at all, never over a file
    except FileExistsError:
        raise UsageError(
            f"{path} already exists: the id '{record_id}' is taken, and ids are never reused. "
            "Edit that file, or choose another id."
        ) from None
    except OSError as exc:
        from kdata.fs import write_error

        raise UsageError(f"{path} cannot be written: {write_error(exc)}.") from None
    return path
