"""Find where sources disagree: records sharing a ``topic`` that state different things.

Curators give records about the same quantity or thing the same ``topic``; the
data then shows each disagreement as a row of the derived ``conflicts`` table,
instead of the curators choosing a side.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any

from . import models
from .dates import parse_edtf


def _number(record: models.Figure) -> tuple[Any, ...]:
    return (record.unit, record.qualifier, record.value, record.low, record.high)


def _numbers_differ(a: models.Figure, b: models.Figure) -> bool:
    return _number(a) != _number(b)


def _terms_differ(a: Any, b: Any) -> bool:
    return a.term is not None and b.term is not None and a.term != b.term


def _dates_differ(a: Any, b: Any) -> bool:
    """Dates disagree when the days they cover do not overlap ('1993' agrees with '1993-04-02')."""
    da, db = _date(a), _date(b)
    if da is None or db is None:
        return False
    pa, pb = parse_edtf(da), parse_edtf(db)
    return pa.end < pb.start or pb.end < pa.start


def _date(record: Any) -> str | None:
    return record.as_of if isinstance(record, models.Figure) else record.date


Differs = Callable[[Any, Any], bool]
Shows = Callable[[Any], str]

#: Aspect -> (do two records differ in it, how a record states it), per table.
_ASPECTS: dict[str, dict[str, tuple[Differs, Shows]]] = {
    "figures": {
        "number": (_numbers_differ, lambda r: r.stated_as),
        "wording": (_terms_differ, lambda r: r.term),
        "date": (_dates_differ, lambda r: r.as_of),
    },
    "events": {
        "wording": (_terms_differ, lambda r: r.term),
        "date": (_dates_differ, lambda r: r.date),
    },
}


def find_conflicts(records: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Rows of the ``conflicts`` table for the given records, sorted.

    Args:
        records: Valid records by table.

    Returns:
        One row per pair of records on one topic and aspect where they differ.
        Wording is compared only where both records state a term; dates
        disagree only where the days they cover do not overlap.
    """
    rows = []
    for table, aspects in _ASPECTS.items():
        by_topic: dict[str, list[Any]] = {}
        for record in records.get(table, []):
            if record.topic:
                by_topic.setdefault(record.topic, []).append(record)
        for topic, group in sorted(by_topic.items()):
            for a, b in combinations(sorted(group, key=lambda r: r.id), 2):
                for aspect, (differs, show) in aspects.items():
                    if differs(a, b):
                        rows.append(
                            {
                                "topic": topic,
                                "table": table,
                                "record_a": a.id,
                                "record_b": b.id,
                                "aspect": aspect,
                                "value_a": show(a),
                                "value_b": show(b),
                            }
                        )
    return sorted(rows, key=lambda r: (r["topic"], r["record_a"], r["record_b"], r["aspect"]))
