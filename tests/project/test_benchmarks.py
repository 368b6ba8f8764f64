"""The benchmark script runs end to end and its tables hold together (a smoke test: timings are never asserted)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest
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


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KDATA_BENCH_DIR": str(tmp_path / "work")},
    )


class Parts(NamedTuple):
    """A benchmark run in two parts: the first's JSON, then the second's RESULTS.md and JSON (the first joined)."""

    first: dict[str, Any]
    text: str
    run: dict[str, Any]
    work: Path


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Parts:
    """A long run made in two parts, tiny: 60 records with a tiny --frictionless-limit (frictionless is cut there),
    then 40 records without one (the default limit, not reached), joined to the first by --add."""
    tmp = tmp_path_factory.mktemp("bench")
    first, out, data = tmp / "first.json", tmp / "RESULTS.md", tmp / "run.json"
    # Memory sampled every 0.1 s, not 0.02: the first sample is taken at the start, and sampling a process that
    # imports pandas every 20 ms costs the run about a tenth of a core for the whole of its life.
    tiny = ("--repeat", "1", "--profile-max", "0", "--sample-interval", "0.1")
    limited = ("--frictionless-limit", "0.3", "--json", str(first), "--out", str(tmp / "first.md"))
    result = _run(tmp, "--records", "60", *tiny, *limited)
    assert result.returncode == 0, result.stderr
    joined = ("--add", str(first), "--out", str(out), "--json", str(data))
    result = _run(tmp, "--records", "40", *tiny, *joined)
    assert result.returncode == 0, result.stderr
    return Parts(json.loads(first.read_text()), out.read_text(), json.loads(data.read_text()), tmp / "work")


def test_benchmark_runs_and_writes_consistent_tables(parts: Parts) -> None:
    """A tiny run measures every phase and target at each size, and every ratio is its figures' quotient."""
    text, run = parts.text, parts.run
    sizes = {int(n): m for n, m in run["sizes"].items()}
    assert sorted(sizes) == [40, 60] and run["run"]["added"] == [60]  # 40 measured now, 60 by the first part
    assert not sizes[40]["frictionless"]["cut"] and run["run"]["frictionless_limit"] == 1800  # the default: not reached
    no_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))  # start-up figures are read with it
    assert run["run"]["machine"]["writes_bytecode"] is not no_bytecode
    assert ("PYTHONDONTWRITEBYTECODE was set" in text) is no_bytecode
    # The targets table: one column per size, each cell a figure and whether it meets the goal (a lower bound,
    # ">= ", only where the first part cut frictionless).
    header, rows = _table(text, "| target | goal |")
    assert header[2:] == ["40", "60"]
    names = [row[0] for row in rows]
    for wanted in ("validate / floor, wall", "build / floor, CPU", "PSS", "after 1 edit / cold", "frictionless"):
        assert any(wanted in name for name in names), wanted
    assert any("kdata.load / read_parquet" in name for name in names) and "kdata --help (ms)" in names
    for row in rows:
        for size, cell in zip(header[2:], row[2:], strict=True):
            bound = ">= " if size == "60" and row[0].startswith("frictionless") else ""
            assert cell == "" or re.fullmatch(rf"{bound}{NUMBER} (yes|\*\*no\*\*)", cell), row
    met = sum(cell.endswith("yes") for row in rows for cell in row[2:])
    total = sum(cell != "" for row in rows for cell in row[2:])
    assert f"{met} of {total} met." in text
    # The ratios against the floors are computed from the phase figures of the same run.
    header, rows = _table(text, "| records | processes | validate / floor 1 wall |")
    assert [row[0] for row in rows] == ["40", "60"]
    for row in rows:
        m = sizes[int(row[0])]
        assert float(row[4]) == round(m["validate"]["wall"] / m["floor_validate_n"]["wall"], 2)
        assert float(row[9]) == round(m["build"]["cpu"] / m["floor_build_n"]["cpu"], 2)
    for m in sizes.values():
        for phase in ("validate", "build", "floor_build_n", "validate_edit", "verify", "frictionless"):
            figures = m[phase]
            assert figures["wall"] > 0 and figures["cpu"] > 0 and figures["pss_mb"] > 0, phase
            assert figures["rss_mb"] >= figures["pss_mb"] and figures["processes"] >= 1
        assert m["warm_seconds"] > 0  # the tree read once before its first command
        for t in ("figures", "citations"):
            assert m[f"load:{t}"]["same_frame"]  # like for like
            assert m[f"load:{t}"]["load_ratio"] > 0
        assert m["rows"]["claims"] > 0 and m["rows"]["claim_targets"] > 0 and m["rows"]["disagreements"] > 0
    # Each size's phase table, the load table, start-up and the machine's load are in the file.
    assert text.count("| phase | wall s | CPU s |") == len(sizes)
    assert "| records | table | rows | kdata.load ms |" in text and "| kdata --help |" in text
    assert "Load average (1, 5, 15 min) before the run" in text and "stat_floor.py" in text
    assert "| kdata.records.yamlio.parse (strict; positions when an issue needs them) |" in text
    assert "## Where the time goes" in text and "--profile-max 0" in text
    assert "descendants sampled every 100 ms" in text  # --sample-interval
    assert "every file of the tree is read once, untimed" in text
    # Both the kdata build and the build floor wrote their tables.
    assert (parts.work / "40" / "dist" / "datapackage.json").is_file()
    assert (parts.work / "40" / "floor" / "claims.parquet").is_file()


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


def test_frictionless_cut_at_its_limit_is_a_lower_bound(parts: Parts) -> None:
    """A tiny --frictionless-limit kills frictionless: its time is a lower bound, kept by --add, and judged as one."""
    cut = parts.first["sizes"]["60"]["frictionless"]
    assert cut["cut"] and cut["limit"] == 0.3 and cut["wall"] >= 0.3
    assert len(cut["runs"]) == 1 and cut["runs"][0]["cut"]
    # The second part, without a limit, joined to the first: the cut size keeps its lower bound.
    text = parts.text
    header, rows = _table(text, "| target | goal |")
    assert header[2:] == ["40", "60"]
    row = next(r for r in rows if r[0].startswith("frictionless validate / kdata verify"))
    assert re.fullmatch(rf"{NUMBER} (yes|\*\*no\*\*)", row[2]), row  # measured in full at 40 records
    assert re.fullmatch(rf">= {NUMBER} (yes|\*\*no\*\*)", row[3]), row  # a lower bound at 60
    ratio = float(row[3].split()[1])
    assert row[3].endswith("yes") == (ratio >= 10)  # judged on the bound
    _, phases = _table(text.split("### 60 records")[1], "| phase | wall s |")
    friction = next(r for r in phases if r[0] == "frictionless validate")
    assert friction[1] == f">= {cut['wall']:,.2f}" and friction[2].startswith(">= ")
    assert "At 60 records `frictionless` was stopped at 0.3 s (`--frictionless-limit`)" in text
    assert "is judged on the lower bound: >= " in text and "At 40 records" not in text


def test_a_cut_run_ends_the_repetitions(tmp_path: Path) -> None:
    """run.repeated: a run cut at the limit stops the repetitions, and the figures say so; uncut runs all repeat."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import run

    cut = run.repeated(["sleep", "30"], tmp_path, 3, limit=0.3)
    assert cut["cut"] and cut["limit"] == 0.3 and 0.3 <= cut["wall"] < 20
    assert len(cut["runs"]) == 1 and cut["runs"][0]["cut"]  # no repetition after a cut
    whole = run.repeated(["true"], tmp_path, 3, limit=30)
    assert not whole["cut"] and [r["cut"] for r in whole["runs"]] == [False, False, False]


def test_tree_measure_kills_the_whole_tree_at_its_limit(tmp_path: Path) -> None:
    """benchmarks/tree.py: at the limit every process of the tree is killed and the run is marked cut."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import tree

    pids = tmp_path / "pids"
    record = f"rec() {{ echo $1 $(cut -d' ' -f22 /proc/$1/stat) >> {shlex.quote(str(pids))}; }}"  # a pid, its start
    script = f"{record}; sleep 60 & rec $!; (sleep 60 & rec $!; wait) & rec $$; wait"
    run = tree.measure(["bash", "-c", script], tmp_path, limit=1.0)
    assert run.cut and 1.0 <= run.wall < 30
    assert tree.measure(["true"], tmp_path, limit=30).cut is False
    recorded = [line.split() for line in pids.read_text().splitlines()]
    assert len(recorded) == 3
    for pid, started in recorded:  # gone, a zombie, or its pid taken since by another process (another start time)
        deadline = time.monotonic() + 10  # a SIGKILL is delivered at once, but a busy machine runs the exit later
        while True:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().split()
            except OSError:
                break
            if fields[2] == "Z" or fields[21] != started:
                break
            assert time.monotonic() < deadline, (pid, fields[2])
            time.sleep(0.01)


def test_profile_of_validate_edit_is_a_cached_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run.py profiles the cached validate after one edit: only the edited file is checked afresh, whatever the cache held."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import run

    monkeypatch.setattr(run, "WORK", tmp_path / "work")
    monkeypatch.setattr(run, "CACHE", tmp_path / "work" / "cache")
    monkeypatch.setenv("KDATA_CACHE_DIR", str(run.CACHE))  # profiles() sets it for its commands: restored after
    run._tree(30)
    profiles = run.profiles({30: {}}, {"validate_edit": 30}, 100, always=("validate",))
    files = sum(1 for _ in (tmp_path / "work" / "30" / "raw").glob("*/*.yaml"))
    assert profiles["validate"]["files_checked"] == files > 1  # the cold run checks every file
    assert profiles["validate_edit"]["files_checked"] == 1  # the cached run, the edited file only
    assert "filled the cache" in profiles["validate_edit"]["prepared"]


def test_load_rounds_start_with_each_function_in_turn_and_pair_their_calls() -> None:
    """load_bench: every function opens as many rounds as the others; the ratio is the median of each round's own."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import load_bench

    calls: list[str] = []
    fns = {name: (lambda name=name: calls.append(name)) for name in ("a", "b", "c")}
    times = load_bench.rounds(fns, 6)
    timed = calls[3:]  # after one untimed call of each
    firsts = [timed[i] for i in range(0, len(timed), 3)]
    assert firsts == ["a", "b", "c", "a", "b", "c"] and sorted(timed) == sorted(["a", "b", "c"] * 6)
    assert all(len(times[name]) == 6 for name in fns)
    rounds = {"x": [(2.0, 0.0), (3.0, 0.0), (10.0, 0.0)], "y": [(1.0, 0.0), (3.0, 0.0), (20.0, 0.0)]}
    assert load_bench.paired(rounds, "x", "y") == 1.0  # ratios 2, 1, 0.5; a ratio of medians would say 1.0 too
    rounds["x"][2] = (40.0, 0.0)  # a slow burst in the third round: ratios 2, 1, 2
    assert load_bench.paired(rounds, "x", "y") == 2.0
    assert load_bench.medians(rounds) == {"x": 3.0, "y": 3.0, "x_cpu": 0.0, "y_cpu": 0.0}
