"""kdata.datapackage.conflicts: records on one topic that disagree become rows of the conflicts table."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from conftest import GOOD

import kdata
from kdata.datapackage.build import build
from kdata.datapackage.conflicts import COMPARED, find_conflicts


def figure(id: str, topic: str | None = "returnees", **fields: Any) -> dict[str, Any]:
    """A figures row: about 1,200 people as of March 2020, with ``fields`` replaced."""
    row: dict[str, Any] = {
        "id": id,
        "topic": topic,
        "unit": "people",
        "qualifier": "approximately",
        "value": 1200,
        "low": None,
        "high": None,
        "stated_as": "about 1,200",
        "term": None,
        "as_of": "2020-03",
    }
    return {**row, **fields}


def event(id: str, date: str, term: str | None = None, topic: str | None = "bridge-opening") -> dict[str, Any]:
    return {"id": id, "topic": topic, "date": date, "term": term}


def aspects(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(r["topic"], r["record_a"], r["record_b"], r["aspect"]) for r in rows]


def test_figures_on_one_topic_that_state_other_numbers_conflict() -> None:
    rows = find_conflicts(
        {
            "figures": [
                figure("b-other", qualifier="at_most", value=None, high=1500, stated_as="up to 1,500"),
                figure("a"),
            ]
        }
    )
    assert rows == [
        {
            "topic": "returnees",
            "table": "figures",
            "record_a": "a",  # the pair is sorted by id
            "record_b": "b-other",
            "aspect": "number",
            "value_a": "about 1,200",  # each record as its source states it
            "value_b": "up to 1,500",
        }
    ]


def test_the_same_number_in_other_words_is_no_number_conflict() -> None:
    """Only unit, qualifier, value, low and high count: 'about 1,200' and 'approximately 1200' agree."""
    assert find_conflicts({"figures": [figure("a"), figure("b", stated_as="approximately 1200")]}) == []
    for change in ({"unit": "items"}, {"qualifier": "exact"}, {"value": 1201}, {"low": 1000}, {"high": 1300}):
        found = find_conflicts({"figures": [figure("a"), figure("b", **change)]})
        assert aspects(found) == [("returnees", "a", "b", "number")], change


def test_wording_conflicts_only_where_both_records_state_a_term() -> None:
    both = find_conflicts({"figures": [figure("a", term="returnees"), figure("b", term="residents returned")]})
    assert aspects(both) == [("returnees", "a", "b", "wording")]
    assert (both[0]["value_a"], both[0]["value_b"]) == ("returnees", "residents returned")
    assert find_conflicts({"figures": [figure("a", term="returnees"), figure("b")]}) == []
    assert find_conflicts({"figures": [figure("a", term="returnees"), figure("b", term="returnees")]}) == []


def test_dates_conflict_only_when_the_days_they_cover_do_not_overlap() -> None:
    """'1993' agrees with '1993-04-02' (the day lies in the year); '1993-03' and '1993-04' disagree."""
    agree = [("1993", "1993-04-02"), ("1993-04", "1993-04-30"), ("1993-03/1993-05", "1993-04~"), ("1993", "1993")]
    for a, b in agree:
        assert find_conflicts({"events": [event("a", a), event("b", b)]}) == [], (a, b)
    for a, b in [("1993-03", "1993-04"), ("1993-04-01", "1993-04-02"), ("1992", "1993-01-01")]:
        found = find_conflicts({"events": [event("a", a), event("b", b)]})
        assert [(r["aspect"], r["value_a"], r["value_b"]) for r in found] == [("date", a, b)]
    undated = find_conflicts({"figures": [figure("a", as_of=None), figure("b", as_of="1990")]})
    assert undated == []  # a figure without as_of disagrees with no date


def test_only_records_sharing_a_topic_are_compared() -> None:
    records = {
        "events": [
            event("a", "1993", topic=None),
            event("b", "2020", topic=None),  # no topic: never compared, however different
            event("c", "1993", topic="one"),
            event("d", "2020", topic="other"),
        ]
    }
    assert find_conflicts(records) == []


def test_every_pair_is_reported_once_and_the_rows_are_sorted() -> None:
    records = {
        "events": [event("z", "1993", "x"), event("y", "1994", "y"), event("x", "1995", "z")],
        "figures": [figure("m", topic="alpha", value=1), figure("k", topic="alpha", value=2)],
    }
    found = aspects(find_conflicts(records))
    assert found == [
        ("alpha", "k", "m", "number"),
        ("bridge-opening", "x", "y", "date"),
        ("bridge-opening", "x", "y", "wording"),
        ("bridge-opening", "x", "z", "date"),
        ("bridge-opening", "x", "z", "wording"),
        ("bridge-opening", "y", "z", "date"),
        ("bridge-opening", "y", "z", "wording"),
    ]
    assert COMPARED == ("figures", "events", "claims")
    assert find_conflicts({}) == []


def test_claims_rendering_one_statement_in_other_words_conflict_in_a_real_build(tmp_path: Path) -> None:
    """Two claims on one topic whose citations quote other words, made on days that do not overlap: a wording and a
    date conflict, each side shown as its sources state it (the quotes, in citation order; the date)."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    first = tmp_path / "raw" / "claims" / "town-council-says-residents-returned.yaml"
    second = first.with_name("town-council-says-residents-returned-short.yaml")
    second.write_text(
        first.read_text("utf-8")
        .replace("id: town-council-says-residents-returned", "id: town-council-says-residents-returned-short")
        .replace("date: 2020-03-02/2020-05-01", "date: 2020-05-02")
        .replace(
            "quote: The council said that about 1,200 residents returned to Riverton on 2 March 2020.",
            "quote: about 1,200 residents returned to Riverton",
        ),
        "utf-8",
    )
    build(tmp_path / "raw", tmp_path / "dist")
    conflicts = kdata.load("conflicts", package=tmp_path / "dist")
    claims = conflicts[conflicts["table"] == "claims"].sort_values("aspect")
    assert claims[["topic", "record_a", "record_b", "aspect", "value_a", "value_b"]].values.tolist() == [
        [
            "riverton-returnees",
            "town-council-says-residents-returned",
            "town-council-says-residents-returned-short",
            "date",
            "2020-03-02/2020-05-01",
            "2020-05-02",
        ],
        [
            "riverton-returnees",
            "town-council-says-residents-returned",
            "town-council-says-residents-returned-short",
            "wording",
            "The council said that about 1,200 residents returned to Riverton on 2 March 2020.",
            "about 1,200 residents returned to Riverton",
        ],
    ]
