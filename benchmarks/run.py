"""kdata's benchmark: every measurement side by side in one run, medians of repetitions.

For each size it generates a synthetic raw/ tree (benchmarks/synth.py) and times,
as a user runs them (cold subprocesses):

1. ``kdata validate``, ``kdata build`` and ``kdata verify`` of the built package;
2. the floor: benchmarks/floor.py (C loader, one pydantic batch, pyarrow writes);
3. ``frictionless validate`` of the same package;
4. ``kdata.load(name)`` against ``pandas.read_parquet`` on the same file (in process);
5. ``python -c "import kdata"`` and ``kdata --help`` against ``python -c pass``;
6. peak memory (max RSS) of ``kdata build``.

It prints a table of times and ratios and writes benchmarks/RESULTS.md.

Usage: python benchmarks/run.py --records 1000,10000,100000 [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
WORK = Path(os.environ.get("KDATA_BENCH_DIR", "/tmp/kdata-bench"))


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time (s) and max RSS (MB) of one command run to completion."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss // 1024


def median(cmd: list[str], cwd: Path, repeat: int, before: list[str] | None = None) -> tuple[float, int]:
    """Median time and peak memory over ``repeat`` runs (``before`` runs untimed first each time)."""
    times, peaks = [], []
    for _ in range(repeat):
        if before:
            subprocess.run(before, cwd=cwd, check=True, capture_output=True)
        elapsed, peak = timed(cmd, cwd)
        times.append(elapsed)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def in_process(fn: object, repeat: int) -> float:
    """Median seconds of a Python call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_size(n: int, repeat: int) -> dict[str, float]:
    """All measurements for one tree size."""
    sys.path.insert(0, str(HERE))
    import synth

    root = WORK / str(n)
    if not (root / "raw").is_dir():
        shutil.rmtree(root, ignore_errors=True)
        synth.generate(n, root)
    kdata = str(BIN / "kdata")
    out: dict[str, float] = {}
    clean = ["rm", "-rf", "dist", "schemas", "floor"]
    cache = WORK / "cache"
    os.environ["KDATA_CACHE_DIR"] = str(cache)
    out["validate"], _ = median([kdata, "validate", "raw", "--no-cache"], root, repeat)
    # Incremental: a cached run after one file of the tree changed (the cache warmed by an untimed run).
    subprocess.run([kdata, "validate", "raw"], cwd=root, check=True, capture_output=True)
    touched = root / "raw" / "events" / "event-000001.yaml"
    edit = [sys.executable, "-c", f"import pathlib; p = pathlib.Path({str(touched)!r}); p.write_text(p.read_text())"]
    out["validate_warm"], _ = median([kdata, "validate", "raw"], root, repeat, before=edit)
    out["stat_floor"], _ = median([sys.executable, str(HERE / "stat_floor.py"), "raw"], root, repeat)
    profiled = subprocess.run(
        [sys.executable, str(HERE / "warm_profile.py"), "raw", str(touched)], cwd=root, check=True, capture_output=True
    )
    out.update({f"phase:{k}": v for k, v in json.loads(profiled.stdout.decode().splitlines()[-1]).items()})
    out["build"], out["build_rss_mb"] = median([kdata, "build"], root, repeat, before=clean)
    out["floor"], out["floor_rss_mb"] = median(
        [sys.executable, str(HERE / "floor.py"), "raw", "floor"], root, repeat, before=clean
    )
    subprocess.run([kdata, "build"], cwd=root, check=True, capture_output=True)
    out["verify"], _ = median([kdata, "verify", "dist"], root, repeat)
    out["frictionless"], _ = median(
        [str(BIN / "frictionless"), "validate", "dist/datapackage.json"], root, max(1, repeat - 1)
    )
    import pandas as pd

    import kdata as kd

    parquet = root / "dist" / "figures.parquet"
    kd.load("figures", package=root / "dist")  # warm the imports
    out["load"] = in_process(lambda: kd.load("figures", package=root / "dist"), 7)
    out["read_parquet"] = in_process(lambda: pd.read_parquet(parquet), 7)
    return out


def startup(repeat: int) -> dict[str, float]:
    """Import and --help times against bare Python."""
    here = Path.cwd()
    return {
        "python": median([sys.executable, "-c", "pass"], here, repeat * 3)[0],
        "import": median([sys.executable, "-c", "import kdata"], here, repeat * 3)[0],
        "help": median([str(BIN / "kdata"), "--help"], here, repeat * 3)[0],
    }


def targets(sizes: dict[int, dict[str, float]], start: dict[str, float]) -> list[str]:
    """The issue's targets, checked against this run's largest tree (and start-up)."""
    ns = sorted(sizes)
    big = sizes[ns[-1]]
    rows = [
        ("build / floor", big["build"] / big["floor"], "<=", 0.7),
        ("validate / floor", big["validate"] / big["floor"], "<=", 0.6),
        ("frictionless / verify", big["frictionless"] / big["verify"], ">=", 10.0),
        ("build peak memory (MB)", big["build_rss_mb"], "<", 500.0),
        ("load / read_parquet", big["load"] / big["read_parquet"], "<=", 1.2),
        ("validate after 1 edit / cold", big["validate_warm"] / big["validate"], "<", 0.05),
        ("import kdata over bare Python (ms)", (start["import"] - start["python"]) * 1000, "<", 30.0),
        ("kdata --help (ms)", start["help"] * 1000, "<", 120.0),
    ]
    if len(ns) > 1:
        rows.insert(3, ("build time, largest / previous size", big["build"] / sizes[ns[-2]]["build"], "<=", 11.0))
        previous = sizes[ns[-2]]
        growth = (big["build_rss_mb"] - previous["build_rss_mb"]) / (ns[-1] - ns[-2]) * 1000
        rows.insert(5, ("build memory per 1,000 more records (MB)", growth, "<", 5.0))
    checks = {"<=": float.__le__, ">=": float.__ge__, "<": float.__lt__}
    out = [f"Targets at {ns[-1]:,} records:", "", "| target | measured | goal | met |", "|---|---:|---:|---|"]
    for name, value, op, goal in rows:
        out.append(f"| {name} | {value:.2f} | {op} {goal:g} | {'yes' if checks[op](float(value), goal) else 'no'} |")
    phases = [(k.removeprefix("phase:"), v) for k, v in big.items() if k.startswith("phase:")]
    out += [
        "",
        f"Where a cached validate after one edit spends its time at {ns[-1]:,} records (cProfile, one run):",
        "",
    ]
    out += ["| phase | s |", "|---|---:|", *(f"| {name} | {value:.2f} |" for name, value in phases)]
    bound = big["stat_floor"] / big["validate"]
    out += [
        "",
        f"What bounds the incremental target: listing and stat-ing the {ns[-1]:,} files alone, in a plain script",
        f"(benchmarks/stat_floor.py, Python start-up included), takes {big['stat_floor']:.2f} s = {bound:.1%} of the cold run;",
        "a cache keyed by stat cannot do less, and kdata also imports its models, rechecks the changed file,",
        "runs every check across records and rewrites the cache.",
    ]
    return out


def report(sizes: dict[int, dict[str, float]], start: dict[str, float], repeat: int, parsers: list[str]) -> str:
    """The results as Markdown."""
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}, Python {platform.python_version()}.",
        f"Synthetic trees from benchmarks/synth.py; medians of {repeat} runs (cold subprocesses); memory is max RSS.",
        "Ratios are to the floor (benchmarks/floor.py) measured in the same run.",
        "",
        "| records | validate s | build s | floor s | validate/floor | build/floor | verify s | frictionless s | frictionless/verify | build MB | load ms | read_parquet ms | load/read | validate after 1 edit s | / cold | stat floor s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, m in sizes.items():
        lines.append(
            f"| {n:,} | {m['validate']:.2f} | {m['build']:.2f} | {m['floor']:.2f} | {m['validate'] / m['floor']:.2f} | "
            f"{m['build'] / m['floor']:.2f} | {m['verify']:.2f} | {m['frictionless']:.2f} | {m['frictionless'] / m['verify']:.1f} | "
            f"{m['build_rss_mb']:.0f} | {m['load'] * 1000:.1f} | {m['read_parquet'] * 1000:.1f} | {m['load'] / m['read_parquet']:.2f} | "
            f"{m['validate_warm']:.2f} | {m['validate_warm'] / m['validate']:.1%} | {m['stat_floor']:.2f} |"
        )
    ns = sorted(sizes)
    for small, big in itertools.pairwise(ns):
        growth = sizes[big]["build"] / sizes[small]["build"]
        lines.append(
            f"\nBuild time grows {growth:.1f}x from {small:,} to {big:,} records ({big / small:.0f}x the records)."
        )
    lines += ["", *targets(sizes, start)]
    lines += ["", f"YAML parsers on the {max(sizes):,}-record tree (benchmarks/parsers.py):", "", *parsers]
    lines += [
        "",
        "| start-up | median ms | over bare Python |",
        "|---|---:|---:|",
        f"| python -c pass | {start['python'] * 1000:.0f} | |",
        f"| python -c 'import kdata' | {start['import'] * 1000:.0f} | +{(start['import'] - start['python']) * 1000:.0f} ms |",
        f"| kdata --help | {start['help'] * 1000:.0f} | +{(start['help'] - start['python']) * 1000:.0f} ms |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1000,10000", help="Comma-separated tree sizes.")
    parser.add_argument("--repeat", type=int, default=3, help="Repetitions per measurement.")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="Where to write the Markdown table.")
    args = parser.parse_args()
    sizes = {int(n): measure_size(int(n), args.repeat) for n in args.records.split(",")}
    sys.path.insert(0, str(HERE))
    import parsers

    compared = parsers.compare(WORK / str(max(sizes)) / "raw", repeat=args.repeat)
    text = report(sizes, startup(args.repeat), args.repeat, compared)
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
