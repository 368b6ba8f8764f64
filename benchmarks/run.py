"""kdata's benchmark: every measurement side by side in one run, medians of repetitions, and RESULTS.md.

For each size it generates a synthetic raw/ tree (benchmarks/synth.py: every record table, claims,
quotes in archived texts, vague dates, shared topics) and measures, as a user runs them (cold
subprocesses, each with its whole process tree measured by benchmarks/tree.py: wall and CPU
seconds, peak RSS and PSS summed over the tree, other processes' load):

1. ``kdata validate --no-cache`` and ``kdata build`` against the floors (benchmarks/floor.py: the
   same per-file work, PyYAML's C loader + the same pydantic models, and for the build the same
   tables) in one process and in as many processes as kdata uses;
2. ``kdata validate`` with its cache after one file changed (and its memory against the cold run);
3. ``kdata verify`` against ``frictionless validate`` of the same package;
4. ``kdata.load`` against ``pd.read_parquet(dtype_backend="pyarrow")`` (benchmarks/load_bench.py);
5. ``python -c "import kdata"`` and ``kdata --help`` against ``python -c pass``;

then checks the targets (``TARGETS``), profiles the phase of every missed one
(benchmarks/profile_phase.py) and writes benchmarks/RESULTS.md (benchmarks/report.py).

Usage: python benchmarks/run.py [--records 10000,100000] [--repeat 3] [--million] [--json FILE] [--add FILE]
                                [--frictionless-limit SECONDS] [--sample-interval SECONDS]

The full run, on a quiet machine (nothing else running; RESULTS.md warns when it was not):

    PYTHONPATH=. .venv/bin/python benchmarks/run.py --million --json /tmp/kdata-bench/run.json

``--million`` adds a 1,000,000-record tree, measured once unless ``--million-repeat``. Disk: about
4.5 GB for the tree (a million small files), 1-2 GB more for the built package, the floors'
tables and the validate cache. Time on 2 quiet cores, measured (RESULTS.md's run of 10,000 and
100,000 records with ``--repeat 3``: 47 minutes): 10,000 records 4 minutes, 100,000 records 39
minutes, 28 of them ``frictionless validate`` (about 14 minutes a repetition; it runs ``--repeat``
- 1 times), then a few minutes of start-up runs, profiles and parsers. 1,000,000 records, once,
estimated from those (time grows linearly): about 40 minutes of kdata and the floors, 5-10 to
generate the tree, and ``frictionless validate``, which would take over 2 hours there (10 x 14
minutes), cut at ``--frictionless-limit`` (default 1800 s): about 75-85 minutes in all, and
about 2 hours for ``--million`` with the default sizes. On a busy machine it takes several times
longer. Trees are kept in ``KDATA_BENCH_DIR`` (default /tmp/kdata-bench) and reused by later
runs; each phase's figures are printed on stderr as they are measured.

``--frictionless-limit SECONDS`` (default 1800; 0: none) bounds each ``frictionless validate``
run, at every size: at the limit its whole process tree is killed (benchmarks/tree.py), its
repetitions stop, and its time is recorded as a lower bound (``"cut": true`` in the JSON; ">= N s"
in RESULTS.md). The target "verify >= 10x faster than frictionless" is then judged on that bound,
so it is met whenever the limit is at least 10 times ``kdata verify``'s time. One limit for every
size, because it changes nothing below 1,000,000 records (frictionless took 14 minutes at 100,000)
and decides the target at 1,000,000 (``kdata verify`` would need over 3 minutes there to leave it
undecided, 10 times its 2.5 s at 100,000 is 25 s) for 30 minutes instead of over 2 hours.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402  (benchmarks/ is not a package)
import synth  # noqa: E402
import tree  # noqa: E402

BIN = Path(sys.executable).parent
WORK = Path(os.environ.get("KDATA_BENCH_DIR", "/tmp/kdata-bench"))
MILLION = 1_000_000
#: kdata's cache folder in every measurement and profile (KDATA_CACHE_DIR).
CACHE = WORK / "cache"
#: Default of --frictionless-limit: seconds a ``frictionless validate`` run may take (see the module doc).
FRICTIONLESS_LIMIT = 1800.0
#: Tables whose load is compared: a record table, and a child table (whose tombstones kdata.load looks up).
LOAD_TABLES = ("figures", "citations")


def kdata_jobs() -> tuple[int, int]:
    """kdata's worker processes for a large tree, and the fewest files it uses them for."""
    from kdata import settings

    jobs = settings.number("KDATA_JOBS", default=os.cpu_count() or 1)  # as kdata.records.listing.jobs_default
    try:
        from kdata.records.scan import PARALLEL_MIN_FILES as threshold
    except ImportError:  # the scan changed: take kdata to use its workers at any size
        threshold = 0
    return jobs, threshold


def repeated(
    cmd: list[str], cwd: Path, repeat: int, before: list[str] | None = None, limit: float | None = None
) -> dict[str, Any]:
    """Medians of wall and CPU over ``repeat`` runs, the largest memory and load seen (``before`` runs untimed).

    A run cut at ``limit`` seconds (its tree killed) ends the repetitions: the figures are then lower
    bounds (the median of the runs made, the cut one counting its time up to the limit), marked ``cut``.
    """
    runs = []
    for _ in range(repeat):
        if before:
            subprocess.run(before, cwd=cwd, check=True, capture_output=True)
        runs.append(tree.measure(cmd, cwd, limit=limit))
        if runs[-1].cut:
            break
    out: dict[str, Any] = {k: statistics.median(getattr(r, k) for r in runs) for k in ("wall", "cpu")}
    for key in ("rss_mb", "pss_mb", "maxrss_mb", "processes", "others", "load_before", "load_after"):
        out[key] = max(getattr(r, key) for r in runs)
    out["cut"], out["limit"] = any(r.cut for r in runs), limit
    out["runs"] = [r.as_dict() for r in runs]
    shown = " ".join(Path(c).name if "/" in c else c for c in cmd[:4])
    print(
        f"  {shown}: wall {'>= ' if out['cut'] else ''}{out['wall']:.2f} s, CPU {out['cpu']:.2f} s, "
        f"tree RSS {out['rss_mb']:.0f} MB, "
        f"PSS {out['pss_mb']:.0f} MB, others {out['others']:.2f} cores",
        file=sys.stderr,
        flush=True,
    )
    return out


def profiled(args: list[str], cwd: Path, before: list[list[str]] | None = None) -> dict[str, Any]:
    """benchmarks/profile_phase.py's figures for one phase (the ``before`` commands run first, untimed)."""
    for command in before or []:
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    done = subprocess.run(
        [sys.executable, str(HERE / "profile_phase.py"), *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    shown = f"kdata.load({args[1]!r}) x7 after a warm call" if args[0] == "--load" else "kdata " + " ".join(args)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]), command=shown)


def _tree(n: int) -> Path:
    root = WORK / str(n)
    if not (root / "complete").is_file():
        shutil.rmtree(root, ignore_errors=True)
        synth.generate(n, root)
        (root / "complete").write_text("")  # a tree cut short by a kill is made again
    return root


def measure_size(n: int, repeat: int, jobs: int, threshold: int, limit: float | None = None) -> dict[str, Any]:
    """Every measurement of one tree size (``frictionless validate`` cut at ``limit`` seconds)."""
    started = time.monotonic()
    root = _tree(n)
    warm = _warm(root / "raw")
    files = sum(1 for p in (root / "raw").glob("*/*.yaml"))
    used = jobs if files >= threshold else 1  # kdata checks small trees in one process
    kdata = str(BIN / "kdata")
    floor = [sys.executable, str(HERE / "floor.py")]
    clean = ["rm", "-rf", "dist", "schemas", "floor"]
    os.environ["KDATA_CACHE_DIR"] = str(CACHE)
    m: dict[str, Any] = {"records": n, "files": files, "jobs": used, "tables": synth.counts(n), "warm_seconds": warm}
    m["validate"] = repeated([kdata, "validate", "raw", "--no-cache"], root, repeat)
    # Below kdata's threshold the floor "in as many processes as kdata uses" is the one-process command: measured once.
    m["floor_validate_1"] = repeated([*floor, "validate", "raw", "floor", "--jobs", "1"], root, repeat)
    m["floor_validate_n"] = (
        m["floor_validate_1"]
        if used == 1
        else repeated([*floor, "validate", "raw", "floor", "--jobs", str(used)], root, repeat)
    )
    m["floor_build_1"] = repeated([*floor, "build", "raw", "floor", "--jobs", "1"], root, repeat, before=clean)
    m["floor_build_n"] = (
        m["floor_build_1"]
        if used == 1
        else repeated([*floor, "build", "raw", "floor", "--jobs", str(used)], root, repeat, before=clean)
    )
    # Last, and leaving the floor's tables to be looked at: its dist/ is what the phases below read.
    m["build"] = repeated([kdata, "build"], root, repeat, before=clean[:-1])
    m["rows"] = _rows(root / "dist")
    # Incremental: a cached run after one file changed; the cache filled by an untimed cold run first.
    shutil.rmtree(CACHE, ignore_errors=True)
    m["validate_cold_cached"] = repeated([kdata, "validate", "raw"], root, 1)
    m["validate_edit"] = repeated([kdata, "validate", "raw"], root, repeat, before=_edit(root))
    m["stat_floor"] = repeated([sys.executable, str(HERE / "stat_floor.py"), "raw"], root, repeat)
    m["verify"] = repeated([kdata, "verify", "dist"], root, repeat)
    m["frictionless"] = repeated(
        [str(BIN / "frictionless"), "validate", "dist/datapackage.json"], root, max(1, repeat - 1), limit=limit
    )
    for table in LOAD_TABLES:
        done = subprocess.run(
            [sys.executable, str(HERE / "load_bench.py"), "dist", table], cwd=root, check=True, capture_output=True
        )
        m[f"load:{table}"] = json.loads(done.stdout)
    m["seconds"] = time.monotonic() - started
    return m


def _warm(raw: Path) -> float:
    """Read every file of ``raw`` once, untimed, and return the seconds it took: the first command measured finds
    the tree in the page cache as the ones after it do. (Without it, the first command on a tree made or last read
    long before read it from disk: at 1,000,000 records kdata validate --no-cache took 245-262 s where it ran first,
    the floors after it from the page cache.)"""
    started = time.monotonic()
    for folder in sorted(p for p in raw.iterdir() if p.is_dir()):
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    with open(entry.path, "rb") as handle:
                        while handle.read(1 << 20):
                            pass
    return time.monotonic() - started


def _edit(root: Path) -> list[str]:
    """A command that rewrites one record file as it is (new mtime and ctime: the cache must recheck it)."""
    events = sorted((root / "raw" / "events").glob("*.yaml"))
    touched = events[len(events) // 2]
    return [sys.executable, "-c", f"import pathlib; p = pathlib.Path({str(touched)!r}); p.write_bytes(p.read_bytes())"]


def _rows(dist: Path) -> dict[str, int]:
    descriptor = json.loads((dist / "datapackage.json").read_text())
    import pyarrow.parquet as pq

    return {
        r["name"].removesuffix("-parquet"): pq.read_metadata(dist / r["path"]).num_rows
        for r in descriptor["resources"]
        if str(r["path"]).endswith(".parquet")
    }


def startup(repeat: int) -> dict[str, Any]:
    """Import and --help against bare Python (medians of three times ``repeat`` runs)."""
    here = Path.cwd()
    return {
        "python": repeated([sys.executable, "-c", "pass"], here, repeat * 3),
        "import": repeated([sys.executable, "-c", "import kdata"], here, repeat * 3),
        "help": repeated([str(BIN / "kdata"), "--help"], here, repeat * 3),
    }


#: Phase a target measures -> how to profile it: (profile_phase.py arguments, whether it is the cached run
#: after one edit: the cache is then filled by an untimed ``kdata validate`` and one file edited first).
PHASES: dict[str, tuple[list[str], bool]] = {
    "validate": (["validate", "raw", "--no-cache"], False),
    "build": (["build"], False),
    "validate_edit": (["validate", "raw"], True),
    "verify": (["verify", "dist"], False),
    **{f"load:{t}": (["--load", t, "dist"], False) for t in LOAD_TABLES},
}


def _prepared(root: Path, cached: bool) -> list[list[str]]:
    """The untimed commands before a profile: for the cached run, a run that fills the cache, then one edit.

    The cache folder holds the last tree measured only (each size starts from an empty one), so a
    smaller tree's cache must be filled again here, or the profile would be of a cold run.
    """
    return [[str(BIN / "kdata"), "validate", "raw"], _edit(root)] if cached else []


#: Phases profiled whatever the targets say: what the new features (anchors, rules, claims) cost is read there.
ALWAYS = ("validate", "build")


def profiles(
    sizes: dict[int, dict[str, Any]], missed: dict[str, int], most: int, always: tuple[str, ...] = ALWAYS
) -> dict[str, dict[str, Any]]:
    """A profile of the phase of each missed target, at the largest size it was missed at (at most ``most``),
    and of the ``always`` phases at the largest size up to ``most``."""
    out: dict[str, dict[str, Any]] = {}
    for phase, n in {**{p: max(sizes) for p in always}, **missed}.items():
        if phase not in PHASES or most <= 0:
            continue
        fits = [s for s in sizes if s <= most and s <= n]
        if not fits:  # every tree measured is larger than the run allows profiling
            continue
        size = max(fits)
        args, cached = PHASES[phase]
        root = WORK / str(size)
        os.environ["KDATA_CACHE_DIR"] = str(CACHE)  # the cache the measurements used (with --add, none ran here)
        out[phase] = dict(profiled(args, root, _prepared(root, cached)), records=size)
        if cached:
            out[phase]["prepared"] = "after an untimed `kdata validate raw` filled the cache and one file was edited"
    return out


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform

    model = ""
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.machine(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "memory_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        # Without bytecode files every start compiles kdata's modules (and any other without a .pyc) afresh.
        "writes_bytecode": not os.environ.get("PYTHONDONTWRITEBYTECODE"),
    }


#: The smallest tree measured: a smaller one lacks rows of some tables that the floors write.
MIN_RECORDS = 40


def _whole(text: str, least: int) -> int:
    """A command-line whole number of at least ``least``, or argparse's one-line error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} is below {least}")
    return value


def _sizes(text: str) -> list[int]:
    """``--records``: comma-separated sizes, each at least MIN_RECORDS (a smaller tree lacks some tables' rows)."""
    return [_whole(n, MIN_RECORDS) for n in text.split(",")]


def _at_least_one(text: str) -> int:
    return _whole(text, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=_sizes, default="10000,100000", help="Comma-separated tree sizes.")
    parser.add_argument("--repeat", type=_at_least_one, default=3, help="Repetitions per measurement.")
    parser.add_argument("--million", action="store_true", help="Also a 1,000,000-record tree (see the module doc).")
    parser.add_argument("--million-repeat", type=_at_least_one, default=1, help="Repetitions at 1,000,000 records.")
    parser.add_argument(
        "--profile-max",
        type=int,
        default=100_000,
        help="Largest tree a missed target's phase is profiled on (0: no profiles).",
    )
    parser.add_argument(
        "--frictionless-limit",
        type=float,
        default=FRICTIONLESS_LIMIT,
        help="Seconds after which a frictionless validate run is killed and recorded as a lower bound (0: no limit).",
    )
    parser.add_argument(
        "--sample-interval",
        type=float,
        default=tree.INTERVAL,
        help="Seconds between two memory samples of a measured command's tree (a longer one costs the run less CPU "
        "and may miss a shorter peak).",
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="Where to write the Markdown.")
    parser.add_argument("--json", type=Path, help="Also write every measurement as JSON here.")
    parser.add_argument(
        "--add",
        type=Path,
        help="The --json of an earlier run on this machine: its sizes not measured now join the report "
        "(a long run in two parts; the command line in RESULTS.md names the file).",
    )
    args = parser.parse_args()
    tree.INTERVAL = args.sample_interval
    started = time.monotonic()
    sizes_wanted = sorted(set(args.records) | ({MILLION} if args.million else set()))
    jobs, threshold = kdata_jobs()
    before = {"load": os.getloadavg(), "busy": tree.busy_seconds()}
    sizes: dict[int, dict[str, Any]] = {}
    for n in sizes_wanted:
        print(f"measuring {n:,} records ...", file=sys.stderr, flush=True)
        repeat = args.million_repeat if n >= MILLION else args.repeat
        sizes[n] = measure_size(n, repeat, jobs, threshold, args.frictionless_limit or None)
        if args.json:  # what is measured so far, should a long run be stopped
            args.json.write_text(json.dumps({"sizes": sizes}, indent=1))
    added: list[int] = []
    if args.add:
        earlier = json.loads(args.add.read_text())["sizes"]
        added = sorted(int(n) for n in earlier if int(n) not in sizes)
        sizes |= {n: earlier[str(n)] for n in added}
        sizes = dict(sorted(sizes.items()))
    start = startup(args.repeat)
    rows = report.targets(sizes, start)
    missed = report.missed(rows)
    print(f"profiling {', '.join(missed) or 'nothing'} ...", file=sys.stderr, flush=True)
    profile = profiles(sizes, missed, args.profile_max)
    import parsers

    compared = parsers.compare(WORK / str(max(sizes)) / "raw", repeat=args.repeat)
    run = {
        "machine": machine(),
        "repeat": args.repeat,
        "million_repeat": args.million_repeat,
        "jobs": jobs,
        "threshold": threshold,
        "profile_max": args.profile_max,
        "frictionless_limit": args.frictionless_limit or None,
        "load_before": before["load"],
        "load_after": os.getloadavg(),
        "seconds": time.monotonic() - started,
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "added": added,
    }
    text = report.markdown(run, sizes, start, rows, profile, compared)
    print(text)
    args.out.write_text(text)
    if args.json:
        args.json.write_text(json.dumps({"run": run, "sizes": sizes, "startup": start, "profiles": profile}, indent=1))


if __name__ == "__main__":
    main()
