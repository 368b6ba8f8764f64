"""kdata.release.diff_format: one package diff as text, JSON, Markdown and a CHANGELOG draft."""

from __future__ import annotations

import datetime
import json

from kdata.release import diff_format
from kdata.release.diff import PackageDiff, TableDiff

LONG = "A note far longer than sixty characters, which the summaries cut short."


def a_diff() -> PackageDiff:
    """0.1.0 -> 0.2.0: a resource added, metadata edited, figures changed in rows and schema, places untouched."""
    figures = TableDiff(
        "figures",
        ["id"],
        added=[("new-figure",)],
        removed=[("old-figure",)],
        changed=[(("bridge-length",), {"value": (4, 5), "note": (None, LONG)})],
        fields_added=["term"],
        fields_retyped=[("value", "integer", "number")],
    )
    return PackageDiff(
        "0.1.0",
        "0.2.0",
        resources_added=["maps"],
        metadata_changed=["title"],
        tables={"figures": figures, "places": TableDiff("places", ["id"])},
        reasons=[("minor", "figures: 1 row(s) added"), ("major", "figures: field value retyped"), ("patch", "fixes")],
    )


def test_text_lists_each_change_and_ends_with_the_bump() -> None:
    assert (
        diff_format.text(a_diff()).splitlines()
        == [
            "0.1.0 → 0.2.0",
            "resource maps added",
            "package metadata edited: title",
            "figures: 1 added, 1 removed, 1 changed",  # places changed nothing: not listed
            "  field term added",
            "  field value retyped: integer → number",
            "  + new-figure",
            "  - old-figure",
            f"  ~ bridge-length: value: 4 → 5; note: ∅ → {LONG[:57]}...",
            "major: figures: field value retyped",  # only the reasons of the bump itself
            "Required bump: major (0.1.0 → at least 1.0.0).",
        ]
    )


def test_text_of_no_change_says_no_bump_is_needed() -> None:
    same = PackageDiff("0.1.0", "0.1.0", tables={"places": TableDiff("places", ["id"])})
    assert diff_format.text(same) == "0.1.0 → 0.1.0\nNo change to the data: no version bump needed."


def test_long_lists_are_cut_at_show_and_the_rest_counted() -> None:
    many = TableDiff("places", ["id"], added=[(f"p{n:03}",) for n in range(diff_format.SHOW + 5)], removed=[("x",)])
    diff = PackageDiff("0.1.0", "0.2.0", tables={"places": many}, reasons=[("major", "places: 1 row(s) removed")])
    lines = diff_format.text(diff).splitlines()
    assert sum(line.startswith("  + ") for line in lines) == diff_format.SHOW
    assert "  ... and 5 more (see --format json)" in lines
    assert len(json.loads(diff_format.as_json(diff))["tables"]["places"]["added"]) == diff_format.SHOW + 5


def test_json_holds_everything_in_full() -> None:
    content = json.loads(diff_format.as_json(a_diff()))
    assert (content["bump"], content["next_version"]) == ("major", "1.0.0")
    assert content["reasons"][0] == {"level": "minor", "reason": "figures: 1 row(s) added"}
    figures = content["tables"]["figures"]
    assert figures["added"] == [["new-figure"]] and figures["removed"] == [["old-figure"]]
    assert figures["changed"] == [{"key": ["bridge-length"], "cells": {"value": [4, 5], "note": [None, LONG]}}]
    assert figures["fields_retyped"] == [{"field": "value", "old": "integer", "new": "number"}]
    assert content["tables"]["places"]["primary_key_changed"] is None
    dated = PackageDiff("0.1.0", "0.1.1", tables={"events": TableDiff("events", ["id"])})
    dated.tables["events"].changed.append((("e",), {"date_start": (datetime.date(1993, 4, 1), None)}))
    assert json.loads(diff_format.as_json(dated))["tables"]["events"]["changed"][0]["cells"] == {
        "date_start": ["1993-04-01", None]  # a date becomes its ISO text
    }


def test_markdown_has_a_count_table_and_folded_details() -> None:
    lines = diff_format.markdown(a_diff()).splitlines()
    assert lines[:3] == ["### Data changes: 0.1.0 → 0.2.0", "", "**Required bump: major (0.1.0 → at least 1.0.0).**"]
    assert "| <code>figures</code> | 1 | 1 | 1 | field term added; field value retyped: integer → number |" in lines
    assert (
        "| <code>places</code> | 0 | 0 | 0 | — |" in lines and "| <code>maps</code> | resource added | | | |" in lines
    )
    assert "<details><summary><code>figures</code>: 1 added, 1 removed, 1 changed</summary>" in lines
    assert "<details><summary><code>places</code>" not in "\n".join(lines)  # nothing to fold for places
    assert "- changed <code>bridge-length</code>: value: 4 → 5; note: ∅ → " + LONG[:57] + "..." in lines
    assert lines.count("</details>") == 1


def test_changelog_drafts_an_entry_in_keep_a_changelog_sections() -> None:
    today = datetime.date.today().isoformat()
    assert diff_format.changelog(a_diff()).splitlines() == [
        f"## [0.2.0] - {today}",
        "",
        "### Added",
        "- Resource <code>maps</code>.",
        "- Field <code>figures.term</code>.",
        "- 1 row(s) in <code>figures</code>: new-figure.",
        "",
        "### Changed",
        "- Field <code>figures.value</code> is now number (was integer).",
        "- 1 row(s) in <code>figures</code> corrected: bridge-length (value, note).",
        "- Package metadata: title.",
        "",
        "### Removed",
        "- 1 row(s) from <code>figures</code>: old-figure.",
    ]
    unbumped = PackageDiff("0.1.0", "0.1.0", metadata_changed=["description"], reasons=[("patch", "metadata")])
    assert diff_format.changelog(unbumped).splitlines()[0] == f"## [0.1.1] - {today}"  # the version it needs


def test_every_format_is_offered_by_name() -> None:
    assert diff_format.FORMATS == {
        "text": diff_format.text,
        "json": diff_format.as_json,
        "markdown": diff_format.markdown,
        "changelog": diff_format.changelog,
    }
