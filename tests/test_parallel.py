"""Worker processes change nothing: a large tree gives the same records, issues and package either way."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import REPO

from kdata import package, scan
from kdata.validate import load_raw

sys.path.insert(0, str(REPO / "benchmarks"))
import synth  # the benchmark's generator of realistic trees


def test_parallel_scan_equals_sequential_scan(tmp_path: Path) -> None:
    """Above the threshold, 2 workers give exactly what one process gives, broken files included."""
    raw = synth.generate(scan.PARALLEL_MIN_FILES + 200, tmp_path)
    (raw / "events" / "event-000003.yaml").write_text("id: event-000003\ntitle: [unclosed\n")
    (raw / "figures" / "figure-000004.yaml").write_bytes(b"id: figure-000004\nmeasure: \xff\n")
    one, two = load_raw(raw, jobs=1), load_raw(raw, jobs=2)
    assert len(one.issues) >= 2 and one.issues == two.issues
    assert one.records == two.records
    one.issues = two.issues = []
    assert package.package_files(one) == package.package_files(two)
