"""Stat the second half of a large listing in a forked child while the process that forked it stats the first.

A cached ``kdata validate`` that finds little changed spends most of its time in stat(2), one call a record
file (100,000 files: about 0.25 s on one core). With two cores the child takes the second half, writing each
file's (mtime, ctime, size, inode) into memory shared with its parent, and only that: it never touches the
cache's SQLite connection (a forked child must not) and leaves with ``os._exit``. Where fork is missing or
unsafe (not Linux, threads running), or the child fails, the parent stats every file itself.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import threading
from collections.abc import Iterable, Iterator

#: Below this many files a second process costs more than it saves (forking: a few ms).
MIN_FILES = 10_000
#: One file's stat in the shared memory: mtime, ctime and size as signed 64-bit integers, the inode unsigned.
_KEY = struct.Struct("qqqQ")
#: The size written for a file that could not be stat-ed (a real size is never negative).
_MISSING = -1


class Ahead:
    """The stats of the paths from ``start`` on, taken by a forked child; ``keys`` waits for them."""

    def __init__(self, start: int, count: int, paths: Iterator[str]) -> None:
        self.start, self._count = start, count
        self._memory = mmap.mmap(-1, max(1, count * _KEY.size))  # anonymous: shared with the child
        self._pid = os.fork()
        if self._pid == 0:  # the child: stat, write, leave without running anything of the parent's
            status = 1
            try:
                _stat_into(self._memory, paths)
                status = 0
            finally:
                os._exit(status)

    def keys(self) -> Iterator[tuple[int, int, int, int] | None] | None:
        """Each path's (mtime, ctime, size, inode), None where it could not be stat-ed; None if the child failed."""
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        return _read(self._memory, self._count)

    def close(self) -> None:
        """Stop a child still running (the run failed before it needed the stats) and free the memory."""
        if self._pid:
            try:
                os.kill(self._pid, 9)
                os.waitpid(self._pid, 0)
            except OSError:
                pass
            self._pid = 0
        self._memory.close()


def ahead(count: int, jobs: int, paths: Iterator[str]) -> Ahead | None:
    """Start a child stat-ing the second half of ``count`` paths (``paths`` yields them from there), or None
    when one process is better: a small listing, one job, or fork not safe here."""
    if count < MIN_FILES or jobs < 2 or sys.platform != "linux" or threading.active_count() > 1:
        return None
    start = count // 2
    return Ahead(start, count - start, paths)


def stats(paths: Iterable[str]) -> Iterator[tuple[int, int, int, int] | None]:
    """Each path's (mtime, ctime, size, inode) as stat-ed now, or None if it cannot be."""
    stat = os.stat
    for path in paths:
        try:
            st = stat(path)
        except OSError:
            yield None
        else:
            yield (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _stat_into(memory: mmap.mmap, paths: Iterator[str]) -> None:
    pack, offset = _KEY.pack_into, 0
    for key in stats(paths):
        pack(memory, offset, *(key or (0, 0, _MISSING, 0)))
        offset += _KEY.size


def _read(memory: mmap.mmap, count: int) -> Iterator[tuple[int, int, int, int] | None]:
    for key in _KEY.iter_unpack(memory[: count * _KEY.size]):
        yield None if key[2] == _MISSING else key
