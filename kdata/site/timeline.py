"""The front page's timeline: every event placed on a linear time axis, ready to draw as SVG.

Why no chart library: the site must work from ``file://`` with no network at all,
so a chart library would have to ship as a bundled JavaScript build (Vega-Lite
with Vega is over a megabyte; Chart.js and D3 likewise need a copy in the site)
and then draw in the browser. The layout needs only a linear scale and lane
packing, which take a few lines here; the template turns the result into plain
SVG whose marks are ordinary links, so the timeline works without JavaScript,
prints, and is checked by the same tests as the rest of the HTML.

Dates are drawn at the precision the sources give: a single day is a point, a
month or a year is a bar over the whole month or year, and an interval is a bar
over its range. Approximate or uncertain dates (EDTF ``~``, ``?`` and ``%``, both) are marked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Geometry of the drawing, in SVG user units.
WIDTH = 1200
LEFT = 16
RIGHT = 16
TOP = 8
LANE = 13
AXIS = 30
#: A bar is never drawn narrower than this (a month spans about 2.5 units); the legend says so.
MIN_BAR = 3.0
#: Half the width a point occupies, and the gap kept between marks in one lane.
POINT = 4.5
GAP = 2.0


@dataclass(frozen=True)
class Mark:
    """One event as drawn: a point (one day) or a bar (a month, a year or an interval)."""

    id: str
    title: str
    date: str
    precision: str
    status: str
    shape: str  # "point" or "bar"
    x: float
    y: float
    width: float
    uncertain: bool

    @property
    def tooltip(self) -> str:
        """The text of the mark's SVG ``<title>``: what happened, and when, as stated."""
        return f"{self.title} ({self.date}, {self.precision} precision, {self.status})"


@dataclass(frozen=True)
class Tick:
    """A year on the axis; labelled ones carry their year."""

    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    """Marks, axis ticks and the size of the drawing."""

    width: int
    height: int
    axis_y: float
    marks: list[Mark]
    ticks: list[Tick]
    first_year: int
    last_year: int


def _lane(lanes: list[float], start: float, end: float) -> int:
    """Index of the first lane free at ``start`` (a new lane if none is); marks it taken up to ``end``."""
    for index, taken in enumerate(lanes):
        if taken + GAP <= start:
            lanes[index] = end
            return index
    lanes.append(end)
    return len(lanes) - 1


def layout(events: Sequence[Mapping[str, Any]], width: int = WIDTH) -> Timeline:
    """Place events on a linear axis in stacked lanes, so that no two marks overlap.

    Args:
        events: Rows of the ``events`` table (``id``, ``title``, ``date``, ``date_start``,
            ``date_end``, ``date_precision``, ``status``), dates as ``datetime.date``.
        width: Width of the drawing in SVG units.

    Returns:
        The marks and ticks; the axis runs over whole years from the first event to the last.
    """
    if not events:
        return Timeline(width, TOP + AXIS, TOP, [], [], 0, 0)
    # An open end ('..') is drawn as a point at the day the sources give: the axis never runs to a year they do not.
    known = {e["id"]: (e["date_start"] or e["date_end"], e["date_end"] or e["date_start"]) for e in events}
    first = min(start for start, _ in known.values()).year
    last = max(end for _, end in known.values()).year
    origin = dt.date(first, 1, 1)
    days = (dt.date(last + 1, 1, 1) - origin).days
    scale = (width - LEFT - RIGHT) / days

    def x(day: dt.date) -> float:
        return LEFT + (day - origin).days * scale

    ordered = sorted(events, key=lambda e: (known[e["id"]][0], -(known[e["id"]][1] - known[e["id"]][0]).days, e["id"]))
    lanes: list[float] = []
    placed = []
    for event in ordered:
        start, end = known[event["id"]]
        point = start == end
        if point:
            left, right = x(start) - POINT, x(start) + POINT
        else:
            left = x(start)
            right = max(x(end + dt.timedelta(days=1)), left + MIN_BAR)
        lane = _lane(lanes, left, right)
        placed.append((event, point, left, right, lane))
    axis_y = TOP + len(lanes) * LANE + 6
    marks = [
        Mark(
            id=event["id"],
            title=event["title"],
            date=event["date"],
            precision=event["date_precision"],
            status=event["status"],
            shape="point" if point else "bar",
            x=round(left + POINT if point else left, 2),
            y=round(axis_y - 6 - (lane + 1) * LANE + LANE / 2, 2),
            width=round(0 if point else right - left, 2),
            uncertain=any(mark in event["date"] for mark in "~?%"),
        )
        for event, point, left, right, lane in placed
    ]
    ticks = [
        Tick(round(x(dt.date(year, 1, 1)), 2), str(year) if year % 2 == 0 else "") for year in range(first, last + 2)
    ]
    return Timeline(width, int(axis_y + AXIS), axis_y, marks, ticks, first, last)
