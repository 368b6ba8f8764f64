"""The front page's timeline: one labelled row per event on a shared time axis, laid out here.

Why no chart library: the site must work from ``file://`` with no network at all, so a chart
library would have to ship as a bundled JavaScript build (Vega-Lite with Vega is over a
megabyte; Chart.js and D3 likewise need a copy in the site). The layout needs only a linear
scale, so it is computed here and the template writes plain HTML: each event is a row whose
label (the date in words and the title, a link to the event's page) is always visible beside
its mark on the axis. Labels never overlap because each has a row of its own; marks are placed
in percent of the axis, so the drawing fits any screen width. The page works and prints without
JavaScript; ``site.js`` adds zoom to a period, grouping by kind or place, and arrow-key movement.

Dates keep their precision: a day is a point, a month or a year is a bar over the whole month
or year (drawn differently, so a year-precision event is not read as a year-long event of known
days), an interval is a bar over its range. An open end ('..') is drawn as a bar that runs out
of the axis, marked open; it never stretches the axis to a year the sources do not give.
Approximate or uncertain dates (EDTF ``~``, ``?`` and ``%``) are marked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Day numbers for the script are counted from this day (as JavaScript's ``Date.UTC`` / 86 400 000 does).
EPOCH = dt.date(1970, 1, 1)
#: Year steps for labelled ticks, smallest first; the first that leaves at most ``MAX_LABELS`` labels is used.
STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
MAX_LABELS = 12
#: Up to this many years, every year has a tick; beyond, only the labelled years have one.
MINOR_YEARS = 60
#: The spans of the zoom buttons, smallest first: the first that gives at most ``MAX_LABELS`` buttons is used.
PERIOD_SPANS = (10, 100, 1000, 10000)
#: The EDTF qualifiers and how a label says them.
_QUALIFIERS = {"%": "about {}?", "~": "about {}", "?": "{}?"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: How a group is named when its key is missing.
NO_PLACE = "No place given"
#: Between the ends of an interval.
DASH = " \u2013 "


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01, the unit the script computes with."""
    return (day - EPOCH).days


def _side(text: str) -> str:
    """One side of an EDTF date in words: '1993-04-02' -> '2 Apr 1993', '2026-03?' -> 'Mar 2026?'."""
    qualifier = text[-1] if text and text[-1] in _QUALIFIERS else ""
    bare = text.rstrip("%~?")
    parts = bare.split("-")
    if len(parts) == 3:
        words = f"{int(parts[2])} {_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    elif len(parts) == 2:
        words = f"{_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    else:
        words = bare
    return _QUALIFIERS[qualifier].format(words) if qualifier else words


def when(date: str) -> str:
    """An EDTF date or interval in words, at its own precision; an open or unknown end is said to be so.

    '1993' -> '1993'; '2020-11/2023-09' -> 'Nov 2020 - Sep 2023' (an en dash); '2025-08-21/..' -> 'from 21 Aug 2025, no end given'.
    """
    if "/" not in date:
        return _side(date)
    start, end = date.split("/", 1)
    if start in ("", ".."):
        return f"until {_side(end)}, no start given"
    if end in ("", ".."):
        return f"from {_side(start)}, no end given"
    return f"{_side(start)}{DASH}{_side(end)}"


@dataclass(frozen=True)
class Mark:
    """One event as drawn: its row's label and its mark, placed in percent of the axis."""

    id: str
    title: str
    date: str
    when: str
    precision: str
    status: str
    kind: str
    place: str  # the place's id, '' when the event names none
    place_name: str
    shape: str  # "point" (one day) or "bar"
    left: float  # percent of the axis
    width: float  # percent of the axis; 0 for a point
    first: int  # first day covered (``day_number``); for an open start, the axis' first day
    last: int  # day after the last day covered; for an open end, the day after the axis' last day
    open_start: bool
    open_end: bool
    uncertain: bool

    @property
    def tooltip(self) -> str:
        """The mark's title text: what happened, and when, as stated."""
        return f"{self.title} ({self.date}, {self.precision} precision, {self.status})"


@dataclass(frozen=True)
class Tick:
    """The first day of a year on the axis; labelled ones carry their year."""

    left: float
    year: int
    label: str


@dataclass(frozen=True)
class Period:
    """A button of the zoom: a span of whole years."""

    label: str
    first: int
    last: int


@dataclass(frozen=True)
class Timeline:
    """The rows, the axis (whole years from the first event's to the last's), its ticks and the zoom periods."""

    marks: list[Mark]
    ticks: list[Tick]
    first_year: int
    last_year: int
    periods: list[Period]
    groupings: dict[str, list[tuple[str, str]]]  # kind / place -> (key, label) of each group, by first event

    @property
    def first_day(self) -> int:
        return day_number(dt.date(self.first_year, 1, 1))

    @property
    def end_day(self) -> int:
        """The day after the axis' last day."""
        return day_number(dt.date(self.last_year + 1, 1, 1))


def ticks(first_year: int, last_year: int) -> list[Tick]:
    """A tick on 1 January of each year of the axis, labelled every few years (at most ``MAX_LABELS`` labels).

    The script draws the same ticks for a zoomed period with the same rule.
    """
    years = last_year - first_year + 1
    step = next((s for s in STEPS if -(-years // s) <= MAX_LABELS), STEPS[-1])
    origin, end = dt.date(first_year, 1, 1), dt.date(last_year + 1, 1, 1)
    days = (end - origin).days
    return [
        Tick(
            round((dt.date(year, 1, 1) - origin).days / days * 100, 3),
            year,
            str(year) if (year - first_year) % step == 0 else "",
        )
        for year in range(first_year, last_year + 1)
        if years <= MINOR_YEARS or (year - first_year) % step == 0
    ]


def periods(first_year: int, last_year: int) -> list[Period]:
    """The zoom buttons: the whole axis, then each decade that holds part of it, clipped to the axis.

    A long axis gets centuries (or millennia) instead, so that there are never more than ``MAX_LABELS`` buttons.
    """
    span = next(s for s in PERIOD_SPANS if last_year // s - first_year // s < MAX_LABELS)
    found = [Period("All", first_year, last_year)]
    for start in range(first_year - first_year % span, last_year + 1, span):
        first, last = max(start, first_year), min(start + span - 1, last_year)
        label = f"{start}s" if span == 10 else f"{first}{DASH.strip()}{last}"
        found.append(Period(label, first, last))
    return found


def layout(
    events: Sequence[Mapping[str, Any]],
    place_names: Mapping[str, str] | None = None,
    kind_names: Mapping[str, str] | None = None,
) -> Timeline:
    """Place events on a linear axis of whole years, one row each, ordered by date.

    Args:
        events: Rows of the ``events`` table (``id``, ``title``, ``kind``, ``place``, ``date``, ``date_start``,
            ``date_end``, ``date_precision``, ``status``), dates as ``datetime.date``; an open end is None.
        place_names: Place id -> the name shown for a group of the place.
        kind_names: Kind -> the name shown for a group of the kind (default: the kind with spaces).

    Returns:
        The rows and ticks; the axis runs from 1 January of the first year a source gives to 31 December
        of the last (an open end adds no year).
    """
    place_names = place_names or {}
    if not events:
        return Timeline([], [], 0, 0, [], {"kind": [], "place": []})
    known = {e["id"]: (e["date_start"] or e["date_end"], e["date_end"] or e["date_start"]) for e in events}
    first_year = min(start for start, _ in known.values()).year
    last_year = max(end for _, end in known.values()).year
    origin, end = dt.date(first_year, 1, 1), dt.date(last_year + 1, 1, 1)
    days = (end - origin).days

    def percent(day: dt.date) -> float:
        return round((day - origin).days / days * 100, 3)

    ordered = sorted(events, key=lambda e: (known[e["id"]][0], known[e["id"]][1], e["id"]))
    marks = []
    for event in ordered:
        open_start, open_end = event["date_start"] is None, event["date_end"] is None
        start = origin if open_start else event["date_start"]
        stop = end if open_end else event["date_end"] + dt.timedelta(days=1)
        point = not open_start and not open_end and event["date_start"] == event["date_end"]
        place = event.get("place") or ""
        marks.append(
            Mark(
                id=event["id"],
                title=event["title"],
                date=event["date"],
                when=when(event["date"]),
                precision=event["date_precision"],
                status=event["status"],
                kind=event.get("kind") or "",
                place=place,
                place_name=place_names.get(place, place) if place else NO_PLACE,
                shape="point" if point else "bar",
                left=percent(start),
                width=0.0 if point else round(percent(stop) - percent(start), 3),
                first=day_number(start),
                last=day_number(stop),
                open_start=open_start,
                open_end=open_end,
                uncertain=any(q in event["date"] for q in "~?%"),
            )
        )
    kinds = dict.fromkeys(m.kind for m in marks)
    places = dict.fromkeys(m.place for m in marks)
    groupings = {
        "kind": [(k, (kind_names or {}).get(k) or k.replace("_", " ")) for k in kinds],
        "place": [(p, place_names.get(p, p) if p else NO_PLACE) for p in places],
    }
    return Timeline(
        marks, ticks(first_year, last_year), first_year, last_year, periods(first_year, last_year), groupings
    )
