"""What a package carries besides its rows, checked by the generation that wrote it.

Each package names its format (``write.FORMAT_KEY``; none: format 1, kdata 0.1.0 and before). A
package of format 1 is checked as kdata 0.1.0 wrote it: no categories, no Parquet metadata, Parquet
twins as files. A package of the current format must carry what the current writer writes, and the
check is the writer itself: ``expected`` runs ``write.resource_entry`` and ``parquet.described``
and the result is compared with what the package holds, key by key. What they are run on depends
on who made the package:

- a package of the version this kdata bundles (``current_version``) was made by these models: the
  tables, descriptions, constraints and categories are the models' own (``table_schema``);
- a package of another version of the same format was made by other models (an older release): its
  own declarations are taken as the spec, with each enum field's categories rebuilt from its enum.

Either way, every resource is a ``table`` of the writer's format and media type, the package
metadata is valid ``PackageInfo`` (a licence, a contributor), and every Parquet file's schema
metadata is exactly what ``described`` writes for the descriptor's fields and package. A package
without a format after 0.1.0, or of a format this kdata does not know, is refused.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdata.datapackage import write
from kdata.datapackage.schemas import MEANING, categories
from kdata.errors import CODES, PackageError
from kdata.records import vocab

#: The last version kdata released without a format key (format 1).
LAST_UNMARKED = (0, 1, 0)
#: The package metadata keys ``PackageInfo`` defines and a current package states.
_INFO_KEYS = ("name", "title", "description", "version", "homepage", "licenses", "contributors", "keywords")
#: Every top-level key the writer of format 2 writes (``write.write_package``): any other is not the writer's.
_TOP_KEYS = ("$schema", write.FORMAT_KEY, *_INFO_KEYS, "sources", "created", "resources")
#: Entries of a package folder that the descriptor does not name but that belong there: a release's checksums,
#: the marker of a folder kdata made (``fs.MADE``), the checkout's archived releases.
_BESIDE = ("SHA256SUMS", ".kdata-made", "releases")


def problem(code: str, where: str, what: str) -> str:
    """One line of ``kdata verify``: the code, its name, the resource or field, what is wrong."""
    return f"{code} {CODES[code].name}: {where}: {what}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _item(where: str, index: int, item: Any) -> str:
    """The place of a list's item: a field by its name, a category by its value, else by its index."""
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        return f"{where.removesuffix('.schema.fields')}.{item['name']}"
    if isinstance(item, dict) and isinstance(item.get("value"), str):
        return f"{where}[{item['value']}]"
    return f"{where}[{index}]"


def difference(have: Any, want: Any, where: str) -> str | None:
    """The first place where ``have`` differs from ``want``, as ``where.key: found X, expected Y``, or None."""
    if isinstance(have, dict) and isinstance(want, dict):
        for key in [*want, *(k for k in have if k not in want)]:
            if key not in have:
                return f"{where}.{key}: missing, expected {_short(want[key])}"
            if key not in want:
                return f"{where}.{key}: {_short(have[key])}, which the writer does not write"
            if found := difference(have[key], want[key], f"{where}.{key}"):
                return found
        return None
    if isinstance(have, list) and isinstance(want, list) and len(have) == len(want):
        for i, (a, b) in enumerate(zip(have, want, strict=True)):
            if found := difference(a, b, _item(where, i, b)):
                return found
        return None
    return None if have == want and type(have) is type(want) else f"{where}: {_short(have)}, expected {_short(want)}"


def _version(text: Any) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in str(text).split("-")[0].split("+")[0].split("."))
    except ValueError:
        return None


def package_format(descriptor: dict[str, Any]) -> tuple[int, list[str]]:
    """The format ``descriptor`` is of, and the problem with its marker (if any)."""
    marker = descriptor.get(write.FORMAT_KEY)
    where = write.FORMAT_KEY
    if marker is None:
        version = _version(descriptor["version"])
        if version is not None and version <= LAST_UNMARKED:
            return 1, []
        return write.FORMAT, [
            problem(
                "KD401", where, f"missing; every package after {'.'.join(map(str, LAST_UNMARKED))} names its format"
            )
        ]
    if not isinstance(marker, int) or isinstance(marker, bool) or not 1 < marker <= write.FORMAT:
        return 0, [
            problem(
                "KD401",
                where,
                f"{_short(marker)}: this kdata writes and checks format {write.FORMAT} (and packages without the key, "
                "format 1); a newer format needs a newer kdata",
            )
        ]
    return marker, []


def current_version() -> str | None:
    """The version of the data this kdata bundles (what these models made), or None where none is built.

    Read through ``read.load_layout``: parsed again only when the descriptor changed.
    """
    from kdata.datapackage.read import bundled_dir, load_layout

    try:
        return load_layout(bundled_dir()).version
    except PackageError:
        return None


@functools.cache
def models_schema(table: str) -> dict[str, Any]:
    """The models' Table Schema of ``table`` (made once a process: pydantic's JSON Schema takes ~30 ms a table).

    Shared, so never to be changed in place.
    """
    from kdata.datapackage.schemas import table_schema

    return table_schema(table)


@dataclass(frozen=True)
class Expected:
    """What the writer writes for a package: its metadata for Parquet files, and each table's two entries."""

    package: dict[str, str]
    entries: dict[str, dict[str, Any]]


def _own_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A package's own Table Schema as the writer would write it: each enum's categories rebuilt from the enum."""
    fields = []
    for field in schema["fields"]:
        declared = {c.get("value"): c.get(MEANING) for c in field.get("categories", []) if isinstance(c, dict)}
        field = {k: v for k, v in field.items() if k != "categories"}
        enum = field.get("constraints", {}).get("enum")
        if isinstance(enum, list):
            field["categories"] = categories({term: declared.get(term) or "(a meaning)" for term in enum})
        fields.append(field)
    return {**schema, "fields": fields}


def expected(descriptor: dict[str, Any], by_models: bool) -> tuple[Expected | None, list[str]]:
    """What the current writer writes for the package ``descriptor`` describes (see the module note).

    Returns:
        The expected metadata (None where the package metadata is invalid), and the problems found.
    """
    from pydantic import ValidationError

    from kdata.datapackage.parquet import package_metadata
    from kdata.records.models import TABLES, PackageInfo

    problems = []
    if descriptor.get("$schema") != write.PROFILE:
        problems.append(problem("KD402", "$schema", f"{_short(descriptor.get('$schema'))}, expected {write.PROFILE}"))
    problems += [problem("KD402", key, "not a key kdata writes") for key in descriptor if key not in _TOP_KEYS]
    if "created" in descriptor and str(descriptor.get("version")).endswith(vocab.DEV_SUFFIX):
        problems.append(problem("KD402", "created", "a version between releases (-dev) has no release date"))
    try:
        info = PackageInfo.model_validate({k: descriptor[k] for k in _INFO_KEYS if k in descriptor})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the package"
        return None, [*problems, problem("KD402", where, first["msg"])]
    tables = [r for r in descriptor["resources"] if r["format"] == "csv"]
    entries: dict[str, dict[str, Any]] = {}
    for resource in tables:
        name = resource["name"]
        if by_models and name not in TABLES:
            problems.append(problem("KD403", name, "not a table of the models that made this version"))
            continue
        if by_models:  # the models' schema is made once per table (pydantic's JSON Schema is the slow part)
            schema, description = models_schema(name), TABLES[name].description
        else:
            schema, description = _own_schema(resource["schema"]), resource.get("description", "")
        for kind, (suffix, _) in write._KINDS.items():
            entries[name + suffix] = write.resource_entry(name, kind, description, write.twin_schema(schema, suffix))
    if by_models:
        declared = {r["name"] for r in tables}
        problems += [problem("KD403", name, "missing: the models define it") for name in TABLES if name not in declared]
    return Expected(package_metadata(info), entries), problems


def resource_problems(descriptor: dict[str, Any], want: Expected) -> list[str]:
    """One line per resource whose entry differs from the writer's (its first difference), or whose content keys do.

    The content keys' values are checked against the files by ``verify``; here, which of them are there: every
    resource has a hash and a row count, and a byte count unless its format is uncounted (``write.UNCOUNTED``).
    """
    problems = []
    for resource in descriptor["resources"]:
        entry = {k: v for k, v in resource.items() if k not in write.CONTENT_KEYS}
        name = resource["name"]
        have = sorted(k for k in write.CONTENT_KEYS if k in resource)
        want_keys = sorted(
            k for k in write.CONTENT_KEYS if k != "bytes" or resource.get("format") not in write.UNCOUNTED
        )
        if have != want_keys:
            problems.append(
                problem("KD403", name, f"declares {', '.join(have)}; the writer declares {', '.join(want_keys)}")
            )
        if name not in want.entries:
            if resource["format"] != "csv":
                problems.append(problem("KD403", name, "no table of the package has a resource of this name"))
            continue
        if found := difference(entry, want.entries[name], name):
            where, _, what = found.partition(": ")
            problems.append(problem("KD403", where, what))
    return problems


def parquet_problems(path_name: str, table: Any, resource: dict[str, Any], want: Expected) -> list[str]:
    """The first difference of the Parquet file's schema metadata from what ``described`` writes for ``resource``."""
    from kdata.datapackage.parquet import described

    name = resource["name"].removesuffix(write.PARQUET_SUFFIX)
    entry = want.entries.get(resource["name"])
    if entry is None:
        return []
    fields = entry["schema"]["fields"]
    description = entry["description"].removesuffix(" (Parquet)")
    if [f["name"] for f in fields] != table.column_names:
        return []  # the column check names it
    made = described(name, table, want.package, fields, description).schema

    def metadata(schema: Any) -> dict[str, Any]:
        return {
            "schema": {k.decode(): v.decode() for k, v in (schema.metadata or {}).items()},
            "fields": {f.name: {k.decode(): v.decode() for k, v in (f.metadata or {}).items()} for f in schema},
        }

    found = difference(metadata(table.schema), metadata(made), "metadata")
    return [problem("KD404", path_name, found)] if found else []


def stray_problems(folder: Path, descriptor: dict[str, Any]) -> list[str]:
    """One line per entry of the package folder that is neither named by the descriptor nor belongs beside it.

    A stray file travels with the package (a wheel, a copy, an upload) without being part of it: a package is
    exactly its descriptor and the files it names (``python -m build`` once left wheels in ``dist/``).
    """
    named = {"datapackage.json", *_BESIDE, *(str(r["path"]).split("/", 1)[0] for r in descriptor["resources"])}
    return [
        problem("KD405", name, "in the package folder but not part of the package; move it out")
        for name in sorted(os.listdir(folder))
        if name not in named
    ]
