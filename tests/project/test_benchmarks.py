"""The benchmark script runs end to end and its tables hold together (a smoke test: timings are never asserted)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

NUMBER = r"-?[0-9][0-9,]*(\.[0-9]+)?"


def _table(text: str, header_start: str) -> tuple[list[str], list[list[str]]]:
    """The header cells and body rows of the first Markdown table whose header starts with ``header_start``."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[at + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return [c.strip() for c in lines[at].strip("|").split("|")], rows


def test_benchmark_runs_and_writes_consistent_tables(tmp_path: Path) -> None:
    """A tiny run measures every phase and target at each size, and every ratio is its figures' quotient."""
    out, data = tmp_path / "RESULTS.md", tmp_path / "run.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--records", "80", "--repeat", "1"]
        + ["--profile-max", "0", "--out", str(out), "--json", str(data)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KDATA_BENCH_DIR": str(tmp_path / "work")},
    )
    assert result.returncode == 0, result.stderr
    text, run = out.read_text(), json.loads(data.read_text())
    sizes = {int(n): m for n, m in run["sizes"].items()}
    assert sorted(sizes) == [80]
    # The targets table: one column per size, each cell a figure and whether it meets the goal.
    header, rows = _table(text, "| target | goal |")
    assert header[2:] == ["80"]
    names = [row[0] for row in rows]
    for wanted in ("validate / floor, wall", "build / floor, CPU", "PSS", "after 1 edit / cold", "frictionless"):
        assert any(wanted in name for name in names), wanted
    assert any("kdata.load / read_parquet" in name for name in names) and "kdata --help (ms)" in names
    for row in rows:
        for cell in row[2:]:
            assert cell == "" or re.fullmatch(rf"{NUMBER} (yes|\*\*no\*\*)", cell), row
    met = sum(cell.endswith("yes") for row in rows for cell in row[2:])
    total = sum(cell != "" for row in rows for cell in row[2:])
    assert f"{met} of {total} met." in text
    # The ratios against the floors are computed from the phase figures of the same run.
    header, rows = _table(text, "| records | processes | validate / floor 1 wall |")
    assert [row[0] for row in rows] == ["80"]
    for row in rows:
        m = sizes[int(row[0])]
        assert float(row[4]) == round(m["validate"]["wall"] / m["floor_validate_n"]["wall"], 2)
        assert float(row[9]) == round(m["build"]["cpu"] / m["floor_build_n"]["cpu"], 2)
    for m in sizes.values():
        for phase in ("validate", "build", "floor_build_n", "validate_edit", "verify", "frictionless"):
            figures = m[phase]
            assert figures["wall"] > 0 and figures["cpu"] > 0 and figures["pss_mb"] > 0, phase
            assert figures["rss_mb"] >= figures["pss_mb"] and figures["processes"] >= 1
        assert all(m[f"load:{t}"]["same_frame"] for t in ("figures", "citations"))  # like for like
        assert m["rows"]["claims"] > 0 and m["rows"]["claim_targets"] > 0 and m["rows"]["disagreements"] > 0
    # Each size's phase table, the load table, start-up and the machine's load are in the file.
    assert text.count("| phase | wall s | CPU s |") == 1
    assert "| records | table | rows | kdata.load ms |" in text and "| kdata --help |" in text
    assert "Load average (1, 5, 15 min) before the run" in text and "stat_floor.py" in text
    assert "| kdata.records.yamlio.parse (strict; positions when an issue needs them) |" in text
    assert "## Where the time goes" in text and "--profile-max 0" in text
    # Both the kdata build and the build floor wrote their tables.
    assert (tmp_path / "work" / "80" / "dist" / "datapackage.json").is_file()
    assert (tmp_path / "work" / "80" / "floor" / "claims.parquet").is_file()


def test_profile_groups_a_phase(tmp_path: Path) -> None:
    """profile_phase.py profiles a validate in one process: its groups add up to at most the total, anchors among them."""
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "synth.py"), "40", str(tmp_path)], check=True)
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "profile_phase.py"), "validate", "raw", "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout.strip().splitlines()[-1])
    groups = dict(profile["groups"])
    assert 0 < sum(groups.values()) <= profile["total"] * 1.01
    assert groups["quote anchors and verification (anchors, evidence, quotefind)"] > 0
    assert groups["YAML: kdata's walk over the node tree (yamlio)"] > 0
    assert len(profile["top"]) == 12
