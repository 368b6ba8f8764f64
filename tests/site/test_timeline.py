"""kdata.site.timeline: events laid out on a linear axis at the precision their sources give."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from kdata.records.dates import parse_edtf
from kdata.site.timeline import GAP, LANE, LEFT, MIN_BAR, POINT, RIGHT, TOP, layout


def event(id: str, date: str, status: str = "occurred") -> dict[str, Any]:
    """A row of the events table, its days and precision worked out as the build does."""
    parsed = parse_edtf(date)
    return {
        "id": id,
        "title": f"Event {id}",
        "date": date,
        "date_start": parsed.start,
        "date_end": parsed.end,
        "date_precision": parsed.precision,
        "status": status,
    }


def day_scale(first: int, last: int) -> int:
    """The drawing width that gives one unit per day from 1 January of ``first`` to 31 December of ``last``."""
    return (dt.date(last + 1, 1, 1) - dt.date(first, 1, 1)).days + LEFT + RIGHT


@pytest.mark.parametrize(
    ("date", "shape", "x", "width", "precision"),
    [
        ("1992-03-02", "point", LEFT + 31 + 29 + 1, 0, "day"),  # 2 March of a leap year is its 62nd day
        ("1992-02", "bar", LEFT + 31, 29, "month"),  # the whole of a leap February
        ("1993-02", "bar", LEFT + 366 + 31, 28, "month"),
        ("1992", "bar", LEFT, 366, "year"),
        ("1993-12-01/1993-12-10", "bar", LEFT + 366 + 334, 10, "day"),  # an interval covers both its ends
        ("1992-11/1993-01", "bar", LEFT + 305, 30 + 31 + 31, "month"),
    ],
)
def test_each_precision_is_drawn_over_the_days_it_covers(
    date: str, shape: str, x: float, width: float, precision: str
) -> None:
    timeline = layout([event("e", date), event("axis", "1992/1993")], width=day_scale(1992, 1993))
    mark = next(m for m in timeline.marks if m.id == "e")
    assert (mark.shape, mark.precision) == (shape, precision)
    assert mark.x == pytest.approx(x) and mark.width == pytest.approx(width)
    assert mark.tooltip == f"Event e ({date}, {precision} precision, occurred)"


def test_the_axis_runs_over_whole_years_and_labels_every_other_one() -> None:
    timeline = layout([event("a", "1993-04-02"), event("b", "1996-06")], width=day_scale(1993, 1996))
    assert (timeline.first_year, timeline.last_year) == (1993, 1996)
    assert [t.label for t in timeline.ticks] == ["", "1994", "", "1996", ""]  # one tick per 1 January, 1993-1997
    assert timeline.ticks[0].x == LEFT and timeline.ticks[-1].x == pytest.approx(timeline.width - RIGHT)


def test_overlapping_marks_take_new_lanes_and_later_marks_reuse_free_ones() -> None:
    events = [
        event("year", "2000"),
        event("spring", "2000-04"),  # inside the year: a second lane
        event("spring-day", "2000-04-15"),  # inside both: a third lane
        event("autumn", "2000-10"),  # the spring lane is free again by October
        event("next-year", "2001-06-01"),  # the year's lane is free in 2001
    ]
    timeline = layout(events, width=day_scale(2000, 2001))
    lane = {m.id: m.y for m in timeline.marks}
    assert len({lane["year"], lane["spring"], lane["spring-day"]}) == 3
    assert lane["autumn"] == lane["spring"] and lane["next-year"] == lane["year"]
    assert timeline.axis_y == TOP + 3 * LANE + 6  # three lanes above the axis
    assert lane["year"] > lane["spring"] > lane["spring-day"]  # the first lane is the one next to the axis


def test_no_two_marks_of_a_lane_overlap() -> None:
    dates = ["2000", "2000-01-01", "2000-01-02", "2000-01-03", "2000-01", "2000-02", "2000-01-01/2000-03-31"]
    dates += [f"2000-{m:02}-{d:02}" for m in range(1, 13) for d in (1, 9, 17)]
    timeline = layout([event(f"e{n}", d) for n, d in enumerate(dates)], width=400)
    spans: dict[float, list[tuple[float, float]]] = {}
    for mark in timeline.marks:
        left, right = (mark.x - POINT, mark.x + POINT) if mark.shape == "point" else (mark.x, mark.x + mark.width)
        spans.setdefault(mark.y, []).append((left, right))
    for lane in spans.values():
        lane.sort()
        for (_, end), (start, _) in itertools.pairwise(lane):
            assert end + GAP <= start + 0.01  # rounding to hundredths
    assert len(timeline.marks) == len(dates)


def test_a_short_bar_is_never_thinner_than_min_bar() -> None:
    timeline = layout([event("d", "2000-01-01/2000-01-02"), event("y", "2000/2010")], width=400)
    short = next(m for m in timeline.marks if m.id == "d")
    assert short.shape == "bar" and short.width == MIN_BAR


@pytest.mark.parametrize(
    ("date", "uncertain"),
    [("2000", False), ("2000~", True), ("2000-05?", True), ("2000/2001-03~", True), ("2021%", True)],
)
def test_approximate_and_uncertain_dates_are_marked(date: str, uncertain: bool) -> None:
    (mark,) = layout([event("e", date)]).marks
    assert mark.uncertain is uncertain


def test_no_events_draw_an_empty_axis() -> None:
    timeline = layout([])
    assert (timeline.marks, timeline.ticks, timeline.height) == ([], [], TOP + 30)
