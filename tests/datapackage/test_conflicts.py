"""kdata.datapackage.conflicts: records on one topic that disagree, grouped by topic and aspect, with their sides.

The first tests give ``find_disagreements`` rows as the build does; the last ones build tmp copies of
the repository's raw/ (real records: the two reports of one ministry statement, the dates of the
2020 war's end, a three-sided topic) and read the tables the build wrote.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import GOOD, REPO

import kdata
from kdata.datapackage.build import build
from kdata.datapackage.conflicts import SAME_STATEMENT_DAYS, aspects, by_topic, find_disagreements, grouped
from kdata.records import models, vocab

Row = dict[str, Any]


def figure(id: str, topic: str | None = "returnees", **fields: Any) -> Row:
    """A figures row: about 1,200 people as of March 2020, with ``fields`` replaced."""
    row: Row = {
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
        models.TOMBSTONE: None,
    }
    return {**row, **fields}


def event(id: str, date: str, term: str | None = None, topic: str | None = "bridge-opening", **fields: Any) -> Row:
    return {"id": id, "topic": topic, "date": date, "term": term, models.TOMBSTONE: None, **fields}


def source(id: str, published: str | None = "2020-05-01", retracted: str | None = None) -> Row:
    start = dt.date.fromisoformat(published) if published and len(published) == 10 else None
    precision = {4: "year", 7: "month", 10: "day"}.get(len(published or ""))
    return {"id": id, "published_start": start, "published_precision": precision, models.TOMBSTONE: retracted}


class World:
    """Records with one citation each (claimant and source chosen per record), and the sources they cite."""

    def __init__(self, **sources: str | None) -> None:
        self.records: dict[str, list[Row]] = {}
        self.citations: list[Row] = []
        self.sources = [source(name, published) for name, published in (sources or {"wire": "2020-05-01"}).items()]

    def add(self, table: str, row: Row, claimant: str = "council", source: str = "wire") -> World:
        self.records.setdefault(table, []).append(row)
        column = models.COMPARED[table]
        n = sum(c.get(column) == row["id"] for c in self.citations) + 1
        self.citations.append(
            {"id": f"{column}:{row['id']}:{n}", column: row["id"], "claimant": claimant, "source": source}
        )
        return self

    def find(self) -> tuple[list[Row], list[Row]]:
        return find_disagreements(self.records, self.citations, self.sources)


def kinds(found: list[Row]) -> list[tuple[str, str, str]]:
    return [(d["topic"], d["aspect"], d["kind"]) for d in found]


def test_figures_on_one_topic_that_state_other_numbers_disagree() -> None:
    world = World().add(
        "figures", figure("b-other", qualifier="at_most", value=None, high=1500, stated_as="up to 1,500")
    )
    world.add("figures", figure("a"), claimant="wire-agency")
    found, sides = world.find()
    assert found == [
        {
            "topic": "returnees",
            "table": "figures",
            "aspect": "number",
            "kind": "number",
            "sides": 2,
            "records": 2,
            "claimants": 2,
        }
    ]
    assert [(s["side"], s["figure"], s["value"], s["claimant"], s["citation"]) for s in sides] == [
        (1, "a", "about 1,200", "wire-agency", "figure:a:1"),  # records in id order; each value as its source states it
        (2, "b-other", "up to 1,500", "council", "figure:b-other:1"),
    ]


def test_the_same_number_in_other_words_is_no_number_disagreement() -> None:
    """Only unit, qualifier, value, low and high count: 'about 1,200' and 'approximately 1200' agree."""
    assert World().add("figures", figure("a")).add("figures", figure("b", stated_as="approximately 1200")).find() == (
        [],
        [],
    )
    for change in ({"unit": "items"}, {"qualifier": "exact"}, {"value": 1201}, {"low": 1000}, {"high": 1300}):
        found, _ = World().add("figures", figure("a")).add("figures", figure("b", **change), "other").find()
        assert kinds(found) == [("returnees", "number", "number")], change


def test_wording_disagrees_only_where_records_state_a_term() -> None:
    found, sides = (
        World()
        .add("figures", figure("a", term="returnees"))
        .add("figures", figure("b", term="residents returned"), "other")
        .find()
    )
    assert kinds(found) == [("returnees", "wording", "wording")]
    assert [s["value"] for s in sides] == ["returnees", "residents returned"]
    for other in (None, "returnees"):
        assert (
            World().add("figures", figure("a", term="returnees")).add("figures", figure("b", term=other)).find()[0]
            == []
        )


def test_dates_disagree_only_when_the_days_they_cover_do_not_overlap() -> None:
    """'1993' agrees with '1993-04-02' (the day lies in the year); '1993-03' and '1993-04' disagree."""
    agree = [("1993", "1993-04-02"), ("1993-04", "1993-04-30"), ("1993-03/1993-05", "1993-04~"), ("1993", "1993")]
    for a, b in agree:
        assert World().add("events", event("a", a)).add("events", event("b", b), "other").find() == ([], []), (a, b)
    for a, b in [("1993-03", "1993-04"), ("1993-04-01", "1993-04-02"), ("1992", "1993-01-01")]:
        found, sides = World().add("events", event("a", a)).add("events", event("b", b), "other").find()
        assert kinds(found) == [("bridge-opening", "date", "date")]
        assert [s["value"] for s in sides] == [a, b]
    undated = World().add("figures", figure("a", as_of=None)).add("figures", figure("b", as_of="1990")).find()
    assert undated == ([], [])  # a figure without as_of disagrees with no date


def test_only_records_sharing_a_topic_are_compared() -> None:
    world = World()
    for row in (event("a", "1993", topic=None), event("b", "2020", topic=None), event("c", "1993", topic="one")):
        world.add("events", row)
    world.add("events", event("d", "2020", topic="other"), "other")
    assert world.find() == ([], [])


def test_three_records_make_one_disagreement_with_three_sides() -> None:
    """Not three pairs: one row per topic and aspect; records stating the same value share a side."""
    world = World()
    world.add("events", event("x", "1993-01", "treaty")).add("events", event("y", "1994", "pact"), "other")
    world.add("events", event("z", "1995", "accord"), "third").add("events", event("w", "1994-06", "pact"), "fourth")
    found, sides = world.find()
    assert kinds(found) == [("bridge-opening", "date", "date"), ("bridge-opening", "wording", "wording")]
    assert [(d["sides"], d["records"], d["claimants"]) for d in found] == [(4, 4, 4), (3, 4, 4)]
    wording = [(s["side"], s["event"], s["value"]) for s in sides if s["aspect"] == "wording"]
    assert wording == [(1, "w", "pact"), (2, "x", "treaty"), (1, "y", "pact"), (3, "z", "accord")]
    dates = {s["event"]: s["side"] for s in sides if s["aspect"] == "date"}
    assert dates == {"w": 1, "x": 2, "y": 3, "z": 4}  # '1994' and '1994-06' overlap, yet state different dates


def test_translation_is_one_claimant_reported_by_separate_sources_within_a_day() -> None:
    """Two reports of one statement in different words are told apart from a disagreement between claimants."""

    def kind(published: tuple[str | None, str | None], claimants: tuple[str, str], sources: tuple[str, str]) -> str:
        world = World(a=published[0], b=published[1])
        world.add("events", event("p", "2020", "timetable for emergency measures"), claimants[0], sources[0])
        world.add("events", event("q", "2020", "timetable of urgent steps"), claimants[1], sources[1])
        (found,), _ = world.find()
        return str(found["kind"])

    later = (dt.date(2020, 4, 2) + dt.timedelta(days=SAME_STATEMENT_DAYS)).isoformat()
    too_late = (dt.date(2020, 4, 2) + dt.timedelta(days=SAME_STATEMENT_DAYS + 1)).isoformat()
    assert kind(("2020-04-02", "2020-04-02"), ("ministry", "ministry"), ("a", "b")) == "translation"
    assert kind(("2020-04-02", later), ("ministry", "ministry"), ("a", "b")) == "translation"
    assert kind(("2020-04-02", too_late), ("ministry", "ministry"), ("a", "b")) == "wording"
    assert kind(("2020-04-02", "2020-04-02"), ("ministry", "agency"), ("a", "b")) == "wording"
    assert kind(("2020-04-02", "2020-04-02"), ("ministry", "ministry"), ("a", "a")) == "wording"  # one report
    assert kind(("2020-04", "2020-04"), ("ministry", "ministry"), ("a", "b")) == "wording"  # no day: not shown
    assert kind((None, "2020-04-02"), ("ministry", "ministry"), ("a", "b")) == "wording"


def test_retracted_records_and_sources_are_left_out() -> None:
    world = World(wire="2020-05-01", gone="2020-05-01")
    world.add("events", event("a", "1993")).add("events", event("b", "2020", **{models.TOMBSTONE: "0.2.0"}), "other")
    world.add("events", event("c", "2021"), "third", "gone")
    world.sources[1][models.TOMBSTONE] = "0.2.0"
    assert world.find() == ([], [])  # b is withdrawn; c's only evidence is a withdrawn source
    world.add("events", event("d", "2022"), "fourth")
    found, sides = world.find()
    assert [s["event"] for s in sides] == ["a", "d"] and found[0]["sides"] == 2


def test_a_new_table_with_a_topic_and_citations_is_compared(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Tables and aspects come from the models: a claims table with a topic, a date and a term joins as it is."""
    from pydantic import Field

    class Claim(models.Record):
        id: models.Id
        topic: models.Id | None = None
        date: models.Edtf
        term: models.Text | None = None
        citations: list[models.Citation] = Field(min_length=1)

    monkeypatch.setitem(models.TABLES, "claims", models.TableSpec(Claim, ("id",), {}, "Claims."))
    monkeypatch.setitem(models.COMPARED, "claims", "claim")
    aspects.cache_clear()  # worked out once per table: forget it before and after this stand-in table
    request.addfinalizer(aspects.cache_clear)
    assert list(aspects("claims")) == ["date", "wording"] and list(aspects("figures")) == list(
        vocab.DISAGREEMENT_ASPECTS
    )
    world = World().add("claims", event("s", "2020-01", "temporary", topic="status"))
    world.add("claims", event("t", "2020-03", "provisional", topic="status"), "other")
    found, sides = world.find()
    assert kinds(found) == [("status", "date", "date"), ("status", "wording", "wording")]
    assert {s["claim"] for s in sides} == {"s", "t"} and all(s["table"] == "claims" for s in sides)


def test_grouped_joins_each_side_with_claimant_outlet_date_and_quote() -> None:
    world = (
        World()
        .add("figures", figure("a", term="returnees"))
        .add("figures", figure("b", term="residents returned"), "agency")
    )
    found, sides = world.find()
    citations = [{**c, "quote": f"quote of {c['id']}", "locator": "paragraph 2"} for c in world.citations]
    sources = [{"id": "wire", "publisher": None, "via": "Wire", "published": "2020-05-01"}]
    actors = [{"id": "council", "name": "Town council"}, {"id": "agency", "name": "Agency"}]
    (shown,) = grouped(found, sides, citations, sources, actors)
    first, second = shown["sides"]
    assert first["value"] == "returnees" and first["records"] == [["figures", "a"]]
    assert first["claims"] == [
        {
            "record": "a",
            "citation": "figure:a:1",
            "claimant": "council",
            "claimant_name": "Town council",
            "source": "wire",
            "outlet": "Wire",  # no publisher: the agency the source cites
            "published": "2020-05-01",
            "quote": "quote of figure:a:1",
            "locator": "paragraph 2",
        }
    ]
    assert second["claims"][0]["claimant_name"] == "Agency"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # a topic split by kind stands once, at its first kind: b (date) before a (wording, translation)
        (
            [("a", "wording"), ("b", "date"), ("a", "translation"), ("b", "wording")],
            [("b", "date"), ("b", "wording"), ("a", "wording"), ("a", "translation")],
        ),
        # a topic whose only kind is translation comes after every topic with a substantive kind
        (
            [("z", "translation"), ("y", "translation"), ("x", "wording")],
            [("x", "wording"), ("y", "translation"), ("z", "translation")],
        ),
        # number before date before wording, topics by name within a rank
        (
            [("c", "wording"), ("d", "number"), ("e", "date"), ("c", "number")],
            [("c", "number"), ("c", "wording"), ("d", "number"), ("e", "date")],
        ),
        ([], []),
    ],
)
def test_by_topic_groups_topics_ranked_by_their_first_kind(
    given: list[tuple[str, str]], expected: list[tuple[str, str]]
) -> None:
    rows = [
        {"topic": t, "table": "events", "aspect": k if k != "translation" else "wording", "kind": k} for t, k in given
    ]
    assert [(d["topic"], d["kind"]) for d in by_topic(rows)] == expected


# --- Real records: tmp copies of the repository's raw/ ------------------------------------------------


def _build(tmp_path: Path, change: Callable[[Path], None] | None = None) -> Path:
    raw = Path(shutil.copytree(REPO / "raw", tmp_path / "raw"))
    if change:
        change(raw)
    build(raw, tmp_path / "dist")
    return tmp_path / "dist"


def _retract(raw: Path, table: str, record: str) -> None:
    path = raw / table / f"{record}.yaml"
    path.write_text(path.read_text("utf-8") + "retracted:\n  reason: Test withdrawal.\n  version: 9.0.0\n", "utf-8")


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Row]:
    """The disagreements of the repository's records, grouped, by (topic, aspect)."""
    dist = _build(tmp_path_factory.mktemp("real"))
    tables = [kdata.load_table(n, dist).to_pylist() for n in ("disagreements", "disagreement_sides")]
    tables += [kdata.load_table(n, dist).to_pylist() for n in ("citations", "sources", "actors")]
    return {(d["topic"], d["aspect"]): d for d in grouped(*tables)}


def test_real_three_sided_topic(real: dict[tuple[str, str], Row]) -> None:
    """The document that ended the 2020 war: three records, three names, two claimants."""
    found = real[("war-2020-ending-document", "wording")]
    assert found["kind"] == "wording" and found["claimants"] == 2
    values = [side["value"] for side in found["sides"]]
    assert values == ["Statement", "act of surrender", "act of capitulation"]
    claimants = [{c["claimant_name"] for c in side["claims"]} for side in found["sides"]]
    assert claimants == [{"APA"}, {"APA"}, {"Ilham Aliyev"}]
    assert len(real[("war-2020-ending-document", "date")]["sides"]) == 3


def test_real_translation_variants_are_apart_from_real_date_conflicts(real: dict[tuple[str, str], Row]) -> None:
    """The two reports (2 and 3 April 2020) of the ministry's statement are translations; the war's end is a date conflict."""
    for key in [
        ("kalbajar-displaced-1993", "number"),
        ("kalbajar-displaced-1993", "wording"),
        ("kalbajar-captured-missing-1993", "wording"),
        ("minsk-group-timetable-1993", "wording"),
    ]:
        found = real[key]
        assert found["kind"] == "translation", key
        outlets = [{(c["outlet"], c["published"]) for c in side["claims"]} for side in found["sides"]]
        assert outlets == [{("Azernews", "2020-04-02")}, {("News.az", "2020-04-03")}], key
    end = real[("war-2020-end", "date")]
    assert end["kind"] == "date"
    assert [(s["value"], s["claims"][0]["claimant_name"]) for s in end["sides"]] == [
        ("2020-11-09", "APA"),
        ("2020-11-10", "Ilham Aliyev"),
    ]
    assert real[("kalbajar-medal", "wording")]["kind"] == "wording"  # one report naming it twice: not two reports
    ranks = [list(vocab.DISAGREEMENT_KINDS).index(d["kind"]) for d in real.values()]
    assert ranks == sorted(ranks)  # real disagreements before translations


def test_real_records_retracted_or_moved_apart(tmp_path: Path) -> None:
    """A withdrawn record leaves its side; reports a week apart are no longer one statement."""

    def change(raw: Path) -> None:
        _retract(raw, "events", "war-2020-end-2020-11-09")  # the war's end: one date left, no disagreement
        _retract(raw, "events", "war-2020-ending-document-aliyev")  # three sides become two
        path = raw / "sources" / "newsaz-2020-04-02-mfa-statement.yaml"
        path.write_text(path.read_text("utf-8").replace("published: '2020-04-03'", "published: '2020-04-09'"), "utf-8")

    dist = _build(tmp_path, change)
    found = {(d["topic"], d["aspect"]): d for d in kdata.load_table("disagreements", dist).to_pylist()}
    assert ("war-2020-end", "date") not in found
    assert found[("war-2020-ending-document", "wording")]["sides"] == 2
    assert found[("kalbajar-displaced-1993", "number")]["kind"] == "number"
    assert found[("minsk-group-timetable-1993", "wording")]["kind"] == "wording"
    sides = kdata.load_table("disagreement_sides", dist).to_pylist()
    events = {s["event"] for s in sides}
    assert "war-2020-ending-document-aliyev" not in events and "war-2020-end-2020-11-09" not in events


def test_claims_rendering_one_statement_in_other_words_disagree_in_a_real_build(tmp_path: Path) -> None:
    """Two claims on one topic whose citations quote other words, made on days that do not overlap: a wording and a
    date disagreement, each side shown as its sources state it (the quotes, in citation order; the date)."""
    assert "claims" in models.COMPARED and "wording" in aspects("claims") and "date" in aspects("claims")
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    first = tmp_path / "raw" / "claims" / "town-council-says-residents-returned.yaml"
    second = first.with_name("town-council-says-residents-returned-short.yaml")
    second.write_text(
        first.read_text("utf-8")
        .replace("id: town-council-says-residents-returned", "id: town-council-says-residents-returned-short")
        .replace("date: 2020-03-02/2020-05-01", "date: 2020-02")
        .replace(
            "quote: The council said that about 1,200 residents returned to Riverton on 2 March 2020.",
            "quote: about 1,200 residents returned to Riverton",
        ),
        "utf-8",
    )
    build(tmp_path / "raw", tmp_path / "dist")
    found = {
        d["aspect"]: d
        for d in kdata.load_table("disagreements", tmp_path / "dist").to_pylist()
        if d["table"] == "claims"
    }
    assert sorted(found) == ["date", "wording"] and all(d["topic"] == "riverton-returnees" for d in found.values())
    sides = kdata.load_table("disagreement_sides", tmp_path / "dist").to_pylist()
    shown = {(s["aspect"], s["claim"], s["value"]) for s in sides if s["table"] == "claims"}
    assert shown == {
        ("date", "town-council-says-residents-returned", "2020-03-02/2020-05-01"),
        ("date", "town-council-says-residents-returned-short", "2020-02"),
        (
            "wording",
            "town-council-says-residents-returned",
            "The council said that about 1,200 residents returned to Riverton on 2 March 2020.",
        ),
        ("wording", "town-council-says-residents-returned-short", "about 1,200 residents returned to Riverton"),
    }
