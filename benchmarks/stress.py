"""Stress run of the reliability tests, with the figures the README's "Reliability" section quotes.

    .venv/bin/python benchmarks/stress.py [--kills 1000] [--trials 30] [--examples 10000] [--json out.json]

- kills: SIGKILLs of real ``kdata build`` processes (``tests/reliability/test_kills.py``'s ``kill_cycles``),
  half with renameat2's exchange and half with the two-rename fallback; each one checked for a
  complete dist/ of the old or the new build, every tenth by ``kdata verify``, every fiftieth by
  ``frictionless validate``;
- trials: cold caches each filled by 8 simultaneous ``kdata download`` processes over real HTTP;
- examples: hypothesis damage examples through ``load_raw`` with fresh random seeds (plus 10x the
  suite's round trips and CLI runs);
- incremental: random steps (edits, renames, deletions, texts, most files touched) of
  ``tests/records/test_incremental.py`` on fresh seeds, each cached run compared with a run without
  cache, every fifth with a run filling an empty cache (``--incremental 0`` skips them).

Prints one line per figure and, with ``--json``, writes them to a file. Takes 15-20 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "reliability"), str(REPO / "tests" / "records")]


def _corpus() -> dict[str, int]:
    folder = REPO / "tests" / "data" / "malformed"
    categories = json.loads((folder / "categories.json").read_text("utf-8"))
    return {"cases": sum(1 for p in folder.iterdir() if p.is_dir()), "categories": len(categories)}


def _kills(total: int, root: Path) -> dict[str, object]:
    from conftest import GOOD
    from test_kills import kill_cycles

    started = time.monotonic()
    figures: dict[str, object] = {}
    for n, mode in enumerate(("exchange", "renames")):
        project = root / f"kills-{mode}"
        shutil.copytree(GOOD / "raw", project / "raw")
        subprocess.run([sys.executable, "-m", "kdata", "build"], cwd=project, check=True, capture_output=True)
        stats = kill_cycles(project, total // 2, mode, seed=1000 + n)
        figures[mode] = {
            "kills": stats.kills,
            "finished_before_kill": stats.finished,
            "phases": dict(stats.phases),
            "checked_by_kdata_verify": stats.cli_verified,
            "checked_by_frictionless": stats.frictionless_validated,
        }
    figures["seconds"] = round(time.monotonic() - started)
    return figures


def _downloads(trials: int, root: Path) -> dict[str, object]:
    from releasing import kdata_ok, make_project, serve
    from test_faults import Site, concurrent_trials

    started = time.monotonic()
    registry = root / "registry.json"
    project = make_project(root / "site", registry)
    kdata_ok("build", cwd=project)
    kdata_ok("release", "--register", "--out", root / "www", cwd=project, env={"KDATA_REGISTRY": str(registry)})
    with serve(root / "www") as url:
        counts: dict[str, object] = dict(concurrent_trials(Site(project, registry, url), root, trials))
    counts["seconds"] = round(time.monotonic() - started)
    return counts


def _hypothesis(examples: int) -> dict[str, object]:
    started = time.monotonic()
    env = {
        **os.environ,
        "KDATA_HYPOTHESIS_EXAMPLES": str(examples),
        "KDATA_HYPOTHESIS_ROUND_TRIPS": "400",
        "KDATA_HYPOTHESIS_EDGES": "25",
        "KDATA_HYPOTHESIS_CLI_EXAMPLES": "150",
        "KDATA_HYPOTHESIS_RANDOM": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/records/test_properties.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    tail = result.stdout.strip().splitlines()[-1:] or [""]
    return {
        "passed": result.returncode == 0,
        "damage_examples": examples,
        "round_trip_examples": 400,
        "cli_damage_examples": 150,
        "summary": tail[0],
        "seconds": round(time.monotonic() - started),
    }


def _incremental(steps: int, root: Path) -> dict[str, object]:
    import random

    from conftest import GOOD
    from test_incremental import _mutate, _validate

    started = time.monotonic()
    project, cache, seed = root / "incremental", root / "incremental-cache", int(time.time())
    shutil.copytree(GOOD / "raw", project / "raw")
    rng, codes, mismatches = random.Random(seed), set(), []
    for step in range(steps):
        _mutate(rng, project / "raw")
        full = _validate(project, cache, "--no-cache")
        if _validate(project, cache) != full:
            mismatches.append(step)
        if step % 5 == 0 and _validate(project, root / f"incremental-empty-{step}") != full:
            mismatches.append(step)
        codes.update(str(issue["code"]) for issue in full[1])
    return {
        "steps": steps,
        "seed": seed,
        "mismatched_steps": mismatches,
        "codes_seen": sorted(codes),
        "seconds": round(time.monotonic() - started),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--examples", type=int, default=10000)
    parser.add_argument("--incremental", type=int, default=500)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict[str, object] = {"corpus": _corpus()}
    with tempfile.TemporaryDirectory(prefix="kdata-stress-") as tmp:
        root = Path(tmp)
        os.environ["KDATA_CACHE_DIR"] = str(root / "scan-cache")
        for name, run in (
            ("kills", lambda: _kills(args.kills, root)),
            ("downloads", lambda: _downloads(args.trials, root / "downloads")),
            ("hypothesis", lambda: _hypothesis(args.examples)),
            ("incremental", lambda: _incremental(args.incremental, root)),
        ):
            (root / "downloads").mkdir(exist_ok=True)
            figures[name] = run()
            print(f"{name}: {json.dumps(figures[name])}", flush=True)
    print(f"corpus: {json.dumps(figures['corpus'])}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    kills = figures["kills"]
    downloads = figures["downloads"]
    ok = (
        isinstance(kills, dict)
        and isinstance(downloads, dict)
        and downloads["errors"] == 0
        and downloads["valid_copies"] == downloads["trials"]
        and bool(figures["hypothesis"]["passed"])  # type: ignore[index]  # a dict, built above
        and not figures["incremental"]["mismatched_steps"]  # type: ignore[index]  # a dict, built above
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
