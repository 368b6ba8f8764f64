"""The pages of actors, places and topics, every id a link, dates in words; then every page type in real Chromium:
axe-core finds no serious or critical violation, the keyboard reaches the content, a 375 px screen does not scroll
sideways, and each page type is saved as a screenshot (desktop and 375 px) into test-artifacts/.

axe-core is the npm package that ``.ci/run`` installs into ``.ci/npm`` (``KDATA_AXE`` names another
``axe.min.js``); it is injected into each page at test time and never copied into the repository.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO, Watched
from test_render import ARTIFACTS, DIST

import kdata
from kdata.records import vocab
from kdata.site.entities import linked_columns
from kdata.site.when import reads, reads_html

AXE = Path(os.environ.get("KDATA_AXE", REPO / ".ci" / "npm" / "node_modules" / "axe-core" / "axe.min.js"))
#: The tables whose ids the site shows; a topic is an id too.
ID_TABLES = ("events", "figures", "claims", "sources", "actors", "places", "citations")
#: Elements whose text is not content a reader clicks (the page's title, scripts).
_NOT_SHOWN = {"title", "script", "style"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@pytest.fixture
def site(dist_site: Path) -> Path:
    """The site of the repository's built package (one per test process, see conftest)."""
    return dist_site


def _ids() -> set[str]:
    ids = {i for table in ID_TABLES for i in kdata.load(table, package=DIST)["id"]}
    return ids | {t for n in ("events", "figures", "claims") for t in kdata.load(n, package=DIST)["topic"].dropna()}


class _Page(HTMLParser):
    """A page's anchors (``id``), links, and the ids it shows outside any link."""

    def __init__(self, ids: set[str]) -> None:
        super().__init__()
        self.ids = ids
        self.open: list[str] = []
        self.anchors: set[str] = set()
        self.links: list[str] = []
        self.unlinked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.anchors.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag not in _VOID and not (tag in ("circle", "rect", "line") and self.get_starttag_text().endswith("/>")):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "a" in self.open or _NOT_SHOWN & set(self.open):
            return
        text = data.strip()
        if text in self.ids:
            self.unlinked.append(text)
        elif not _QUOTED & set(self.open):  # an id inside our prose (a note), outside the sources' words
            # a one-word id ('armenia') may be a plain word of a heading; an id of several words never is
            found = [w for w in _WORD.findall(text) if "-" in w and w in self.ids]
            self.unlinked += [w for w in found if not _in_quotes(text, w)]


#: Elements holding the sources' words: an id-like word there is theirs, not a reference.
_QUOTED = {"q", "blockquote"}
#: A word of running text that may be an id (bounded by neither a letter, digit nor hyphen).
_WORD = re.compile(r"(?<![\w-])[a-z0-9]+(?:-[a-z0-9]+)*(?![\w]|-\w)")


def _in_quotes(text: str, word: str) -> bool:
    """Whether every occurrence of ``word`` in ``text`` stands inside double quotes (a quotation in our prose)."""
    outside = re.sub(r'"[^"]*"|\u201c[^\u201d]*\u201d', " ", text)
    return not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w]|-\w)", outside)


def test_every_id_is_a_link_and_every_link_resolves(site: Path) -> None:
    """On every page, each text that is an id (of a record, citation or topic) stands inside a link, and every link
    inside the site names a page that exists and, after '#', an element of that page."""
    ids = _ids()
    pages: dict[Path, _Page] = {}
    for path in sorted(site.rglob("*.html")):
        parsed = _Page(ids)
        parsed.feed(path.read_text("utf-8"))
        pages[path] = parsed
    unlinked = {str(p.relative_to(site)): sorted(set(x.unlinked))[:3] for p, x in pages.items() if x.unlinked}
    assert unlinked == {}
    broken, checked = [], 0
    for path, parsed in pages.items():
        for link in parsed.links:
            if re.match(r"^https?://", link):
                continue
            file, _, anchor = link.partition("#")
            target = (path.parent / file).resolve() if file else path
            if (target.suffix == ".html" and target not in pages) or not target.exists():
                broken.append(f"{path.relative_to(site)} -> {link}")
            elif anchor and anchor not in pages[target].anchors:
                broken.append(f"{path.relative_to(site)} -> {link} (no such anchor)")
            checked += anchor != ""
    assert broken == [] and checked > 1000  # the passages, table rows and topics are anchors


def test_every_id_column_of_every_table_links(site: Path) -> None:
    """In each table page, every cell of a column that holds ids (its key, a foreign key, a topic) is a link."""
    for resource in kdata.metadata(DIST)["resources"]:
        if resource["format"] != "csv":
            continue
        page = (site / "tables" / f"{resource['name']}.html").read_text("utf-8")
        rows = kdata.load_table(resource["name"], package=DIST).to_pylist()
        for column in linked_columns(resource):
            for value in {r[column] for r in rows if r[column] is not None}:
                assert re.search(rf'<a href="[^"]+">{re.escape(str(value))}</a>', page), (resource["name"], value)


def test_actor_page(site: Path) -> None:
    """An actor's page: every claim it makes, every event it takes part in with its role, by date; every passage
    attributed to it; the claims about it. Counts and links are those of the package's tables."""
    claims = kdata.load("claims", package=DIST)
    links = kdata.load("event_actors", package=DIST)
    citations = kdata.load("citations", package=DIST)
    targets = kdata.load("claim_targets", package=DIST)
    for actor in kdata.load("actors", package=DIST).itertuples():
        page = html.unescape((site / "actors" / f"{actor.id}.html").read_text("utf-8"))
        made = claims[claims["claimant"] == actor.id]
        assert f"Claims {actor.name} makes ({len(made)})" in page
        mine = links[links["actor"] == actor.id]
        assert f"takes part in ({mine['event'].nunique()})" in page
        said = citations[citations["claimant"] == actor.id]
        assert page.count('<figure class="claim">') == len(said)
        assert f"Claims about {actor.name} ({len(targets[targets['actor'] == actor.id])}), by date</h2>" in page
        for cid in said["id"]:
            assert f'href="../sources/{citations.set_index("id").loc[cid, "source"]}.html#{cid}"' in page
    aliyev = (site / "actors" / "ilham-aliyev.html").read_text("utf-8")
    section = aliyev.split('<h2 id="made">', 1)[1].split("</section>", 1)[0]
    mine = claims[claims["claimant"] == "ilham-aliyev"].sort_values(["date_start", "id"], na_position="last")
    shown = re.findall(r'href="../claims/([^"]+)\.html"', section)
    assert shown == list(mine["id"])  # by date: the first day each claim covers, then its id
    assert '<abbr class="term" title="Carried out the action, as the source presents it.">agent</abbr>' in aliyev


def test_place_page(site: Path) -> None:
    """A place's page: the events there by date, the figures and claims about it, its parent and the places within."""
    places = kdata.load("places", package=DIST)
    events = kdata.load("events", package=DIST)
    figures = kdata.load("figures", package=DIST)
    about = kdata.load("claim_places", package=DIST)
    for place in places.itertuples():
        page = html.unescape((site / "places" / f"{place.id}.html").read_text("utf-8"))
        assert f"Events at {place.name} ({int((events['place'] == place.id).sum())}), by date</h2>" in page
        assert f"Figures about {place.name} ({int((figures['place'] == place.id).sum())})</h2>" in page
        assert f"Claims about {place.name} ({int((about['place'] == place.id).sum())}), by date</h2>" in page
        if isinstance(place.parent, str):
            assert f'<a class="id" href="../places/{place.parent}.html"><code>{place.parent}</code></a>' in page
        for child in places[places["parent"] == place.id]["id"]:
            assert f'href="../places/{child}.html"' in page
    assert (places["parent"] == "kalbajar-district").sum() > 0  # the data has places within places


def test_dates_read_in_words_at_their_precision(site: Path) -> None:
    """A one-day event reads as one day; a month, a year and a range read as such; an open end says so."""
    cases = {
        "1993-04-02": "2 April 1993",
        "1993-04": "April 1993",
        "1993": "1993",
        "1993~": "about 1993",
        "1993-04?": "possibly April 1993",
        "2023-09-19/2023-09-20": "19\u201320 September 2023",
        "2020-04-02/2020-05-03": "2 April to 3 May 2020",
        "2003/2025-08-21": "2003 to 21 August 2025",
        "1992-05/1993-04": "May 1992 to April 1993",
        "2025-08-21/..": "from 21 August 2025 (the sources give no end)",
        "../2020-04-02": "until 2 April 2020 (the sources give no start)",
        "2020-11-10/2020-11-10": "10 November 2020",
    }
    assert {edtf: reads(edtf) for edtf in cases} == cases
    events = kdata.load_table("events", package=DIST).to_pylist()
    for event in events:
        page = (site / "events" / f"{event['id']}.html").read_text("utf-8")
        assert f">{reads_html(event['date'])}</" in page  # the words of ``reads``, each date kept on one line
        assert " : " not in page.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    one_day = next(e for e in events if "/" not in e["date"] and e["date_precision"] == "day")
    page = (site / "events" / f"{one_day['id']}.html").read_text("utf-8")
    assert f'<time class="when" datetime="{one_day["date"]}">{reads_html(one_day["date"])}</time>' in page


def test_tables_read_well(site: Path) -> None:
    """Numbers carry thousands separators and sort by value; dates stay on one line; terms have their meaning."""
    page = (site / "tables" / "figures.html").read_text("utf-8")
    big = max(f["low"] or f["value"] or 0 for f in kdata.load_table("figures", package=DIST).to_pylist())
    assert big >= 1_000_000 and f'data-sort="{big}">{big:,}</td>' in page
    assert '<th data-type="text" scope="col" class="date"><button type="button">as_of</button></th>' in page
    for resource in kdata.metadata(DIST)["resources"]:  # every pattern of the schemas in words, no regex shown
        if resource["format"] == "csv":
            assert "pattern ^" not in (site / "tables" / f"{resource['name']}.html").read_text("utf-8")
    events = (site / "tables" / "events.html").read_text("utf-8")
    assert (
        f'<span class="constraint">one of the {len(vocab.EVENT_KINDS)} terms listed with their meanings</span>'
        in events
    )
    assert "an id: lowercase letters and digits, in words joined by single hyphens" in events
    assert '<td class="date">2020-11-25</td>' in events and '<td class="long">' in events
    assert '<abbr class="term" title="Control of a place was handed over under an agreement.">handover</abbr>' in events


# --- In a real browser: axe-core, keyboard, small screens, screenshots -------------------------------------

#: One page of each type: (name, path inside the site).
PAGE_TYPES = [
    ("index", "index.html"),
    ("datasheet", "datasheet.html"),
    ("disagreements", "disagreements.html"),
    ("table", "tables/events.html"),
    ("event", "events/kalbajar-handover-2020.html"),
    ("figure", "figures/kalbajar-displaced-1993-newsaz.html"),
    ("claim", "claims/aliyev-2020-11-25-congratulates-people.html"),
    ("source", "sources/newsaz-2020-04-02-mfa-statement.html"),
    ("actor", "actors/mfa-azerbaijan.html"),
    ("place", "places/kalbajar-district.html"),
    ("topic", "topics/war-2020-end.html"),
    ("topics", "topics.html"),
]
#: Serious violations known on a page type, (rule, why): the test expects exactly these and fails once they are gone
#: (remove the entry then). Everything else on the page is checked as on any other.
KNOWN_VIOLATIONS: dict[str, tuple[str, str]] = {}


@pytest.fixture(scope="module")
def axe_figures() -> Iterator[dict[str, dict[str, int]]]:
    """Violations by impact per page type, written to test-artifacts/axe.json when the module ends."""
    found: dict[str, dict[str, int]] = {}
    yield found
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe.json").write_text(json.dumps(found, indent=2, sort_keys=True) + "\n", "utf-8")


@pytest.mark.parametrize(("kind", "path"), PAGE_TYPES, ids=[kind for kind, _ in PAGE_TYPES])
def test_page_type_in_the_browser(
    site: Path, tab: Watched, axe_figures: dict[str, dict[str, int]], kind: str, path: str
) -> None:
    """axe-core reports no serious or critical violation; at 375 px the page does not scroll sideways; no request
    leaves file:// and no script error; the page is saved at 1280 and 375 px into test-artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = tab.page
    for width, height, name in ((375, 812, "mobile"), (1280, 900, "desktop")):  # mobile first: axe may fail last
        page.set_viewport_size({"width": width, "height": height})
        page.goto((site / path).as_uri())  # loaded at each width, as a reader's browser would
        page.screenshot(path=str(ARTIFACTS / f"page-{kind}-{name}.png"))
        if kind == "table":  # and its rows: column widths, numbers, dates
            page.locator("#rows").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"page-table-rows-{name}.png"))
        if name == "mobile":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls {overflow} px sideways at {width} px"
            continue
        if not AXE.is_file():  # the screenshots and the 375 px check ran; the accessibility check cannot
            pytest.skip(
                f"axe-core is not installed: .ci/run installs it (npm package into .ci/npm) or set KDATA_AXE; {AXE}"
            )
        page.add_script_tag(path=str(AXE))  # from node_modules, at test time
        violations = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations'], preload: false})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
            " target: v.nodes[0].target.join(' ')}))"
        )
        counts: dict[str, int] = {}
        for v in violations:
            counts[v["impact"]] = counts.get(v["impact"], 0) + v["nodes"]
        axe_figures[kind] = counts
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        if kind in KNOWN_VIOLATIONS:
            rule, why = KNOWN_VIOLATIONS[kind]
            assert [v["id"] for v in serious] == [rule], f"{path}: {serious} (fixed? remove it from KNOWN_VIOLATIONS)"
            pytest.xfail(f"axe {rule} (serious): {why}")
        assert serious == [], f"{path}: {serious}"
    assert tab.errors == [] and all(url.startswith("file://") for url in tab.requests), (tab.errors, tab.requests)


#: The narrowest phone screen the site is checked on (px): 320, as a small phone; the common 375 and 414 are wider.
PHONE = 320
#: The narrowest a vocabulary term's meaning may be in the data dictionary on a phone (px): a readable line.
MEANING_MIN = 150


#: In the page, for each text of a list: write it as the page's document (as ``page.set_content`` does), wait for its
#: stylesheet and scripts, open every "terms and their meanings" list, and measure.
_FITS = """async texts => {
  const found = [];
  for (const text of texts) {
    document.open();
    document.write(text);
    document.close();
    const start = Date.now();  // loaded: its stylesheet and scripts (a page never loaded in 20 s fails as unstyled)
    while (document.readyState !== "complete" && Date.now() - start < 20000) await new Promise(done => setTimeout(done, 2));
    document.querySelectorAll("details.terms").forEach(d => d.open = true);
    found.push([document.readyState === "complete" && getComputedStyle(document.body).marginTop === "0px",
      [...document.querySelectorAll("details.terms dd")].map(dd => dd.getBoundingClientRect().width),
      document.documentElement.scrollWidth - window.innerWidth]);
  }
  return found;
}"""


def test_every_page_fits_a_phone_screen(site: Path, tab: Watched) -> None:
    """No page of the site scrolls sideways on a 320 px phone, and the dictionary's meanings keep a readable width.

    Every file, in one browser page; on table pages every "terms and their meanings" list is opened first. The page
    navigates once into each folder and then writes each file's text there as its document (what ``set_content``
    does, in one script for the whole folder rather than a call per file: a document written so keeps the folder's
    address, so the file's relative stylesheet and scripts load as on a visit; a navigation between ``file://`` pages
    starts a new renderer each time, a quarter of a second per page). Each page is checked to have its stylesheet
    applied (style.css sets the body's margin to 0, a browser's default is 8 px), so a page that lost its style
    cannot pass; a script error on any page fails the test (``Watched.check``).
    """
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 400
    page = tab.page
    page.set_viewport_size({"width": PHONE, "height": 812})
    wide, narrow, unstyled = {}, {}, []
    for _, files in itertools.groupby(pages, key=lambda file: file.parent):
        files = list(files)
        page.goto(files[0].as_uri(), wait_until="load")
        measured = page.evaluate(_FITS, [file.read_text("utf-8") for file in files])
        for file, (styled, widths, overflow) in zip(files, measured, strict=True):
            name = str(file.relative_to(site))
            if not styled:
                unstyled.append(name)
            if overflow > 0:
                wide[name] = overflow
            if widths and min(widths) < MEANING_MIN:
                narrow[name] = round(min(widths))
    assert unstyled == [], f"pages whose stylesheet did not load: {unstyled}"
    assert wide == {}, f"{len(wide)} of {len(pages)} pages scroll sideways at {PHONE} px (px): {wide}"
    assert narrow == {}, f"meanings narrower than {MEANING_MIN} px at {PHONE} px: {narrow}"


@pytest.mark.parametrize(
    ("edtf", "dates"),
    [
        ("2025-08-21?/..", ["possibly 21 August 2025"]),
        ("../2025-08-21", ["21 August 2025"]),
        ("2020-11-25/2022-11-25", ["25 November 2020", "25 November 2022"]),
        ("2023-09-19/2023-09-20", ["19\u201320 September 2023"]),
        ("2023-09-19/2023-10-02", ["19 September", "2 October 2023"]),
        ("1993-04-02", ["2 April 1993"]),
        ("1993~", ["about 1993"]),
        ("2003/2025-08-21", ["2003", "21 August 2025"]),
    ],
)
def test_each_date_of_a_date_phrase_stays_on_one_line(edtf: str, dates: list[str]) -> None:
    """The site's dates: the same words as ``reads``, each date in a span kept on one line, the words between free."""
    from markupsafe import Markup

    shown = reads_html(edtf)
    assert isinstance(shown, Markup)
    assert re.findall(r'<span class="nobr">([^<]*)</span>', shown) == dates
    assert html.unescape(re.sub(r"<[^>]+>", "", shown)) == reads(edtf)
    outside = re.sub(r'<span class="nobr">[^<]*</span>', "", shown)
    assert "<" not in outside  # nothing else is markup


def test_keyboard_reaches_the_content(site: Path, tab: Watched) -> None:
    """The first Tab shows the skip link, Enter moves to the content; a focused link has a visible outline."""
    page = tab.page
    page.goto((site / "actors" / "mfa-azerbaijan.html").as_uri())
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert skip.evaluate("e => e === document.activeElement") and skip.is_visible()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0  # moved into view when focused
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.keyboard.press("Tab")  # the first link of the content
    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {inMain: !!e.closest('main'), tag: e.tagName, outline: s.outlineStyle, width: s.outlineWidth}; }"
    )
    assert focused["inMain"] and focused["tag"] == "A", focused
    assert focused["outline"] != "none" and focused["width"] != "0px", focused
