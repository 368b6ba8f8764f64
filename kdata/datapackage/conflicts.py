"""Find where sources disagree: records sharing a ``topic`` that state different things.

Curators give records about the same quantity or thing the same ``topic``; the data then
shows each disagreement instead of the curators choosing a side. A disagreement is one
topic and aspect (number, date or wording: ``vocab.DISAGREEMENT_ASPECTS``), a row of the
derived ``disagreements`` table with its kind (``vocab.DISAGREEMENT_KINDS``); its sides are
the values stated, and every citation of every record on a side is a row of
``disagreement_sides``: the value, who claims it, in which source.

Which tables are compared is ``models.COMPARED`` (record tables with a ``topic`` whose
citations name them); which aspects a table has follows from its fields (``_ASPECTS``).
Retracted records are left out, and so are citations of retracted sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import cache
from itertools import combinations
from typing import Any, NamedTuple

from kdata.records import models, vocab
from kdata.records.dates import parse_edtf

Row = dict[str, Any]

#: What a figure states of its number: two figures whose number differs in any of these disagree.
_NUMBER = ("unit", "qualifier", *models.NUMBERS)
#: Reports of one statement by one claimant appear within this many days of each other (a reprint
#: the next day: the two reports of a ministry's statement of 2 April 2020 are dated 2 and 3 April).
SAME_STATEMENT_DAYS = 1


class Aspect(NamedTuple):
    """One thing records can state differently: the fields it needs, the value compared, the value shown."""

    fields: tuple[str, ...]  # the record's table must have all of these
    key: Callable[[Row], Any]  # the value compared; None when the record states nothing
    shows: Callable[[Row], str]  # the value as the record states it
    overlap: bool = False  # values are dates: two disagree only when the days they cover do not overlap


def _date_aspect(column: str) -> Aspect:
    return Aspect((column,), lambda row: row[column], lambda row: row[column], overlap=True)


#: The key under which a claim's row carries its citations' quotes (joined by ``QUOTE_SEPARATOR``), to compare them.
QUOTES = "quotes"
QUOTE_SEPARATOR = " | "

#: Aspect -> how records state it, tried in order: a table has the first whose fields it has.
_ASPECTS: dict[str, tuple[Aspect, ...]] = {
    "number": (
        Aspect((*_NUMBER, "stated_as"), lambda row: tuple(row[k] for k in _NUMBER), lambda row: row["stated_as"]),
    ),
    "date": (_date_aspect("as_of"), _date_aspect("date")),
    "wording": (
        Aspect(("term",), lambda row: row["term"], lambda row: row["term"]),
        # a claim's words are its citations' quotes (the build joins them into the row): two renderings of one statement
        Aspect(("summary", "citations"), lambda row: row[QUOTES] or None, lambda row: row[QUOTES]),
    ),
}
assert list(_ASPECTS) == list(vocab.DISAGREEMENT_ASPECTS), "every aspect of the vocabulary is compared"


def quoted(aspect: str) -> bool:
    """Whether a side's value in ``aspect`` is the sources' own words (shown as a quotation), not a date."""
    return not any(way.overlap for way in _ASPECTS.get(aspect, ()))


@cache
def aspects(table: str) -> dict[str, Aspect]:
    """The aspects records of ``table`` are compared in, chosen by the fields its model has."""
    names = set(models.TABLES[table].model.model_fields)
    found = {}
    for name, ways in _ASPECTS.items():
        way = next((w for w in ways if names.issuperset(w.fields)), None)
        if way is not None:
            found[name] = way
    return found


def _differ(a: Any, b: Any, overlap: bool) -> bool:
    if not overlap:
        return bool(a != b)
    pa, pb = parse_edtf(a), parse_edtf(b)  # an open end ('..') reaches every day on its side
    a_start, a_end = pa.start or date.min, pa.end or date.max
    b_start, b_end = pb.start or date.min, pb.end or date.max
    return a_end < b_start or b_end < a_start


class _Evidence(NamedTuple):
    """One citation of a record on one side."""

    side: int
    record: str
    citation: Row
    published: tuple[date, str] | None  # the source's first day and precision, if it states a date


def find_disagreements(
    records: dict[str, list[Row]], citations: Iterable[Row], sources: Iterable[Row]
) -> tuple[list[Row], list[Row]]:
    """Rows of the ``disagreements`` and ``disagreement_sides`` tables.

    Args:
        records: Rows of the compared tables (column -> value), by table.
        citations: Rows of the citations table (id, the owner columns, claimant, source).
        sources: Rows of the sources table (id, published_start, published_precision, retracted_version).

    Returns:
        The disagreements, one per topic, table and aspect where two records differ (wording only
        where both state a term; dates only where the days they cover do not overlap); and their
        sides, one row per citation of each record that states a value in that aspect.
    """
    cited: dict[tuple[str, str], list[Row]] = {}
    for citation in citations:
        for table, column in models.COMPARED.items():
            if citation.get(column) is not None:
                cited.setdefault((table, citation[column]), []).append(citation)
    groups = []
    for table, rows in sorted(records.items()):
        by_topic: dict[str, list[Row]] = {}
        for record in rows:
            if record["topic"]:
                by_topic.setdefault(record["topic"], []).append(record)
        groups += [(table, topic, group) for topic, group in sorted(by_topic.items())]
    found: list[Row] = []
    sides: list[Row] = []
    for row, its_sides in each_disagreement(groups, lambda table, rid: cited.get((table, rid), []), sources):
        found.append(row)
        sides += its_sides
    return found, sides


#: The citations of a record of a compared table: (table, record id) -> citation rows, in citation order.
CitedBy = Callable[[str, str], list[Row]]


def each_disagreement(
    groups: Iterable[tuple[str, str, list[Row]]], cited: CitedBy, sources: Iterable[Row]
) -> Iterator[tuple[Row, list[Row]]]:
    """Each row of the ``disagreements`` table with its rows of ``disagreement_sides`` (see ``find_disagreements``).

    One topic at a time, so a million records never stand as Python objects at once.

    Args:
        groups: (table, topic, the table's rows on that topic), sorted by table and topic.
        cited: The citations of a record (id, the owner columns, claimant, source).
        sources: Rows of the sources table (id, published_start, published_precision, retracted_version).
    """
    live_sources = {
        s["id"]: (s["published_start"], s["published_precision"]) if s["published_start"] else None
        for s in sources
        if s.get(models.TOMBSTONE) is None
    }
    for table, topic, rows in groups:
        live = {r["id"]: [c for c in cited(table, r["id"]) if c["source"] in live_sources] for r in rows}
        group = sorted((r for r in rows if r.get(models.TOMBSTONE) is None and live[r["id"]]), key=lambda r: r["id"])
        if len(group) < 2:
            continue
        for name, aspect in aspects(table).items():
            stating = [r for r in group if aspect.key(r) is not None]
            if not any(_differ(aspect.key(a), aspect.key(b), aspect.overlap) for a, b in combinations(stating, 2)):
                continue
            numbers: dict[Any, int] = {}
            evidence = [
                _Evidence(numbers.setdefault(aspect.key(r), len(numbers) + 1), r["id"], c, live_sources[c["source"]])
                for r in stating
                for c in live[r["id"]]
            ]
            where = {"topic": topic, "table": table, "aspect": name}
            found = {
                **where,
                "kind": "translation" if _one_statement(evidence) else name,
                "sides": len(numbers),
                "records": len(stating),
                "claimants": len({e.citation["claimant"] for e in evidence}),
            }
            shown = {r["id"]: aspect.shows(r) for r in stating}
            yield (
                found,
                [
                    {
                        **where,
                        "side": e.side,
                        models.COMPARED[table]: e.record,
                        "value": shown[e.record],
                        "citation": e.citation["id"],
                        "claimant": e.citation["claimant"],
                        "source": e.citation["source"],
                    }
                    for e in evidence
                ],
            )


def _one_statement(evidence: list[_Evidence]) -> bool:
    """Whether the sides are reports of one statement: one claimant, each source on one side, published together.

    Sound rather than complete: a source without a day, one source on two sides, or reports further
    apart than ``SAME_STATEMENT_DAYS`` make it a disagreement of its aspect.
    """
    if len({e.citation["claimant"] for e in evidence}) != 1:
        return False
    side_of: dict[str, int] = {}
    for e in evidence:
        if side_of.setdefault(e.citation["source"], e.side) != e.side:
            return False
    days = [e.published[0] for e in evidence if e.published is not None and e.published[1] == "day"]
    if len(days) != len(evidence):
        return False
    return (max(days) - min(days)).days <= SAME_STATEMENT_DAYS


def kind_rank(kind: str) -> int:
    """Where a kind of disagreement comes in a listing (``vocab.DISAGREEMENT_KINDS`` order; unknown kinds last).

    That table is the one ranking: a number before a date before a wording, and a translation (where
    the reports differ, not the claims) last.
    """
    kinds = list(vocab.DISAGREEMENT_KINDS)
    return kinds.index(kind) if kind in kinds else len(kinds)


def by_topic(disagreements: Iterable[Row]) -> list[Row]:
    """Disagreements grouped by topic: a topic's together, topics ranked by their most substantive kind.

    Topics come in the order of the first kind (``kind_rank``) among their disagreements, then by name;
    within a topic its disagreements come in kind order, then by table and aspect. So a topic with
    a date conflict and a wording stands once, among the date conflicts, and translations come last.
    """
    found = list(disagreements)
    first: dict[str, int] = {}
    for d in found:
        first[d["topic"]] = min(first.get(d["topic"], kind_rank(d["kind"])), kind_rank(d["kind"]))
    return sorted(found, key=lambda d: (first[d["topic"]], d["topic"], kind_rank(d["kind"]), d["table"], d["aspect"]))


def grouped(
    disagreements: Iterable[Row],
    sides: Iterable[Row],
    citations: Iterable[Row],
    sources: Iterable[Row],
    actors: Iterable[Row],
) -> list[Row]:
    """Each disagreement with its sides and each side's claims, grouped by topic (``by_topic``).

    Args:
        disagreements: Rows of the ``disagreements`` table.
        sides: Rows of the ``disagreement_sides`` table.
        citations, sources, actors: Rows of those tables (for the quote, the outlet and date, the claimant's name).

    Returns:
        One dict per disagreement: its columns, and ``sides``: each with ``side``, ``value``, ``records``
        (``[table, id]`` pairs) and ``claims``: record, citation, claimant and its name, source, outlet
        (publisher, else the agency it cites), published (as the source states it), quote and locator.
    """
    quote = {c["id"]: c for c in citations}
    source = {s["id"]: s for s in sources}
    name = {a["id"]: a["name"] for a in actors}
    by_key: dict[tuple[str, str, str], dict[int, Row]] = {}
    for row in sorted(sides, key=lambda r: (r["side"], r["citation"])):
        side = by_key.setdefault((row["topic"], row["table"], row["aspect"]), {}).setdefault(
            int(row["side"]), {"side": int(row["side"]), "value": row["value"], "records": [], "claims": []}
        )
        record = row[models.COMPARED[row["table"]]] if row["table"] in models.COMPARED else None
        if [row["table"], record] not in side["records"]:
            side["records"].append([row["table"], record])
        s, c = source.get(row["source"], {}), quote.get(row["citation"], {})
        side["claims"].append(
            {
                "record": record,
                "citation": row["citation"],
                "claimant": row["claimant"],
                "claimant_name": name.get(row["claimant"]) or None,
                "source": row["source"],
                "outlet": s.get("publisher") or s.get("via") or None,
                "published": s.get("published") or None,
                "quote": c.get("quote") or None,
                "locator": c.get("locator") or None,
            }
        )
    out = [{**d, "sides": list(by_key.get((d["topic"], d["table"], d["aspect"]), {}).values())} for d in disagreements]
    return by_topic(out)
