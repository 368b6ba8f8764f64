"""`kdata conflicts` on the repository's package: each disagreement by topic, its kind, and each side's claimants."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO
from inprocess import run_kdata_here

import kdata
from kdata.cli import QUOTE_WIDTH
from kdata.records import vocab

DIST = REPO / "dist"


def _run(*args: str, cwd: Path) -> str:
    result = run_kdata_here("conflicts", DIST, *args, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _blocks(text: str) -> dict[str, list[str]]:
    """The text output cut into disagreements: heading line -> the lines under it."""
    blocks: dict[str, list[str]] = {}
    lines = text.splitlines()[:-1]  # the last line counts them
    for line in lines:
        if not line.startswith(" "):
            current = blocks.setdefault(line, [])
        else:
            current.append(line)
    return blocks


def test_text_shows_each_side_with_claimant_outlet_date_and_quote(tmp_path: Path) -> None:
    text = _run(cwd=tmp_path)
    blocks = _blocks(text)
    assert len(blocks) == len(kdata.load("disagreements", package=DIST))
    assert text.splitlines()[-1] == f"{len(blocks)} disagreement(s)."
    end = blocks["war-2020-end (events): date, 2 sides"]
    assert end == [
        "  1. 2020-11-09  [war-2020-end-2020-11-09]",
        '     APA (APA, 2022-11-25): "ended in Victory on November 9, 2020"',
        "  2. 2020-11-10  [war-2020-end-2020-11-10]",
        '     Ilham Aliyev (News.Az, 2025-08-21): "the cessation of the war on November 10, 2020 was the most correct step"',
    ]
    three = blocks["war-2020-ending-document (events): wording, 3 sides"]
    assert [line for line in three if line.startswith("  ") and not line.startswith("   ")] == [
        "  1. Statement  [trilateral-statement-2020-11-10]",
        "  2. act of surrender  [war-2020-ending-document-2020-11-08]",
        "  3. act of capitulation  [war-2020-ending-document-aliyev]",
    ]
    quotes = [line.split(': "', 1)[1][:-1] for block in blocks.values() for line in block if ': "' in line]
    assert max(len(q) for q in quotes) <= QUOTE_WIDTH
    cut = [q for q in quotes if q.endswith("\u2026")]
    assert cut and all(not q[:-1].endswith(" ") for q in cut)  # cut at a word


def test_translations_come_after_the_disagreements_between_claimants(tmp_path: Path) -> None:
    headings = list(_blocks(_run(cwd=tmp_path)))
    kinds = [h.split(": ", 1)[1].split(",")[0] for h in headings]
    assert kinds == sorted(kinds, key=list(vocab.DISAGREEMENT_KINDS).index) and kinds[-1] == "translation"
    assert "kalbajar-displaced-1993 (figures): translation, in the number, 2 sides" in headings


def test_kind_filter_in_text_and_json(tmp_path: Path) -> None:
    table = kdata.load("disagreements", package=DIST)
    for kind in vocab.DISAGREEMENT_KINDS:
        found = json.loads(_run("--kind", kind, "--format", "json", cwd=tmp_path))
        assert len(found) == (table["kind"] == kind).sum()
        assert all(d["kind"] == kind for d in found)
    both = _blocks(_run("--kind", "date", "--kind", "translation", cwd=tmp_path))
    assert len(both) == table["kind"].isin(["date", "translation"]).sum() > 0
    dates = json.loads(_run("--kind", "date", "--format", "json", cwd=tmp_path))
    claimants = {c["claimant_name"] for d in dates for side in d["sides"] for c in side["claims"]}
    assert {"APA", "Ilham Aliyev"} <= claimants
    wrong = run_kdata_here("conflicts", DIST, "--kind", "pairs", cwd=tmp_path)
    assert wrong.returncode == 2 and "'pairs' is not one of" in wrong.stderr
