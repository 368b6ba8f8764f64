"""Quotes checked source by source, and settled where their files are checked, report what one file at a time does.

``verify_quotes`` prepares one text at a time and skips the quotes workers settled
(``load_raw(..., settle=True)``); the definition it must match is ``quote_issues`` run file by
file against every valid source's text. Trees with random broken quotes, locators and texts,
checked with and without settling, beside their records and in an outside archive whose texts
differ from those beside them (the settled quotes are then read again), give the same issues.
"""

from __future__ import annotations

import random
import shutil
from functools import partial
from pathlib import Path

import pytest
from conftest import REPO

from kdata.errors import Issue
from kdata.records import evidence
from kdata.records.validate import RawData, load_raw

SOURCES = "sources"


def _definition(data: RawData, archive: Path | None) -> list[Issue]:
    """Every text's issues, then each file's quotes against the valid texts, one file at a time."""
    index = evidence.archive_index(archive) if archive is not None else None
    texts, issues = {}, []
    for (table, rid), result in data.results.items():
        if table == SOURCES and result.sha256 is not None:
            if index is None:
                decoded, code, message = evidence.text_checked(result.path, result.sha256)
                text = evidence.Archived(decoded) if decoded is not None else None
            else:
                found = index.get(result.sha256)
                raw = found.read_bytes() if found is not None else None
                code, message = ("", "") if raw else ("KD302", f"No file in {archive} has the sha256 {result.sha256}.")
                decoded, code, message = evidence._decoded(raw, code, message, f"of sha256 {result.sha256}")
                text = evidence.Archived(decoded) if decoded is not None else None
            if text is not None:
                texts[rid] = text
            else:
                line, col = data.where(table, rid, ("sha256",))
                issues.append(Issue(result.name, line, col, code, "sha256", message))
    if index is None:
        issues.extend(evidence.orphan_texts(data.root))
    for (table, rid), result in sorted(data.results.items()):
        where = partial(data.where, table, rid)
        issues.extend(evidence.quote_issues(result.name, result.quotes, texts.get, where)[1])
    return sorted(issues)


def _break_quotes(raw: Path, rng: random.Random, count: int) -> None:
    """Drop a word from some quotes, type '...' in others, and move some locators to another paragraph."""
    files = {path: path.read_text().splitlines() for path in sorted(raw.glob("*/*.yaml"))}
    picked = [(p, n) for p, lines in files.items() for n, line in enumerate(lines) if line.startswith(_EDITED)]
    for path, n in rng.sample(picked, min(count, len(picked))):
        line = files[path][n]
        if line.startswith("  locator: paragraph "):
            files[path][n] = f"  locator: paragraph {int(line.rsplit(' ', 1)[1]) + rng.randint(1, 3)}"
        elif line.startswith("  quote: "):
            words = line.removeprefix("  quote: ").split(" ")
            inner = [i for i in range(2, len(words) - 2) if words[i].isalpha()]
            if inner:
                words[rng.choice(inner)] = "..." if rng.random() < 0.3 else ""
                files[path][n] = "  quote: " + " ".join(w for w in words if w)
    for path, lines in files.items():
        path.write_text("\n".join(lines) + "\n")


#: The lines ``_break_quotes`` edits.
_EDITED = ("  quote: ", "  locator: paragraph ")


def _break_texts(raw: Path, rng: random.Random) -> None:
    """Tamper with one archived text, delete another, and leave a third without its record."""
    texts = sorted((raw / SOURCES).glob("*.txt"))
    tampered, deleted, orphaned = rng.sample(texts, 3)
    tampered.write_bytes(tampered.read_bytes() + b"\nA paragraph added.\n")
    deleted.unlink()
    orphaned.with_suffix(".yaml").unlink()


@pytest.mark.parametrize("seed", range(4))
def test_settled_and_streamed_quotes_report_what_each_file_does(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "raw", raw)
    _break_quotes(raw, rng, 40)
    if seed % 2:
        _break_texts(raw, rng)
    kept = load_raw(raw, keep="nothing")
    settled = load_raw(raw, keep="nothing", settle=True)
    assert any(r.settled for r in settled.results.values())
    assert sum(len(r.quotes) for r in settled.results.values()) < sum(len(r.quotes) for r in kept.results.values())
    expected = _definition(kept, None)
    assert {i.code for i in expected} >= {"KD301", "KD304"}
    assert verify_quotes_of(kept) == expected
    assert verify_quotes_of(settled) == expected


def verify_quotes_of(data: RawData, archive: Path | None = None) -> list[Issue]:
    return evidence.verify_quotes(data, archive)


def test_quotes_settled_in_other_bytes_than_the_archive_are_read_again(tmp_path: Path) -> None:
    raw, archive = tmp_path / "raw", tmp_path / "archive"
    shutil.copytree(REPO / "raw", raw)
    archive.mkdir()
    for text in sorted((raw / SOURCES).glob("*.txt")):
        shutil.copyfile(text, archive / text.name)
        text.write_bytes(text.read_bytes() + b"\nA paragraph only beside the record.\n")  # still holds every quote
    _break_quotes(raw, random.Random(7), 30)
    kept = load_raw(raw, keep="nothing")
    settled = load_raw(raw, keep="nothing", settle=True)
    assert any(r.settled for r in settled.results.values())
    expected = _definition(kept, archive)
    assert {i.code for i in expected} >= {"KD301", "KD304"}
    assert "KD303" not in {i.code for i in expected}  # the archive's texts are the records'
    assert verify_quotes_of(settled, archive) == expected
