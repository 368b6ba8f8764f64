"""Atomic file and folder replacement.

``os.replace`` cannot replace a non-empty folder, so a whole ``dist/`` is swapped
with Linux's ``renameat2(RENAME_EXCHANGE)``, which exchanges two folders in one
step. Where that call is missing, two renames are used, and ``recover`` (run by
every command before it reads or writes the folder) puts the old folder back if
a process died between them. No library does this exchange, hence the ctypes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno as errnos
import os
import secrets
import shutil
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


#: Plain words for the write errors a user can fix, by errno.
_WRITE_ERRORS = {
    errnos.ENOSPC: "the disk is full",
    errnos.EDQUOT: "the disk quota is used up",
    errnos.EFBIG: "a file grew past the size limit (a full disk or a file-size ulimit)",
    errnos.EROFS: "the file system is read-only",
    errnos.EACCES: "permission was denied",
    errnos.EPERM: "the operation is not permitted (the folder may be read-only or immutable)",
}


def write_error(exc: OSError) -> str:
    """What went wrong with a write, in plain words: ``the disk is full``, ``the file system is read-only``."""
    reason = _WRITE_ERRORS.get(exc.errno or 0) or exc.strerror or str(exc)
    return f"{reason} ({exc.filename})" if exc.filename else reason


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk, so renames inside it survive a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` in one step: readers see the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2; False where the system lacks it."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result != 0:
        errno = ctypes.get_errno()
        if errno in (38, 22, 95):  # ENOSYS, EINVAL, EOPNOTSUPP: the filesystem cannot exchange
            return False
        raise OSError(errno, os.strerror(errno), str(b))
    return True


def staging_dir(target: Path) -> Path:
    """A new, empty folder beside ``target`` to build its replacement in."""
    path = target.with_name(f".{target.name}-new-{secrets.token_hex(4)}")
    path.mkdir(parents=True)
    return path


def _leftovers(target: Path, kind: str) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}-{kind}-*"))


def recover(target: Path) -> None:
    """Undo a swap that died half-way and clear staging folders of dead processes.

    Args:
        target: The folder (e.g. ``dist/``) that swaps replace.
    """
    old = _leftovers(target, "old")
    if not target.exists() and old:
        os.rename(old[-1], target)  # a process died between the two renames
        old = old[:-1]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)


def swap_in(new: Path, target: Path) -> None:
    """Make ``new`` the folder at ``target``; the previous content is removed.

    Args:
        new: A complete folder beside ``target`` (see ``staging_dir``).
        target: The folder to replace; created if missing.
    """
    for folder in (new, *new.rglob("*")):
        if folder.is_dir():
            fsync_dir(folder)
    if not target.exists():
        os.rename(new, target)
    elif _exchange(new, target):
        shutil.rmtree(new)  # `new` now holds the previous content
    else:
        old = target.with_name(f".{target.name}-old-{secrets.token_hex(4)}")
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old)
    fsync_dir(target.parent)
