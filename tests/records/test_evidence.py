"""The evidence travels with the data: archived texts in raw/sources/, checked and anchored by the real commands.

The malformed cases (``tests/data/malformed``: ``archive-text-missing``, ``archive-text-tampered``,
``locator-wrong-paragraph``, ``quote-ellipsis-part-missing``, ``quote-not-in-archive``) pin each
issue's code and position; these tests follow what the build publishes.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from inprocess import run_kdata_here

from kdata.records.anchors import Archived

TEXT = Path("raw/sources/test-wire-2020-05-01.txt")
COUNCIL = Path("raw/figures/riverton-returnees-council.yaml")


def _citations(project: Path) -> dict[str, dict[str, str]]:
    with open(project / "dist" / "citations.csv", encoding="utf-8", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def _build(project: Path) -> None:
    result = run_kdata_here("build", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def test_every_published_anchor_checks_out_against_the_text_alone(project: Path) -> None:
    """Anyone holding the document checks a citation without kdata: exact, prefix and suffix at the code point offsets."""
    _build(project)
    text = (project / TEXT).read_bytes().decode("utf-8")  # as archived: no newline translation
    rows = _citations(project)
    assert len(rows) == 6
    for row in rows.values():
        start, end = int(row["anchor_start"]), int(row["anchor_end"])
        assert text[start:end] == row["anchor_exact"]
        assert text[:start].endswith(row["anchor_prefix"]) and text[end:].startswith(row["anchor_suffix"])
        assert row["anchor_parts"] == f"{start}-{end}"
        assert row["anchor_paragraph"] == "2"
    bridge = rows["event:riverton-bridge-opened:1"]
    # The quote writes plain hyphens; the text em dashes: exact is the text as archived.
    assert "\u2014 4 kilometres long \u2014" in bridge["anchor_exact"] and " - 4 kilometres" in bridge["quote"]
    # Offsets count code points: the curly quotes before it are 3 bytes each in UTF-8, 1 code point each.
    start = int(bridge["anchor_start"])
    assert len(text[:start].encode("utf-8")) == start + 4


def test_quote_leaving_words_out_is_anchored_part_by_part(project: Path) -> None:
    """A quote with '…' validates when its parts stand in order, and the package gives each part's offsets."""
    _edit(
        project / COUNCIL, "quote: about 1,200 residents returned", 'quote: "about 1,200 residents … on 2 March 2020"'
    )
    _build(project)
    row = _citations(project)["figure:riverton-returnees-council:1"]
    text = (project / TEXT).read_bytes().decode("utf-8")
    parts = [tuple(map(int, pair.split("-"))) for pair in row["anchor_parts"].split(" ")]
    assert [text[a:b] for a, b in parts] == ["about 1,200 residents", "on 2 March 2020"]
    assert (int(row["anchor_start"]), int(row["anchor_end"])) == (parts[0][0], parts[1][1])
    assert row["anchor_exact"] == "about 1,200 residents returned to Riverton on 2 March 2020"


def test_parts_out_of_order_are_not_found(project: Path) -> None:
    """The parts of a quote with '…' must stand in the text in the order the quote gives."""
    _edit(
        project / COUNCIL, "quote: about 1,200 residents returned", 'quote: "on 2 March 2020 … about 1,200 residents"'
    )
    result = run_kdata_here("validate", "raw", "--format", "json", cwd=project)
    assert [(i["code"], i["field"]) for i in json.loads(result.stdout)] == [("KD301", "citations.0.quote")]


def test_the_build_refuses_a_tampered_archive(project: Path) -> None:
    """A text changed after archiving stops the build (KD303) and nothing is written."""
    path = project / TEXT
    path.write_bytes(path.read_bytes().replace(b"1,200", b"1,300"))
    result = run_kdata_here("build", cwd=project)
    assert result.returncode == 1
    assert "raw/sources/test-wire-2020-05-01.yaml:7:9: KD303 archive-mismatch" in result.stdout + result.stderr
    assert not (project / "dist").exists()


def test_the_build_refuses_a_wrong_paragraph(project: Path) -> None:
    """A locator naming another paragraph than the quote's stops the build (KD304)."""
    _edit(project / "raw/events/riverton-return-2020.yaml", "locator: paragraph 2", "locator: paragraph 3")
    result = run_kdata_here("build", cwd=project)
    assert result.returncode == 1
    assert "KD304 locator-mismatch: citations.0.locator" in result.stdout + result.stderr
    assert "stands in paragraph 2" in result.stdout + result.stderr


def test_a_text_without_a_record_is_misplaced(project: Path) -> None:
    """An archived text whose record is missing is reported, not silently kept."""
    shutil.copyfile(project / TEXT, project / "raw/sources/nobody.txt")
    result = run_kdata_here("validate", "raw", "--format", "json", cwd=project)
    found = [(i["file"], i["code"]) for i in json.loads(result.stdout)]
    assert found == [("raw/sources/nobody.txt", "KD203")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_a_symlinked_text_is_refused(project: Path, tmp_path: Path) -> None:
    """An archived text must be a regular file inside raw/, never a link to one elsewhere."""
    outside = tmp_path / "elsewhere.txt"
    shutil.move(project / TEXT, outside)
    (project / TEXT).symlink_to(outside)
    result = run_kdata_here("validate", "raw", "--format", "json", cwd=project)
    assert result.returncode == 1
    assert "KD011" in {i["code"] for i in json.loads(result.stdout)}


def test_an_outside_archive_is_found_by_sha256(project: Path, tmp_path: Path) -> None:
    """--archive DIR checks against another folder, whatever its files are named."""
    outside = tmp_path / "shared"
    outside.mkdir()
    shutil.move(project / TEXT, outside / "000_anything.txt")
    result = run_kdata_here("validate", "raw", "--archive", outside, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"every quote found in {outside}" in result.stdout


def test_paragraphs_are_blocks_separated_by_blank_lines() -> None:
    """Blank lines may hold spaces and come in runs; leading blank lines open no paragraph."""
    text = Archived("\n\nTitle\n \nline one\nline two\n\n\n\nlast")
    assert [text.paragraph(text.text.index(word)) for word in ("Title", "one", "two", "last")] == [1, 2, 2, 3]


def test_a_text_edited_between_two_builds_of_one_process_is_anchored_anew(project: Path) -> None:
    """A process keeps prepared texts for the next chunk and the next build: the one it anchors in is the text now."""
    import hashlib

    _build(project)
    before = _citations(project)
    path = project / TEXT
    text = path.read_bytes().decode("utf-8")
    edited = "An added first paragraph.\n\n" + text
    path.write_bytes(edited.encode("utf-8"))
    record = path.with_suffix(".yaml")
    old_sha, new_sha = hashlib.sha256(text.encode()).hexdigest(), hashlib.sha256(edited.encode()).hexdigest()
    _edit(record, old_sha, new_sha)
    for row in before.values():  # the locators now name the next paragraph
        for cited in (project / "raw").rglob("*.yaml"):
            _edit_all(cited, f"locator: paragraph {row['anchor_paragraph']}", "locator: paragraph 3")
    _build(project)
    after = _citations(project)
    assert after.keys() == before.keys()
    for cid, row in after.items():
        assert int(row["anchor_start"]) == int(before[cid]["anchor_start"]) + len("An added first paragraph.\n\n")
        assert edited[int(row["anchor_start"]) : int(row["anchor_end"])] == row["anchor_exact"]
        assert row["anchor_paragraph"] == "3"


def _edit_all(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    if old in text:
        path.write_text(text.replace(old, new), "utf-8")
