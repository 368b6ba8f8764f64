"""The output formats of ``kdata diff``: text, JSON, Markdown (pull requests) and a CHANGELOG draft.

Every value from the packages (keys, cells, names, versions) is escaped for its format where it
is placed: ``printable`` for text (one datum, one line, no terminal controls), ``md`` for
Markdown (no HTML, no closing ``</details>``, no broken table row, no code span, no mention).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kdata.datapackage.safety import printable
from kdata.records.vocab import DEV_SUFFIX

if TYPE_CHECKING:
    from kdata.release.diff import PackageDiff, TableDiff

#: At most this many rows are listed per table and kind of change; the rest are counted.
SHOW = 20

#: Markdown (GitHub's) characters that could start markup, as HTML character references, which
#: GitHub shows as the characters themselves; a line break becomes ``<br>`` (a table row stays one line).
_MARKDOWN = str.maketrans(
    {
        **{c: f"&#{ord(c)};" for c in '&<>"\\|`*_[]~@#!$'},
        "\r": "<br>",
        "\n": "<br>",
    }
)


def md(text: str) -> str:
    """``text`` as literal Markdown: every character that could start markup or HTML written as a character reference."""
    return text.translate(_MARKDOWN)


def _key(key: tuple[Any, ...]) -> str:
    return printable("/".join(str(k) for k in key))


def _value(value: Any) -> str:
    text = printable("∅" if value is None else str(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _cells(cells: dict[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{printable(c)}: {_value(a)} → {_value(b)}" for c, (a, b) in cells.items())


def _counts(t: TableDiff) -> str:
    return f"{len(t.added)} added, {len(t.removed)} removed, {len(t.changed)} changed"


def _schema_lines(t: TableDiff) -> list[str]:
    """The schema changes of a table, one line each (names from the descriptors through ``printable``)."""
    lines = [f"field {n} added" for n in t.fields_added]
    lines += [f"field {n} removed" for n in t.fields_removed]
    lines += [f"field {n} retyped: {a} → {b}" for n, a, b in t.fields_retyped]
    lines += [f"field {n}: description or constraints edited" for n in t.fields_edited]
    if t.key_changed:
        lines.append(f"primary key {t.key_changed[0]} → {t.key_changed[1]}")
    return [printable(line) for line in lines]


def _verdict(d: PackageDiff) -> str:
    if d.bump == "none":
        return "No change to the data: no version bump needed."
    return f"Required bump: {d.bump} ({d.old_version} → at least {d.next_version()})."


def text(d: PackageDiff) -> str:
    """Plain text for a terminal; the last line says the bump."""
    lines = [f"{d.old_version} → {d.new_version}"]
    lines += [f"resource {n} added" for n in d.resources_added]
    lines += [f"resource {n} removed" for n in d.resources_removed]
    if d.metadata_changed:
        lines.append(f"package metadata edited: {', '.join(d.metadata_changed)}")
    for t in d.tables.values():
        if t.empty():
            continue
        lines.append(f"{t.name}: {_counts(t)}")
        lines += [f"  {line}" for line in _schema_lines(t)]
        lines += [f"  + {_key(k)}" for k in t.added[:SHOW]]
        lines += [f"  - {_key(k)}" for k in t.removed[:SHOW]]
        lines += [f"  ~ {_key(k)}: {_cells(c)}" for k, c in t.changed[:SHOW]]
        hidden = sum(max(0, len(x) - SHOW) for x in (t.added, t.removed, t.changed))
        if hidden:
            lines.append(f"  ... and {hidden} more (see --format json)")
    lines += [f"{level}: {why}" for level, why in d.reasons if level == d.bump]
    lines.append(_verdict(d))
    return "\n".join(lines)


def as_json(d: PackageDiff) -> str:
    """Everything, as JSON (cells as strings where JSON has no type for them)."""
    tables = {
        t.name: {
            "primary_key": t.key,
            "added": [list(k) for k in t.added],
            "removed": [list(k) for k in t.removed],
            "changed": [{"key": list(k), "cells": {c: [a, b] for c, (a, b) in v.items()}} for k, v in t.changed],
            "fields_added": t.fields_added,
            "fields_removed": t.fields_removed,
            "fields_retyped": [{"field": n, "old": a, "new": b} for n, a, b in t.fields_retyped],
            "fields_edited": t.fields_edited,
            "primary_key_changed": t.key_changed,
        }
        for t in d.tables.values()
    }
    content = {
        "old_version": d.old_version,
        "new_version": d.new_version,
        "bump": d.bump,
        "next_version": d.next_version(),
        "reasons": [{"level": level, "reason": why} for level, why in d.reasons],
        "resources_added": d.resources_added,
        "resources_removed": d.resources_removed,
        "metadata_changed": d.metadata_changed,
        "tables": tables,
    }
    return json.dumps(content, indent=2, ensure_ascii=False, default=str)


def markdown(d: PackageDiff) -> str:
    """A pull-request summary: a table of counts, then the details folded away; every datum through ``md``."""
    lines = [f"### Data changes: {md(d.old_version)} → {md(d.new_version)}", "", f"**{md(_verdict(d))}**", ""]
    lines += [f"- {level}: {md(why)}" for level, why in d.reasons]
    lines += ["", "| table | added | removed | changed | schema |", "|---|---:|---:|---:|---|"]
    for t in d.tables.values():
        schema = md("; ".join(_schema_lines(t))) or "—"
        lines.append(f"| <code>{md(t.name)}</code> | {len(t.added)} | {len(t.removed)} | {len(t.changed)} | {schema} |")
    lines += [f"| <code>{md(n)}</code> | resource added | | | |" for n in d.resources_added]
    lines += [f"| <code>{md(n)}</code> | resource removed | | | |" for n in d.resources_removed]
    for t in d.tables.values():
        if t.added or t.removed or t.changed:
            lines += ["", f"<details><summary><code>{md(t.name)}</code>: {_counts(t)}</summary>", ""]
            lines += [f"- added <code>{md(_key(k))}</code>" for k in t.added[:SHOW]]
            lines += [f"- removed <code>{md(_key(k))}</code>" for k in t.removed[:SHOW]]
            lines += [f"- changed <code>{md(_key(k))}</code>: {md(_cells(c))}" for k, c in t.changed[:SHOW]]
            lines += ["", "</details>"]
    return "\n".join(lines)


def changelog(d: PackageDiff) -> str:
    """A draft ``## [version] - date`` entry in Keep a Changelog sections, for the maintainer to edit."""
    sections: dict[str, list[str]] = {"Added": [], "Changed": [], "Removed": []}
    sections["Added"] += [f"Resource <code>{md(n)}</code>." for n in d.resources_added]
    sections["Removed"] += [f"Resource <code>{md(n)}</code>." for n in d.resources_removed]
    for t in d.tables.values():
        sections["Added"] += [f"Field <code>{md(t.name)}.{md(n)}</code>." for n in t.fields_added]
        sections["Removed"] += [f"Field <code>{md(t.name)}.{md(n)}</code>." for n in t.fields_removed]
        sections["Changed"] += [
            f"Field <code>{md(t.name)}.{md(n)}</code> is now {md(b)} (was {md(a)})." for n, a, b in t.fields_retyped
        ]
        if t.added:
            sections["Added"].append(
                f"{len(t.added)} row(s) in <code>{md(t.name)}</code>: {md(', '.join(_key(k) for k in t.added[:SHOW]))}."
            )
        if t.changed:
            ids = md(", ".join(f"{_key(k)} ({', '.join(c)})" for k, c in t.changed[:SHOW]))
            sections["Changed"].append(f"{len(t.changed)} row(s) in <code>{md(t.name)}</code> corrected: {ids}.")
        if t.removed:
            sections["Removed"].append(
                f"{len(t.removed)} row(s) from <code>{md(t.name)}</code>: {md(', '.join(_key(k) for k in t.removed[:SHOW]))}."
            )
    if d.metadata_changed:
        sections["Changed"].append(f"Package metadata: {md(', '.join(d.metadata_changed))}.")
    version = d.next_version() if d.new_version == d.old_version else d.new_version.removesuffix(DEV_SUFFIX)
    lines = [f"## [{md(version)}] - {datetime.date.today().isoformat()}"]
    for title, items in sections.items():
        if items:
            lines += ["", f"### {title}", *(f"- {item}" for item in items)]
    return "\n".join(lines)


#: ``--format`` name -> formatter.
FORMATS: dict[str, Callable[[PackageDiff], str]] = {
    "text": text,
    "json": as_json,
    "markdown": markdown,
    "changelog": changelog,
}
