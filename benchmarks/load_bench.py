"""``kdata.load`` against pandas reading the same Parquet file into the same kind of DataFrame.

``kdata.load(name)`` returns a pandas DataFrame of Arrow-backed columns (``pd.ArrowDtype``:
``date32[day][pyarrow]``, ``int64[pyarrow]``, ``string[pyarrow]``), tombstones left out.
Like for like is ``pd.read_parquet(path, dtype_backend="pyarrow")``, which returns the same
dtypes; the script checks that the two frames are equal (same columns, dtypes and values) and says
so. ``pd.read_parquet(path)`` with NumPy dtypes (object strings, ``datetime.date`` objects) is
timed beside them for reference only: it builds a different frame.

Each is timed in this one process after one untimed call (imports and file cache warm), the
median of ``--repeat`` calls. Prints JSON.

Usage: python benchmarks/load_bench.py DIST_DIR TABLE [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of ``fn()`` over ``repeat`` calls, after one untimed call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path)
    parser.add_argument("table")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import pandas as pd

    import kdata

    path = kdata.path(args.table, "parquet", package=args.dist)
    ours = kdata.load(args.table, package=args.dist)
    theirs = pd.read_parquet(path, dtype_backend="pyarrow")
    out = {
        "rows": len(ours),
        "same_frame": bool(ours.equals(theirs) and (ours.dtypes == theirs.dtypes).all()),
        "load": median_seconds(lambda: kdata.load(args.table, package=args.dist), args.repeat),
        "read_parquet_arrow": median_seconds(lambda: pd.read_parquet(path, dtype_backend="pyarrow"), args.repeat),
        "read_parquet_numpy": median_seconds(lambda: pd.read_parquet(path), args.repeat),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
