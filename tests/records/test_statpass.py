"""Which files' stat differs from the cache's (``kdata.records.statpass``), a large listing's second half compared
in a forked child: the same answer as one process, and what happens when either side fails."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kdata.records import statpass

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or os.uname().sysname != "Linux", reason="the listing is split on Linux"
)


def _tree(tmp_path: Path) -> tuple[list[tuple[str, list[str]]], statpass.Stored]:
    """Three folders of files and the cache's stats of them: most the same, some changed, new, gone or unstat-ed."""
    folders, stored = [], statpass.Stored()
    for f, n in (("a", 7), ("b", 30), ("c", 13)):
        (tmp_path / f).mkdir()
        names = [f"{i:03}.yaml" for i in range(n)]
        folders.append((str(tmp_path / f), names))
        for i, name in enumerate(names):
            path = tmp_path / f / name
            if i % 11 != 5:  # some files are gone
                path.write_text("x" * i)
            if i % 5 == 3:
                os.utime(path, ns=(0, -1_500_000_000))  # a negative mtime, the same as the cache's
            st = path.stat() if path.exists() else None
            kind = i % 7
            if st is None or kind == 0:
                stored.new()
            elif kind == 1:
                stored.add(None, None, None, None)  # kept without a stat
            elif kind == 2:
                stored.add(st.st_mtime_ns + 1, st.st_ctime_ns, st.st_size, st.st_ino)  # changed since
            else:
                stored.add(st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    return folders, stored


def _expected(folders: list[tuple[str, list[str]]], stored: statpass.Stored) -> list[statpass.Found]:
    """What differs, found with nothing of statpass but its layout."""
    out: list[statpass.Found] = []
    i = 0
    for folder, names in folders:
        for name in names:
            try:
                st = os.stat(f"{folder}/{name}")
            except OSError:
                out.append((i, None))
            else:
                key = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
                if key != (stored.mtimes[i], stored.ctimes[i], stored.sizes[i], stored.inodes[i]):
                    out.append((i, key))
            i += 1
    return out


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Split from 2 files on (10,000 in use); the list records each time the child's answer is taken."""
    taken: list[int] = []
    real = statpass._read
    monkeypatch.setattr(statpass, "MIN_FILES", 2)
    monkeypatch.setattr(statpass, "_read", lambda memory: taken.append(1) or real(memory))
    return taken


def test_the_child_finds_what_one_process_finds(tmp_path: Path, small: list[int]) -> None:
    folders, stored = _tree(tmp_path)
    expected = _expected(folders, stored)
    assert statpass.changed(folders, stored, 1) == expected and small == []
    assert statpass.changed(folders, stored, 2) == expected and small == [1]
    assert {key is None for _, key in expected} == {True, False} and len(expected) < len(stored)


def test_a_child_that_fails_leaves_its_half_to_this_process(
    tmp_path: Path, small: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    folders, stored = _tree(tmp_path)

    def broken(memory: object, found: object) -> None:  # runs in the child only
        raise RuntimeError("the child went wrong")

    monkeypatch.setattr(statpass, "_write", broken)
    assert statpass.changed(folders, stored, 2) == _expected(folders, stored)
    assert small == []  # the child's answer was never taken


def test_when_this_process_fails_the_child_is_stopped_and_reaped(
    tmp_path: Path, small: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    folders, stored = _tree(tmp_path)
    real = statpass._changed

    def slow_child_failing_parent(*args: object) -> list[statpass.Found]:
        if args[2] == 0:  # this process's half
            raise KeyboardInterrupt
        time.sleep(60)  # the child's half: never ends by itself
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(statpass, "_changed", slow_child_failing_parent)
    before = _children()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        statpass.changed(folders, stored, 2)
    assert time.monotonic() - started < 30
    assert _children() <= before  # no child of this process left, not even a zombie


def _children() -> set[int]:
    """This process's children (a zombie stays one until it is reaped)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def test_small_listings_one_job_and_git_stay_in_one_process(tmp_path: Path, small: list[int]) -> None:
    folders, stored = _tree(tmp_path)
    statpass.MIN_FILES = len(stored) + 1  # restored by the fixture's monkeypatch
    assert statpass.changed(folders, stored, 2) == _expected(folders, stored)
    statpass.MIN_FILES = 2
    assert statpass.changed(folders, stored, 1) == _expected(folders, stored)
    candidates = {f"{folders[1][0]}/{name}" for name in folders[1][1]}
    found = statpass.changed(folders, stored, 2, candidates)
    assert found == [(i, key) for i, key in _expected(folders, stored) if 7 <= i < 37 or stored.sizes[i] == -2]
    assert small == []


def test_stats_kept_as_bytes_come_back_as_they_were_and_are_taken_one_by_one() -> None:
    """A folder's stats kept as bytes (``parts``, ``frombytes``), a file's stat put after a run, or taken by name."""
    rows = [(5, 6, 7, 2**64 - 1), (None, None, None, None), (-3, 0, 0, 9), (1, 2, 3, 4)]
    one = statpass.Stored()
    for row in rows:
        one.add(*row)
    assert list(one.sizes) == [7, statpass.NO_STAT, 0, 3] and one.inodes[0] == 2**64 - 1
    for lo, hi in [(0, 4), (1, 3), (2, 2)]:
        back = statpass.Stored.frombytes(*one.parts(lo, hi))
        assert [list(f) for f in back.fields()] == [list(f[lo:hi]) for f in one.fields()], (lo, hi)
    with pytest.raises(ValueError):
        statpass.Stored.frombytes(*one.parts(0, 4)[:3], one.parts(0, 3)[3])
    taken = statpass.Stored()
    for i in (3, 1, 0):
        taken.take(one, i)
    assert [list(f) for f in taken.fields()] == [[f[3], f[1], f[0]] for f in one.fields()]
    one.put(0, ())
    one.put(1, (8, 9, 10, 11))
    assert [tuple(f[0] for f in one.fields()), tuple(f[1] for f in one.fields())] == [
        (0, 0, statpass.NO_STAT, 0),
        (8, 9, 10, 11),
    ]


def test_a_process_with_threads_still_splits_the_listing(tmp_path: Path, small: list[int]) -> None:
    """The child takes no lock another thread could hold (here one holds a lock throughout): kdata used as a
    library in a program with threads splits its listing too."""
    import threading

    folders, stored = _tree(tmp_path)
    held, release = threading.Lock(), threading.Event()

    def holder() -> None:
        with held:
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        for _ in range(5):
            assert statpass.changed(folders, stored, 2) == _expected(folders, stored)
    finally:
        release.set()
        thread.join()
    assert small == [1] * 5
