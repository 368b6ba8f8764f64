"""The front page: its schema.org Dataset, its search index, and in headless Chromium the timeline and the search.

One site is built and one browser page opened for the test process (conftest). Expected figures are worked out from the package
(events, the index the site wrote), never written in here.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import Watched
from test_render import ARTIFACTS, DIST

import kdata
from kdata.release.registry import load_registry
from kdata.site import findable
from kdata.site.search import FOLD, GLOBAL, KINDS, fold
from kdata.site.timeline import layout


@pytest.fixture
def site(dist_site: Path) -> Path:
    """The site of the repository's built package (one per test process, see conftest)."""
    return dist_site


def _index(site: Path) -> dict[str, Any]:
    """The search index the site wrote, read back from its script."""
    text = (site / "static" / "search-index.js").read_text("utf-8")
    match = re.search(rf"^window\.{GLOBAL} = (.*);$", text, re.MULTILINE)
    assert match is not None
    return json.loads(match.group(1))  # type: ignore[no-any-return]  # the index is a JSON object


def _ld(site: Path) -> dict[str, Any]:
    page = (site / "index.html").read_text("utf-8")
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    return json.loads(block)  # type: ignore[no-any-return]  # a JSON-LD object


# --- schema.org Dataset -----------------------------------------------------------------------------------------


def test_the_front_page_describes_the_package_as_a_schema_org_dataset(site: Path) -> None:
    """Name, description, version, licence, creator and dates come from the descriptor and registry; one
    distribution per resource, each a file of the site with the format, size and hash the descriptor gives."""
    meta = kdata.metadata(DIST)
    ld = _ld(site)
    assert (ld["@context"], ld["@type"]) == ("https://schema.org/", "Dataset")
    assert (ld["name"], ld["description"], ld["version"]) == (meta["title"], meta["description"], str(meta["version"]))
    assert ld["license"] == [lic["path"] for lic in meta["licenses"]]
    assert [c["name"] for c in ld["creator"]] == [c["title"] for c in meta["contributors"] if "creator" in c["roles"]]
    assert ld["keywords"] == meta["keywords"]
    assert ld.get("dateCreated") == (meta["created"][:10] if "created" in meta else None)  # a -dev build has none
    release = load_registry().releases.get(str(meta["version"]))
    assert ld.get("datePublished") == (release.date if release else None)
    assert "url" not in ld or ld["url"] == meta.get("homepage")  # never guessed
    resources = {r["path"]: r for r in meta["resources"]}
    files = {d["contentUrl"]: d for d in ld["distribution"] if not d["contentUrl"].startswith("http")}
    assert set(files) == {f"{findable.DATA}/{path}" for path in resources}
    formats = set()
    for url, download in files.items():
        resource = resources[url.removeprefix(f"{findable.DATA}/")]
        assert download["encodingFormat"] == resource["mediatype"] and download["name"] == resource["name"]
        content = (site / url).read_bytes()  # relative to the front page: the site's copy of the file
        assert content == (DIST / resource["path"]).read_bytes()
        assert download.get("sha256") == resource["hash"].removeprefix("sha256:") == hashlib.sha256(content).hexdigest()
        assert download.get("contentSize") == (f"{resource['bytes']} B" if "bytes" in resource else None)
        formats.add(resource["format"])
    assert formats == {"csv", "parquet"}
    assert json.loads((site / findable.DATA / "datapackage.json").read_text("utf-8")) == meta


def test_a_published_archive_is_a_distribution_only_where_its_url_is_known() -> None:
    meta = kdata.metadata(DIST)
    base = {"date": "", "file": "", "url": "", "sha256": ""}
    assert all(d["encodingFormat"] != "application/zip" for d in findable.dataset(meta, base)["distribution"])
    archive = {**base, "file": "k-1.0.0.zip", "url": "https://example.org/r/k-1.0.0.zip", "sha256": "ab" * 32}
    (zipped,) = [d for d in findable.dataset(meta, archive)["distribution"] if d["encodingFormat"] == "application/zip"]
    assert (zipped["contentUrl"], zipped["sha256"]) == (archive["url"], archive["sha256"])
    homepage = {**archive, "url": "https://example.org/"}  # a homepage is no archive: not offered as one
    assert all(d["encodingFormat"] != "application/zip" for d in findable.dataset(meta, homepage)["distribution"])


def test_no_text_can_close_the_json_ld_script() -> None:
    body = findable.script_body({"name": "</script><script>alert(1)</script>"})
    assert "<" not in body and json.loads(body)["name"] == "</script><script>alert(1)</script>"


# --- The search index -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variants"),
    [
        ("Kəlbəcər", "Kelbecer", "KƏLBƏCƏR", "kelbecer"),
        ("Lachín", "LACHIN", "lachin", "Läçhin"),
        ("Aliyev", "ALİYEV", "aliyev", "Al\u0131yev"),
        ("Şuşa", "Susa", "SUSA", "şuşa"),
        ("Gəncə", "Gence", "GƏNCƏ"),
        ('"Kalbajar"', "Kalbajar", "\u00abKalbajar\u00bb", "\u201cKalbajar\u201d", "(Kalbajar).", "Kalbajar's"[:-2]),
        ("60,000", "60000", "60.000", "60'000", "60\u2019000"),
        ("1,000,000", "1000000", "1.000.000"),
        ("2020-11-10", "2020 11 10", "2020/11/10", "2020 \u2013 11 \u2013 10"),
        ("act of capitulation!", "act-of-capitulation", "act, of capitulation?"),
    ],
)
def test_folding_ignores_case_diacritics_punctuation_and_digit_groups(variants: tuple[str, ...]) -> None:
    assert len({fold(v) for v in variants}) == 1, [fold(v) for v in variants]


@pytest.mark.parametrize(
    ("text", "folded"),
    [("1993, 500", "1993 500"), ("12,3456", "12 3456"), ("1.5", "1 5"), ("a,000", "a 000"), ("60,00", "60 00")],
)
def test_only_a_group_of_three_digits_after_a_digit_is_joined(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_the_index_holds_every_record_of_each_kind_with_a_link_that_resolves(site: Path) -> None:
    index = _index(site)
    assert index["fold"] == FOLD
    for table, kind in KINDS.items():
        rows = kdata.load_table(table, package=DIST).to_pylist()
        mine = [e for e in index["entries"] if e[0] == kind]
        assert len(mine) == len(rows) > 0
        for entry in mine:
            assert (site / entry[3]).is_file(), entry
            assert entry[4] == fold(entry[4])  # stored folded, so the script folds only the query
    assert "<" not in (site / "static" / "search-index.js").read_text("utf-8")


# --- In the browser -------------------------------------------------------------------------------------------


def _front(site: Path, tab: Watched) -> Any:
    """The tab at the front page: loaded unless it is there already (a search's results depend on the query alone:
    the search tests type into one loaded page rather than each loading it again)."""
    if tab.page.url != (site / "index.html").as_uri():
        tab.page.goto((site / "index.html").as_uri())
    return tab.page


@functools.cache
def _events() -> list[dict[str, Any]]:
    return kdata.load_table("events", package=DIST).to_pylist()


def _in_period(first: int, last: int) -> int:
    """How many events cover a day of the years ``first`` to ``last`` (an open end runs on, an open start before)."""
    start, end = dt.date(first, 1, 1), dt.date(last, 12, 31)
    return sum(
        (e["date_start"] is None or e["date_start"] <= end) and (e["date_end"] is None or e["date_end"] >= start)
        for e in _events()
    )


#: A script function giving an element's box on the page.
_BOX = "e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; }"


def _disjoint(boxes: list[dict[str, float]]) -> bool:
    """Whether no two boxes overlap (sorted by top; each row's box must end before the next begins)."""
    ordered = sorted(boxes, key=lambda b: b["y"])
    return all(a["y"] + a["height"] <= b["y"] + 0.5 for a, b in itertools.pairwise(ordered))


@pytest.mark.parametrize("width", [1280, 375])
def test_without_javascript_every_event_is_labelled_and_no_labels_overlap(
    site: Path, plain_tab: Watched, width: int
) -> None:
    page = plain_tab.page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto((site / "index.html").as_uri())
    boxes = page.locator("#timeline .tl-label").evaluate_all(f"labels => labels.map({_BOX})")
    assert len(boxes) == len(_events())
    assert all(b["width"] > 0 and b["height"] > 0 for b in boxes)
    assert _disjoint(boxes)
    titles = page.locator("#timeline .tl-title").all_inner_texts()
    assert sorted(titles) == sorted(e["title"] for e in _events())
    assert not page.locator("#timeline .tl-controls").is_visible()  # no control that would do nothing
    assert not page.locator("#search").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing runs off the screen
    ticks = page.locator("#timeline .tl-tick.labelled").all_inner_texts()
    timeline = layout(_events())
    assert ticks[0] == str(timeline.first_year) and int(ticks[-1]) <= timeline.last_year


def test_zoom_to_a_period_and_back(site: Path, tab: Watched) -> None:
    """A decade's button and the two sliders show the events of the period, rescaled; the count is announced."""
    page = tab.page
    page.goto((site / "index.html").as_uri())
    rows = page.locator("#timeline li.tl-row:visible")
    total = len(_events())
    timeline = layout(_events())
    assert rows.count() == total
    last = timeline.last_year
    page.locator(".tl-periods button", has_text="2020s").click()
    expected = _in_period(2020, last)
    assert 0 < rows.count() == expected < total
    assert page.locator(".tl-count").inner_text() == f"{expected} of {total} events shown, 2020 to {last}."
    assert page.locator(".tl-periods button", has_text="2020s").get_attribute("aria-pressed") == "true"
    assert page.locator(".tl-tick.labelled").first.inner_text() == "2020"
    marks = page.locator("#timeline li.tl-row:not([hidden]) .tl-mark").evaluate_all(f"marks => marks.map({_BOX})")
    tracks = page.locator("#timeline li.tl-row:not([hidden]) .tl-track").evaluate_all(f"ts => ts.map({_BOX})")
    assert len(marks) == len(tracks) == expected
    for mark, track in zip(marks, tracks, strict=True):  # each mark stays on its track (a point may stand half out)
        assert track["x"] - 7 <= mark["x"] and mark["x"] + mark["width"] <= track["x"] + track["width"] + 7
    page.locator(".tl-from").fill("1993")
    page.locator(".tl-to").fill("1993")
    assert rows.count() == _in_period(1993, 1993)
    assert page.locator(".tl-count").inner_text().endswith(" events shown, 1993.")
    page.locator(".tl-periods button", has_text="All").click()
    assert rows.count() == total


def test_group_by_place_and_by_kind(site: Path, tab: Watched) -> None:
    page = tab.page
    page.goto((site / "index.html").as_uri())
    places = {p["id"]: p["name"] for p in kdata.load_table("places", package=DIST).to_pylist()}
    timeline = layout(_events(), places)
    for key in ("place", "kind"):
        page.locator(".tl-group").select_option(key)
        sections = page.locator("#timeline .tl-group-section")
        headings = sections.locator("h3").all_inner_texts()
        assert headings == [label for _, label in timeline.groupings[key]]
        for i in range(sections.count()):
            labels = (
                sections.nth(i)
                .locator("li.tl-row")
                .evaluate_all(f"rows => rows.map(r => r.getAttribute('data-{key}-label'))")
            )
            assert set(labels) == {headings[i]}
        assert page.locator("#timeline li.tl-row:visible").count() == len(_events())
    page.locator(".tl-group").select_option("")
    assert page.locator("#timeline .tl-group-section").count() == 0


def test_the_timeline_by_keyboard(site: Path, tab: Watched) -> None:
    """One tab stop into the events; the arrow keys, Home and End move; Enter opens the event."""
    page = tab.page
    page.goto((site / "index.html").as_uri())
    order = [m.id for m in layout(_events()).marks]
    page.locator(".tl-group").focus()
    page.keyboard.press("Tab")
    focused = "document.activeElement.getAttribute('data-event')"
    assert page.evaluate(focused) == order[0]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == order[2]
    page.keyboard.press("ArrowUp")
    assert page.evaluate(focused) == order[1]
    page.keyboard.press("End")
    assert page.evaluate(focused) == order[-1]
    page.keyboard.press("Home")
    assert page.evaluate(focused) == order[0]
    page.keyboard.press("Tab")  # out of the list in one step: the next tab stop follows the timeline
    assert page.evaluate("document.activeElement.classList.contains('tl-link')") is False
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == order[0]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/events/{order[1]}.html")


def _expected(site: Path, query: str) -> list[list[str]]:
    """The entries the script must find: those whose folded text holds every folded word of the query."""
    words = fold(query).split()
    return [e for e in _index(site)["entries"] if all(w in e[4] for w in words)]


@pytest.mark.parametrize(
    ("table", "field"), [("actors", "name"), ("events", "title"), ("places", "name"), ("claims", "summary")]
)
def test_search_finds_a_record_and_its_link_opens_it(site: Path, tab: Watched, table: str, field: str) -> None:
    row = kdata.load_table(table, package=DIST).to_pylist()[-1]
    page = _front(site, tab)
    query = row[field].upper()  # case does not matter
    page.locator("#search-input").fill(query)
    found = len(_expected(site, query))
    assert found >= 1
    shown = min(found, 50)
    assert page.locator("#search-results li").count() == shown
    assert page.locator("#search-status").inner_text().startswith(f"{found} result")
    assert fold(page.locator("#search-results li a").first.inner_text()) == fold(query)  # the name itself first
    result = page.locator(f"#search-results li.result-{KINDS[table]}", has=page.locator("a", has_text=row[field]))
    assert result.count() >= 1
    own = f"{table}/{row['id']}.html"
    target = own if (site / own).is_file() else f"tables/{table}.html"
    assert result.first.locator("a").get_attribute("href") == target
    result.first.locator("a").click()
    page.wait_for_url(f"**/{target}")
    assert page.locator("h1").count() == 1


@pytest.mark.parametrize(
    "query",
    [
        "aliyev kalbajar",
        "ALİYEV  Kalbajar",
        "Láchín",
        "Kəlbəcər",
        "shusha 1992",
        "zzzqx",
        '"Kalbajar"',
        "60000",
        "60,000",
        "«act of capitulation»",
    ],
)
def test_search_folds_the_query_as_the_index_was_folded(site: Path, tab: Watched, query: str) -> None:
    """The script finds exactly the entries Python's fold finds; none says so, in the announced status."""
    page = _front(site, tab)
    page.locator("#search-input").fill(query)
    expected = _expected(site, query)
    status = page.locator("#search-status")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    if not expected:
        assert status.inner_text() == f"No results for \u201c{query}\u201d."
        assert page.locator("#search-results li").count() == 0
        return
    hrefs = page.locator("#search-results li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    if len(expected) <= 50:
        assert sorted(hrefs) == sorted(e[3] for e in expected)
    else:  # the first 50 are shown, and the status says so
        assert len(hrefs) == 50 and set(hrefs) <= {e[3] for e in expected}
        assert status.inner_text() == f"{len(expected)} results, the first 50 shown."


def test_punctuation_and_digit_groups_in_a_query_find_what_the_plain_query_finds(site: Path, tab: Watched) -> None:
    page = _front(site, tab)
    for plain, dressed in [("Kalbajar", '"Kalbajar"'), ("60000", "60,000"), ("60000", "60.000")]:
        page.locator("#search-input").fill(plain)
        expected = page.locator("#search-status").inner_text()
        page.locator("#search-input").fill(dressed)
        assert page.locator("#search-status").inner_text() == expected != f"No results for \u201c{plain}\u201d."


def _title_rank(entry: list[str], words: list[str]) -> int:
    """How well a record's name or title matches: 0 it is the query, 1 it starts with it, 2 it holds every word,
    3 some, 4 none (a match in the record's details only)."""
    title, query = fold(entry[1]), " ".join(words)
    held = sum(w in title for w in words)
    return 0 if title == query else 1 if title.startswith(query) else 2 if held == len(words) else 3 if held else 4


@pytest.mark.parametrize("query", ["Aliyev", "Kalbajar", "kalbajar district", "Armenia"])
def test_search_ranks_names_first_and_entities_first_and_shows_all_on_request(
    site: Path, tab: Watched, query: str
) -> None:
    """A name or title match comes before a match in the details; for equal matches actors and places come first;
    past the first 50 a button (reached by keyboard) shows all, and focus moves to the first result newly shown."""
    page = _front(site, tab)
    page.locator("#search-input").fill(query)
    words = fold(query).split()
    expected = _expected(site, query)
    by_url = {e[3]: e for e in expected}
    shown = page.locator("#search-results li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    ranks = [_title_rank(by_url[h], words) for h in shown]
    more = page.locator("button.search-more")
    if len(expected) > 50:
        assert len(shown) == 50 and more.is_visible() and more.inner_text() == f"Show all {len(expected):,} results"
        assert ranks == sorted(ranks) and max(ranks) <= min(
            _title_rank(e, words) for e in expected if e[3] not in shown
        )
        page.locator("#search-input").focus()
        for _ in shown:
            page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")  # from the last result to the button
        assert page.evaluate("document.activeElement.className") == "search-more"
        page.keyboard.press("Enter")
        shown_all = page.locator("#search-results li a").evaluate_all("ls => ls.map(a => a.getAttribute('href'))")
        assert sorted(shown_all) == sorted(by_url) and shown_all[:50] == shown
        assert page.evaluate("document.activeElement.getAttribute('href')") == shown_all[50]
        assert not more.is_visible()
        assert page.locator("#search-status").inner_text() == f"{len(expected):,} results."
        shown = shown_all
        ranks = [_title_rank(by_url[h], words) for h in shown]
    else:
        assert not more.is_visible() and sorted(shown) == sorted(by_url)
    assert ranks == sorted(ranks), "name and title matches first"
    entity = {"actor", "place"}
    for rank in set(ranks):  # within equal match quality, actors and places before events and claims
        kinds = [by_url[h][0] for h, r in zip(shown, ranks, strict=True) if r == rank]
        firsts = [k in entity for k in kinds if k in entity | {"event", "claim"}]
        assert firsts == sorted(firsts, reverse=True), (rank, kinds)
    if fold(query) == "aliyev":
        top = [by_url[h] for h in shown[:5]]
        assert top[0][0] == "actor" and "aliyev" in fold(top[0][1]), top


@pytest.mark.parametrize("width", [1280, 375])
def test_a_very_long_query_wraps_and_is_echoed_cut(site: Path, tab: Watched, width: int) -> None:
    tab.page.set_viewport_size({"width": width, "height": 900})
    page = _front(site, tab)
    query = "zq" * 2500  # 5,000 characters, no space to wrap at
    page.locator("#search-input").fill(query)
    status = page.locator("#search-status").inner_text()
    assert status.startswith("No results for \u201czqzq") and status.endswith("\u2026\u201d.")
    assert len(status) < 120
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#search-input").fill("x" * 5000)  # one word that matches nothing, either
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_search_by_keyboard(site: Path, tab: Watched) -> None:
    page = tab.page
    page.goto((site / "index.html").as_uri())
    page.locator("#search-input").focus()
    page.keyboard.type("handover")
    first = page.locator("#search-results li a").first.get_attribute("href")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('href')") == first
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.press("Enter")  # Enter in the box goes to the first result
    assert page.evaluate("document.activeElement.getAttribute('href')") == first
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{first}")


@pytest.mark.parametrize(("name", "width"), [("desktop", 1280), ("375", 375)])
def test_screenshots_of_the_front_page(site: Path, tab: Watched, name: str, width: int) -> None:
    """The search open with results and the timeline zoomed to the 2020s, saved for a reader to look at."""
    page = tab.page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto((site / "index.html").as_uri())
    page.locator("#search-input").fill("Kalbajar district")
    assert page.locator("#search-results li").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.getElementById('search').scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / f"site-front-search-{name}.png"))
    page.locator(".tl-periods button", has_text="2020s").click()
    page.locator("#timeline").scroll_into_view_if_needed()
    page.locator("#timeline").screenshot(path=str(ARTIFACTS / f"site-timeline-{name}.png"))
    assert tab.errors == [] and all(url.startswith("file://") for url in tab.requests)


#: For each table tile's name: the characters before which its text goes on a new line.
_BREAKS = """els => els.map(e => {
  const text = e.textContent, node = document.createRange(), breaks = [];
  let top = null, at = 0;
  const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  const chars = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode())
    for (let i = 0; i < n.data.length; i++) chars.push([n, i]);
  chars.forEach(([n, i], k) => {
    node.setStart(n, i); node.setEnd(n, i + 1);
    const y = node.getBoundingClientRect().top;
    if (top !== null && y > top + 2) breaks.push(text.slice(0, k));
    top = y;
  });
  return {text, breaks};
})"""


@pytest.mark.parametrize("width", [320, 375, 1280])
def test_table_names_on_the_front_page_break_only_after_an_underscore(site: Path, tab: Watched, width: int) -> None:
    tab.page.set_viewport_size({"width": width, "height": 900})  # laid out again at this width
    page = _front(site, tab)
    names = page.locator("ul.counts .name").evaluate_all(_BREAKS)
    assert {n["text"] for n in names} == set(kdata.resources(DIST))
    assert all(before.endswith("_") for n in names for before in n["breaks"]), names
    assert "disagreement_<wbr>sides" in (site / "index.html").read_text("utf-8")
