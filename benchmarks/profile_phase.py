"""Where the time of one phase goes: a kdata command (or ``kdata.load``) under cProfile, grouped by what it does.

Runs in the current folder, in one process (``KDATA_JOBS=1``: cProfile sees only its own process,
so worker processes would hide their work), imports included as a user's run pays them. Prints
JSON: the total seconds under the profiler, the seconds spent in each group of code (own time of
its functions, ``GROUPS``), the functions with the most own time, and how many record files were
checked afresh (calls of ``kdata.records.scan.check_file``: all of them in a cold run, only the
changed ones in a cached run).

The profiler slows Python code down (about 1.5-2x), more so the code of many small calls: the
shares, not the seconds, are the figures to read.

``--load TABLE DIST`` profiles ``kdata.load`` as benchmarks/load_bench.py times it: after the
imports and one call, ``LOAD_CALLS`` calls.

Usage: python benchmarks/profile_phase.py validate raw --no-cache
       python benchmarks/profile_phase.py --load TABLE DIST
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

#: Calls of kdata.load profiled after a first, unprofiled one.
LOAD_CALLS = 7

#: Group -> substrings of a function's file path (or of its name, for built-ins) that put it there; first match wins.
GROUPS: dict[str, tuple[str, ...]] = {
    "quote anchors and verification (anchors, evidence, quotefind)": (
        "records/anchors.py",
        "records/evidence.py",
        "records/quotefind.py",
    ),
    "field rules and dates (rules, vague, neutral, chars, dates)": (
        "records/rules.py",
        "records/vague.py",
        "records/neutral.py",
        "records/chars.py",
        "records/dates.py",
    ),
    "YAML: kdata's walk over the node tree (yamlio)": ("records/yamlio.py",),
    "YAML: libyaml and PyYAML": ("/yaml/", "_yaml", "yaml."),
    "pydantic validation and the models' validators": (
        "pydantic",
        "model_validate",
        "validate_python",
        "records/models.py",
    ),
    "per-file bookkeeping and cache (scan)": ("records/scan.py",),
    "checks across records (validate)": ("records/validate.py",),
    "rows, tables and disagreements (rows, conflicts)": ("datapackage/rows.py", "datapackage/conflicts.py"),
    "writing CSV, Parquet and the descriptor (write, build, parquet, pyarrow)": (
        "datapackage/",
        "pyarrow",
        "_csv.writer",
        "writerow",
    ),
    "pandas": ("pandas",),
    "reading files, stat and listing (os, io, kdata/fs.py)": (
        "posix",
        "io.open",
        "method 'read'",
        "listdir",
        "scandir",
        "stat",
        "kdata/fs.py",
    ),
    "imports and start-up (module code, regex compiling, typing)": (
        "importlib",
        "builtins.exec",
        "builtins.compile",
        "__build_class__",
        "re/_",
        "typing.py",
        "dataclasses.py",
    ),
}


def _group(file: str, name: str) -> str:
    where = f"{file}:{name}"
    return next((group for group, keys in GROUPS.items() if any(k in where for k in keys)), "everything else")


def _shares(stats: dict[Any, Any], key: tuple[str, int, str], depth: int = 0) -> dict[str, float]:
    """The groups a function's own time goes to: its own group; a built-in's is its callers' (by their share of it)."""
    file, _, name = key
    tottime, callers = stats[key][2], stats[key][4]
    own = _group(file, name)
    if file != "~" or own != "everything else" or not callers or depth > 3:
        return {own: tottime}
    out: dict[str, float] = {}
    for caller, (_, _, caller_tt, _) in callers.items():
        if caller not in stats:
            continue
        for group, seconds in _shares(stats, caller, depth + 1).items():
            weight = seconds / max(sum(_shares(stats, caller, depth + 1).values()), 1e-12)
            out[group] = out.get(group, 0.0) + caller_tt * weight
    return out or {own: tottime}


def profile(run: Callable[[], object]) -> dict[str, object]:
    """Profile ``run()``; the totals by group and the top functions by own time."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    try:
        run()
    except SystemExit:
        pass
    finally:
        profiler.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    functions = []
    checked = 0
    for key, (_, calls, tottime, cumtime, _) in stats.items():
        file, line, name = key
        if file.endswith(os.path.join("records", "scan.py")) and name == "check_file":
            checked += calls
        for group, seconds in _shares(stats, key).items():
            groups[group] = groups.get(group, 0.0) + seconds
        short = f"{'/'.join(file.split('/')[-2:])}:{line}({name})" if file != "~" else name
        functions.append((short, tottime, cumtime))
    functions.sort(key=lambda f: -f[1])
    return {
        "total": total,
        "groups": sorted(groups.items(), key=lambda g: -g[1]),
        "top": functions[:12],
        "files_checked": checked,
    }


def main(argv: list[str]) -> None:
    os.environ["KDATA_JOBS"] = "1"
    if argv[0] == "--load":  # as benchmarks/load_bench.py times it: imports done and one call made first
        import kdata

        table, package = argv[1], argv[2]
        kdata.load(table, package=package)

        def run() -> None:
            for _ in range(LOAD_CALLS):
                kdata.load(table, package=package)
    else:

        def run() -> None:
            import kdata.cli

            kdata.cli.main(argv, standalone_mode=False)

    print(json.dumps(profile(run)))


if __name__ == "__main__":
    main(sys.argv[1:])
