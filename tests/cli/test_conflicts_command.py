"""`kdata conflicts` on the repository's package: each disagreement by topic, its kind, and each side's claimants."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import REPO
from inprocess import run_kdata_here

import kdata
from kdata.cli.conflicts import QUOTE_WIDTH
from kdata.datapackage.conflicts import quoted
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
        "  1. 2020-11-09  [war-2020-end-2020-11-09]",  # a date is ours (EDTF), not a quotation
        '     APA (APA, 2022-11-25): "ended in Victory on November 9, 2020"',
        "  2. 2020-11-10  [war-2020-end-2020-11-10]",
        '     Ilham Aliyev (News.Az, 2025-08-21): "the cessation of the war on November 10, 2020 was the most correct step"',
    ]
    three = blocks["war-2020-ending-document (events): wording, 3 sides"]
    assert [line for line in three if line.startswith("  ") and not line.startswith("   ")] == [
        '  1. "Statement", said by APA  [trilateral-statement-2020-11-10]',
        '  2. "act of surrender", said by APA  [war-2020-ending-document-2020-11-08]',
        '  3. "act of capitulation", said by Ilham Aliyev  [war-2020-ending-document-aliyev]',
    ]
    quotes = [line.split(': "', 1)[1][:-1] for block in blocks.values() for line in block if ': "' in line]
    assert max(len(q) for q in quotes) <= QUOTE_WIDTH
    cut = [q for q in quotes if q.endswith("\u2026")]
    assert cut and all(not q[:-1].endswith(" ") for q in cut)  # cut at a word


def test_grouped_by_topic_ranked_by_the_most_substantive_kind(tmp_path: Path) -> None:
    """A topic stands once (its disagreements together), topics by their first kind, translations last."""
    headings = list(_blocks(_run(cwd=tmp_path)))
    rank = list(vocab.DISAGREEMENT_KINDS).index
    parsed = [(h.split(" ", 1)[0], rank(h.split(": ", 1)[1].split(",")[0])) for h in headings]
    topics = [topic for topic, _ in parsed]
    order = list(dict.fromkeys(topics))
    assert topics == sorted(topics, key=order.index), "a topic's disagreements stand together"
    first = {topic: min(r for t, r in parsed if t == topic) for topic in order}
    assert order == sorted(order, key=lambda t: (first[t], t))
    for topic in order:
        kinds = [r for t, r in parsed if t == topic]
        assert kinds == sorted(kinds)
    assert headings.index("war-2020-ending-document (events): date, 3 sides") + 1 == headings.index(
        "war-2020-ending-document (events): wording, 3 sides"
    )
    assert parsed[-1][1] == rank("translation") and parsed[0][1] < rank("translation")
    assert "kalbajar-displaced-1993 (figures): translation, in the number, 2 sides" in headings


def test_json_carries_the_tables_types(tmp_path: Path) -> None:
    """Counts are numbers in the JSON as in the table (its Table Schema says integer), not text."""
    found = json.loads(_run("--format", "json", cwd=tmp_path))
    descriptor = kdata.metadata(DIST)
    integers = {
        (r["name"], f["name"]) for r in descriptor["resources"] for f in r["schema"]["fields"] if f["type"] == "integer"
    }
    assert {("disagreements", "records"), ("disagreements", "claimants"), ("disagreement_sides", "side")} <= integers
    for d in found:
        counts = [k for t, k in integers if t == "disagreements" and k != "sides"]  # 'sides' holds the sides
        assert counts and all(type(d[k]) is int for k in counts), d
        assert all(type(side["side"]) is int for side in d["sides"])
        assert all(d[k] is None or isinstance(d[k], str) for k in ("topic", "table", "aspect", "kind"))
    table = kdata.load("disagreements", package=DIST).set_index(["topic", "table", "aspect"])
    for d in found:
        row = table.loc[(d["topic"], d["table"], d["aspect"])]
        assert (d["records"], d["claimants"]) == (int(row["records"]), int(row["claimants"]))


def test_quoted_values_are_quotations_attributed(tmp_path: Path) -> None:
    """A side's value in the sources' words reads as a quotation with who says it, as on the site; a date stays bare."""
    for kind in ("wording", "translation", "number"):
        for d in json.loads(_run("--kind", kind, "--format", "json", cwd=tmp_path)):
            assert quoted(d["aspect"])
    text = _run("--kind", "wording", "--kind", "translation", cwd=tmp_path)
    values = [line for line in text.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    assert values and all(re.match(r'^  \d+\. ".+", said by \S.*  \[', line) for line in values), values
    assert '  1. "is illegally exploiting its mineral resources", said by ' in text
    assert not quoted("date")
    for line in _run("--kind", "date", cwd=tmp_path).splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            assert re.match(r"^  \d+\. [0-9.X~?%/-]+  \[", line), line


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
