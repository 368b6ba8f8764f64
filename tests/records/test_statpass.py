"""A forked child stats the second half of a large listing (``kdata.records.statpass``): what it finds, and
what happens when it fails or is no longer wanted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kdata.records import statpass

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: every file is stat-ed in one process")


def _files(tmp_path: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        path = tmp_path / f"f{i:03}.yaml"
        path.write_text("x" * i)
        paths.append(str(path))
    return paths


def test_the_child_finds_each_file_as_a_stat_here_does(tmp_path: Path) -> None:
    paths = _files(tmp_path, 50)
    paths[27] = str(tmp_path / "gone.yaml")  # cannot be stat-ed: None
    os.utime(paths[23], ns=(0, -1_500_000_000))  # a negative mtime survives the shared memory
    ahead = statpass.Ahead(20, 30, iter(paths[20:]))
    try:
        found = ahead.keys()
        assert found is not None
        child = list(found)
    finally:
        ahead.close()
    here = list(statpass.stats(paths))
    assert child == here[20:]
    assert here[27] is None
    assert here[23] == (-1_500_000_000, os.stat(paths[23]).st_ctime_ns, 23, os.stat(paths[23]).st_ino)
    assert [key[2] for key in here if key] == [i for i in range(50) if i != 27]


def test_a_child_that_fails_leaves_the_stats_to_this_process(tmp_path: Path) -> None:
    paths = _files(tmp_path, 4)

    def broken() -> Iterator[str]:
        yield paths[0]
        raise RuntimeError("the listing went wrong")

    ahead = statpass.Ahead(0, 4, broken())
    assert ahead.keys() is None
    ahead.close()


def test_a_child_no_longer_wanted_is_stopped_and_reaped(tmp_path: Path) -> None:
    import time

    def endless() -> Iterator[str]:
        while True:
            time.sleep(0.01)
            yield str(tmp_path)

    ahead = statpass.Ahead(0, 10**6, endless())
    pid = ahead._pid
    ahead.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_small_listings_and_one_job_stay_in_one_process(tmp_path: Path) -> None:
    paths = iter(_files(tmp_path, 2))
    assert statpass.ahead(statpass.MIN_FILES - 1, 2, paths) is None
    assert statpass.ahead(statpass.MIN_FILES, 1, paths) is None
