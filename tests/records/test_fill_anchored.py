"""A validate that fills an empty cache anchors quotes in its workers, as ``--no-cache`` does, and reports the same.

The workers find each quote in the text beside its source (``texts.settle(..., keep=True)``) and keep every
quote for the cache; the checks across records, in the main process, look again only at the quotes the
workers did not find, or found in bytes other than those the source's record names.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from inprocess import run_kdata_here
from records_parallel import lower_the_parallel_threshold

from kdata.records import evidence

sys.path.insert(0, str(REPO / "benchmarks"))
import synth  # the benchmark's generator of realistic trees


def _sources_quoted(raw: Path) -> dict[str, int]:
    """Source id -> how many citations quote it."""
    counts: dict[str, int] = {}
    for path in raw.glob("*/*.yaml"):
        for source in re.findall(r"^  - source: (\S+)$", path.read_text("utf-8"), re.M):
            counts[source] = counts.get(source, 0) + 1
    return counts


#: Every how many paragraphs of a text ``_edit_text`` changes (one quote each): each quote no longer found costs
#: a search for its nearest passage, the most of a run (a second per quote of a changed text, were all changed).
EDIT_EVERY = 16


def _edit_text(raw: Path, source: str, new_sha: bool) -> int:
    """Change the first word of every ``EDIT_EVERY``-th paragraph of a source's text, the first among them (their
    quotes are no longer found); with ``new_sha`` the record names the new bytes, else the text no longer matches
    its record. Returns how many paragraphs (so quotes) were changed."""
    text = raw / "sources" / f"{source}.txt"
    paragraphs = text.read_bytes().split(b"\n\n")
    edited = range(0, len(paragraphs), EDIT_EVERY)
    for at in edited:
        paragraphs[at] = b"Z" + paragraphs[at]
    changed = b"\n\n".join(paragraphs)
    text.write_bytes(changed)
    if new_sha:
        record = text.with_suffix(".yaml")
        digest = hashlib.sha256(changed).hexdigest()
        record.write_text(re.sub(r"sha256: \w+", f"sha256: {digest}", record.read_text("utf-8")), "utf-8")
    return len(edited)


def _wrong_locator(raw: Path) -> str:
    """One citation's locator pointed at another paragraph (its quote is found, the locator disagrees)."""
    path = sorted(raw.glob("events/*.yaml"))[7]
    text = path.read_text("utf-8")
    path.write_text(re.sub(r"locator: paragraph \d+", "locator: paragraph 999", text, count=1), "utf-8")
    return path.name


Damage = Callable[[Path, list[str]], int]  # damages a tree; returns the citations the main process must look at


def _nothing(raw: Path, sources: list[str]) -> int:
    return 0


def _text_renamed(raw: Path, sources: list[str]) -> int:
    return _edit_text(raw, sources[0], new_sha=True)  # the workers found the others in the bytes the record names


def _text_stale(raw: Path, sources: list[str]) -> int:
    _edit_text(raw, sources[1], new_sha=False)  # the source is reported; its quotes are not looked at
    return _sources_quoted(raw)[sources[1]]


def _text_gone(raw: Path, sources: list[str]) -> int:
    (raw / "sources" / f"{sources[2]}.txt").unlink()  # the source is reported; its quotes are not looked at
    return _sources_quoted(raw)[sources[2]]


def _record_moved(raw: Path, sources: list[str]) -> int:
    """The source's record in a file of another name, beside a text of other words that it names: the quotes
    found by the workers in ``<id>.txt`` are looked for again in that text (and are not there)."""
    source = sources[3]
    folder = raw / "sources"
    (folder / f"{source}.yaml").rename(folder / f"moved-{source}.yaml")
    (folder / f"moved-{source}.txt").write_bytes((folder / f"{source}.txt").read_bytes())
    _edit_text(raw, f"moved-{source}", new_sha=True)
    return _sources_quoted(raw)[source]


def _locator(raw: Path, sources: list[str]) -> int:
    _wrong_locator(raw)
    return 1


DAMAGES: tuple[Damage, ...] = (_text_renamed, _text_stale, _text_gone, _record_moved, _locator)


@pytest.mark.parametrize("damaged", [False, True], ids=["clean", "damaged"])
def test_a_cache_filled_by_workers_reports_what_no_cache_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged: bool
) -> None:
    """Same JSON as ``--no-cache``; in the main process only the quotes the workers could not settle are anchored.

    Damaged: one source's text changed and named by its record, one's changed and not, one's deleted, one's
    record moved to a file of another name, one locator wrong.
    """
    parallel = lower_the_parallel_threshold(monkeypatch)
    raw = synth.generate(600, tmp_path / "tree")  # 6 sources, 12 chunks
    sources = sorted(_sources_quoted(raw))
    at_most = sum(damage(raw, sources) for damage in DAMAGES) if damaged else 0
    looked_at: list[Any] = []
    real = evidence.quote_issues

    def counted(name: str, quotes: Any, *args: Any) -> Any:
        looked_at.extend(quotes)
        return real(name, quotes, *args)

    monkeypatch.setattr(evidence, "quote_issues", counted)  # the real check, its inputs counted

    def validate(*flags: str) -> tuple[int, Any]:
        env = {"KDATA_CACHE_DIR": str(tmp_path / "cache"), "KDATA_JOBS": "2"}
        result = run_kdata_here("validate", "raw", "--format", "json", *flags, cwd=raw.parent, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        return result.returncode, json.loads(result.stdout)

    full = validate("--no-cache")
    looked_at.clear()
    filled = validate()
    assert filled == full
    assert parallel, "the workers ran"
    assert len(looked_at) <= at_most, f"{len(looked_at)} quotes looked at again in the main process"
    codes = {row["code"] for row in full[1]}
    if damaged:
        assert full[0] == 1 and {"KD301", "KD303"} <= codes and codes & {"KD304", "KD305"}, codes
    else:
        assert full == (0, [])
    # The cache kept every quote: a later edit of a text rechecks the quotes citing it.
    _edit_text(raw, sources[5], new_sha=True)
    after = validate("--no-cache")
    assert validate() == after and len(after[1]) > len(full[1])
