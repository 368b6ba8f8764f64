"""Read a raw/ tree into records: per-file checks, then checks across records.

``load_raw`` is the one entry point: it returns every valid record and every
issue found, sorted, so a contributor sees all problems in one run.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import models
from .errors import Issue, UsageError
from .issues import from_validation_error
from .yamlio import Document, Loc, read

#: The file beside the tables that holds package-level metadata.
PACKAGE_FILE = "package.yaml"

# Typographic variants that quote verification treats as their plain twins.
_TYPOGRAPHIC = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032`"}
    | {c: '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033"}
    | {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Ref:
    """A reference from one record to another, with where it is written."""

    table: str
    target: str
    file: str
    line: int
    col: int
    field: str


@dataclass
class RawData:
    """Everything read from a raw/ tree."""

    root: Path
    info: models.PackageInfo | None = None
    records: dict[str, list[Any]] = field(default_factory=dict)
    files: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, id) -> file
    positions: dict[tuple[str, str], dict[Loc, tuple[int, int]]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def display(path: Path) -> str:
    """How a file is named in messages: relative to the working directory if inside it."""
    # abspath, not resolve: a symlink is named as itself, not as its target.
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.getcwd()))
    except ValueError:
        return str(path)


def _record_files(root: Path, issues: list[Issue]) -> Iterator[tuple[str, Path]]:
    """Yield (table, path) for every record file; report anything else found in raw/.

    Hidden files, ``package.yaml`` and README files are left alone. Symlinks are
    refused wherever they point, so nothing outside raw/ is ever read.
    """
    tables = ", ".join(models.RECORD_TABLES)

    def refuse(path: Path, code: str, message: str) -> None:
        issues.append(Issue(display(path), 0, 0, code, "", message))

    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name == PACKAGE_FILE or entry.name.lower().startswith("readme"):
            continue
        if entry.is_symlink():
            refuse(entry, "KD011", f"raw/ may not hold symlinks; '{entry.name}' is one.")
        elif not entry.is_dir():
            refuse(entry, "KD203", f"raw/ holds only the folders {tables} and {PACKAGE_FILE}; found '{entry.name}'.")
        elif entry.name not in models.RECORD_TABLES:
            refuse(entry, "KD203", f"'{entry.name}' is not a table; expected one of {tables}.")
        else:
            for path in sorted(entry.iterdir()):
                if path.name.startswith("."):
                    continue
                if path.is_symlink() or (path.suffix == ".yaml" and not path.is_file()):
                    refuse(path, "KD011", "Record files must be regular files, not symlinks or special files.")
                elif path.suffix != ".yaml" or path.is_dir():
                    fix = f" Rename it to '{path.stem}.yaml'." if path.suffix.lower() in (".yml", ".yaml") else ""
                    refuse(
                        path, "KD203", f"A table folder holds only '<id>.yaml' record files; found '{path.name}'.{fix}"
                    )
                else:
                    yield entry.name, path


def _refs(model: BaseModel, loc: Loc, doc: Document, name: str) -> Iterator[Ref]:
    """Every foreign-key value in a validated record, with its position."""
    for key, info in type(model).model_fields.items():
        value = getattr(model, key)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if value is not None and "x-references" in extra:
            line, col = doc.pos.get(loc + (key,), (0, 0))
            yield Ref(str(extra["x-references"]), value, name, line, col, ".".join(map(str, loc + (key,))))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _refs(item, loc + (key, i), doc, name)


def _check_file(table: str, path: Path) -> tuple[Any, Document, list[Issue]]:
    name = display(path)
    doc = read(path, name)
    if doc.issues:
        return None, doc, doc.issues
    model = models.RECORD_TABLES[table]
    try:
        record: Any = model.model_validate(doc.data)
    except ValidationError as exc:
        return None, doc, from_validation_error(exc, model, doc, name)
    if record.id != path.stem:
        line, col = doc.pos[("id",)]
        return (
            record,
            doc,
            [Issue(name, line, col, "KD107", "id", f"The id '{record.id}' differs from the file name '{path.stem}'.")],
        )
    return record, doc, []


def _check_cycles(data: RawData, table: str) -> None:
    """Report each record whose chain of parents comes back to itself."""
    parents = {r.id: r.parent for r in data.records.get(table, [])}
    for start in sorted(parents):
        seen, node = {start}, parents[start]
        while node is not None and node in parents and node not in seen:
            seen.add(node)
            node = parents[node]
        if node == start:
            file = data.files[(table, start)]
            line, col = data.positions[(table, start)].get(("parent",), (0, 0))
            message = f"Following parents from '{start}' comes back to '{start}'."
            data.issues.append(Issue(file, line, col, "KD204", "parent", message))


def load_raw(root: Path) -> RawData:
    """Read and check every record under ``root``.

    Args:
        root: A raw/ folder: ``package.yaml`` plus one folder per table.

    Returns:
        The valid records by table and every issue found, sorted.

    Raises:
        UsageError: ``root`` is not a folder.
    """
    if not root.is_dir():
        message = f"No raw data folder at '{root}'. Pass the folder that holds package.yaml and the table folders."
        raise UsageError(message)
    data = RawData(root)
    refs: list[Ref] = []
    present: set[tuple[str, str]] = set()  # (table, id) of every record file, valid or not
    for table, path in _record_files(root, data.issues):
        present.add((table, path.stem))
        record, doc, issues = _check_file(table, path)
        data.issues.extend(issues)
        if record is None:
            continue
        key, name = (table, record.id), display(path)
        present.add(key)
        if key in data.files:
            line, col = doc.pos[("id",)]
            message = f"The id '{record.id}' is already used by {data.files[key]}."
            data.issues.append(Issue(name, line, col, "KD201", "id", message))
            continue
        data.files[key] = name
        data.positions[key] = {k: v for k, v in doc.pos.items() if len(k) <= 3}
        data.records.setdefault(table, []).append(record)
        if not issues:
            refs.extend(_refs(record, (), doc, name))
    # A reference to a file that exists but is invalid is not dangling: that file's own issues say what is wrong.
    for ref in refs:
        if (ref.table, ref.target) not in present:
            message = f"No record in {ref.table} has the id '{ref.target}'."
            data.issues.append(Issue(ref.file, ref.line, ref.col, "KD202", ref.field, message))
    for table in ("actors", "places"):
        _check_cycles(data, table)
    _load_info(data)
    data.issues.sort()
    return data


def _load_info(data: RawData) -> None:
    path = data.root / PACKAGE_FILE
    name = display(path)
    if not path.is_file():
        data.issues.append(Issue(name, 0, 0, "KD101", "", f"The package metadata file {PACKAGE_FILE} is missing."))
        return
    doc = read(path, name)
    if doc.issues:
        data.issues.extend(doc.issues)
        return
    try:
        data.info = models.PackageInfo.model_validate(doc.data)
    except ValidationError as exc:
        data.issues.extend(from_validation_error(exc, models.PackageInfo, doc, name))


def normalise(text: str) -> str:
    """Text as quote verification compares it: plain quotes and dashes, single spaces."""
    return _SPACE.sub(" ", text.translate(_TYPOGRAPHIC)).strip()


def archive_index(archive: Path) -> dict[str, str]:
    """Map sha256 -> normalised text for every file in an archive folder."""
    if not archive.is_dir():
        raise UsageError(f"No archive folder at '{archive}'. Pass the folder of archived source texts.")
    index = {}
    for path in sorted(archive.iterdir()):
        if path.is_file():
            raw = path.read_bytes()
            index[hashlib.sha256(raw).hexdigest()] = normalise(raw.decode("utf-8", errors="replace"))
    return index


def verify_quotes(data: RawData, archive: Path) -> list[Issue]:
    """Check that every quote appears verbatim in the archived text of its source."""
    index = archive_index(archive)
    texts: dict[str, str | None] = {}
    issues = []
    for source in data.records.get("sources", []):
        texts[source.id] = index.get(source.sha256)
        if texts[source.id] is None:
            line, col = data.positions[("sources", source.id)].get(("sha256",), (0, 0))
            issues.append(
                Issue(
                    data.files[("sources", source.id)],
                    line,
                    col,
                    "KD302",
                    "sha256",
                    f"No file in {archive} has the sha256 {source.sha256}.",
                )
            )
    for table in ("events", "figures"):
        for record in data.records.get(table, []):
            for i, citation in enumerate(record.citations):
                text = texts.get(citation.source)
                if text is None or normalise(citation.quote) in text:
                    continue
                line, col = data.positions[(table, record.id)].get(("citations", i, "quote"), (0, 0))
                short = citation.quote if len(citation.quote) <= 70 else citation.quote[:67] + "..."
                issues.append(
                    Issue(
                        data.files[(table, record.id)],
                        line,
                        col,
                        "KD301",
                        f"citations.{i}.quote",
                        f"The quote '{short}' is not in the archived text of source '{citation.source}'.",
                    )
                )
    return sorted(issues)
