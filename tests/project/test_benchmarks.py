"""The benchmark script runs end to end (a smoke test: timings are never asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_benchmark_runs_and_writes_its_table(tmp_path: Path) -> None:
    """A tiny run measures every column and writes the Markdown table with ratios."""
    out = tmp_path / "RESULTS.md"
    env_dir = {"KDATA_BENCH_DIR": str(tmp_path / "work")}
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--records", "100", "--repeat", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env_dir},
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    (header,) = [line for line in text.splitlines() if line.startswith("| records |")]
    (row,) = [line for line in text.splitlines() if line.startswith("| 100 |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == header.count("|") - 1 >= 16
    assert all(re.fullmatch(r"[0-9.]+%?", c) for c in cells[1:])
    assert (
        "kdata --help" in text
        and "import kdata" in text
        and "stat_floor.py" in text
        and "| kdata.records.yamlio.parse (positions, strict) |" in text
    )
    assert (tmp_path / "work" / "100" / "dist" / "datapackage.json").is_file()
