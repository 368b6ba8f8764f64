"""The rules a quote, its locator and an archived text follow, tried as a tester tried them: real files, real commands.

Each test archives a longer text in the test project (the original paragraphs first, so every
record still cites it), points the council figure's citation at a quote and a locator, and reads
what `kdata validate`, `kdata build` and `kdata quote find` say.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from inprocess import run_kdata_here

from kdata.fs import sha256_bytes
from kdata.records.anchors import SPAN_LIMIT, Archived, bounded
from kdata.records.chars import escape

TEXT = Path("raw/sources/test-wire-2020-05-01.txt")
RECORD = TEXT.with_suffix(".yaml")
COUNCIL = Path("raw/figures/riverton-returnees-council.yaml")
FILLER = "Officials walked through the town and spoke with the residents who had come back. "
#: Paragraphs 3, 4 and 5 added after the two of the test text.
EXTRA = (
    "The district has up to 60.000 inhabitants. The plant will employ about 150 people, and "
    "according to the director of the company, who spoke to reporters at the opening ceremony in the town, "
    "the new bottling line can fill up to 12,000 bottles a day.\n\n"
    "A delegation arrived on Monday. The delegation met officials. "
    + FILLER
    * 30
    + "The delegation met officials. This follows the visit of the President.\n\n"
    "Café owners welcomed the guests.\n"
)


def _archive(project: Path, text: str | bytes) -> None:
    """Store ``text`` as the archived text, and its sha256 in the source record (so only the rule under test bites)."""
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    (project / TEXT).write_bytes(data)
    record = project / RECORD
    lines = [
        f"sha256: {sha256_bytes(data)}" if line.startswith("sha256:") else line
        for line in record.read_text("utf-8").splitlines()
    ]
    record.write_text("\n".join(lines) + "\n", "utf-8")


def _longer(project: Path) -> str:
    text = (project / TEXT).read_text("utf-8") + "\n" + EXTRA
    _archive(project, text)
    return text


def _cite(project: Path, quote: str, locator: str | None = None) -> None:
    """The council figure cites ``quote`` (and ``locator``), written as YAML writes them."""
    record = project / COUNCIL
    data = yaml.safe_load(record.read_text("utf-8"))
    data["citations"][0]["quote"] = quote
    if locator is not None:
        data["citations"][0]["locator"] = locator
    record.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), "utf-8")


def _issues(project: Path) -> list[tuple[str, str, str]]:
    result = run_kdata_here("validate", "raw", "--format", "json", "--no-cache", cwd=project)
    return [(i["code"], i["field"], i["message"]) for i in json.loads(result.stdout)]


def _codes(project: Path) -> list[tuple[str, str]]:
    return [(code, field) for code, field, _ in _issues(project)]


# 1. Whole words only.

MID_WORD = [
    "up to 60.00",  # the text says 60.000
    "p to 60.000 inhabitants",  # starts inside "up"
    "will employ about 15",  # the text says 150
    "he district has up to",
    "about 150 peopl",
    "bottles a da",
    "about 1,200 residents \u2026 up to 60.00",  # a part that ends mid-number
    "about 1,200 residents \u2026 p to 60.000",  # a part that starts mid-word
    "Caf",
    "afé owners",
    "up to 60",  # a number cut at its group separator: 60.000 is one number
    "000 inhabitants",
    "up to 12",  # 12,000
    ",000 bottles a day",
    "about 1,200 residents \u2026 up to 60",
]
WHOLE_WORDS = [
    "up to 60.000 inhabitants",
    "up to 60.000",
    "60.000 inhabitants.",
    "about 150 people,",
    "will employ about 150",
    "Café owners welcomed the guests.",
    "The plant will \u2026 about 150 people",
    'up to 1,500 "returnees"',  # starts and ends with punctuation: no word to cut
]


@pytest.mark.parametrize("quote", MID_WORD)
def test_a_quote_that_cuts_a_word_is_not_found(quote: str, project: Path) -> None:
    _longer(project)
    _cite(project, quote)
    assert _codes(project) == [("KD301", "citations.0.quote")]
    found = run_kdata_here("quote", "find", quote, cwd=project)
    assert "(exact)" not in found.stdout and "(approximate)" not in found.stdout  # only a similar whole passage


@pytest.mark.parametrize("quote", WHOLE_WORDS)
def test_a_quote_of_whole_words_is_found(quote: str, project: Path) -> None:
    _longer(project)
    _cite(project, quote)
    assert _codes(project) == []


def test_a_later_whole_word_is_found_past_an_earlier_cut_one(project: Path) -> None:
    """'about 15' stands inside 'about 150' first and as whole words later: the later one is the anchor."""
    text = _longer(project)
    _archive(project, text + "\nSome said about 15 families stayed.\n")
    _cite(project, "about 15", "paragraph 6")
    assert _codes(project) == []


# 2. "…" carries no more than a quote's worth of the text.


def test_a_quote_leaving_out_most_of_the_text_is_refused_and_never_published(project: Path) -> None:
    _longer(project)
    _cite(project, "A delegation arrived on Monday. \u2026 This follows the visit of the President.")
    ((code, field, message),) = _issues(project)
    assert (code, field) == ("KD305", "citations.0.quote")
    assert f"may span {SPAN_LIMIT}" in message and "paragraphs 4 to 4" in message
    built = run_kdata_here("build", cwd=project)
    assert built.returncode == 1 and "KD305 quote-span-too-long" in built.stdout + built.stderr
    assert not (project / "dist").exists()


def test_a_repeated_first_part_is_anchored_where_the_rest_fits(project: Path) -> None:
    """'The delegation met officials.' stands early and again just before the last part: the near one is used."""
    text = _longer(project)
    _cite(project, "The delegation met officials. \u2026 the visit of the President.")
    assert _codes(project) == []
    built = run_kdata_here("build", cwd=project)
    assert built.returncode == 0, built.stdout + built.stderr
    row = _row(project, "figure:riverton-returnees-council:1")
    assert row["anchor_exact"] == "The delegation met officials. This follows the visit of the President."
    assert text[int(row["anchor_start"]) : int(row["anchor_end"])] == row["anchor_exact"]


@pytest.mark.parametrize("gap", [0, 10, 20, 23, 24, 40])
def test_the_span_limit_counts_the_text_from_first_to_last_word(gap: int) -> None:
    """A span of exactly the limit anchors; one code point more does not (the limit, not the gap, decides)."""
    head, tail = "Start here.", "End here."
    filler = ("x" * 80 + " ") * gap
    text = f"{head} {filler}{tail}"
    archived = Archived(text + "\n")
    anchor = archived.anchor(f"{head} \u2026 {tail}")
    if len(text) <= SPAN_LIMIT:
        assert anchor is not None and anchor.exact == text
    else:
        assert anchor is None and archived.anchor(f"{head} \u2026 {tail}", limit=None) is not None


def test_no_published_anchor_of_the_repository_exceeds_a_quote() -> None:
    with open(REPO / "dist" / "citations.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and max(len(row["anchor_exact"]) for row in rows) <= SPAN_LIMIT


def _row(project: Path, rid: str) -> dict[str, str]:
    with open(project / "dist" / "citations.csv", encoding="utf-8", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}[rid]


# 3. A locator is exactly "paragraph N", and N is the quote's paragraph.


@pytest.mark.parametrize(
    "locator",
    [
        "para 2",
        "Paragraph 2",
        "paragraph 2.",
        "paragraphs 2-3",
        "paragraph 2, line 1",
        "p. 2",
        "\u00b6 2",
        "2",
        "paragraph 02",
        "paragraph 0",
        "paragraph  2",
        "paragraph two",
        "line 3",
    ],
)
def test_a_locator_of_another_form_is_refused_with_the_one_to_write(locator: str, project: Path) -> None:
    _cite(project, "about 1,200 residents returned", locator)
    ((code, field, message),) = _issues(project)
    assert (code, field) == ("KD304", "citations.0.locator")
    assert "is not of the form 'paragraph N'; write 'paragraph 2'" in message


@pytest.mark.parametrize(("locator", "codes"), [("paragraph 2", []), ("paragraph 3", ["KD304"]), (None, [])])
def test_a_paragraph_locator_is_checked_against_the_anchor(
    locator: str | None, codes: list[str], project: Path
) -> None:
    _cite(project, "about 1,200 residents returned", locator)
    assert [code for code, _ in _codes(project)] == codes


def test_every_locator_of_the_repository_has_the_one_form() -> None:
    for path in sorted((REPO / "raw").rglob("*.yaml")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip().startswith("locator:"):
                value = line.split(":", 1)[1].strip()
                assert value.startswith("paragraph ") and value.split(" ")[1].isdigit(), (path, line)


# 4. What an archived text may hold.

FORMS = {
    "nfd": ("Cafe\u0301 owners welcomed the guests.", "is not in Unicode NFC form"),
    "nul": ("Caf\x00 owners welcomed the guests.", "U+0000"),
    "control": ("Caf\x07 owners welcomed the guests.", "U+0007"),
    "zero-width": ("Caf\u200b owners welcomed the guests.", "U+200B"),
    "bidi": ("Caf\u202e owners welcomed the guests.", "U+202E"),
    "line-separator": ("Caf\u2028 owners welcomed the guests.", "U+2028"),
}


@pytest.mark.parametrize("variant", sorted(FORMS))
def test_an_archived_text_out_of_form_is_reported_with_its_own_code(variant: str, project: Path) -> None:
    added, words = FORMS[variant]
    text = (project / TEXT).read_text("utf-8") + "\n" + added + "\n"
    _archive(project, text)
    ((code, field, message),) = _issues(project)  # one issue: its quotes are not checked, so no KD301 follows
    assert (code, field) == ("KD306", "sha256") and words in message and "test-wire-2020-05-01.txt" in message


@pytest.mark.parametrize(
    ("variant", "encode", "words"),
    [
        ("bom", lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), "byte order mark"),
        ("bom-blank-line", lambda t: b"\xef\xbb\xbf\n" + t.encode("utf-8"), "byte order mark"),
        ("crlf", lambda t: t.replace("\n", "\r\n").encode("utf-8"), "carriage return (CR) at line 1"),
        ("cr", lambda t: t.replace("\n", "\r").encode("utf-8"), "carriage return (CR) at line 1"),
    ],
)
def test_an_archived_text_with_a_bom_or_cr_is_reported(variant: str, encode: object, words: str, project: Path) -> None:
    """A BOM would shift paragraph numbers, CR-only breaks would make one paragraph: refused before any anchor."""
    _archive(project, encode((project / TEXT).read_text("utf-8")))  # type: ignore[operator]  # parametrized encoder
    ((code, _, message),) = _issues(project)
    assert code == "KD306" and words in message


@pytest.mark.parametrize(
    ("variant", "encode"),
    [
        ("nfd", lambda t: unicodedata.normalize("NFD", t).encode("utf-8")),
        ("bom-blank-line", lambda t: b"\xef\xbb\xbf\n" + t.encode("utf-8")),
        ("cr", lambda t: t.replace("\n", "\r").encode("utf-8")),
        ("crlf-nfd", lambda t: unicodedata.normalize("NFD", t).replace("\n", "\r\n").encode("utf-8")),
    ],
)
def test_sources_add_stores_the_one_form_and_nfc_quotes_find_it(variant: str, encode: object, project: Path) -> None:
    """`sources add` applies the rule validate checks: the text it stores passes, and an NFC quote is found in it."""
    text = "Café Wire\n\nCafé owners welcomed the guests. The naïve plan worked.\n"
    (project / "doc.txt").write_bytes(encode(text))  # type: ignore[operator]  # parametrized encoder
    added = run_kdata_here("sources", "add", "doc.txt", "--id", "cafe-wire", "--title", "Café Wire", cwd=project)
    assert added.returncode == 0, added.stderr
    stored = (project / "raw/sources/cafe-wire.txt").read_bytes()
    assert stored.decode("utf-8").lstrip("\n") == text  # NFC, LF, no BOM (a leading blank line is the text's own)
    record = project / "raw/sources/cafe-wire.yaml"
    filled = record.read_text("utf-8").replace("kind:  #", "kind: news_report  #")
    record.write_text(filled.replace("language:  #", "language: en  #"), "utf-8")
    data = yaml.safe_load((project / COUNCIL).read_text("utf-8"))
    data["citations"][0] |= {
        "source": "cafe-wire",
        "quote": "Café owners welcomed the guests.",
        "locator": "paragraph 2",
    }
    (project / COUNCIL).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    assert _codes(project) == []


@pytest.mark.parametrize(("character", "name"), [("\x00", "U+0000"), ("\x1b", "U+001B"), ("\u200b", "U+200B")])
def test_sources_add_refuses_a_text_with_a_hidden_character(character: str, name: str, project: Path) -> None:
    (project / "doc.txt").write_text(f"Title\n\nA line.\nAnother{character} line.\n", "utf-8")
    before = sorted((project / "raw/sources").iterdir())
    result = run_kdata_here("sources", "add", "doc.txt", "--id", "doc", cwd=project)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"The text of doc.txt holds {name}" in result.stderr and "at line 4" in result.stderr
    assert sorted((project / "raw/sources").iterdir()) == before


# 5. The nearest passage, for quotes that leave words out.


@pytest.mark.parametrize(
    ("wrong", "nearest"),
    [
        ("about 1,300 residents \u2026 2 March 2020", "about 1,200 residents"),
        ("about 1,200 residents ... 2 March 2020", "about 1,200 residents returned to Riverton on 2 March 2020"),
        ("about 1,200 residents...on 2 March 2020", "about 1,200 residents returned to Riverton on 2 March 2020"),
        ("about 1,200 residents \u2026 in 2021", "about 1,200 residents"),
        ("The bridge at Riverton \u2026 was closed in April", "The bridge at Riverton"),
    ],
)
def test_a_wrong_quote_leaving_words_out_shows_the_nearest_passage(wrong: str, nearest: str, project: Path) -> None:
    _cite(project, wrong)
    ((code, _, message),) = _issues(project)
    assert code == "KD301" and "Nearest passage (paragraph 2): '" in message
    assert nearest in message.split("Nearest passage", 1)[1]


# 6. quote find.


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            "the bottling line can fill up to 12,000 bottles a day",
            "the new bottling line can fill up to 12,000 bottles a day",
        ),
        (
            "the new bottling line can fill 12,000 bottles a day",
            "the new bottling line can fill up to 12,000 bottles a day",
        ),
        ("The district has 60.000 inhabitants", "The district has up to 60.000 inhabitants"),
        ("The plant will employ 150 people", "The plant will employ about 150 people"),
        (
            "the new bottling line can fill up to 12,000 bottles an hour",
            "the new bottling line can fill up to 12,000 bottles a",
        ),
    ],
)
def test_quote_find_finds_a_passage_with_a_word_left_out_or_changed(typed: str, expected: str, project: Path) -> None:
    _longer(project)
    found = run_kdata_here("quote", "find", typed, cwd=project)
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0].startswith("test-wire-2020-05-01, paragraph 3 (similar")
    assert expected in lines[2]
    assert lines[2].strip().removeprefix("quote: ").strip("'") in EXTRA


@pytest.mark.parametrize(
    "typed", ["Riverton", "the town", "The delegation met officials", "The delegation met the officials"]
)
def test_quote_find_prints_each_passage_once(typed: str, project: Path) -> None:
    """A passage is printed as often as its words stand in its paragraph: once, unless they stand there twice."""
    text = _longer(project)
    found = run_kdata_here("quote", "find", typed, "--limit", "50", cwd=project)
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    hits = [
        (lines[i].split(" (")[0], lines[i + 2].strip().removeprefix("quote: ").strip("'"))
        for i in range(0, len(lines), 4)
    ]
    archived = Archived(text)
    paragraphs = [" ".join(text[a:b].split()) for a, b in archived.paragraphs()]
    for where, quote in set(hits):
        number = int(where.rsplit(" ", 1)[1])
        assert 1 <= hits.count((where, quote)) <= paragraphs[number - 1].count(quote), (where, quote, hits)


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u00a0"])
def test_quote_find_refuses_a_blank_query(blank: str, project: Path) -> None:
    result = run_kdata_here("quote", "find", blank, cwd=project)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: Nothing to find") and result.stderr.count("\n") == 1


# 7. What a document states about itself.


def test_a_text_file_states_no_title_even_under_a_dateline(project: Path) -> None:
    (project / "report.txt").write_text("date 2024-09-18 18 Sep. 11:50 (UTC+3 MSK)\n\nA delegation arrived.\n", "utf-8")
    refused = run_kdata_here("sources", "add", "report.txt", cwd=project)
    assert refused.returncode == 2 and "states no title to make an id from; pass --id" in refused.stderr
    added = run_kdata_here("sources", "add", "report.txt", "--id", "report", cwd=project)
    assert added.returncode == 0, added.stderr
    assert yaml.safe_load((project / "raw/sources/report.yaml").read_text("utf-8"))["title"] is None
    assert "from the document, nothing but its sha256" in added.stdout


@pytest.mark.parametrize(
    ("h1", "author", "title", "notes"),
    [
        ("Cafe\u0301 opens", "A. Writer", "Café opens", []),
        ("Caf\u00e9 opens", "A. Writ\u200ber", "Café opens", ["author left out: it holds U+200B"]),
        ("Caf\u00e9\u200b opens", "A. Writer", None, ["title left out: it holds U+200B"]),
        ("Caf\u00e9 \u202eopens", "A\u0301. Writer", None, ["title left out: it holds U+202E"]),
    ],
)
def test_page_metadata_go_through_the_character_policy(
    h1: str, author: str, title: str | None, notes: list[str], project: Path
) -> None:
    """NFC first; a value still holding a hidden character is left out with a one-line note; the record validates."""
    body = "".join(f"<p>{FILLER * 2}{n}</p>" for n in range(4))
    page = (
        f'<html lang="en"><head><meta name="author" content="{author}"></head><body><article><h1>{h1}</h1>'
        f"{body}</article></body></html>"
    )
    (project / "page.html").write_text(page, "utf-8")
    added = run_kdata_here("sources", "add", "page.html", "--id", "page", cwd=project)
    assert added.returncode == 0, added.stderr
    shown = [line for line in added.stdout.splitlines() if line.startswith("Note:")]
    assert len(shown) == len(notes) and all(note in line for note, line in zip(notes, shown, strict=True))
    record_path = project / "raw/sources/page.yaml"
    record = yaml.safe_load(record_path.read_text("utf-8"))
    assert record["title"] == title
    fixed = record_path.read_text("utf-8").replace("kind:  #", "kind: news_report  #")
    record_path.write_text(
        fixed.replace("title: \n", "title: '[Page]'\n").replace("title:  #", "title: '[Page]'  #"), "utf-8"
    )
    assert _codes(project) == []


def test_a_page_with_no_title_needs_an_id(project: Path) -> None:
    body = "".join(f"<p>{FILLER * 2}{n}</p>" for n in range(4))
    (project / "untitled.html").write_text(f"<html><body><article>{body}</article></body></html>", "utf-8")
    refused = run_kdata_here("sources", "add", "untitled.html", cwd=project)
    assert refused.returncode == 2 and "untitled.html states no title to make an id from; pass --id" in refused.stderr


# 8. sources show keeps the text as it stands.


def test_sources_show_keeps_the_leading_space_of_the_first_line(project: Path) -> None:
    _archive(project, "\n\n   Indented first line\nsecond line\n\nNext paragraph.\n")
    _cite(project, "Indented first line")
    shown = run_kdata_here("sources", "show", "test-wire-2020-05-01", cwd=project)
    assert shown.stdout.splitlines()[:3] == ["[1]    Indented first line", "    second line", ""]


# 9. A closed pipe ends a command quietly.


@pytest.mark.parametrize(
    "args",
    [
        ("sources", "show", "newsaz-2025-08-21-kalbajar-speech"),  # more than a pipe's buffer: fails mid-command
        ("quote", "find", "Kalbajar", "--limit", "1"),  # a few lines: fails when the output is flushed at exit
        ("validate", "--format", "json"),
        ("validate", "tests/data/formats/files/raw", "--no-cache"),  # the issue report of invalid data
        ("--help",),
    ],
)
def test_a_closed_pipe_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    """`kdata ... | head` with the reader gone before any output: no message, the status of a tool ended by SIGPIPE."""
    read, write = os.pipe()
    os.close(read)  # the reader has gone: every write fails with EPIPE
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        process = subprocess.run(
            [sys.executable, "-m", "kdata", *args], cwd=REPO, stdout=write, stderr=subprocess.PIPE, env=env, timeout=120
        )
    finally:
        os.close(write)
    assert process.stderr == b""
    assert process.returncode == 141


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["60", "60.000", "about", "15", "150", "é", "up", "p", "to", "…", "—"]), min_size=1, max_size=40
    ),
    cut=st.data(),
)
def test_every_anchor_is_whole_words_within_the_limit(words: list[str], cut: st.DataObject) -> None:
    """Any quote cut from the text: where it is anchored, every part starts and ends at a word boundary of the text."""
    text = " ".join(words) + "\n"
    start = cut.draw(st.integers(0, len(text) - 1))
    end = cut.draw(st.integers(start + 1, len(text)))
    quote = text[start:end]
    archived = Archived(text)
    anchor = archived.anchor(quote)
    whole = bounded(text, start, end) and any(c.isalnum() for c in quote) and "\u2026" not in quote
    if whole and quote == quote.strip():
        assert anchor is not None  # whole words of the text are always found
    if anchor is not None:
        assert anchor.end - anchor.start <= SPAN_LIMIT
        assert all(bounded(text, a, b) for a, b in anchor.parts)


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink"])
@pytest.mark.parametrize("with_record", [True, False])
def test_a_text_that_is_no_regular_file_is_one_kd011(
    kind: str, with_record: bool, project: Path, tmp_path: Path
) -> None:
    """A folder, pipe or link named <id>.txt: one KD011 (at the record when it has one), never a wrong KD203 hint."""
    folder = project / "raw/sources"
    name = "test-wire-2020-05-01" if with_record else "stray"
    path = folder / f"{name}.txt"
    if with_record:
        path.rename(tmp_path / "moved.txt")
    make = {
        "folder": lambda: path.mkdir(),
        "fifo": lambda: os.mkfifo(path),
        "symlink": lambda: path.symlink_to(REPO / "raw/sources" / "report-2022-11-25-kalbajar-anniversary-apa.txt"),
    }
    make[kind]()
    found = _issues(project)
    assert [code for code, _, _ in found] == ["KD011"], found
    assert "must be a regular file" in found[0][2] and "<id>.yaml" not in found[0][2]


@pytest.mark.parametrize(("title", "why"), [("", "it is empty"), (" \t", "it is empty"), ("A\u200bB", "U+200B")])
def test_a_title_given_goes_through_the_character_policy_too(title: str, why: str, project: Path) -> None:
    (project / "doc.txt").write_text("Title\n\nA line.\n", "utf-8")
    result = run_kdata_here("sources", "add", "doc.txt", "--title", title, cwd=project)
    assert result.returncode == 2 and "--title is no title a record may hold" in result.stderr and why in result.stderr
    assert not (project / "raw/sources/doc.yaml").exists()


def test_quote_find_reads_a_query_typed_in_nfd_as_nfc(project: Path) -> None:
    _longer(project)
    found = run_kdata_here("quote", "find", unicodedata.normalize("NFD", "Café owners welcomed"), cwd=project)
    assert found.stdout.splitlines()[0] == "test-wire-2020-05-01, paragraph 5 (exact):"
    assert "quote: Café owners welcomed" in found.stdout


@pytest.mark.parametrize(
    "quote", ["\u2026", "\u2026 \u2026", ",", ".", "The delegation met officials. \u2026 .", "\u2026 ,"]
)
def test_a_quote_without_a_word_is_not_found_and_hides_no_other_problem(quote: str, project: Path) -> None:
    """'…' alone, or a part of punctuation only: KD301 at its line, and every other problem still reported."""
    _longer(project)
    _cite(project, quote)
    (project / "raw" / "figures" / "zz-bad.yaml").write_text("id: zz-bad\nmeasure: nope\n", "utf-8")
    codes = _codes(project)
    assert ("KD301", "citations.0.quote") in codes and ("KD103", "measure") in codes


def test_a_word_found_twice_in_a_paragraph_is_printed_once(project: Path) -> None:
    _longer(project)
    found = run_kdata_here("quote", "find", "The delegation met officials.", cwd=project)
    assert found.stdout.count("locator: paragraph 4") == 1


@pytest.mark.parametrize("space", ["\u00a0", "\u2009", "\u3000"])
def test_a_locator_with_a_space_that_looks_like_one_shows_its_escape(space: str, project: Path) -> None:
    _longer(project)
    _cite(project, "up to 60.000 inhabitants", f"paragraph{space}3")
    [(code, _, message)] = _issues(project)
    assert code == "KD304" and f"paragraph{escape(space)}3" in message


def test_three_full_stops_for_an_ellipsis_get_a_hint(project: Path) -> None:
    _longer(project)
    _cite(project, "The district has up to 60.000 inhabitants. ... about 150 people")
    [(code, _, message)] = _issues(project)
    assert code == "KD301" and "Leave words out with '\u2026' (U+2026), not '...'." in message


def _reference_preparation(text: str) -> tuple[str, list[int]]:
    """The normalised form and each of its characters' offsets, one character at a time: the definition
    (a whitespace run is one space, none before the first word; typographic marks as their plain twins)."""
    from kdata.records.anchors import TYPOGRAPHIC

    chars: list[str] = []
    where: list[int] = []
    for i, c in enumerate(text):
        if c.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                where.append(i)
            continue
        chars.append(c.translate(TYPOGRAPHIC))
        where.append(i)
    return "".join(chars), where


_WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]
_TYPOGRAPHIC_MARKS = "\u2018\u2019\u201a\u201b\u2032`\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(["a", "b", "1", ".", "\u0259"] + _WHITESPACE + list(_TYPOGRAPHIC_MARKS)), max_size=60
    )
)
def test_a_text_is_prepared_as_the_character_by_character_definition_says(text: str) -> None:
    """Every whitespace character Python knows (29), every typographic mark, runs at both ends: the word-wise
    preparation gives the same normalised form, the same offset of each character and the same inverse."""
    archived = Archived(text)
    normal, where = _reference_preparation(text)
    assert archived.normal == normal
    assert [archived.span(k, k + 1)[0] for k in range(len(normal))] == where
    for offset in range(len(text) + 1):
        assert archived.normal_offset(offset) == next((k for k, at in enumerate(where) if at >= offset), len(where))


def test_the_archived_texts_are_prepared_as_the_definition_says() -> None:
    """The repository's own texts, whole: same normalised form, same offsets."""
    texts = sorted((REPO / "raw" / "sources").glob("*.txt"))
    assert texts
    for path in texts:
        text = path.read_text("utf-8")
        archived, (normal, where) = Archived(text), _reference_preparation(text)
        assert archived.normal == normal, path.name
        assert [archived.span(k, k + 1)[0] for k in range(len(normal))] == where, path.name
