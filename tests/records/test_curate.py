"""The curators' tools: `kdata sources add`, `kdata sources show` and `kdata quote find`, run as commands.

The documents added are the real archived texts of raw/sources/, as .txt files and wrapped in
the markup of a saved news page; what each command writes is read back by `kdata validate`.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import GOOD, REPO
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from inprocess import run_kdata_here

from kdata.fs import sha256_bytes

ARCHIVE = REPO / "raw" / "sources"
REAL = sorted(ARCHIVE.glob("*.txt"))
APA = ARCHIVE / "report-2022-11-25-kalbajar-anniversary-apa.txt"
HEADLINE = "Azerbaijan marks second anniversary of the liberation of Kalbajar from occupation"
FIGURE = Path("raw/figures/riverton-bridge-length.yaml")


def _record(path: Path) -> dict[str, object]:
    loaded = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _sha256(record: Path) -> str:
    return str(_record(record)["sha256"])


def _page(paragraphs: list[str], head: str, headline: str | None) -> str:
    """A news page as a browser saves it: navigation, the article, a footer, scripts and the browser's comment."""
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    h1 = f"<h1>{html.escape(headline)}</h1>" if headline else ""
    return f"""<!DOCTYPE html>
<!-- saved from url=(0041)https://browser.invalid/never-a-source -->
<html lang="en-GB"><head><meta charset="utf-8">{head}
<script>var tracking = "Subscribe to our newsletter";</script></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<main><article>{h1}
<div class="meta">25 November 2022</div>
{body}</article></main>
<aside><h2>Most read</h2><ul><li><a href="/a">Another story</a></li><li><a href="/b">And another</a></li></ul></aside>
<footer><p>Copyright 2022. All rights reserved.</p></footer></body></html>"""


def _apa_paragraphs() -> list[str]:
    """The paragraphs of the APA text after its headline, each on one line."""
    blocks = APA.read_text("utf-8").split("\n\n")
    return [" ".join(b.split()) for b in blocks[1:] if b.strip()]


@pytest.mark.parametrize("text", REAL, ids=[p.stem for p in REAL])
def test_sources_add_archives_each_real_text_byte_for_byte(text: Path, tmp_path: Path) -> None:
    """A .txt with \\n line breaks is stored unchanged: the sha256 is the one its record in the repository gives."""
    (tmp_path / "raw").mkdir()
    document = tmp_path / "saved.txt"
    document.write_bytes(text.read_bytes())
    result = run_kdata_here("sources", "add", document, "--id", "added", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    stored = tmp_path / "raw" / "sources" / "added.txt"
    assert stored.read_bytes() == text.read_bytes()
    record = _record(stored.with_suffix(".yaml"))
    assert record["sha256"] == _sha256(text.with_suffix(".yaml")) == sha256_bytes(stored.read_bytes())
    assert record["id"] == "added" and set(record) == {"id", "title", "language", "kind", "sha256"}
    # A .txt states nothing about itself (its first line may be a dateline): left for the curator.
    assert record["title"] is None and record["language"] is None and record["kind"] is None


@pytest.mark.parametrize(
    ("variant", "encode"),
    [
        ("crlf", lambda t: t.replace("\n", "\r\n").encode("utf-8")),
        ("cr", lambda t: t.replace("\n", "\r").encode("utf-8")),
        ("bom", lambda t: b"\xef\xbb\xbf" + t.encode("utf-8")),
        ("bom-crlf", lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode("utf-8")),
    ],
)
def test_sources_add_stores_line_breaks_as_newlines_without_bom(variant: str, encode: object, tmp_path: Path) -> None:
    """The same text saved on another system is the same archived text: the same bytes and sha256."""
    (tmp_path / "raw").mkdir()
    original = APA.read_text("utf-8")
    document = tmp_path / f"{variant}.txt"
    document.write_bytes(encode(original))  # type: ignore[operator]  # the parametrized encoder
    result = run_kdata_here("sources", "add", document, "--title", HEADLINE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (stored,) = (tmp_path / "raw" / "sources").glob("*.txt")
    assert stored.read_bytes() == APA.read_bytes()
    assert stored.stem == "azerbaijan-marks-second-anniversary-of-the"  # from the title given, cut at a word
    assert _record(stored.with_suffix(".yaml"))["title"] == HEADLINE


def test_sources_add_extracts_a_saved_page_and_only_its_stated_metadata(project: Path) -> None:
    """An .html page: the article's text, paragraph per block, no menus or footer; metadata only from its markup."""
    head = (
        f"<title>{html.escape(HEADLINE)} | APA</title>"
        '<link rel="canonical" href="https://apa.example/news/kalbajar-anniversary">'
        '<meta property="article:published_time" content="2022-11-25T00:00:00+04:00">'
        '<meta name="author" content="A. Writer"><meta property="og:site_name" content="APA">'
    )
    page = project / "Kalbajar anniversary - APA.html"
    page.write_text(_page(_apa_paragraphs(), head, HEADLINE), "utf-8")
    result = run_kdata_here("sources", "add", page, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    source_id = "2022-11-25-azerbaijan-marks-second-anniversary-of"
    record_path = project / "raw" / "sources" / f"{source_id}.yaml"
    record = _record(record_path)
    assert record == {
        "id": source_id,
        "title": HEADLINE,
        "publisher": "APA",
        "author": "A. Writer",
        "published": "2022-11-25",
        "url": "https://apa.example/news/kalbajar-anniversary",
        "language": "en",
        "kind": None,
        "sha256": record["sha256"],
    }
    stored = record_path.with_suffix(".txt").read_text("utf-8")
    assert record["sha256"] == sha256_bytes(stored.encode("utf-8"))
    blocks = stored.rstrip("\n").split("\n\n")
    assert blocks[0] == HEADLINE
    for paragraph in _apa_paragraphs():
        assert paragraph in blocks, paragraph  # each block of the article is one paragraph, as archived
    for chrome in ("Home", "Politics", "Most read", "Another story", "Copyright", "Subscribe", "browser.invalid"):
        assert chrome not in stored
    # The record validates once the curator names its kind.
    record_path.write_text(record_path.read_text("utf-8").replace("kind:  #", "kind: news_report  #"), "utf-8")
    check = run_kdata_here("validate", "--no-cache", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr


def test_sources_add_invents_nothing_a_page_does_not_state(tmp_path: Path) -> None:
    """A page with no canonical link, date, author or lang: those fields stay out; the browser's comment is not a URL."""
    (tmp_path / "raw").mkdir()
    page = tmp_path / "page.htm"
    page.write_text(_page(_apa_paragraphs(), "", None).replace(' lang="en-GB"', ""), "utf-8")
    refused = run_kdata_here("sources", "add", page, cwd=tmp_path)  # no title to make an id from: ask for one
    assert refused.returncode == 2 and "states no title to make an id from; pass --id" in refused.stderr
    assert not (tmp_path / "raw" / "sources").exists()
    result = run_kdata_here("sources", "add", page, "--id", "page", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (record_path,) = (tmp_path / "raw" / "sources").glob("*.yaml")
    record = _record(record_path)
    assert set(record) == {"id", "title", "language", "kind", "sha256"}
    assert record["title"] is None and record["language"] is None
    text = record_path.read_text("utf-8")
    assert "# url:" in text and "# published:" in text and "browser.invalid" not in text


def test_sources_add_refuses_a_document_archived_already(project: Path) -> None:
    """Same sha256 as an archived text (under any name, with any line breaks): refused, its record named, nothing written."""
    archived = project / "raw" / "sources" / "test-wire-2020-05-01.txt"
    before = sorted(p.name for p in (project / "raw" / "sources").iterdir())
    for name, content in (
        ("copy.txt", archived.read_bytes()),
        ("windows.txt", archived.read_bytes().replace(b"\n", b"\r\n")),
    ):
        (project / name).write_bytes(content)
        result = run_kdata_here("sources", "add", name, "--id", "new-source", cwd=project)
        assert result.returncode == 2
        assert "is archived already: raw/sources/test-wire-2020-05-01.yaml has the same text" in result.stderr
        assert result.stderr.count("\n") == 1
    # A record whose text is missing still claims its sha256.
    archived.rename(project / "moved-away.txt")
    result = run_kdata_here("sources", "add", "moved-away.txt", cwd=project)
    assert result.returncode == 2 and "test-wire-2020-05-01.yaml has the same text" in result.stderr
    archived.parent.joinpath("test-wire-2020-05-01.txt").write_bytes((project / "moved-away.txt").read_bytes())
    assert sorted(p.name for p in (project / "raw" / "sources").iterdir()) == before


@pytest.mark.parametrize("taken", ["yaml", "txt"])
def test_sources_add_never_overwrites_an_id(taken: str, project: Path) -> None:
    """An id whose record or text exists is refused; the existing file is untouched and no half pair is left."""
    existing = project / "raw" / "sources" / f"kept.{taken}"
    existing.write_bytes(b"kept\n")
    (project / "new.txt").write_text("A new document\n\nIts only paragraph.\n", "utf-8")
    result = run_kdata_here("sources", "add", "new.txt", "--id", "kept", cwd=project)
    assert result.returncode == 2 and "the id 'kept' is taken" in result.stderr
    assert existing.read_bytes() == b"kept\n"
    assert sorted(p.name for p in existing.parent.glob("kept.*")) == [existing.name]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("doc.pdf", b"%PDF-1.4", "neither a .txt file nor an .html page"),
        ("latin1.txt", "Caf\xe9\n".encode("latin-1"), "is not UTF-8 text"),
        ("blank.txt", b"\n \n\n", "holds no text to archive"),
        ("missing.txt", None, "does not exist"),
        (
            "empty.html",
            b"<html><head><title>Nothing</title></head><body><script>var x;</script></body></html>",
            "holds no main text",
        ),
    ],
)
def test_sources_add_refuses_what_it_cannot_archive(
    name: str, content: bytes | None, message: str, project: Path
) -> None:
    """One line naming the file, exit 2, nothing written."""
    if content is not None:
        (project / name).write_bytes(content)
    before = sorted((project / "raw" / "sources").iterdir())
    result = run_kdata_here("sources", "add", name, cwd=project)
    assert result.returncode == 2 and message in result.stderr and name in result.stderr
    assert result.stderr.count("\n") == 1
    assert sorted((project / "raw" / "sources").iterdir()) == before


def test_sources_add_names_the_extra_when_trafilatura_is_missing(project: Path) -> None:
    """Without trafilatura an .html page is refused in one line naming kalbajar-data[curate]; a .txt still works."""
    page = project / "page.html"
    page.write_text(_page(_apa_paragraphs(), "", HEADLINE), "utf-8")
    (project / "plain.txt").write_text("A plain text\n\nwith two paragraphs.\n", "utf-8")
    code = (
        "import sys; sys.modules['trafilatura'] = None\n"  # the import fails as when it is not installed
        "from kdata.cli import main\n"
        "main(sys.argv[1:], prog_name='kdata')"
    )
    html_run = subprocess.run(
        [sys.executable, "-c", code, "sources", "add", "page.html"], cwd=project, capture_output=True, text=True
    )
    assert html_run.returncode == 2
    assert html_run.stderr == (
        "Error: Reading an .html page needs trafilatura: pip install 'kalbajar-data[curate]', or `make curate` in a "
        "clone (or archive a .txt).\n"
    )
    text_run = subprocess.run(
        [sys.executable, "-c", code, "sources", "add", "plain.txt", "--id", "plain"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert text_run.returncode == 0, text_run.stderr


def test_curating_commands_never_import_trafilatura_except_for_html(project: Path) -> None:
    """`import kdata`, `sources show`, `quote find` and adding a .txt leave trafilatura unloaded."""
    (project / "plain.txt").write_text("A plain text\n\nwith two paragraphs.\n", "utf-8")
    code = (
        "import sys\nfrom kdata.cli import main\n"
        "for args in (['sources', 'show', 'test-wire-2020-05-01'], ['quote', 'find', 'bridge'], ['sources', 'add', 'plain.txt', '--id', 'plain']):\n"
        "    try:\n        main(args, prog_name='kdata')\n    except SystemExit as exc:\n        assert exc.code == 0, args\n"
        "print('trafilatura' in sys.modules, 'lxml' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False False"


def test_sources_show_numbers_paragraphs_as_locators_count_them(built: Path) -> None:
    """Each citation's published paragraph is the one `sources show` prints its words under."""
    import csv

    result = run_kdata_here("sources", "show", "test-wire-2020-05-01", cwd=built)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[1] Test Wire, 1 May 2020\n\n[2] The council said that about 1,200 residents")
    assert "\n    Another outlet put the number" in result.stdout  # a paragraph's later lines, indented
    shown = {int(m.group(1)): m.start() for m in re.finditer(r"^\[(\d+)\]", result.stdout, re.MULTILINE)}
    assert sorted(shown) == [1, 2]
    with open(built / "dist" / "citations.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            number = int(row["anchor_paragraph"])
            block = result.stdout[shown[number] : shown.get(number + 1, len(result.stdout))]
            assert " ".join(row["anchor_exact"].split()) in " ".join(block.split())


def test_sources_show_unknown_id_lists_the_archive(project: Path) -> None:
    result = run_kdata_here("sources", "show", "nope", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "Error: No archived text raw/sources/nope.txt for the source 'nope'. Archived: test-wire-2020-05-01.\n"
    )


def _paste(project: Path, out: str) -> None:
    """Put the first citation `quote find` printed into the bridge figure, as a curator pastes it."""
    lines = out.splitlines()
    quote, locator = lines[2].strip(), lines[3].strip()
    record = project / FIGURE
    text = re.sub(r"quote: .*", quote, record.read_text("utf-8"))
    record.write_text(text.rstrip("\n") + f"\n    {locator}\n", "utf-8")


@pytest.mark.parametrize(
    ("typed", "how", "found"),
    [
        ("4 kilometres long", "exact", "4 kilometres long"),
        (
            "Riverton \u2014 4 kilometres long \u2014 was opened",
            "exact",
            "Riverton \u2014 4 kilometres long \u2014 was",
        ),
        ("RIVERTON - 4 Kilometres Long - was opened", "approximate", "Riverton \u2014 4 kilometres long \u2014 was"),
        ('up to 1,500 "returnees"', "approximate", "up to 1,500 \u201creturnees\u201d"),
        ("about 1,200 residents \u2026 2 March 2020", "approximate", "about 1,200 residents returned to Riverton on"),
        ("said that about 1200 residents came back to Riverton", "similar", "said that about 1,200 residents returned"),
        (
            "The bridge at Riverton, 5 km long, was opened in April",
            "similar",
            "The bridge at Riverton \u2014 4 kilometres",
        ),
    ],
)
def test_quote_find_prints_a_citation_that_validates(typed: str, how: str, found: str, project: Path) -> None:
    """Exact, then approximate (quote marks, dashes, spaces, case, '…'), then similar: the printed citation pastes and validates."""
    result = run_kdata_here("quote", "find", typed, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"test-wire-2020-05-01, paragraph 2 ({how}")
    assert lines[1] == "  - source: test-wire-2020-05-01" and lines[3] == "    locator: paragraph 2"
    assert found in lines[2]
    _paste(project, result.stdout)
    check = run_kdata_here("validate", "--no-cache", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr + result.stdout


def test_quote_find_searches_every_source_or_one(project: Path) -> None:
    """Without --source every archived text is searched; --source limits it; nothing found is exit 1."""
    other = project / "raw" / "sources"
    (project / "other.txt").write_text(
        "Other Wire\n\nThe bridge at Riverton was opened in early April 2020.\n", "utf-8"
    )
    assert run_kdata_here("sources", "add", "other.txt", "--id", "other-wire", cwd=project).returncode == 0
    assert (other / "other-wire.txt").is_file()
    both = run_kdata_here("quote", "find", "was opened in early April 2020", cwd=project)
    assert [line.split(",")[0] for line in both.stdout.splitlines()[::4]] == ["other-wire", "test-wire-2020-05-01"]
    one = run_kdata_here("quote", "find", "was opened in early April 2020", "--source", "other-wire", cwd=project)
    assert one.stdout.startswith("other-wire, paragraph 2 (exact):") and one.stdout.count("source:") == 1
    none = run_kdata_here("quote", "find", "a sentence about something else entirely", cwd=project)
    assert none.returncode == 1 and none.stdout == ""
    assert none.stderr == "Not found in any archived text, not even approximately.\n"


@pytest.mark.parametrize(
    ("wrong", "nearest"),
    [
        ("5 kilometres long", "4 kilometres long"),
        ("about 1,300 residents returned to Riverton", "about 1,200 residents returned to Riverton"),
        ("The bridge at Riverton was closed in early April 2020", "The bridge at Riverton \u2014 4 kilometres long"),
    ],
)
def test_a_wrong_quote_shows_the_nearest_passage_of_its_source(wrong: str, nearest: str, project: Path) -> None:
    """KD301 names the nearest passage of the cited source with its paragraph, on the one line of the issue."""
    record = project / FIGURE
    record.write_text(record.read_text("utf-8").replace("quote: 4 kilometres long", f"quote: {wrong}"), "utf-8")
    result = run_kdata_here("validate", "--no-cache", cwd=project)
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.splitlines() if "KD301" in line]
    assert f"Nearest passage (paragraph 2): '{nearest}" in line


def _blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", markdown, re.DOTALL)


def test_contributing_walk_from_a_saved_article_to_a_cited_fact(project: Path) -> None:
    """CONTRIBUTING's walk, replayed on the real text it names: each command prints what the guide shows."""
    guide = (REPO / "CONTRIBUTING.md").read_text("utf-8")
    walk = guide[guide.index("## From a saved article to a cited fact") : guide.index("## Editorial policy")]
    text = ARCHIVE / "report-2024-09-18-diplomats-kalbajar-trip.txt"
    paragraphs = [" ".join(p.split()) for p in text.read_text("utf-8").split("\n\n") if p.strip()]
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    head = "<title>Diplomats visit Kalbajar</title>"
    (project / "diplomats-kalbajar.html").write_text(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{head}</head><body><nav><a href="/">Home</a></nav>'
        f"<article>{body}</article><footer>All rights reserved</footer></body></html>",
        "utf-8",
    )
    for table, rid in (("actors", "hikmet-hajiyev"), ("places", "kalbajar-district")):
        record = (REPO / "raw" / table / f"{rid}.yaml").read_text("utf-8")
        (project / "raw" / table / f"{rid}.yaml").write_text(re.sub(r"\nparent: .*", "", record), "utf-8")
    outputs = _blocks(walk, "text")
    added = run_kdata_here("sources", "add", "diplomats-kalbajar.html", cwd=project)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[1] == outputs[0].splitlines()[1]
    assert added.stdout.startswith(outputs[0].split("…")[0])
    source = project / "raw" / "sources" / "diplomats-visit-kalbajar.yaml"
    source.write_text(source.read_text("utf-8").replace("kind:  #", "kind: news_report  #"), "utf-8")
    shown = run_kdata_here("sources", "show", "diplomats-visit-kalbajar", cwd=project).stdout
    for line in outputs[1].splitlines():
        assert line.rstrip("…").rstrip() in shown or line == "…", line
    typed = re.search(r'kdata quote find "([^"]+)"', walk)
    assert typed is not None
    found = run_kdata_here("quote", "find", typed.group(1), cwd=project)
    assert found.stdout.splitlines()[:4] == outputs[2].splitlines()
    (record,) = [b for b in _blocks(walk, "yaml") if b.startswith("id: kalbajar-blockade")]
    (project / "raw" / "figures" / "kalbajar-blockade-duration-hajiyev-2024.yaml").write_text(record, "utf-8")
    check = run_kdata_here("validate", "--no-cache", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    wrong = record.replace(
        "quote: Kalbajar and its civilian population were under blockade for about a year",
        "quote: under blockade for about two years",
    )
    (project / "raw" / "figures" / "kalbajar-blockade-duration-hajiyev-2024.yaml").write_text(wrong, "utf-8")
    refused = run_kdata_here("validate", "--no-cache", "--no-color", cwd=project)
    assert outputs[3].rstrip().removesuffix(" …") in refused.stdout


@pytest.mark.parametrize("bad", ["../package", "/etc/passwd", "Test-Wire", "test-wire-2020-05-01.txt", ""])
@pytest.mark.parametrize("command", [("sources", "show"), ("quote", "find", "bridge", "--source")])
def test_a_source_id_is_an_id_never_a_path(bad: str, command: tuple[str, ...], project: Path) -> None:
    """`sources show` and `quote find --source` take an id: anything else is refused in one line, nothing read."""
    result = run_kdata_here(*command, bad, cwd=project)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: '{bad}' is not a valid id.") and result.stderr.count("\n") == 1


def test_the_nearest_passage_is_searched_for_the_first_quotes_of_a_file_only(project: Path) -> None:
    """A file of many wrong quotes stays quick to check: the first MAX_ISSUES name their nearest passage, the rest not."""
    from kdata.records.yamlio import MAX_ISSUES

    record = project / FIGURE
    wrong = "".join(
        f"  - source: test-wire-2020-05-01\n    claimant: test-wire\n    quote: {n} kilometres long\n"
        for n in range(5, 5 + MAX_ISSUES + 5)
    )
    record.write_text(record.read_text("utf-8") + wrong, "utf-8")
    result = run_kdata_here("validate", "--no-cache", cwd=project)
    lines = [line for line in result.stdout.splitlines() if "KD301" in line]
    assert len(lines) == MAX_ISSUES + 5
    assert [("Nearest passage (paragraph 2): '4 kilometres long'" in line) for line in lines] == [True] * MAX_ISSUES + [
        False
    ] * 5


TEXTS = {p.stem: p.read_text("utf-8") for p in REAL}


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_find_returns_archived_text_at_its_offsets_for_any_quote(data: st.DataObject) -> None:
    """Any run of words of a real text is found where it stands; one word changed, it is found or not, never broken."""
    from kdata.records.anchors import Archived
    from kdata.records.quotefind import find

    source = data.draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[source]
    archived = {source: Archived(text)}
    words = text.split()
    first = data.draw(st.integers(0, len(words) - 1))
    run = words[first : first + data.draw(st.integers(1, 25))]
    changed = " ".join([*run[:-1], data.draw(st.text(min_size=1))])
    assume(any(c.isalnum() for c in " ".join(run)) and any(c.isalnum() for c in changed))  # a quote holds a word
    for found in (find(" ".join(run), archived), find(changed, archived)):
        for passage in found:
            assert passage.text == text[passage.start : passage.end] and passage.text.strip()
            assert passage.paragraph == archived[source].paragraph(passage.start)
            assert Archived(text).anchor(passage.quote) is not None  # what is printed to paste is always found
    exact = find(" ".join(run), archived)
    assert exact and exact[0].how in ("exact", "approximate")
    assert " ".join(run) in " ".join(exact[0].text.split()) or exact[0].how == "approximate"


@pytest.mark.parametrize("title", ["=HYPERLINK(1)", "+1", "-x", "@SUM(A1)"])
def test_a_given_title_that_spreadsheets_would_run_is_refused(title: str, tmp_path: Path) -> None:
    """--title goes through the same rules as a record's title: a formula's first character is refused, not dropped."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    text = tmp_path / "t.txt"
    text.write_text("Headline\n\nThe new school in Kalbajar city opened on Tuesday for 400 pupils.\n", "utf-8")
    result = run_kdata_here("sources", "add", str(text), "--title", title, "--id", "school", cwd=tmp_path)
    assert result.returncode == 2 and "spreadsheets run as a formula" in result.stderr
    assert not (tmp_path / "raw" / "sources" / "school.yaml").exists()
