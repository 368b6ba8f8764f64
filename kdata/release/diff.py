"""What a change does to the data: rows and schemas compared by primary key, and the bump it needs.

The bump follows the Data Package version recipe:

- **major**: a resource or field removed, renamed (= removed + added) or
  retyped; a primary key changed; a row removed from a table of records (sources,
  actors, places, events, figures: withdraw it with a tombstone instead) or
  removed while another row of the old package refers to it;
- **minor**: a resource, field or row added;
- **patch**: cell values, descriptions and other metadata corrected (a record
  retracted as a tombstone is a corrected value), and rows of dependent tables
  (citations, event actors, disagreements and their sides) dropped with nothing referring to them.

Tables are read from the Parquet files with pyarrow; the descriptor gives the
tables, their fields and their keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kdata.datapackage.parquet import read_parquet
from kdata.datapackage.read import read_descriptor, table_file
from kdata.errors import UsageError
from kdata.records.models import TOMBSTONE
from kdata.release.registry import LEVELS, bumped

#: Descriptor keys that change with every build or release, so are not compared.
_VOLATILE = {"version", "resources"}
_RESOURCE_KEYS = ("description", "title")


@dataclass
class TableDiff:
    """How one table changed: rows by primary key and schema by field."""

    name: str
    key: list[str]
    added: list[tuple[Any, ...]] = field(default_factory=list)
    removed: list[tuple[Any, ...]] = field(default_factory=list)
    changed: list[tuple[tuple[Any, ...], dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    fields_added: list[str] = field(default_factory=list)
    fields_removed: list[str] = field(default_factory=list)
    fields_retyped: list[tuple[str, str, str]] = field(default_factory=list)
    fields_edited: list[str] = field(default_factory=list)
    key_changed: tuple[list[str], list[str]] | None = None

    def empty(self) -> bool:
        """Whether nothing changed in this table."""
        return not any(vars(self)[k] for k in vars(self) if k not in ("name", "key"))


@dataclass
class PackageDiff:
    """How a package changed, and the reasons for the version bump it needs."""

    old_version: str
    new_version: str
    resources_added: list[str] = field(default_factory=list)
    resources_removed: list[str] = field(default_factory=list)
    metadata_changed: list[str] = field(default_factory=list)
    tables: dict[str, TableDiff] = field(default_factory=dict)
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (level, why)

    @property
    def bump(self) -> str:
        """The smallest bump the change needs: none, patch, minor or major."""
        return max((level for level, _ in self.reasons), key=LEVELS.index, default="none")

    def next_version(self) -> str:
        """The old version raised by the required bump."""
        return bumped(self.old_version, self.bump)


def _descriptor(folder: Path) -> dict[str, Any]:
    return read_descriptor(folder, UsageError, " Pass a built package folder, a release archive or a version.")


def _tables(descriptor: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in descriptor["resources"] if r.get("format") == "csv"}


def _rows(
    folder: Path, descriptor: dict[str, Any], resource: dict[str, Any], key: list[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    path = folder / table_file(descriptor, resource["name"])
    return {tuple(row[k] for k in key): row for row in read_parquet(path).to_pylist()}


def _referenced(folder: Path, descriptor: dict[str, Any], table: str, keys: list[tuple[Any, ...]]) -> set[Any]:
    """Which of the removed ``keys`` of ``table`` rows of the old package refer to."""
    wanted = {k[0] for k in keys if len(k) == 1}
    found: set[Any] = set()
    for resource in _tables(descriptor).values():
        for fk in resource["schema"].get("foreignKeys", []):
            if fk["reference"]["resource"] == table:
                path = folder / table_file(descriptor, resource["name"])
                values = set(read_parquet(path, columns=fk["fields"]).column(0).to_pylist())
                found |= wanted & values
    return found


def _compare_schema(diff: TableDiff, old: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    """Fill the schema part of ``diff``; return the fields both sides share with one type."""
    old_fields = {f["name"]: f for f in old["schema"]["fields"]}
    new_fields = {f["name"]: f for f in new["schema"]["fields"]}
    diff.fields_removed = [n for n in old_fields if n not in new_fields]
    diff.fields_added = [n for n in new_fields if n not in old_fields]
    shared = {}
    for name in (n for n in new_fields if n in old_fields):
        a, b = old_fields[name], new_fields[name]
        if a["type"] != b["type"]:
            diff.fields_retyped.append((name, a["type"], b["type"]))
        else:
            shared[name] = a["type"]
            if a != b:
                diff.fields_edited.append(name)
    if old["schema"].get("primaryKey") != new["schema"].get("primaryKey"):
        diff.key_changed = (old["schema"].get("primaryKey", []), new["schema"].get("primaryKey", []))
    return shared


def _compare_table(
    old_dir: Path, new_dir: Path, old_desc: dict[str, Any], new_desc: dict[str, Any], name: str, result: PackageDiff
) -> None:
    old, new = _tables(old_desc)[name], _tables(new_desc)[name]
    key = list(new["schema"].get("primaryKey", []))
    diff = TableDiff(name, key)
    shared = _compare_schema(diff, old, new)
    why = result.reasons
    for level, items, text in (
        ("major", diff.fields_removed, "field(s) removed"),
        ("major", diff.fields_retyped, "field(s) retyped"),
        ("minor", diff.fields_added, "field(s) added"),
        ("patch", diff.fields_edited, "field description(s) or constraints edited"),
    ):
        if items:
            why.append((level, f"{name}: {len(items)} {text}"))
    if diff.key_changed:
        why.append(("major", f"{name}: primary key changed"))
    if any(old.get(k) != new.get(k) for k in _RESOURCE_KEYS):
        why.append(("patch", f"{name}: resource description edited"))
    if not diff.key_changed and all(k in shared for k in key):
        before, after = _rows(old_dir, old_desc, old, key), _rows(new_dir, new_desc, new, key)
        diff.added = sorted((k for k in after if k not in before), key=str)
        diff.removed = sorted((k for k in before if k not in after), key=str)
        for k in sorted((k for k in after if k in before), key=str):
            cells = {c: (before[k][c], after[k][c]) for c in shared if before[k][c] != after[k][c]}
            if cells:
                diff.changed.append((k, cells))
        if diff.added:
            why.append(("minor", f"{name}: {len(diff.added)} row(s) added"))
        if diff.changed:
            why.append(("patch", f"{name}: {len(diff.changed)} row(s) changed"))
        if diff.removed:
            referenced = _referenced(old_dir, old_desc, name, diff.removed)
            records = TOMBSTONE in {f["name"] for f in old["schema"]["fields"]}
            if records or referenced:
                why.append(("major", f"{name}: {len(diff.removed)} row(s) removed (use a tombstone: retracted)"))
            else:
                why.append(("patch", f"{name}: {len(diff.removed)} dependent row(s) removed"))
    result.tables[name] = diff


def diff_packages(old_dir: Path, new_dir: Path) -> PackageDiff:
    """Compare two built package folders.

    Returns:
        Per table, rows added, removed and changed (with the changed cells) and
        schema changes; resources added and removed; and the reasons for the bump.
    """
    old_desc, new_desc = _descriptor(old_dir), _descriptor(new_dir)
    result = PackageDiff(str(old_desc.get("version", "0.0.0")), str(new_desc.get("version", "0.0.0")))
    old_tables, new_tables = _tables(old_desc), _tables(new_desc)
    result.resources_removed = [n for n in old_tables if n not in new_tables]
    result.resources_added = [n for n in new_tables if n not in old_tables]
    for name in result.resources_removed:
        result.reasons.append(("major", f"resource {name} removed"))
    for name in result.resources_added:
        result.reasons.append(("minor", f"resource {name} added"))
    keys = (set(old_desc) | set(new_desc)) - _VOLATILE
    result.metadata_changed = sorted(k for k in keys if old_desc.get(k) != new_desc.get(k))
    if result.metadata_changed:
        result.reasons.append(("patch", f"package metadata edited: {', '.join(result.metadata_changed)}"))
    for name in (n for n in new_tables if n in old_tables):
        _compare_table(old_dir, new_dir, old_desc, new_desc, name, result)
    return result
