"""Find the record files whose stat differs from the cache's, the second half of a large listing in a forked child.

A cached ``kdata validate`` that finds little changed spends most of its time in stat(2), one call a record
file (100,000 files: about 0.25 s on one core). The stats the cache holds are laid out beside the listing
(``Stored``: one slot a file, in listing order), so each half is compared where it is stat-ed. The child
compares the second half and writes only what differs into memory shared with its parent; it never touches
the cache's SQLite connection (a forked child must not) and leaves with ``os._exit``. It only stats and writes,
taking no lock another thread of the parent could hold, so it may be forked from a process with threads (a
program using kdata as a library). Elsewhere than on Linux, or if the child fails, this process compares every
file itself.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
from array import array
from collections.abc import Iterable, Sequence

#: Below this many files a second process costs more than it saves (forking: a few ms).
MIN_FILES = 10_000
#: The size kept for a file the cache holds without a stat (never equal to a real size: always rechecked).
NO_STAT = -1
#: The size kept for a file the cache does not hold (new since it was made).
NEW = -2
#: One file found changed, in the shared memory: its index, mtime, ctime, size (NO_STAT: cannot be stat-ed), inode.
_FOUND = struct.Struct("qqqqQ")
_COUNT = struct.Struct("q")

#: A file found changed: its index in the listing and its stat, None if it cannot be stat-ed.
Found = tuple[int, tuple[int, int, int, int] | None]


class Stored:
    """The cache's stat of each file of the listing, in listing order, one array a field."""

    def __init__(self) -> None:
        self.mtimes, self.ctimes, self.sizes, self.inodes = array("q"), array("q"), array("q"), array("Q")

    def __len__(self) -> int:
        return len(self.inodes)

    def add(self, mtime: int | None, ctime: int | None, size: int | None, ino: int | None) -> None:
        """The stat of the next file, as a row of the cache has it (Nones: kept without one)."""
        if size is None or mtime is None or ctime is None or ino is None:
            self.new(NO_STAT)
        else:
            self.mtimes.append(mtime)
            self.ctimes.append(ctime)
            self.sizes.append(size)
            self.inodes.append(ino)

    @classmethod
    def frombytes(cls, mtimes: bytes, ctimes: bytes, sizes: bytes, inodes: bytes) -> Stored:
        """The stats kept by ``parts``."""
        stored = cls()
        for field, data in zip(stored.fields(), (mtimes, ctimes, sizes, inodes), strict=True):
            field.frombytes(data)
        if len({len(field) for field in stored.fields()}) > 1:
            raise ValueError("stats of unequal lengths")
        return stored

    def fields(self) -> tuple[array[int], array[int], array[int], array[int]]:
        return self.mtimes, self.ctimes, self.sizes, self.inodes

    def parts(self, lo: int, hi: int) -> tuple[bytes, ...]:
        """The stats of the files from index ``lo`` up to ``hi``, as bytes (``frombytes``)."""
        return tuple(field[lo:hi].tobytes() for field in self.fields())

    def put(self, i: int, key: tuple[int, ...]) -> None:
        """File ``i``'s stat, as kept after a run: (mtime, ctime, size, inode), or () for none (``NO_STAT``)."""
        self.mtimes[i], self.ctimes[i], self.sizes[i], self.inodes[i] = key or (0, 0, NO_STAT, 0)

    def take(self, other: Stored, i: int) -> None:
        """The next file's stat is ``other``'s file ``i``'s, as it is (``NO_STAT`` included)."""
        self.mtimes.append(other.mtimes[i])
        self.ctimes.append(other.ctimes[i])
        self.sizes.append(other.sizes[i])
        self.inodes.append(other.inodes[i])

    def new(self, size: int = NEW) -> None:
        """The next file is not in the cache (or, with ``NO_STAT``, kept without a stat)."""
        self.mtimes.append(0)
        self.ctimes.append(0)
        self.sizes.append(size)
        self.inodes.append(0)

    def extend(self, other: Stored) -> None:
        self.mtimes.extend(other.mtimes)
        self.ctimes.extend(other.ctimes)
        self.sizes.extend(other.sizes)
        self.inodes.extend(other.inodes)


def changed(
    folders: Sequence[tuple[str, list[str]]], stored: Stored, jobs: int, candidates: set[str] | None = None
) -> list[Found]:
    """The files of ``folders`` (folder, file names: the listing) whose stat differs from ``stored``, in order.

    With ``candidates`` (git), a file the cache holds is stat-ed only if it is one of them.
    """
    count = len(stored)
    one = count < MIN_FILES or jobs < 2 or candidates is not None
    if one or sys.platform != "linux":
        return _changed(folders, stored, 0, count, candidates)
    start = count // 2
    memory = mmap.mmap(-1, _COUNT.size + (count - start) * _FOUND.size)  # anonymous: shared with the child
    pid = os.fork()
    if pid == 0:  # the child: compare, write, leave without running anything of the parent's
        status = 1
        try:
            _write(memory, _changed(folders, stored, start, count, None))
            status = 0
        finally:
            os._exit(status)
    try:
        mine = _changed(folders, stored, 0, start, None)
        _, status = os.waitpid(pid, 0)
        pid = 0
        theirs = _read(memory) if os.waitstatus_to_exitcode(status) == 0 else None
        return mine + (theirs if theirs is not None else _changed(folders, stored, start, count, None))
    finally:
        if pid:  # this process failed while the child ran: stop it
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
        memory.close()


def _changed(
    folders: Iterable[tuple[str, list[str]]], stored: Stored, lo: int, hi: int, candidates: set[str] | None
) -> list[Found]:
    """``changed`` for the files from index ``lo`` up to ``hi``; the hot loop: one stat and a comparison a file."""
    out: list[Found] = []
    mtimes, ctimes, sizes, inodes, stat, at = stored.mtimes, stored.ctimes, stored.sizes, stored.inodes, os.stat, 0
    for folder, names in folders:
        first, last, at = max(lo - at, 0), min(hi - at, len(names)), at + len(names)
        i = at - len(names) + first  # the index of names[first]
        for name in names[first:last]:
            path = f"{folder}/{name}"
            if candidates is not None and sizes[i] != NEW and path not in candidates:
                i += 1
                continue  # git: the content the cache was made from
            try:
                st = stat(path)
            except OSError:
                out.append((i, None))
                i += 1
                continue
            mtime, ctime, size, ino = st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino
            if mtime != mtimes[i] or ctime != ctimes[i] or size != sizes[i] or ino != inodes[i]:
                out.append((i, (mtime, ctime, size, ino)))
            i += 1
        if at >= hi:
            break
    return out


def _write(memory: mmap.mmap, found: list[Found]) -> None:
    _COUNT.pack_into(memory, 0, len(found))
    offset = _COUNT.size
    for i, key in found:
        _FOUND.pack_into(memory, offset, i, *(key or (0, 0, NO_STAT, 0)))
        offset += _FOUND.size


def _read(memory: mmap.mmap) -> list[Found]:
    (count,) = _COUNT.unpack_from(memory, 0)
    out: list[Found] = []
    for i, mtime, ctime, size, ino in _FOUND.iter_unpack(memory[_COUNT.size : _COUNT.size + count * _FOUND.size]):
        out.append((i, None if size == NO_STAT else (mtime, ctime, size, ino)))
    return out
