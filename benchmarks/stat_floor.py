"""The least work any cache keyed by file stat must do: list every record file and stat it.

A cached ``kdata validate`` cannot be faster than this (plus starting Python and
importing kdata): it bounds the incremental target. One process, as kdata does it.

Usage: python benchmarks/stat_floor.py RAW_DIR
"""

from __future__ import annotations

import os
import sys


def run(raw: str) -> int:
    """Stat every file in the table folders of ``raw``; return how many."""
    count = 0
    for table in sorted(os.listdir(raw)):
        folder = os.path.join(raw, table)
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                os.stat(f"{folder}/{name}")
                count += 1
    return count


if __name__ == "__main__":
    print(run(sys.argv[1]))
