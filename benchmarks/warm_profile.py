"""Where a cached ``kdata validate`` spends its time after one file changed, by phase (cProfile).

Run in a project folder whose cache is warm; prints JSON: seconds per phase and in total.
The phases are kdata's own functions, so the figures say what bounds the incremental run.

Usage: python benchmarks/warm_profile.py RAW_DIR FILE_TO_TOUCH
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

#: Phase -> (module file, function name) whose cumulative time it is.
PHASES = {
    "list the files": ("validate.py", "_record_files"),
    "read the cache": ("scan.py", "__init__"),
    "stat every file, reuse or recheck": ("scan.py", "scan"),
    "write the cache": ("scan.py", "save"),
    "load_raw in all": ("validate.py", "load_raw"),
}


def main(raw: str, touched: str) -> None:
    path = Path(touched)
    path.write_text(path.read_text())  # one file changed (new mtime and ctime)
    start = time.perf_counter()
    profile = cProfile.Profile()
    profile.enable()
    import kdata.cli  # imports included, as a user's run pays them

    try:
        kdata.cli.main(["validate", raw], standalone_mode=False)
    finally:
        profile.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    found = {}
    for phase, (module, function) in PHASES.items():
        found[phase] = max(
            (v[3] for (file, _, name), v in stats.items() if file.endswith(module) and name == function), default=0.0
        )
    found["checks across records and the rest"] = found["load_raw in all"] - sum(
        found[p] for p in PHASES if p != "load_raw in all"
    )
    found["start-up, imports and output"] = total - found["load_raw in all"]
    found["total (under the profiler)"] = total
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
