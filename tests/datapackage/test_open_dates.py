"""Dates open at one end ('2025-08-21/..'): published as an empty day, never as an invented one, everywhere."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import GOOD

import kdata
from kdata.datapackage.build import build
from kdata.datapackage.verify import verify
from kdata.site.render import build_site
from kdata.site.timeline import layout


def _project(tmp_path: Path, bridge: str, ret: str) -> Path:
    """The good project with its two events re-dated and sharing one topic; built into tmp_path/dist."""
    raw = Path(shutil.copytree(GOOD / "raw", tmp_path / "raw"))
    bridge_file = raw / "events" / "riverton-bridge-opened.yaml"
    text = bridge_file.read_text("utf-8").replace("date: 2020-04\n", f"date: {bridge}\ntopic: riverton-return\n")
    bridge_file.write_text(text.replace("date_phrase: early April 2020\n", ""), "utf-8")
    ret_file = raw / "events" / "riverton-return-2020.yaml"
    ret_file.write_text(ret_file.read_text("utf-8").replace("date: 2020-03-02\n", f"date: {ret}\n"), "utf-8")
    build(raw, tmp_path / "dist")
    return tmp_path / "dist"


def test_an_open_end_is_an_empty_cell_in_csv_and_parquet_and_the_package_is_valid(tmp_path: Path) -> None:
    dist = _project(tmp_path, "2020-04-01/..", "../2020-03-02")
    with (dist / "events.csv").open(encoding="utf-8", newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    assert (rows["riverton-bridge-opened"]["date_start"], rows["riverton-bridge-opened"]["date_end"]) == (
        "2020-04-01",
        "",
    )
    assert (rows["riverton-return-2020"]["date_start"], rows["riverton-return-2020"]["date_end"]) == ("", "2020-03-02")
    table = kdata.load_table("events", dist).to_pylist()
    by_id = {r["id"]: r for r in table}
    assert (by_id["riverton-bridge-opened"]["date_start"], by_id["riverton-bridge-opened"]["date_end"]) == (
        date(2020, 4, 1),
        None,
    )
    assert by_id["riverton-return-2020"]["date_precision"] == "day"
    assert verify(dist) == []
    schema = kdata.load_table("events", dist).schema
    assert schema.field("date_end").nullable and schema.field("date_start").nullable


@pytest.mark.parametrize(
    ("bridge", "ret", "disagree"),
    [
        ("2020-04-01/..", "2020-03-02", True),  # the return ends before the open interval starts
        ("2020-03/..", "2020-03-02", False),  # the open end reaches every later day: they overlap
        ("../2020-02", "2020-03-02", True),
        ("../2020-03", "2020-03-02", False),
        ("2019/..", "../2018", True),
        ("2019/..", "../2019-06", False),
    ],
)
def test_open_dates_disagree_only_where_their_days_cannot_overlap(
    tmp_path: Path, bridge: str, ret: str, disagree: bool
) -> None:
    dist = _project(tmp_path, bridge, ret)
    found = [(d["topic"], d["aspect"]) for d in kdata.load_table("disagreements", dist).to_pylist()]
    assert (("riverton-return", "date") in found) is disagree


def test_the_site_says_the_sources_give_no_end_and_the_timeline_invents_no_year(tmp_path: Path) -> None:
    dist = _project(tmp_path, "2020-04-01/..", "../2020-03-02")
    build_site(tmp_path / "site", dist)
    for page, words in (
        ("riverton-bridge-opened", "from 1 April 2020 (the sources give no end)"),
        ("riverton-return-2020", "until 2 March 2020 (the sources give no start)"),
    ):
        html = (tmp_path / "site" / "events" / f"{page}.html").read_text("utf-8")
        text = re.sub(r"<[^>]+>", "", html)  # the words as read: each date is wrapped to stay on one line
        assert words in text and "None" not in text, page
    timeline = layout(kdata.load_table("events", dist).to_pylist())
    assert (timeline.first_year, timeline.last_year) == (2020, 2020)
    shapes = {m.id: (m.shape, m.open_start, m.open_end) for m in timeline.marks}  # bars running out of the axis
    assert shapes == {"riverton-bridge-opened": ("bar", False, True), "riverton-return-2020": ("bar", True, False)}
