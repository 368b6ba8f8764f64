"""``kdata.load`` against pandas reading the same Parquet file into the same kind of DataFrame.

``kdata.load(name)`` returns a pandas DataFrame of Arrow-backed columns (``pd.ArrowDtype``:
``date32[day][pyarrow]``, ``int64[pyarrow]``, ``string[pyarrow]``), tombstones left out.
Like for like is ``pd.read_parquet(path, dtype_backend="pyarrow")``, which returns the same
dtypes; the script checks that the two frames are equal (same columns, dtypes and values) and says
so. ``pd.read_parquet(path)`` with NumPy dtypes (object strings, ``datetime.date`` objects) is
timed beside them for reference only: it builds a different frame.

Each is timed in this one process after one untimed call (imports and file cache warm), the
median of ``--repeat`` calls; the calls alternate (one of each per round, each round starting with
the next function), so that a change in the machine's load weighs on all of them alike. 15 rounds by
default: one read of a 1,200,000-row table varies by a fifth from call to call (each makes a new
frame of half a GB). ``load_ratio`` is the median of the rounds' own ratios of ``kdata.load`` to
``read_parquet`` (Arrow dtypes), steadier than a ratio of medians where the machine's speed drifts.
Beside the wall seconds, the CPU seconds of this process (all its threads: Arrow decodes on a pool)
under ``*_cpu``.
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


def rounds(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of each call of each function, round by round, over ``repeat`` rounds.

    Each function is called once untimed first; then each round calls every function once, in turn, starting
    with the next one each round. The first call of a round pays for the memory its predecessor returned to the
    system (the frames are half a GB): with a fixed order, that cost fell on ``kdata.load`` in every round.
    """
    for fn in fns.values():
        fn()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    names = list(fns)
    for round_ in range(repeat):
        turn = round_ % len(names)
        for name in names[turn:] + names[:turn]:  # each function first in as many rounds as the others
            start, start_cpu = time.perf_counter(), time.process_time()
            fns[name]()
            times[name].append((time.perf_counter() - start, time.process_time() - start_cpu))
    return times


def medians(times: dict[str, list[tuple[float, float]]]) -> dict[str, float]:
    """The median wall seconds (``name``) and CPU seconds (``name_cpu``) of each function's calls."""
    out = {name: statistics.median(wall for wall, _ in calls) for name, calls in times.items()}
    return out | {f"{name}_cpu": statistics.median(cpu for _, cpu in calls) for name, calls in times.items()}


def paired(times: dict[str, list[tuple[float, float]]], a: str, b: str) -> float:
    """The median over rounds of ``a``'s wall seconds over ``b``'s in the same round.

    This machine's speed drifts by a third within seconds (one thread decoding the same file: 0.72-2.2 s), in
    bursts longer than a round; a ratio of calls made a second apart cancels what a ratio of medians keeps.
    """
    return statistics.median(x[0] / y[0] for x, y in zip(times[a], times[b], strict=True))


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
    out: dict[str, Any] = {
        "rows": len(ours),
        "same_frame": bool(ours.equals(theirs) and (ours.dtypes == theirs.dtypes).all()),
    }
    times = rounds(timed, args.repeat)
    out |= medians(times) | {"load_ratio": paired(times, "load", "read_parquet_arrow")}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
