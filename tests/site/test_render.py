"""The static site: its pages, links, escaping and timeline; then the real site in headless Chromium.

Browser tests drive Debian's ``chromium`` through Playwright (no browser download).
Locally they skip, saying why, when Chromium or Playwright is missing; in CI
(``KDATA_REQUIRE_ALL=1``, see conftest) a skip fails the run, so a green CI always includes them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from conftest import ARTIFACTS, GOOD, REPO, Watched
from inprocess import run_kdata_here
from markupsafe import escape
from wording import LOADED, QUOTED

import kdata
from kdata.datapackage.build import build
from kdata.errors import UsageError
from kdata.fs import MADE
from kdata.records import vocab
from kdata.site.render import OWNERS, breakable, build_site, reading

DIST = REPO / "dist"
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'


@pytest.fixture
def site(dist_site: Path) -> Path:
    """The site of the repository's built package (one per test process, see conftest)."""
    return dist_site


@pytest.fixture(scope="module")
def hostile_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small built package (the test project's) whose records hold HTML and script in their text."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(GOOD / "raw", root / "raw")
    event = root / "raw" / "events" / "riverton-return-2020.yaml"
    text = event.read_text("utf-8")
    text = text.replace("title: Residents returned to Riverton", f"title: 'Residents returned {HOSTILE}'")
    text = text.replace("quote: about 1,200", f"quote: 'Quoted {HOSTILE} about 1,200")
    text = text.replace("returned to Riverton on 2 March 2020", "returned to Riverton on 2 March 2020'")
    event.write_text(text, "utf-8")
    archived = root / "raw" / "sources" / "test-wire-2020-05-01.txt"  # the hostile quote must stand in its text
    before = hashlib.sha256(archived.read_bytes()).hexdigest()
    archived.write_text(
        archived.read_text("utf-8").replace("said that about", f"said that Quoted {HOSTILE} about"), "utf-8"
    )
    source = root / "raw" / "sources" / "test-wire-2020-05-01.yaml"
    after = hashlib.sha256(archived.read_bytes()).hexdigest()
    source.write_text(source.read_text("utf-8").replace(before, after), "utf-8")
    figure = root / "raw" / "figures" / "riverton-returnees-other.yaml"
    figure.write_text(figure.read_text("utf-8").replace("stated_as: up to 1,500", f"stated_as: 'up to {HOSTILE}'"))
    withdrawn = root / "raw" / "figures" / "riverton-returnees-council.yaml"  # a tombstone: left out of the site
    withdrawn.write_text(withdrawn.read_text("utf-8") + "retracted:\n  reason: Misread the source.\n  version: 0.2.0\n")
    claim = root / "raw" / "claims" / "town-council-says-residents-returned.yaml"
    text = claim.read_text("utf-8").replace(
        "summary: The town council says", f"summary: 'The town council {HOSTILE} says"
    )
    text = text.replace("2 March 2020.\ntargets", "2 March 2020.'\ntargets")
    text = text.replace("quote: The council said that about", f"quote: 'The council said that Quoted {HOSTILE} about")
    claim.write_text(text.replace("2 March 2020.\n    locator", "2 March 2020.'\n    locator"), "utf-8")
    build(root / "raw", root / "dist", root / "schemas")
    assert any(HOSTILE in title for title in kdata.load("events", package=root / "dist")["title"])
    return root / "dist"


@pytest.fixture(scope="module")
def hostile_site(hostile_package: Path) -> Path:
    """The site of ``hostile_package``."""
    build_site(hostile_package.parent / "site", hostile_package)
    return hostile_package.parent / "site"


def _pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


class _Text(HTMLParser):
    """Collects a page's links and its text outside quotations (<q>, <blockquote>)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.outside: list[str] = []
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.depth += tag in ("q", "blockquote")
        self.links += [(tag, value) for name, value in attrs if name in ("href", "src") and value is not None]

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag in ("q", "blockquote")

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.outside.append(data)


@functools.cache  # the pages are read by two tests; a site is never written again
def _parse(page: Path) -> _Text:
    parser = _Text()
    parser.feed(page.read_text("utf-8"))
    return parser


def test_every_page_is_written(site: Path) -> None:
    """Front page, datasheet, disagreements, one page per table, event and figure, and the static files."""
    events, figures = kdata.load("events", package=DIST), kdata.load("figures", package=DIST)
    names = kdata.resources(DIST)
    expected = {"index.html", "datasheet.html", "disagreements.html"}
    expected |= {f"tables/{n}.html" for n in names}
    expected |= {f"events/{i}.html" for i in events["id"]} | {f"figures/{i}.html" for i in figures["id"]}
    expected |= {f"sources/{i}.html" for i in kdata.load("sources", package=DIST)["id"]}
    expected |= {f"claims/{i}.html" for i in kdata.load("claims", package=DIST)["id"]}
    expected |= {f"{t}/{i}.html" for t in ("actors", "places") for i in kdata.load(t, package=DIST)["id"]}
    topics = {t for n in ("events", "figures", "claims") for t in kdata.load(n, package=DIST)["topic"].dropna()}
    expected |= {f"topics/{t}.html" for t in topics} | {"topics.html"}
    assert {p.relative_to(site).as_posix() for p in _pages(site)} == expected
    assert (site / "static" / "style.css").is_file() and (site / "static" / "site.js").is_file()
    front = (site / "index.html").read_text("utf-8")
    meta = kdata.metadata(DIST)
    assert meta["version"] in front and "CC-BY-4.0" in front and "How to cite" in front
    for name in names:  # counts as kdata.load gives them (withdrawn records left out)
        assert (
            f'<span class="n">{len(kdata.load(name, package=DIST)):,}</span> <span class="name">{breakable(name)}</span>'
            in front
        )


def test_links_stay_inside_the_site(site: Path) -> None:
    """Every stylesheet, script and image is a file of the site; every relative link resolves."""
    for page in _pages(site):
        for tag, link in _parse(page).links:
            if tag == "a" and link.startswith(("https://", "http://")):
                continue  # a link the reader may follow, never loaded by the page
            assert not re.match(r"^[a-z]+:|^//", link), f"{page.name}: {tag} loads {link}"
            target = (page.parent / link.split("#")[0]).resolve()
            assert target.is_file() or link.startswith("#"), f"{page.relative_to(site)}: broken link {link}"


def test_loaded_terms_appear_only_inside_quotes(site: Path) -> None:
    """Outside <q> and <blockquote> (and quotation marks in notes), no page uses a loaded term."""
    found = []
    for page in _pages(site):
        text = QUOTED.sub('""', " ".join(_parse(page).outside))
        found += [f"{page.relative_to(site)}: {m.group()}" for m in LOADED.finditer(text)]
    assert found == []


def test_event_page_shows_every_claim(site: Path) -> None:
    """Each citation of an event is on its page: quote, claimant name and source."""
    citations = kdata.load("citations", package=DIST)
    mine = citations[citations["event"] == "kalbajar-handover-2020"]
    page = (site / "events" / "kalbajar-handover-2020.html").read_text("utf-8")
    assert page.count('<blockquote class="verbatim">') == len(mine) > 1
    for quote in mine["quote"]:
        assert quote.replace('"', "&#34;").replace("'", "&#39;") in page
    assert "Claimed by <strong" in page and "Ilham Aliyev" in page


def test_figure_page_keeps_the_hedge(site: Path) -> None:
    """A figure shows its number as the source wrote it, and how kdata reads it."""
    page = (site / "figures" / "kalbajar-displaced-1993-newsaz.html").read_text("utf-8")
    assert '<q class="verbatim">up to 60.000</q>' in page
    assert "at most 60,000 people" in page and "at_most" in page
    section = page.split('<h2 id="conflicts">', 1)[1]  # the disagreements it takes part in, the other side linked
    assert section.count('<article class="disagreement" data-kind="translation"') == 2
    assert '<a href="../figures/kalbajar-displaced-1993-azernews.html">' in section and "Azernews" in section
    assert reading({"qualifier": "range", "low": 5, "high": 6, "unit": "months"}) == "5 to 6 months"


def test_source_page_lists_every_passage_in_document_order(site: Path) -> None:
    """A source's page: its metadata, then each passage quoted from it by offset, with paragraph, record and claimant."""
    citations = kdata.load_table("citations", package=DIST).to_pylist()
    sources = kdata.load_table("sources", package=DIST).to_pylist()
    assert len(sources) == 5
    for source in sources:
        page = (site / "sources" / f"{source['id']}.html").read_text("utf-8")
        assert source["sha256"] in page and f"<code>{source['language']}</code>" in page
        mine = sorted((c for c in citations if c["source"] == source["id"]), key=lambda c: (c["anchor_start"], c["id"]))
        assert mine and page.count('<figure class="passage"') == len(mine)
        ids = re.findall(r'<figure class="passage" id="([^"]+)">', page)
        assert ids == [c["id"] for c in mine]  # document order: by the offset of the quote in the archived text
        starts = [c["anchor_start"] for c in mine]
        assert starts == sorted(starts)
        for c, block in zip(mine, page.split('<figure class="passage"')[1:], strict=True):
            assert f"Paragraph {c['anchor_paragraph']}</span>" in block
            table, record = next((t, c[column]) for t, column in OWNERS.items() if c[column] is not None)
            assert f'href="../{table}/{record}.html"' in block
            assert re.search(rf"supports the {table.removesuffix('s')}\s", block)  # a claim's passage is no figure's
            claimant = kdata.load("actors", package=DIST).set_index("id").loc[c["claimant"], "name"]
            assert (
                f'<strong class="claimant"><a href="../actors/{c["claimant"]}.html">{escape(claimant)}</a></strong>'
                in block
            )
            assert f"<mark>{escape(c['anchor_exact'])}</mark>" in block
    speech = (site / "sources" / "newsaz-2020-04-02-mfa-statement.html").read_text("utf-8")
    assert '<a class="url" href="https://news.az/articles/politics/147105"' in speech


def test_source_ids_link_to_their_pages(site: Path) -> None:
    """Each claim links its source's page at the passage; the sources and citations tables link the ids too."""
    event = (site / "events" / "kalbajar-handover-2020.html").read_text("utf-8")
    citations = kdata.load("citations", package=DIST)
    for cid, source in citations[citations["event"] == "kalbajar-handover-2020"][["id", "source"]].itertuples(
        index=False
    ):
        assert f'href="../sources/{source}.html#{cid}"' in event
        assert f'id="{cid}"' in (site / "sources" / f"{source}.html").read_text("utf-8")
    for table in ("sources", "citations"):
        page = (site / "tables" / f"{table}.html").read_text("utf-8")
        assert 'href="../sources/newsaz-2025-08-21-kalbajar-speech.html"' in page
    sheet = (site / "datasheet.html").read_text("utf-8")
    assert sheet.count('<a class="source" href="sources/') == 5


def test_disagreements_and_datasheet(site: Path) -> None:
    """The disagreements page shows every disagreement by topic with its sides; the datasheet has the seven sections."""
    page = (site / "disagreements.html").read_text("utf-8")
    assert page.count('<article class="disagreement"') == len(kdata.load("disagreements", package=DIST))
    sides = kdata.load("disagreement_sides", package=DIST)
    assert page.count('<li class="side">') == len(sides.drop_duplicates(["topic", "table", "aspect", "side"]))
    assert page.count('<strong class="claimant">') == len(sides)
    assert '<q class="verbatim">about 60,000</q>' in page and '<q class="verbatim">up to 60.000</q>' in page
    assert '<code class="edtf">2020-11-09</code>' in page  # a date is shown as a date, not as a quotation
    sheet = (site / "datasheet.html").read_text("utf-8")
    for section in ("Motivation", "Composition", "Collection process", "Preprocessing", "Uses", "Distribution"):
        assert f"<h2>{section}" in sheet
    assert "<h2>Maintenance</h2>" in sheet and "CONTRIBUTING.md" in sheet


def test_data_dictionary_gives_every_vocabulary_term_its_meaning(site: Path) -> None:
    """Each table page lists, under every vocabulary field, each term with its meaning (from the categories)."""
    import html

    from kdata.datapackage.schemas import MEANING

    checked = 0
    for resource in kdata.metadata(DIST)["resources"]:
        if resource["format"] != "csv":
            continue
        page = html.unescape((site / "tables" / f"{resource['name']}.html").read_text("utf-8"))
        for field in resource["schema"]["fields"]:
            for category in field.get("categories", []):
                assert f"<dt><code>{category['value']}</code></dt><dd>{category[MEANING]}</dd>" in page, category
                checked += 1
    assert checked >= sum(len(v) for v in (vocab.EVENT_KINDS, vocab.MEASURES, vocab.PLACE_KINDS))


def test_withdrawn_records_are_left_out(hostile_site: Path) -> None:
    """A tombstone gets no page, and nothing links to a page that does not exist."""
    assert not (hostile_site / "figures" / "riverton-returnees-council.html").exists()
    assert (hostile_site / "figures" / "riverton-returnees-other.html").is_file()
    test_links_stay_inside_the_site(hostile_site)


def test_hostile_text_is_escaped(hostile_site: Path) -> None:
    """A record holding HTML is shown as text: no tag from the data reaches any page."""
    pages = "".join(p.read_text("utf-8") for p in _pages(hostile_site))
    assert "<script>alert" not in pages and "<img" not in pages and "onerror=alert(1)>" not in pages
    event = (hostile_site / "events" / "riverton-return-2020.html").read_text("utf-8")
    assert (
        "Residents returned &lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in event
    )
    assert "Quoted &lt;script&gt;" in event
    assert "up to &lt;script&gt;" in (hostile_site / "figures" / "riverton-returnees-other.html").read_text("utf-8")
    assert "&lt;script&gt;" in (hostile_site / "tables" / "events.html").read_text("utf-8")
    claim = (hostile_site / "claims" / "town-council-says-residents-returned.html").read_text("utf-8")
    assert "The town council &lt;script&gt;" in claim and "The town council &lt;script&gt;" in event


def test_claim_page_and_the_claims_on_each_event_and_figure_page(hostile_site: Path) -> None:
    """A claim's page names its claimant, kind (with its meaning), targets, the records it concerns and its
    citations; each event and figure it concerns lists it with a link back; a withdrawn figure stays unlinked."""
    claim_id = "town-council-says-residents-returned"
    page = (hostile_site / "claims" / f"{claim_id}.html").read_text("utf-8")
    assert "Town Council" in page and "council of Riverton" in page and "assertion" in page
    assert "States as fact what happened" in page  # the kind's meaning, from the vocabulary
    assert '<a href="../actors/riverton-residents.html">residents</a>' in page  # a target, linked
    assert '<a class="id" href="../places/riverton.html"><code>riverton</code></a>' in page
    assert 'href="../events/riverton-return-2020.html"' in page
    assert "riverton-returnees-council" in page and "../figures/riverton-returnees-council.html" not in page
    assert page.count('<blockquote class="verbatim">') == 1 and "Claimed by <strong" in page
    event = (hostile_site / "events" / "riverton-return-2020.html").read_text("utf-8")
    assert "Attributed claims about this event (1)" in event and f'href="../claims/{claim_id}.html"' in event
    assert "Attributed claims" not in (hostile_site / "events" / "riverton-bridge-opened.html").read_text("utf-8")
    table = (hostile_site / "tables" / "claim_events.html").read_text("utf-8")
    assert f'href="../claims/{claim_id}.html"' in table and 'href="../events/riverton-return-2020.html"' in table


def test_site_command(tmp_path: Path, hostile_package: Path) -> None:
    """`kdata site OUT --package PACKAGE` writes the site; it replaces an old site, and never a file it did not write.

    The package is a small one (the repository's is rendered in ``dist_site``): the command is what is tested.
    """
    out = tmp_path / "public"
    result = run_kdata_here("site", out, "--package", hostile_package, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "index.html" in result.stdout and (out / MADE).is_file()
    assert (
        run_kdata_here("site", out, "--package", hostile_package, cwd=tmp_path).returncode == 0
    )  # its own site: replaced
    (out / "events" / "stale.html").write_text("mine")
    kept = run_kdata_here("site", out, "--package", hostile_package, cwd=tmp_path)
    assert kept.returncode == 2 and "events/stale.html" in kept.stderr
    assert (out / "events" / "stale.html").read_text() == "mine"
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep")
    refused = run_kdata_here("site", other, "--package", hostile_package, cwd=tmp_path)
    assert refused.returncode == 2 and "was not written by kdata" in refused.stderr
    assert (other / "mine.txt").read_text() == "keep"
    with pytest.raises(UsageError):
        build_site(tmp_path / "x", tmp_path / "no-package")


# --- In a real browser -------------------------------------------------------------------------


def test_front_page_in_the_browser(site: Path, tab: Watched) -> None:
    """The front page opens from file://, shows the timeline, and is saved as a screenshot."""
    page = tab.page
    page.goto((site / "index.html").as_uri())
    assert page.locator("h1").inner_text().startswith("Kalbajar")
    assert page.locator("#timeline li.tl-row").count() == len(kdata.load("events", package=DIST))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "site-front.png"), full_page=True)
    if os.environ.get("KDATA_UPDATE_SCREENSHOT"):  # refresh the README's picture on purpose only
        page.screenshot(path=str(REPO / "docs" / "site-front.png"), full_page=True)


def test_click_an_event_on_the_timeline(site: Path, tab: Watched) -> None:
    """Clicking a mark opens the event's page with every quote about it."""
    page = tab.page
    page.goto((site / "index.html").as_uri())
    page.locator('#timeline a[data-event="kalbajar-handover-2020"]').click()
    page.wait_for_url("**/events/kalbajar-handover-2020.html")
    citations = kdata.load("citations", package=DIST)
    quotes = list(citations[citations["event"] == "kalbajar-handover-2020"]["quote"])
    shown = page.locator("blockquote.verbatim").all_inner_texts()
    assert [q.strip("\u201c\u201d") for q in shown] == quotes
    assert page.locator("figure.claim figcaption").first.is_visible()


def test_filter_and_sort_a_table(site: Path, tab: Watched) -> None:
    """Typing in the filter hides rows that do not match; a header click sorts the rows."""
    page = tab.page
    page.goto((site / "tables" / "events.html").as_uri())
    rows = page.locator("#rows-table tbody tr:visible")
    events = kdata.load_table("events", package=DIST).to_pylist()
    assert rows.count() == len(events)  # every event of the package, however many the data holds
    page.locator("input[data-filter]").fill("handover")
    expected = sum("handover" in " ".join(str(v) for v in row.values() if v is not None).lower() for row in events)
    assert 0 < rows.count() == expected < len(events)
    assert page.locator("[data-count-for]").inner_text() == f"{expected} of {len(events)} rows"
    page.locator("input[data-filter]").fill("")
    page.locator("th button", has_text="date_end").click()
    page.locator("th button", has_text="date_end").click()  # descending: the latest first
    latest = max(row["date_end"] for row in events if row["date_end"] is not None).isoformat()
    ends = page.locator("#rows-table tbody tr td:nth-child(7)").all_inner_texts()
    # an open end ('2025-08-21/..') is an empty cell: the latest day comes first, the open ends sort last
    filled = [e for e in ends if e]
    assert ends[0] == latest and filled == sorted(filled, reverse=True)
    assert ends == filled + [""] * (len(ends) - len(filled))


def test_from_a_claim_to_its_passage_in_the_source(site: Path, tab: Watched) -> None:
    """Clicking a claim's source opens the source's page at that passage, shown with its paragraph and record."""
    page = tab.page
    page.goto((site / "events" / "kalbajar-handover-2020.html").as_uri())
    claim = page.locator("figure.claim").first
    cid = claim.locator(".cid").inner_text()
    link = claim.locator("a.source").bounding_box()
    assert link is not None
    with page.expect_navigation():  # the mouse where the link is drawn (locator.click lands beside a link of one <q>)
        page.mouse.click(link["x"] + link["width"] / 2, link["y"] + link["height"] / 2)
    assert re.search(r"/sources/[a-z0-9-]+\.html#" + re.escape(cid) + "$", page.url), page.url
    passage = page.locator(f'figure.passage[id="{cid}"]')
    assert passage.is_visible() and passage.evaluate("e => e.matches(':target')")
    row = next(c for c in kdata.load_table("citations", package=DIST).to_pylist() if c["id"] == cid)
    assert passage.locator("mark").inner_text() == " ".join(row["anchor_exact"].split())
    assert passage.locator(".paragraph").inner_text() == f"Paragraph {row['anchor_paragraph']}"
    box = passage.bounding_box()
    assert box is not None and 0 <= box["y"] < 900  # scrolled into view
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "site-source.png"), full_page=False)
    passage.locator("a.supports").click()
    page.wait_for_url("**/events/kalbajar-handover-2020.html")


def test_hostile_record_in_the_browser(hostile_site: Path, tab: Watched) -> None:
    """The hostile text is shown literally; no script runs and no dialog opens."""
    page = tab.page
    page.goto((hostile_site / "events" / "riverton-return-2020.html").as_uri())
    assert HOSTILE in page.locator("h1").inner_text()
    assert HOSTILE in page.locator("blockquote.verbatim").first.inner_text()
    page.goto((hostile_site / "tables" / "citations.html").as_uri())
    page.locator("input[data-filter]").fill("onerror")
    assert page.locator("#rows-table tbody tr:visible").count() == 2  # the event's citation and the claim's
    assert page.locator("img").count() == 0
    page.goto((hostile_site / "claims" / "town-council-says-residents-returned.html").as_uri())
    assert HOSTILE in page.locator("h1").inner_text() and page.locator("img").count() == 0


def test_disagreements_in_the_browser(site: Path, tab: Watched, plain_tab: Watched) -> None:
    """A disagreement names both claimants; the kind filter hides and shows by keyboard; every link, as the browser
    resolves it, names a page of the site with one heading (one link of each folder followed in the browser)."""
    page = tab.page
    page.goto((site / "disagreements.html").as_uri())
    table = kdata.load("disagreements", package=DIST)
    articles = page.locator("article.disagreement")
    assert articles.count() == len(table)
    end = page.locator("article#war-2020-end--events--date")
    assert end.locator(".kind").inner_text() == "date"
    assert end.locator("li.side p.value code").all_inner_texts() == ["2020-11-09", "2020-11-10"]
    assert end.locator("strong.claimant").all_inner_texts() == ["APA", "Ilham Aliyev"]
    assert "25 November 2022" in end.inner_text() and "News.Az" in end.inner_text()
    translations = int((table["kind"] == "translation").sum())
    assert 0 < translations < len(table)
    box = page.locator("fieldset.kind-filter input[value=translation]")
    assert box.is_visible() and box.is_checked()
    box.focus()
    page.keyboard.press("Space")  # untick by keyboard
    assert page.locator("article.disagreement:visible").count() == len(table) - translations
    assert page.locator("article[data-kind=translation]:visible").count() == 0
    shown_topics = table[table["kind"] != "translation"]["topic"].nunique()
    assert 0 < shown_topics < table["topic"].nunique()  # the topics counted are those shown
    assert page.locator("[data-count-for]").inner_text() == (
        f"{len(table) - translations} of {len(table)} disagreements on {shown_topics} topics"
    )
    for kind in ("translation", "wording"):  # wording hidden: the topics of the rest counted
        page.locator(f"fieldset.kind-filter input[value={kind}]").set_checked(kind == "translation")
    no_wording = table[table["kind"] != "wording"]
    assert page.locator("[data-count-for]").inner_text() == (
        f"{len(no_wording)} of {len(table)} disagreements on {no_wording['topic'].nunique()} topic"
        + ("s" if no_wording["topic"].nunique() != 1 else "")
    )
    page.locator("fieldset.kind-filter input[value=wording]").check()
    assert page.locator("article.disagreement:visible").count() == len(table)
    assert page.locator("[data-count-for]").inner_text() == (
        f"{len(table)} of {len(table)} disagreements on {table['topic'].nunique()} topics"
    )
    topics = articles.evaluate_all("items => items.map(a => a.getAttribute('data-topic'))")
    assert topics == sorted(topics, key=topics.index)  # grouped by topic: a topic's disagreements stand together
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "site-disagreements.png"), full_page=True)
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.href)")  # as the browser resolves
    links = sorted({link.split("#")[0] for link in hrefs})  # each page once (anchors: test_pages.py)
    assert any("/events/" in link for link in links) and any("/figures/" in link for link in links)
    for link in links:  # each a page of the site with one heading
        target = Path(url2pathname(urlsplit(link).path))
        assert link.startswith("file://") and target.is_file(), link
        assert target.read_text("utf-8").count("<h1") == 1, link
    for link in {link.rsplit("/", 1)[0]: link for link in links}.values():  # one of each folder followed for real
        response = page.goto(link)
        assert response is not None and response.ok, link
        assert page.locator("h1").count() == 1, link
    still = plain_tab.page  # no script: all shown, and no control that would do nothing
    still.goto((site / "disagreements.html").as_uri())
    assert still.locator("article.disagreement:visible").count() == len(table)
    assert not still.locator("fieldset.kind-filter").is_visible()


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>x</b>", "vbscript:x", "file:///etc/passwd"]
)
def test_the_templates_link_filter_never_writes_another_scheme(url: str) -> None:
    """Jinja2's autoescaping would write these into an href as they are; the ``href`` filter writes ``#``."""
    from kdata.site.render import _environment

    page = _environment().from_string('<a href="{{ (url) | href }}">x</a>').render(url=url)
    assert page == '<a href="#">x</a>'
    page = _environment().from_string('<a href="{{ (url) | href }}">x</a>').render(url="https://example.org/?a=1&b=2")
    assert page == '<a href="https://example.org/?a=1&amp;b=2">x</a>'


def test_hostile_text_in_the_search_and_the_timeline(hostile_site: Path, tab: Watched) -> None:
    """A record holding HTML is found by the search and labelled on the timeline as text: no tag, no script."""
    index = (hostile_site / "static" / "search-index.js").read_text("utf-8")
    assert "<" not in index and "\\u003cscript>alert(1)\\u003c/script>" in index
    page = tab.page
    page.goto((hostile_site / "index.html").as_uri())
    page.locator("#search-input").fill("onerror")
    titles = page.locator("#search-results li a").all_inner_texts()
    assert f"Residents returned {HOSTILE}" in titles
    assert any(HOSTILE in title for title in page.locator("#timeline .tl-title").all_inner_texts())
    assert page.locator("img").count() == 0


#: Ids with pages in the stand-in lookup of ``test_ids_in_our_text_become_links``.
_PAGED = {"war-2020-end": "topics/war-2020-end.html", "armenians": "actors/armenians.html", "x1": "events/x1.html"}


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("(topic war-2020-end)", ["war-2020-end"]),
        ("the figure war-2020-end.", ["war-2020-end"]),
        ("war-2020-end, armenians; x1", ["war-2020-end", "armenians", "x1"]),
        ("their own claims target armenians)", ["armenians"]),
        ('names "war-2020-end" in its words', []),  # a quotation in our note: the sources' words
        ("names \u201cthe armenians\u201d, and armenians", ["armenians"]),
        ("pre-war-2020-end and war-2020-end-b and war-2020-endx", []),  # part of a longer token
        ("Armenians and WAR-2020-END", []),  # not an id: ids are lower case
        ("war-2020-ends unknown-id", []),
        (f"{HOSTILE} war-2020-end <b>x1</b>", ["war-2020-end", "x1"]),  # a lone quote mark opens no quotation
        (f"{HOSTILE} war-2020-end {HOSTILE}", []),  # between two quote marks: taken as a quotation
        ('<a href="javascript:x">war-2020-end</a>', ["war-2020-end"]),
    ],
)
def test_ids_in_our_text_become_links(text: str, links: list[str]) -> None:
    """Each whole id outside quotations links to its page; everything else stays escaped text."""
    from kdata.site.ids import link_ids

    shown = link_ids(text, "../", _PAGED.get)
    assert re.findall(r'<a class="id" href="\.\./([^"]+)">([^<]+)</a>', shown) == [(_PAGED[i], i) for i in links]
    bare = re.sub(r'<a class="id" href="[^"]+">([^<]+)</a>', r"\1", shown)
    assert "<" not in bare and bare == str(escape(text))  # the same text, escaped, only the links added


def test_ids_in_notes_link_on_record_and_table_pages(site: Path) -> None:
    """The notes the tester found plain: the ids in them now link, on the record's page and on its table's page."""
    claim = (site / "claims" / "azernews-2020-04-02-anniversary-1993.html").read_text("utf-8")
    assert (
        '<a class="id" href="../figures/kalbajar-control-elapsed-2020.html">kalbajar-control-elapsed-2020</a>' in claim
    )
    war = (site / "events" / "war-2020.html").read_text("utf-8")
    assert '<a class="id" href="../topics/war-2020-end.html">war-2020-end</a>' in war
    leader = (site / "actors" / "great-leader.html").read_text("utf-8")
    assert '<a class="id" href="../actors/great-leader.html">great-leader</a>' in leader
    table = (site / "tables" / "claims.html").read_text("utf-8")
    assert '<a class="id" href="../actors/armenians.html">armenians</a>' in table
    assert '&#34;<a class="id"' not in table  # nothing linked inside a quotation


def test_every_count_a_template_prints_has_thousands_separators(site: Path) -> None:
    """A count (a length, a sum, a package count) printed as text passes the ``number`` filter: 1,561, not 1561."""
    from kdata.site.render import TEMPLATES

    counting = re.compile(r"\|\s*(length|sum)\b|\b(counts|facts)\.(?!\w*year)\w+|\bd\.claimants\b")
    bare = []
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text("utf-8")
        for match in re.finditer(r"\{\{(.*?)\}\}", text):
            expr = match[1].strip()
            in_attribute = re.search(r'=\s*"[^"<>]*$', text[: match.start()].rsplit("\n", 1)[-1])
            printed = " if " not in expr  # a condition on a count prints a word, not the count
            if printed and counting.search(expr) and not expr.endswith("| number") and not in_attribute:
                bare.append(f"{template.name}: {{{{ {expr} }}}}")
    assert bare == []
    total = sum(len(kdata.load(n, package=DIST)) for n in kdata.resources(DIST))
    assert total >= 1000 and f"{total:,} rows in {len(kdata.resources(DIST))} tables" in (
        site / "index.html"
    ).read_text("utf-8")
