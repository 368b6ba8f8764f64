"""kdata.site.timeline: one labelled row per event on an axis of whole years, at the precision the sources give."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from kdata.records.dates import parse_edtf
from kdata.site.timeline import (
    EPOCH,
    MAX_LABELS,
    MINOR_YEARS,
    NO_PLACE,
    STEPS,
    day_number,
    layout,
    periods,
    ticks,
    when,
)


def event(
    id: str, date: str, status: str = "occurred", kind: str = "visit", place: str | None = None
) -> dict[str, Any]:
    """A row of the events table, its days and precision worked out as the build does."""
    parsed = parse_edtf(date)
    return {
        "id": id,
        "title": f"Event {id}",
        "kind": kind,
        "place": place,
        "date": date,
        "date_start": parsed.start,
        "date_end": parsed.end,
        "date_precision": parsed.precision,
        "status": status,
    }


def percent(day: dt.date, first: int, last: int) -> float:
    """Where a day stands on an axis from 1 January of ``first`` to 31 December of ``last``, in percent."""
    origin = dt.date(first, 1, 1)
    return (day - origin).days / (dt.date(last + 1, 1, 1) - origin).days * 100


@pytest.mark.parametrize(
    ("date", "shape", "start", "stop", "precision"),
    [
        ("1992-03-02", "point", dt.date(1992, 3, 2), None, "day"),
        ("1992-02", "bar", dt.date(1992, 2, 1), dt.date(1992, 3, 1), "month"),  # the whole of a leap February
        ("1993-02", "bar", dt.date(1993, 2, 1), dt.date(1993, 3, 1), "month"),
        ("1992", "bar", dt.date(1992, 1, 1), dt.date(1993, 1, 1), "year"),  # a year-precision event: the whole year
        ("1993-12-01/1993-12-10", "bar", dt.date(1993, 12, 1), dt.date(1993, 12, 11), "day"),  # both ends included
        ("1992-11/1993-01", "bar", dt.date(1992, 11, 1), dt.date(1993, 2, 1), "month"),
    ],
)
def test_each_precision_is_drawn_over_the_days_it_covers(
    date: str, shape: str, start: dt.date, stop: dt.date | None, precision: str
) -> None:
    timeline = layout([event("e", date), event("axis", "1992/1993")])
    mark = next(m for m in timeline.marks if m.id == "e")
    assert (mark.shape, mark.precision) == (shape, precision)
    assert mark.left == pytest.approx(percent(start, 1992, 1993), abs=0.001)
    width = 0 if stop is None else percent(stop, 1992, 1993) - percent(start, 1992, 1993)
    assert mark.width == pytest.approx(width, abs=0.002)
    assert (mark.first, mark.last) == (day_number(start), day_number(stop or start + dt.timedelta(days=1)))
    assert mark.tooltip == f"Event e ({date}, {precision} precision, occurred)"
    assert not mark.open_start and not mark.open_end


@pytest.mark.parametrize(
    ("dates", "first", "last"),
    [
        (["1993-04-02", "1996-06"], 1993, 1996),
        (["2020-11-25", "2025-08-21/.."], 2020, 2025),  # an open end adds no year to the axis
        (["../2001-05", "2003"], 2001, 2003),  # nor does an open start
        (["2026?", "1992~/1993"], 1992, 2026),
        (["2020-09-27/2020-11"], 2020, 2020),
    ],
)
def test_the_axis_runs_from_the_first_year_the_sources_give_to_the_last(
    dates: list[str], first: int, last: int
) -> None:
    timeline = layout([event(f"e{n}", d) for n, d in enumerate(dates)])
    assert (timeline.first_year, timeline.last_year) == (first, last)
    assert timeline.first_day == day_number(dt.date(first, 1, 1))
    assert timeline.end_day == day_number(dt.date(last + 1, 1, 1))
    for mark in timeline.marks:  # every mark lies on the axis
        assert 0 <= mark.left and mark.left + mark.width <= 100.0005
        assert timeline.first_day <= mark.first < mark.last <= timeline.end_day or mark.shape == "point"


def test_open_ends_run_out_of_the_axis_and_say_so() -> None:
    timeline = layout([event("open", "2021-03-01/.."), event("start", "../2021-06"), event("y", "2020/2022")])
    marks = {m.id: m for m in timeline.marks}
    assert marks["open"].open_end and not marks["open"].open_start and marks["open"].shape == "bar"
    assert marks["open"].left + marks["open"].width == pytest.approx(100, abs=0.002)
    assert marks["open"].last == timeline.end_day
    assert marks["start"].open_start and marks["start"].left == 0 and marks["start"].first == timeline.first_day
    assert marks["open"].when == "from 1 Mar 2021, no end given"
    assert marks["start"].when == "until Jun 2021, no start given"


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("1993-04-02", "2 Apr 1993"),
        ("1993-04", "Apr 1993"),
        ("1993", "1993"),
        ("2020-11/2023-09", "Nov 2020 \u2013 Sep 2023"),
        ("1992~/1993", "about 1992 \u2013 1993"),
        ("2026-03?/2026-04?", "Mar 2026? \u2013 Apr 2026?"),
        ("2021%", "about 2021?"),
        ("2025-08-21?/..", "from 21 Aug 2025?, no end given"),
        ("../1999-12-31", "until 31 Dec 1999, no start given"),
    ],
)
def test_a_label_gives_the_date_at_its_own_precision(date: str, words: str) -> None:
    assert when(date) == words


@pytest.mark.parametrize("years", [1, 2, 3, 9, 12, 13, 24, 35, 60, 61, 121, 250, 600, 9998])
def test_ticks_mark_every_year_and_label_at_most_max_labels(years: int) -> None:
    first = 1990 if years < 9998 else 1
    found = ticks(first, first + years - 1)
    labelled = [t for t in found if t.label]
    if years <= MINOR_YEARS:
        assert [t.year for t in found] == list(range(first, first + years))
    else:  # a long axis: a tick for each labelled year only
        assert found == labelled
    assert labelled[0].year == first and 1 <= len(labelled) <= MAX_LABELS
    steps = {b.year - a.year for a, b in itertools.pairwise(labelled)}
    assert len(steps) <= 1 and steps <= set(STEPS)  # evenly spaced, by one of the steps
    assert found[0].left == 0 and all(a.left < b.left < 100 for a, b in itertools.pairwise(found))


def test_periods_are_the_whole_axis_then_each_decade_clipped_to_it() -> None:
    found = [(p.label, p.first, p.last) for p in periods(1992, 2026)]
    assert found == [
        ("All", 1992, 2026),
        ("1990s", 1992, 1999),
        ("2000s", 2000, 2009),
        ("2010s", 2010, 2019),
        ("2020s", 2020, 2026),
    ]
    assert [(p.label, p.first, p.last) for p in periods(2020, 2020)] == [("All", 2020, 2020), ("2020s", 2020, 2020)]
    centuries = [(p.label, p.first, p.last) for p in periods(1850, 2025)]
    assert centuries == [
        ("All", 1850, 2025),
        ("1850\u20131899", 1850, 1899),
        ("1900\u20131999", 1900, 1999),
        ("2000\u20132025", 2000, 2025),
    ]


@pytest.mark.parametrize(("first", "last"), [(1, 9998), (1, 1), (1990, 2101), (1000, 1121), (2020, 2020)])
def test_there_are_never_more_period_buttons_than_labels(first: int, last: int) -> None:
    found = periods(first, last)
    assert 2 <= len(found) <= MAX_LABELS + 1
    assert (found[0].first, found[0].last) == (first, last)
    spans = [(p.first, p.last) for p in found[1:]]  # the rest tile the axis in order
    assert spans[0][0] == first and spans[-1][1] == last
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))


def test_each_event_has_a_row_of_its_own_in_date_order() -> None:
    """Labels never overlap: every event gets its own row, ordered by first day, then last day, then id."""
    dates = ["2000", "2000-01-01", "2000-01-02", "2000-01", "2000-02", "2000-01-01/2000-03-31", "2001/..", "2000-01"]
    events = [event(f"e{n}", d) for n, d in enumerate(dates)]
    timeline = layout(events)
    assert sorted(m.id for m in timeline.marks) == sorted(e["id"] for e in events)
    keys = [(m.first, m.last, m.id) for m in timeline.marks]
    assert keys == sorted(keys)


def test_groups_are_named_and_ordered_by_their_first_event() -> None:
    events = [
        event("late", "2010", kind="change_of_control", place="town"),
        event("early", "2001", kind="visit"),
        event("middle", "2005", kind="visit", place="town"),
    ]
    timeline = layout(events, {"town": "Town of Riverton"}, {"visit": "Visit"})
    assert timeline.groupings["kind"] == [("visit", "Visit"), ("change_of_control", "change of control")]
    assert timeline.groupings["place"] == [("", NO_PLACE), ("town", "Town of Riverton")]
    assert {m.id: m.place_name for m in timeline.marks} == {
        "early": NO_PLACE,
        "middle": "Town of Riverton",
        "late": "Town of Riverton",
    }


@pytest.mark.parametrize(
    ("date", "uncertain"),
    [("2000", False), ("2000~", True), ("2000-05?", True), ("2000/2001-03~", True), ("2021%", True)],
)
def test_approximate_and_uncertain_dates_are_marked(date: str, uncertain: bool) -> None:
    (mark,) = layout([event("e", date)]).marks
    assert mark.uncertain is uncertain


def test_day_numbers_count_from_1970_as_the_script_does() -> None:
    assert day_number(EPOCH) == 0 and day_number(dt.date(2000, 1, 1)) == 10957  # Date.UTC(2000, 0, 1) / 86400000


def test_no_events_draw_an_empty_axis() -> None:
    timeline = layout([])
    assert (timeline.marks, timeline.ticks, timeline.periods) == ([], [], [])
