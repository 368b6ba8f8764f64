"""The front page's parts: its timeline and schema.org ``Dataset``, the search index and the package's files.

The search index (:mod:`kdata.site.search`) covers events, claims, actors, places, figures and sources; the
``Dataset`` (:mod:`kdata.site.findable`) lists the package's files, which the site copies under ``data/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from kdata.records import models
from kdata.release.cite import citation
from kdata.site import findable, search
from kdata.site.timeline import MAX_LABELS, MINOR_YEARS, STEPS, layout, when

#: The package as the site reads it (``kdata.site.render._Package``), named, not imported: render imports this
#: module, and the one-way layout allows no import back, not even for type checking.
_Package = Any

#: The search index the front page loads (written by ``search_index``, in static/).
SEARCH_INDEX = "search-index.js"


def number(value: int | None) -> str:
    """A count with thousands separators (``1,000,000``); ``?`` when the sources give none."""
    return "?" if value is None else f"{value:,}"


def reading(figure: dict[str, Any]) -> str:
    """A figure's numbers as kdata reads them (``models.HEDGES``), e.g. ``at most 60,000 people``."""
    numbers = {name: number(figure.get(name)) for name in models.NUMBERS}
    return f"{models.HEDGES[figure['qualifier']].reads.format(**numbers)} {figure['unit']}"


def front(data: _Package) -> dict[str, Any]:
    """The front page's timeline and its schema.org ``Dataset`` (JSON-LD)."""
    places = {p["id"]: p["name"] for p in data.rows["places"]}
    cite = citation(data.meta, str(data.meta["version"]))
    return {
        "timeline": layout(data.rows["events"], places),
        "steps": STEPS,
        "max_labels": MAX_LABELS,
        "minor_years": MINOR_YEARS,
        "dataset_ld": findable.script_body(findable.dataset(data.meta, cite)),
    }


def search_index(data: _Package, pages: set[tuple[str, str]]) -> str:
    """The search index script: every event, claim, actor, place, figure and source, linked from the front page."""
    actors = {a["id"]: a["name"] for a in data.rows["actors"]}
    places = {p["id"]: p["name"] for p in data.rows["places"]}

    def name(table: dict[str, str], key: str | None) -> str:
        return table.get(key or "", key or "")

    def url(table: str, record_id: str) -> str:
        return f"{table}/{record_id}.html" if (table, record_id) in pages else f"tables/{table}.html"

    def event(r: dict[str, Any]) -> tuple[str, str, str]:
        who = " ".join(name(actors, a["actor"]) for a in data.event_actors.get(r["id"], []))
        return (
            r["title"],
            _join(when(r["date"]), r["kind"], name(places, r["place"])),
            _join(r["term"], r["description"], who),
        )

    def claim(r: dict[str, Any]) -> tuple[str, str, str]:
        return (
            r["summary"],
            _join(name(actors, r["claimant"]), r["kind"], when(r["date"])),
            _join(r["note"], r["topic"]),
        )

    describe: dict[str, Any] = {
        "events": event,
        "claims": claim,
        "actors": lambda r: (r["name"], _join(r["kind"], r["role"]), _join(r["note"], name(actors, r["parent"]))),
        "places": lambda r: (r["name"], _join(r["kind"], name(places, r["parent"])), r["note"] or ""),
        "figures": lambda r: (
            f"{r['measure'].replace('_', ' ')}: {reading(r)}",
            _join(r["stated_as"], r["as_of"], name(places, r["place"])),
            _join(r["term"], r["note"]),
        ),
        "sources": lambda r: (r["title"], _join(r["publisher"] or r["via"], r["published"]), _join(r["author"])),
    }
    return search.script(search.entries(data.rows, url, describe))


def _join(*parts: object) -> str:
    return " · ".join(str(p).replace("_", " ") for p in parts if p not in (None, ""))


def copy_data(data: _Package, staging: Path) -> None:
    """A copy of the package (descriptor and every resource file) under ``data/``: the JSON-LD's distributions."""
    folder = staging / findable.DATA
    folder.mkdir()
    shutil.copyfile(data.folder / "datapackage.json", folder / "datapackage.json")
    for resource in data.meta["resources"]:
        shutil.copyfile(data.folder / resource["path"], folder / resource["path"])
