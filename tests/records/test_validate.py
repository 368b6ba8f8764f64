"""Worker processes change nothing: a large tree gives the same records, issues and package either way."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import REPO
from records_parallel import lower_the_parallel_threshold

from kdata.datapackage import write as package
from kdata.datapackage.rows import chunk_tables, merge
from kdata.records.validate import load_raw

sys.path.insert(0, str(REPO / "benchmarks"))
import synth  # the benchmark's generator of realistic trees


def test_parallel_scan_equals_sequential_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the threshold, 2 workers give exactly what one process gives, broken files included."""
    parallel = lower_the_parallel_threshold(monkeypatch)
    raw = synth.generate(400, tmp_path)  # 8 chunks of 50: more than the 6 that two workers are sent ahead
    (raw / "events" / "event-000003.yaml").write_text("id: event-000003\ntitle: [unclosed\n")
    (raw / "figures" / "figure-000004.yaml").write_bytes(b"id: figure-000004\nmeasure: \xff\n")
    one, two = load_raw(raw, jobs=1), load_raw(raw, jobs=2)
    assert len(one.issues) >= 2 and one.issues == two.issues
    assert one.records == two.records
    # The package's rows, made in the workers and merged, do not depend on the split either.
    built = []
    for jobs in (1, 2):
        data = load_raw(raw, jobs=jobs, keep=chunk_tables)
        assert data.info is not None
        parts, out = package.table_parts(data.parts), tmp_path / f"dist-{jobs}"
        out.mkdir()
        counts = package.write_package(data.info, ((table, merge(table, p)) for table, p in parts.items()), out)
        assert counts["events"] > 0.2 * 400 and counts["citations"] > counts["events"]
        built.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert built[0] == built[1] and len(built[0]) == 2 * len(counts) + 1
    assert parallel == [2, 2], "both runs of two jobs took the worker processes"


def test_references_across_records_are_capped_a_file_and_found_in_one_pass(project: Path) -> None:
    """3,000 citations naming missing sources and actors: 20 issues and one count line, not 6,000 lines.

    Each dangling reference re-read and re-walked its file, so a file with thousands took minutes.
    """
    from inprocess import run_kdata_here

    record = project / "raw" / "events" / "riverton-return-2020.yaml"
    cites = "".join(
        f"  - source: no-such-source-{i}\n    claimant: no-such-actor-{i}\n    quote: q{i}\n" for i in range(3000)
    )
    text = record.read_text("utf-8")
    assert "citations:\n" in text
    record.write_text(text.replace("citations:\n", "citations:\n" + cites, 1), "utf-8")
    result = run_kdata_here("validate", "raw", "--no-cache", "--format", "json", cwd=project)
    found = [row for row in json.loads(result.stdout) if row["file"].endswith("riverton-return-2020.yaml")]
    assert result.returncode == 1 and len(found) == 21
    assert [row["code"] for row in found].count("KD202") == 20 and found[-1]["code"] == "KD014"
    assert "5980 more issues" in found[-1]["message"]
