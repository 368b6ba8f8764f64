"""``kdata.load`` against pandas reading the same Parquet file into the same kind of DataFrame.

``kdata.load(name)`` returns a pandas DataFrame of Arrow-backed columns (``pd.ArrowDtype``:
``date32[day][pyarrow]``, ``int64[pyarrow]``, ``string[pyarrow]``), tombstones left out.
Like for like is ``pd.read_parquet(path, dtype_backend="pyarrow")``, which returns the same
dtypes; the script checks that the two frames are equal (same columns, dtypes and values) and says
so. ``pd.read_parquet(path)`` with NumPy dtypes (object strings, ``datetime.date`` objects) is
timed beside them for reference only: it builds a different frame.

Each is timed in this one process after one untimed call (imports and file cache warm), the
median of ``--repeat`` calls; the calls alternate (one of each per round), so that a change in the
machine's load weighs on all of them alike. 15 rounds by default: one read of a 1,200,000-row table
varies by a fifth from call to call (each makes a new frame of half a GB), and 7 rounds once gave
kdata.load / read_parquet 1.17 where two runs of 15 gave 1.05 and 1.01 on the same files. Beside the wall seconds, the CPU seconds of this
process (all its threads: Arrow decodes on a pool) under ``*_cpu``, steadier on a busy machine.
Prints JSON.

Usage: python benchmarks/load_bench.py DIST_DIR TABLE [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Rounds of calls (one of each function per round) whose median is reported.
REPEAT = 15


def medians(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Median wall seconds (``name``) and CPU seconds (``name_cpu``) of each function over ``repeat`` rounds.

    Each function is called once untimed first; then each round calls every function once, in turn.
    """
    for fn in fns.values():
        fn()
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
    out = {name: statistics.median(times) for name, times in wall.items()}
    return out | {f"{name}_cpu": statistics.median(times) for name, times in cpu.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path)
    parser.add_argument("table")
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args()
    import pandas as pd

    import kdata

    path = kdata.path(args.table, "parquet", package=args.dist)
    ours = kdata.load(args.table, package=args.dist)
    theirs = pd.read_parquet(path, dtype_backend="pyarrow")
    timed = {
        "load": lambda: kdata.load(args.table, package=args.dist),
        "read_parquet_arrow": lambda: pd.read_parquet(path, dtype_backend="pyarrow"),
        "read_parquet_numpy": lambda: pd.read_parquet(path),
    }
    out = {
        "rows": len(ours),
        "same_frame": bool(ours.equals(theirs) and (ours.dtypes == theirs.dtypes).all()),
        **medians(timed, args.repeat),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
