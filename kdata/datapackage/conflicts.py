"""Find where sources disagree: records sharing a ``topic`` that state different things.

Curators give records about the same quantity or thing the same ``topic``; the
data then shows each disagreement as a row of the derived ``conflicts`` table,
instead of the curators choosing a side.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any

from kdata.records import models
from kdata.records.dates import parse_edtf

Row = dict[str, Any]
Differs = Callable[[Row, Row], bool]
Shows = Callable[[Row], Any]

#: What a figure states of its number: two figures whose number differs in any of these disagree.
_NUMBER = ("unit", "qualifier", *models.NUMBERS)


def _numbers_differ(a: Row, b: Row) -> bool:
    return any(a[key] != b[key] for key in _NUMBER)


def _terms_differ(a: Row, b: Row) -> bool:
    return a["term"] is not None and b["term"] is not None and a["term"] != b["term"]


#: The key under which a claim's row carries its citations' quotes (joined by ``QUOTE_SEPARATOR``), to compare them.
QUOTES = "quotes"
QUOTE_SEPARATOR = " | "


def _quotes_differ(a: Row, b: Row) -> bool:
    return bool(a[QUOTES]) and bool(b[QUOTES]) and a[QUOTES] != b[QUOTES]


def _dates_differ(column: str) -> Differs:
    """Dates disagree when the days they cover do not overlap ('1993' agrees with '1993-04-02')."""

    def differs(a: Row, b: Row) -> bool:
        if a[column] is None or b[column] is None:
            return False
        pa, pb = parse_edtf(a[column]), parse_edtf(b[column])
        return pa.end < pb.start or pb.end < pa.start

    return differs


def _shows(column: str) -> Shows:
    return lambda row: row[column]


#: Aspect -> (do two records differ in it, how a record states it), per table.
_ASPECTS: dict[str, dict[str, tuple[Differs, Shows]]] = {
    "figures": {
        "number": (_numbers_differ, _shows("stated_as")),
        "wording": (_terms_differ, _shows("term")),
        "date": (_dates_differ("as_of"), _shows("as_of")),
    },
    "events": {
        "wording": (_terms_differ, _shows("term")),
        "date": (_dates_differ("date"), _shows("date")),
    },
    "claims": {  # two renderings of one statement: the words each report quotes, and when it was made
        "wording": (_quotes_differ, _shows(QUOTES)),
        "date": (_dates_differ("date"), _shows("date")),
    },
}

#: The tables whose records are compared.
COMPARED = tuple(_ASPECTS)


def find_conflicts(records: dict[str, list[Row]]) -> list[Row]:
    """Rows of the ``conflicts`` table for the given records, sorted.

    Args:
        records: Rows of the compared tables (column -> value), by table.

    Returns:
        One row per pair of records on one topic and aspect where they differ.
        Wording is compared only where both records state a term; dates
        disagree only where the days they cover do not overlap.
    """
    rows = []
    for table, aspects in _ASPECTS.items():
        by_topic: dict[str, list[Any]] = {}
        for record in records.get(table, []):
            if record["topic"]:
                by_topic.setdefault(record["topic"], []).append(record)
        for topic, group in sorted(by_topic.items()):
            for a, b in combinations(sorted(group, key=lambda r: r["id"]), 2):
                for aspect, (differs, show) in aspects.items():
                    if differs(a, b):
                        rows.append(
                            {
                                "topic": topic,
                                "table": table,
                                "record_a": a["id"],
                                "record_b": b["id"],
                                "aspect": aspect,
                                "value_a": show(a),
                                "value_b": show(b),
                            }
                        )
    return sorted(rows, key=lambda r: (r["topic"], r["record_a"], r["record_b"], r["aspect"]))
