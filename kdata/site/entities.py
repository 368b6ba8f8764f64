"""The pages of actors, places and topics, and where every id of the site links to.

An actor's page gathers the claims it makes, the events it takes part in (with its roles), every
passage the sources attribute to it and the claims made about it; a place's page the events there,
the figures and claims about it, the place that contains it and the places within; a topic's page
every record that shares the topic and the disagreements among them. Everything is read from the
package's tables (``events``, ``event_actors``, ``claims``, ``claim_targets``, ``claim_places``,
``citations``…); nothing here decides which record is right.

``linked_columns`` names, for each table, the columns that hold an id with a page: read from the
table's schema in the descriptor (primary key ``id``, single-column foreign keys, ``topic``), so a
new reference column links without a change here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

#: The package as the site reads it (``kdata.site.render._Package``), named, not imported: render imports this
#: module, and the one-way layout allows no import back, not even for type checking.
_Package = Any

#: The record tables with a page per record, as ``<table>/<id>.html``.
PAGED = ("events", "figures", "claims", "sources", "actors", "places")
#: A topic is no table of its own: its page is ``topics/<topic>.html``; the tables that carry one.
TOPICS = "topics"
TOPIC_TABLES = ("events", "figures", "claims")
#: A citation has no page: its id links to its passage on its source's page.
CITATIONS = "citations"


def linked_columns(resource: dict[str, Any]) -> dict[str, str]:
    """A CSV resource's columns that hold ids with a page or anchor -> the table of those ids."""
    schema, name = resource["schema"], resource["name"]
    out = {f["name"]: TOPICS for f in schema["fields"] if f["name"] == "topic"}
    if schema.get("primaryKey") in ("id", ["id"]) and name in (*PAGED, CITATIONS):
        out["id"] = name
    for key in schema.get("foreignKeys", []):
        fields = [key["fields"]] if isinstance(key["fields"], str) else key["fields"]
        if len(fields) == 1:  # a key of several columns names a row, not a record with a page
            out[fields[0]] = key["reference"].get("resource") or name
    return out


def when_key(row: dict[str, Any], prefix: str = "date") -> tuple[dt.date, str]:
    """Sort key by date: a record's first day (its last at an open start), undated last, then its id."""
    day = row.get(f"{prefix}_start") or row.get(f"{prefix}_end") or dt.date.max
    return day, str(row.get("id", ""))


def topics(data: _Package) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Topic -> table -> its records on that topic, by date (figures by id)."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {t: [] for t in TOPIC_TABLES})
    for table in TOPIC_TABLES:
        for row in data.rows[table]:
            if row.get("topic"):
                out[row["topic"]][table].append(row)
    for records in out.values():
        for table, rows in records.items():
            rows.sort(key=lambda r: when_key(r, "as_of" if table == "figures" else "date"))
    return dict(sorted(out.items()))


def _quoted(data: _Package, citations: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Citations with their source and the record each supports, by the source's date, then document order."""
    out = []
    for c in citations:
        source = data.by_id["sources"].get(c["source"])
        supports = data.supports(c)
        out.append({**c, "source_row": source, "supports": supports})
    return sorted(
        out,
        key=lambda c: (
            (c["source_row"] or {}).get("published_start") or dt.date.max,
            c["source"],
            c["anchor_start"] if c["anchor_start"] is not None else -1,
            c["id"],
        ),
    )


def actor_pages(data: _Package) -> Iterator[tuple[str, dict[str, Any]]]:
    """(actor id, page context) for every actor."""
    actors = data.by_id["actors"]
    events = data.by_id["events"]
    roles: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for link in data.rows["event_actors"]:
        if link["event"] in events:
            roles[link["actor"]][link["event"]].append(link["role"])
    made: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for claim in data.rows["claims"]:
        made[claim["claimant"]].append(claim)
    said: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in data.rows["citations"]:
        said[c["claimant"]].append(c)
    for actor in data.rows["actors"]:
        aid = actor["id"]
        taken = sorted(((events[e], r) for e, r in roles[aid].items()), key=lambda pair: when_key(pair[0]))
        yield (
            aid,
            {
                "actor": actor,
                "parent": actors.get(actor["parent"] or ""),
                "members": sorted((a for a in data.rows["actors"] if a["parent"] == aid), key=lambda a: a["name"]),
                "roles": sorted({role for _, rs in taken for role in rs}),
                "made": sorted(made[aid], key=when_key),
                "events": taken,
                "quoted": _quoted(data, said[aid]),
                "about": data.attributed("actors", aid),
            },
        )


def place_pages(data: _Package) -> Iterator[tuple[str, dict[str, Any]]]:
    """(place id, page context) for every place."""
    places = data.by_id["places"]
    for place in data.rows["places"]:
        pid = place["id"]
        yield (
            pid,
            {
                "place": place,
                "parent": places.get(place["parent"] or ""),
                "within": sorted((p for p in data.rows["places"] if p["parent"] == pid), key=lambda p: p["name"]),
                "events": sorted((e for e in data.rows["events"] if e["place"] == pid), key=when_key),
                "figures": sorted(
                    (f for f in data.rows["figures"] if f["place"] == pid), key=lambda f: when_key(f, "as_of")
                ),
                "about": data.attributed("places", pid),
            },
        )
