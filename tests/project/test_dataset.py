"""The curated dataset's integrity: every source covered, every fact cited and verified, neutral wording."""

from __future__ import annotations

import hashlib

import pytest
from conftest import REPO, SHARED_SOURCES
from inprocess import run_kdata_here
from wording import LOADED, QUOTED

import kdata
from kdata.records.anchors import normalise
from kdata.records.validate import load_raw

DIST = REPO / "dist"

#: Our own free-text fields, per table (names and quotes are the sources' words).
OWN_FIELDS = {
    "events": ("title", "description"),
    "figures": ("note",),
    "places": ("note",),
    "actors": ("note",),
    "sources": ("note",),
}


@pytest.fixture(scope="module")
def raw() -> object:
    data = load_raw(REPO / "raw")
    assert data.issues == []
    return data


def archive_texts() -> dict[str, str]:
    """The archived texts in the repository (raw/sources/<id>.txt), by sha256."""
    return {
        hashlib.sha256(p.read_bytes()).hexdigest(): p.read_text("utf-8")
        for p in sorted((REPO / "raw" / "sources").glob("*.txt"))
    }


def test_the_archive_in_the_repository_is_the_shared_one_byte_for_byte() -> None:
    """raw/sources/*.txt holds exactly the archived documents of ../shared/sources, bytes unchanged."""
    if not SHARED_SOURCES.is_dir():
        pytest.skip(f"the archived sources are not at {SHARED_SOURCES}")
    shared = {hashlib.sha256(p.read_bytes()).hexdigest() for p in SHARED_SOURCES.glob("*.txt")}
    assert set(archive_texts()) == shared


def test_every_archived_source_is_recorded_and_cited(raw: object) -> None:
    """Each archived document has a source record, and each source is cited."""
    texts = archive_texts()
    sources = {s.sha256: s.id for s in raw.records["sources"]}
    assert set(sources) == set(texts)
    cited = {c.source for t in ("events", "figures") for r in raw.records[t] for c in r.citations}
    assert cited == set(sources.values())


def test_every_quote_is_in_its_archived_source() -> None:
    """kdata's own quote verification passes against the archive in the repository, with no flag."""
    result = run_kdata_here("validate", "raw", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every quote found in its source's archived text" in result.stdout


def test_urls_are_printed_in_the_archive(raw: object) -> None:
    """A source's URL is one its own archived text prints: none is reconstructed."""
    texts = archive_texts()
    for source in raw.records["sources"]:
        if source.url:
            assert source.url in texts[source.sha256], source.id


def test_publisher_author_and_via_are_stated_in_the_text(raw: object) -> None:
    """Publisher, author and the cited agency appear in the document itself."""
    texts = {k: normalise(v).lower() for k, v in archive_texts().items()}
    for source in raw.records["sources"]:
        for name in (source.publisher, source.author, source.via):
            if name:
                assert name.lower() in texts[source.sha256], f"{source.id}: '{name}' is not in the text"


def test_every_event_and_figure_is_cited_in_the_package() -> None:
    """The built citations table covers every event and every figure."""
    citations = kdata.load("citations", package=DIST)
    assert set(kdata.load("events", package=DIST)["id"]) == set(citations["event"].dropna())
    assert set(kdata.load("figures", package=DIST)["id"]) == set(citations["figure"].dropna())
    assert citations["quote"].str.len().min() > 0


def test_the_dataset_is_substantial(raw: object) -> None:
    """Well over a hundred facts, with the places and actors they refer to."""
    assert len(raw.records["events"]) + len(raw.records["figures"]) > 100
    assert len(raw.records["places"]) >= 25 and len(raw.records["actors"]) >= 20


def test_own_fields_use_neutral_wording(raw: object) -> None:
    """Loaded terms appear only inside quotes and verbatim terms, never in our own fields."""
    found = []
    for table, fields in OWN_FIELDS.items():
        for record in raw.records[table]:
            for field in fields:
                text = QUOTED.sub('""', getattr(record, field) or "")
                for match in LOADED.finditer(text):
                    found.append(f"{table}/{record.id}.{field}: '{match.group()}' in '{text}'")
    assert found == []


def test_each_figure_keeps_its_hedge_as_written(raw: object) -> None:
    """stated_as is the source's own wording: it appears in one of the figure's quotes ('…' leaves words out)."""

    def states(quote: str, stated: str) -> bool:
        at = 0
        for part in (p.strip() for p in stated.split("…") if p.strip()):
            at = quote.find(part, at)
            if at < 0:
                return False
            at += len(part)
        return True

    for figure in raw.records["figures"]:
        quotes = [normalise(c.quote).lower() for c in figure.citations]
        assert any(states(q, normalise(figure.stated_as).lower()) for q in quotes), figure.id


def test_known_disagreements_are_reported() -> None:
    """The sources' documented disagreements are rows of the disagreement tables."""
    sides = kdata.load("disagreement_sides", package=DIST)
    values = set(sides["value"])
    assert {"about 60,000", "up to 60.000"} <= values
    assert {"number", "wording", "date"} <= set(kdata.load("disagreements", package=DIST)["aspect"])
    assert any("hostage" in v for v in values) and any("prisoner" in v for v in values)
    assert any("For the freedom of Kalbajar" in v for v in values) and any(
        "for the liberation of Kalbajar" in v for v in values
    )


def test_event_dates_lie_in_the_covered_period() -> None:
    """Events run from 1992 to the plans the 2025 speech announces."""
    events = kdata.load("events", package=DIST)
    assert events["date_start"].min().year >= 1992
    assert events["date_end"].max().year <= 2030
    assert set(events["date_precision"]) <= {"day", "month", "year"}
    planned = events[events["status"] == "planned"]
    assert len(planned) > 0 and planned["date_phrase"].notna().all()


def test_committed_package_is_fresh_and_verified() -> None:
    """dist/ and schemas/ match raw/ and the models, and every file verifies."""
    check = run_kdata_here("build", "--check", cwd=REPO)
    assert check.returncode == 0, check.stdout + check.stderr
    verify = run_kdata_here("verify", DIST, cwd=REPO)
    assert verify.returncode == 0, verify.stdout
