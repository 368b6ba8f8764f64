"""The rule for vague time expressions: every word of the lookup table, the spans a phrase states, the bound."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import GOOD

from kdata.datapackage.docs import vague_dates
from kdata.records.vague import KINDS, VAGUE, bound_problem, date_problem, horizon, kinds_of, stated_spans
from kdata.records.validate import load_raw

#: Per kind of vagueness: dates that keep it, and dates that do not.
KEEPS: dict[str, tuple[list[str], list[str]]] = {
    "uncertain": (
        ["2026?", "2026-03?", "2026-03?/2026-04?", "2026%", "2026-03?/..", "../2026?"],
        ["2026", "2026-03", "2026~", "2026-03/2026-04", "2026-03/2026-04?", "2026-03?/2026-04", "2026-03/.."],
    ),
    "approximate": (
        ["1993~", "1993-04~", "1992~/1993", "1992/1993", "1993%"],
        ["1993", "1993-04", "1993-04-02", "1993?"],
    ),
    "part": (["1993-04", "1993", "1993-04-02~", "1993-04-01/1993-04-10"], ["1993-04-02", "1993-04-02?"]),
    "open": (
        ["2025-08-21", "2025~/2026~", "2030", "2025-08-21/.."],
        [],
    ),  # what "open" asks is bounded by the source (KD205)
}


def test_every_kind_is_covered_and_every_word_has_a_kind() -> None:
    assert set(KEEPS) == set(KINDS) and set(VAGUE.values()) == set(KINDS)
    assert all(word == word.lower().strip() for word in VAGUE)


@pytest.mark.parametrize("word", list(VAGUE))
def test_each_word_asks_its_kind_of_the_date(word: str) -> None:
    """Every word of the table, at the start, inside and at the end of a phrase, capitalised or not."""
    kind = VAGUE[word]
    keeps, fails = KEEPS[kind]
    for phrase in (f"{word} (said on 21 August 2025)", f"it will {word} happen", f"{word.capitalize()}"):
        assert kinds_of(phrase) == {kind: phrase[phrase.lower().index(word) :][: len(word)]}
        for date in keeps:
            assert date_problem(phrase, date) == "", (phrase, date)
        for date in fails:
            problem = date_problem(phrase, date)
            assert f"says '{phrase[phrase.lower().index(word) :][: len(word)]}'" in problem and date in problem


@pytest.mark.parametrize(
    "phrase",
    [
        "in May 1992",  # a month's name, not a hedge
        "a month later (after May 1992)",  # 'later' is not 'late'
        "after the adoption",
        "on the day Shusha was taken",
        "this school year (said on 21 August 2025)",
        "lately",
        "aboutness",
        "soonest",
    ],
)
def test_words_count_only_as_whole_words(phrase: str) -> None:
    assert kinds_of(phrase) == {} and date_problem(phrase, "1992-06-01") == ""


def test_no_phrase_asks_nothing() -> None:
    assert date_problem(None, "2026") == "" and date_problem("", "2026-03-02") == ""
    assert horizon(None, "2026") is None


@pytest.mark.parametrize(
    ("phrase", "spans"),
    [
        ("another seven to eight months (said on 21 August 2025)", ((8, "month"),)),
        ("in 2-3 years", ((3, "year"),)),
        ("in 10 months", ((10, "month"),)),
        ("within two or three years", ((3, "year"),)),
        ("in a year", ((1, "year"),)),
        ("next year (said on 21 August 2025)", ((1, "year"),)),
        ("probably ... next year", ((1, "year"),)),
        ("In the near future", ((0, "year"),)),
        ("in the next few years (said on 21 August 2025)", ((0, "year"),)),
        ("soon, in two months", ((2, "month"),)),
        ("in early April 1993", None),
        ("this school year", None),
        ("after 32 years", ((32, "year"),)),  # a span into the past only loosens the bound: never a false alarm
    ],
)
def test_the_span_a_phrase_states(phrase: str, spans: tuple[tuple[int, str], ...] | None) -> None:
    assert stated_spans(phrase) == spans


@pytest.mark.parametrize(
    ("end", "spans", "published", "ok"),
    [
        ("2026-04-30", ((8, "month"),), "2025-08-21", True),  # seven to eight months from 21 August: April 2026
        ("2026-05-31", ((8, "month"),), "2025-08-21", False),
        ("2026-12-31", ((1, "year"),), "2025-08-21", True),  # next year: all of 2026
        ("2027-01-01", ((1, "year"),), "2025-08-21", False),
        ("2025-12-31", ((0, "year"),), "2025-08-21", True),  # the near future: the source's own year at most
        ("2026-12-31", ((0, "year"),), "2025-08-21", False),
        ("2030-12-31", ((0, "year"),), "2025", False),
        ("2026-01-31", ((1, "month"),), "2025-12", True),  # a month past December is January of the next year
        ("2026-02-01", ((1, "month"),), "2025-12-31", False),
        ("2027-12-31", ((0, "year"), (2, "year")), "2025-08-21", True),  # the loosest span the phrase states
    ],
)
def test_the_bound_is_the_source_date_plus_the_stated_span(
    end: str, spans: tuple[tuple[int, str], ...], published: str, ok: bool
) -> None:
    problem = bound_problem(end, spans, published)
    assert (problem == "") is ok, problem
    if not ok:
        assert f"runs to {end}" in problem


def _vague_project(tmp_path: Path, phrase: str, date: str, published: str | None) -> Path:
    """The good project with its bridge event re-dated: a phrase, a date, and the source's publication date."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    event = tmp_path / "raw" / "events" / "riverton-bridge-opened.yaml"
    text = event.read_text("utf-8").replace("date_phrase: early April 2020", f"date_phrase: {phrase}")
    text = text.replace("status: occurred", "status: planned")  # announced: its date may lie after the report
    event.write_text(text.replace("date: 2020-04\n", f"date: {date}\n"), "utf-8")
    source = tmp_path / "raw" / "sources" / "test-wire-2020-05-01.yaml"
    line = "" if published is None else f"published: {published}\n"
    source.write_text(source.read_text("utf-8").replace("published: 2020-05-01\n", line), "utf-8")
    return tmp_path / "raw"


@pytest.mark.parametrize(
    ("phrase", "date", "published", "codes"),
    [
        ("in the coming years", "2020-05-01/2024", "2020-05-01", ["KD205"]),
        ("in the coming years", "2020-05-01", "2020-05-01", []),
        ("in the coming years", "2020-05-01/..", "2020-05-01", []),  # open: no end is invented
        ("in the near future", "2020-05/..", "2020-05-01", []),
        ("probably in the near future", "2020-05-01/..", "2020-05-01", ["KD111"]),  # open, but the hedge is lost
        ("probably in the near future", "2020-05-01?/..", "2020-05-01", []),
        ("I do hope … in the next few years", "2020-05-01/..", "2020-05-01", ["KD111"]),
        ("I do hope … in the next few years", "2020-05-01?/..", "2020-05-01", []),
        ("sooner or later", "2020-05-01/2030", "2020-05-01", ["KD205"]),
        ("eventually", "2020-05-01/..", "2020-05-01", []),
        ("in the coming months", "2020-05-01/2028", "2020-05-01", ["KD205"]),
        ("probably in seven to eight months", "2020-11?/2020-12", "2020-05-01", ["KD111"]),  # each end hedged
        ("probably in seven to eight months", "2020-11/2020-12?", "2020-05-01", ["KD111"]),
        ("probably in seven to eight months", "2020-11?/2020-12?", "2020-05-01", []),
        ("probably in seven to eight months", "2020-11%/2020-12?", "2020-05-01", []),
        ("in the coming years", "2020-05-01/2024", None, []),  # no date stated by the source: nothing to bound by
        ("in the coming years", "2020-05-01/2024", "2024-01", []),  # a later source's year gives more
        ("probably in seven months", "2020-12", "2020-05-01", ["KD111"]),
        ("probably in seven months", "2020-12?", "2020-05-01", []),
        ("probably in seven months", "2021-01?", "2020-05-01", ["KD205"]),
        ("probably soon", "2021?", "2020-05-01", ["KD205"]),
    ],
)
def test_validate_reports_vague_dates_at_the_date(
    tmp_path: Path, phrase: str, date: str, published: str | None, codes: list[str]
) -> None:
    """Cold and cached runs report the same issues, at the line and column of the date."""
    raw = _vague_project(tmp_path, phrase, date, published)
    cold = load_raw(raw)
    assert [i.code for i in cold.issues] == codes
    assert all((i.line, i.col, i.field) == (5, 7, "date") for i in cold.issues)
    for _ in range(2):  # the first cached run fills the cache, the second reads it
        cached = load_raw(raw, keep="nothing", cache=True)
        assert [(i.code, i.line, i.message) for i in cached.issues] == [
            (i.code, i.line, i.message) for i in cold.issues
        ]


def test_the_contributing_table_lists_every_word() -> None:
    table = vague_dates()
    assert all(f'"{word}"' in table for word in VAGUE) and all(rule.asks in table for rule in KINDS.values())


@pytest.mark.parametrize("published", ["2020/..", "../2020-05-01", "2020-05-01/.."])
def test_a_publication_date_is_never_open(tmp_path: Path, published: str) -> None:
    """A source states when it was published: an open end there would let every vague date run forever."""
    raw = _vague_project(tmp_path, "in the coming years", "2020-05-01/..", published)
    issues = load_raw(raw).issues
    assert [(i.file.split("/")[-1], i.code, i.field) for i in issues] == [
        ("test-wire-2020-05-01.yaml", "KD105", "published")
    ]
    assert "is open at one end ('..')" in issues[0].message


@pytest.mark.parametrize(
    ("table", "status", "date", "codes"),
    [
        ("events", "occurred", "2020-05-02", ["KD206"]),  # reported on 1 May as having happened on 2 May
        ("events", "occurred", "2020-05-01", []),
        ("events", "occurred", "2020-05-02~/2020-06", ["KD206"]),  # even its first possible day is later
        ("events", "occurred", "2020-04~/2020-06", []),  # it may have begun in April
        ("events", "occurred", "../2020-06", []),  # no first day stated: nothing to compare
        ("events", "planned", "2020-06", []),  # a plan may lie after its report
        ("claims", None, "2020-05-02", ["KD206"]),  # a claim made after the report that quotes it
        ("claims", None, "2020", []),
    ],
)
def test_nothing_is_reported_before_it_was_said_or_done(
    tmp_path: Path, table: str, status: str | None, date: str, codes: list[str]
) -> None:
    """KD206: a claim's date, or an occurred event's, starts no later than its latest citing source was published."""
    raw = Path(shutil.copytree(GOOD / "raw", tmp_path / "raw"))
    name = {"events": "riverton-return-2020", "claims": "town-council-says-residents-returned"}[table]
    path = raw / table / f"{name}.yaml"
    text = path.read_text("utf-8")
    old_date = next(line for line in text.splitlines() if line.startswith("date:"))
    text = text.replace(old_date, f"date: {date}")
    if status:
        text = text.replace("status: occurred", f"status: {status}")
    path.write_text(text, "utf-8")
    issues = [i for i in load_raw(raw).issues if i.code.startswith("KD2")]
    assert [(i.code, i.field) for i in issues] == [(c, "date") for c in codes]
    assert all(Path(i.file).name == f"{name}.yaml" for i in issues)
