"""Worker processes for small trees: the threshold of a parallel scan lowered for one test.

A scan splits its files among worker processes from ``scan.PARALLEL_MIN_FILES`` files (2,000), in
chunks of at least 50; a run of that many files also shares one text store among its processes.
A tree of a few hundred files above a lowered threshold takes every one of those paths (several
chunks per worker, more than are sent ahead) at a fraction of the cost.
"""

from __future__ import annotations

from typing import Any

import pytest

from kdata.records import scan, validate

#: The threshold the tests lower the real one to.
LOW_THRESHOLD = 150


def lower_the_parallel_threshold(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Worker processes (and the run's shared text store) from LOW_THRESHOLD files, for this test.

    Returns:
        A list that gets the number of workers of each parallel scan (so a test knows the workers ran).
    """
    assert scan.PARALLEL_MIN_FILES > LOW_THRESHOLD
    monkeypatch.setattr(scan, "PARALLEL_MIN_FILES", LOW_THRESHOLD)
    monkeypatch.setattr(validate, "PARALLEL_MIN_FILES", LOW_THRESHOLD)
    runs: list[int] = []
    parallel = scan._parallel

    def counted(chunks: Any, jobs: int, *args: Any) -> Any:
        runs.append(jobs)
        return parallel(chunks, jobs, *args)

    monkeypatch.setattr(scan, "_parallel", counted)
    return runs
