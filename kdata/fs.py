"""Atomic writes, and whole-folder swaps shared safely by the processes that read and write a folder.

``os.replace`` cannot replace a non-empty folder, so a whole ``dist/`` (or a version in the
download cache) is swapped in one of two ways:

- **Exchange** (Linux): ``renameat2(RENAME_EXCHANGE)`` swaps the staging folder and the target in
  one step; the target is never missing. No library offers this call, hence the ctypes.
- **Renames** (macOS, Windows, file systems that refuse the exchange): ``T`` -> ``.T-old-X``, then
  ``.T-new-X`` -> ``T``, then ``.T-old-X`` -> ``.T-trash-X``, which is deleted. Between the first two
  renames ``T`` is missing and ``.T-old-X`` holds the only copy of the previous content.

A swap that died between its first two renames looks exactly like one that is still running.
Putting ``.T-old-X`` back is right in the first case and wrong in the second: the running writer's
second rename then fails, its build is lost, and a reader that "recovered" can crash on a folder
the writer renames or deletes under it. Only the lock tells the two cases apart. Hence:

1. **One lock per target**: the file ``.T.lock`` beside it, held through ``locked``. filelock takes
   ``flock`` on Unix and ``LockFileEx`` on Windows, which the system releases when a process dies
   (where neither exists, a marker file naming the holder's pid, reclaimed once that process is
   gone); a lock still held therefore means a live writer.
2. **Every swap and every repair runs under the lock.** Writers (build, download) hold it from
   before they stage until after they swap; ``swap_in`` takes it too (reentrantly), so no caller
   can swap without it; ``locked`` repairs on entry. Whoever holds the lock knows no swap is in
   flight, so a missing ``T`` with ``.T-old-X`` beside it is a dead swap, safe to undo.
3. **An ``old`` folder is always a whole previous version.** The third rename moves it to ``trash``
   before it is deleted, so a deletion stopped half-way (a file held open on Windows) leaves only
   trash. Under the lock, with ``T`` missing, at most one ``old`` folder exists: the one to restore.
4. **Readers take no lock on the common path** (``T`` there, nothing beside it), so reading never
   waits for a build and never creates a lock file (the bundled package may be read-only).
   ``recover`` takes the lock only when leftovers are visible: it then waits for the running swap
   to end, or repairs a dead one. A read that fails or looks inconsistent (``T`` missing between
   two renames, or exchanged between two files of one read) runs once more holding the lock
   (``read_whole``), where no swap can interleave, wherever a reader may take it without leaving
   a file behind.
5. **Checks repair nothing.** ``kdata verify`` reads as readers do, but holds the lock without
   repairing (``read_whole(..., repair=False)``): a dead swap's ``old`` folder is read where it
   lies, and put back by the next command that writes (or reader that recovers).
6. **Temporary files live in scratch folders, never in the system's temporary folder.** A killed
   process cleans up nothing, and nothing ever deletes what it left in ``/tmp`` (a tmpfs on many
   machines: held in memory). ``scratch(T)`` makes ``.T-scratch-X`` beside ``T`` (the build's
   spilled rows, beside ``dist/``, on its disk); ``cache_scratch`` one in kdata's cache (what
   belongs beside no output: ``build --check``, an unpacked archive). Its process holds a lock on
   a file inside it while it lives, so the next ``scratch`` beside ``T`` deletes the folders of
   dead processes, and never a live one's, whatever pids are reused.
"""

from __future__ import annotations

import atexit
import errno as errnos
import functools
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

from kdata.errors import KdataError, LockTimeout, UsageError

if TYPE_CHECKING:
    import filelock

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_T = TypeVar("_T")


#: Plain words for the write errors a user can fix, by errno.
_WRITE_ERRORS = {
    errnos.ENOSPC: "the disk is full",
    errnos.EDQUOT: "the disk quota is used up",
    errnos.EFBIG: "a file grew past the size limit (a full disk or a file-size ulimit)",
    errnos.EROFS: "the file system is read-only",
    errnos.EACCES: "permission was denied",
    errnos.EPERM: "the operation is not permitted (the folder may be read-only or immutable)",
}


#: Environment variable: the folder for kdata's caches (downloads, validation results).
ENV_CACHE = "KDATA_CACHE_DIR"


def cache_dir() -> Path:
    """kdata's cache folder: ``$KDATA_CACHE_DIR``, else the user cache folder (platformdirs)."""
    configured = os.environ.get(ENV_CACHE)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("kdata", appauthor=False))


def sha256_bytes(content: bytes) -> str:
    """Hex sha256 of some bytes."""
    import hashlib

    return hashlib.sha256(content).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _token() -> str:
    """8 random hex digits for a unique name (``secrets.token_hex(4)``, without its ~13 ms import)."""
    return os.urandom(4).hex()


def write_error(exc: OSError) -> str:
    """What went wrong with a write, in plain words: ``the disk is full``, ``the file system is read-only``."""
    reason = _WRITE_ERRORS.get(exc.errno or 0) or exc.strerror or str(exc)
    return f"{reason} ({exc.filename})" if exc.filename else reason


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk, so renames inside it survive a crash.

    A no-op on Windows, which cannot open a folder as a file (NTFS journals its metadata).
    """
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _written_beside(path: Path, content: bytes) -> Iterator[Path]:
    """A temporary file beside ``path`` holding ``content``, flushed to disk; deleted on leaving (if still there)."""
    tmp = path.with_name(f".{path.name}.{_token()}.tmp")
    try:
        with open(tmp, "xb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` in one step: readers see the old file or the new one."""
    with _written_beside(path, content) as tmp:
        os.replace(tmp, path)


def create_new(path: Path, content: bytes) -> None:
    """Create ``path`` with ``content`` in one step, refusing (``FileExistsError``) if it exists.

    The content goes to a temporary file first, which is then hard-linked to ``path``: the link
    fails if ``path`` exists, and a full disk or a kill leaves no partial file at ``path``. Where the
    file system has no hard links, the temporary file is renamed in after a check that ``path``
    is still free (a race no kdata command meets: only ``kdata new`` creates records).
    """
    with _written_beside(path, content) as tmp:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # no hard links here (FAT, some network shares)
            if os.path.lexists(path):
                raise FileExistsError(errnos.EEXIST, "File exists", str(path)) from None
            os.replace(tmp, path)


#: One lock object per lock file and process. filelock's locks are reentrant per object, so
#: ``swap_in`` can take the lock its caller already holds; the process id keeps a forked child
#: from reusing its parent's objects.
_LOCKS: dict[tuple[int, str], filelock.BaseFileLock] = {}
# Dropped at exit, while every module is still whole: left to the interpreter's teardown, filelock 4.1's
# ``BaseFileLock.__del__`` (the version locked for Python 3.10) ran after ``os`` was gone and printed a traceback.
atexit.register(_LOCKS.clear)


def _filelock() -> ModuleType:
    """filelock, imported on first use (~0.1 s of start-up that only commands which lock should pay).

    Its warning "only soft file lock is available" (where fcntl is missing) is silenced: kdata
    handles that case itself (``_lock_file``), and a warning would break one-line output.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import filelock
    return filelock


def _platform_lock() -> bool:
    """Whether filelock locks through the system (``flock``, ``LockFileEx``) rather than a marker file."""
    filelock = _filelock()
    return filelock.FileLock is not filelock.SoftFileLock


def _lock_file(target: Path) -> str:
    """The lock file beside the target: ``dist`` -> ``.dist.lock``, ``cache/0.1.0`` -> ``cache/.0.1.0.lock``.

    A marker lock (filelock's fallback where the system offers no file locks) uses
    ``.NAME.marker-lock``: it takes an existing file for a holder, and must never mistake the
    empty file a system lock leaves behind for one that is held forever.
    """
    folder, name = os.path.split(os.path.abspath(target))
    return os.path.join(folder, f".{name}.lock" if _platform_lock() else f".{name}.marker-lock")


@contextmanager
def locked(target: Path) -> Iterator[None]:
    """Hold the lock of ``target`` (waiting while another process holds it) and repair what a dead swap left.

    The one lock of kdata: builds, downloads and swaps of the same folder take turns through it.
    Reentrant within a thread. filelock is imported here, not at module level: it costs ~0.1 s
    of start-up that only commands which write should pay.

    Args:
        target: The folder the lock guards (``dist``, ``<cache>/0.1.0``); its parent must exist.
    """
    with _held(target):
        _repair(target)
        yield


@contextmanager
def _held(target: Path, path: str | None = None) -> Iterator[None]:
    """Hold the lock of ``target``, repairing nothing: ``locked`` without its repair, for reads that change nothing.

    Waits at most ``KDATA_LOCK_TIMEOUT`` seconds (default 600), then raises ``LockTimeout``.
    ``path`` names another lock file of the target (``_scratch_lock``); default: its own (``_lock_file``).
    """
    from kdata import settings

    filelock = _filelock()
    path = path or _lock_file(target)
    key = (os.getpid(), path)
    lock = _LOCKS.get(key)
    if lock is None:
        lock = _LOCKS.setdefault(key, filelock.FileLock(path))  # one winner if two threads get here at once
    timeout = settings.number("KDATA_LOCK_TIMEOUT")
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        raise LockTimeout(
            f"Another kdata process has been using {target} for over {timeout} s "
            f"(lock file {path}). Wait for it to finish and run the command again; if no kdata process "
            "is running, delete the lock file. KDATA_LOCK_TIMEOUT sets the wait in seconds."
        ) from None
    try:
        yield
    finally:
        lock.release()


def _leftovers(target: Path, *kinds: str) -> list[Path]:
    """Folders named ``.NAME-KIND-*`` beside ``target``, sorted by name."""
    folder, name = os.path.split(os.path.abspath(target))
    prefixes = tuple(f".{name}-{kind}-" for kind in kinds)
    try:
        entries = os.listdir(folder)
    except OSError:  # no parent folder: nothing beside the target
        return []
    return sorted(Path(folder, entry) for entry in entries if entry.startswith(prefixes))


def _discard(old: Path, target: Path) -> None:
    """Rename an ``old`` folder to ``trash`` and delete it; what cannot be deleted now, the next repair deletes."""
    trash = target.with_name(f".{target.name}-trash-{_token()}")
    os.rename(old, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _repair(target: Path) -> None:
    """Finish or undo a swap that died half-way. Only with the target's lock held (see the module docstring)."""
    target = Path(os.path.abspath(target))  # a name to put beside, also for "."
    old = _leftovers(target, "old")
    if old and not os.path.lexists(target):
        os.rename(old.pop(), target)  # died between the first two renames; at most one ``old`` (rule 3)
    for folder in old:  # died after the second rename: the previous content, to delete
        _discard(folder, target)
    for folder in _leftovers(target, "trash"):
        shutil.rmtree(folder, ignore_errors=True)


def recover(target: Path) -> None:
    """Repair what a swap of ``target`` that died half-way left, or wait for a swap in progress to end.

    Safe in any process at any time: it renames and deletes only while holding the target's lock,
    which it takes only when leftovers are visible beside the target. Otherwise (the usual case)
    it lists the parent folder and returns, creating nothing.

    Args:
        target: The folder that swaps replace (e.g. ``dist/``).
    """
    if _leftovers(target, "old", "trash"):
        with locked(target):
            pass


def clear_staging(target: Path) -> None:
    """Delete the staging folders of killed writers. Only for writers that stage while holding ``locked(target)``."""
    for folder in _leftovers(target, "new"):
        shutil.rmtree(folder, ignore_errors=True)


def _scratch_lock(target: Path) -> str:
    """The lock file that orders the making and sweeping of the scratch folders beside ``target``: ``.dist.scratch.lock``.

    Apart from the target's own lock: a build makes its scratch folder, and sweeps dead ones,
    without waiting for another build's write phase (which holds ``.dist.lock``).
    """
    stem, _, kind = _lock_file(target).rpartition(".")  # .dist.lock, or .dist.marker-lock
    return f"{stem}.scratch.{kind}"


#: The file inside a scratch folder that its process holds locked while the folder is in use, by the
#: kind of lock (see ``_lock_file``): a system lock's file, or filelock's marker where there is none.
_SCRATCH_HOLD = {True: ".kdata-scratch.lock", False: ".kdata-scratch.marker-lock"}


def _owner_lock(folder: Path) -> filelock.BaseFileLock | None:
    """The lock of a scratch folder, taken now if no live process holds it; else None.

    A folder whose holder locks the other way (a marker where this process has system locks, or
    the reverse) counts as held: this process cannot tell whether that holder lives.
    """
    module = _filelock()
    system = _platform_lock()
    if os.path.lexists(folder / _SCRATCH_HOLD[not system]):
        return None
    lock: filelock.BaseFileLock = module.FileLock(str(folder / _SCRATCH_HOLD[system]))
    try:
        lock.acquire(timeout=0)
    except module.Timeout:
        return None
    return lock


def _sweep(target: Path) -> None:
    """Delete the scratch folders beside ``target`` that no live process holds. Only with ``_scratch_lock`` held."""
    for folder in _leftovers(target, "scratch"):
        if folder.is_symlink() or not folder.is_dir():
            continue  # kdata makes only real folders there
        try:
            lock = _owner_lock(folder)
        except OSError:  # vanished meanwhile, or unreadable: not ours to judge now
            continue
        if lock is None:
            continue  # its process is alive
        lock.release()  # before the deletion: Windows cannot delete a file held open
        shutil.rmtree(folder, ignore_errors=True)


def clear_scratch(target: Path) -> None:
    """Delete the scratch folders beside ``target`` of processes that have ended (killed ones); never a live one's.

    ``scratch`` calls this before it makes a folder; it is public for tests and tools that want
    the folders of killed processes gone without making one.
    """
    if _leftovers(target, "scratch"):
        with _held(target, _scratch_lock(target)):
            _sweep(target)


@contextmanager
def scratch(target: Path) -> Iterator[Path]:
    """A new, empty scratch folder beside ``target`` (``.NAME-scratch-X``) for a command's temporary files.

    Deleted on leaving. A process killed while using it (SIGKILL, a power cut) cannot delete it,
    so every call first deletes the scratch folders beside ``target`` that no live process holds:
    the next command that works beside ``target`` removes what a killed one left there.

    How a live folder is told from a dead one, with no pid (pids are reused): its process holds a
    lock on a file inside it (``_SCRATCH_HOLD``) for as long as it uses it. The system releases
    such a lock when the process dies (``flock``, ``LockFileEx``; filelock's marker fallback
    reclaims a dead holder's marker), so a folder whose lock can be taken is dead. Folders are
    made and swept only under a second lock beside the target (``_scratch_lock``), held for
    moments: a sweep never sees a folder made but not yet locked.

    Args:
        target: The folder the scratch belongs beside (``dist``), on the same disk. Its parent is
            created if missing.

    Raises:
        OSError: The parent folder cannot be written (read-only, full); nothing is left behind.
    """
    target = Path(os.path.abspath(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    with _held(target, _scratch_lock(target)):
        _sweep(target)
        folder = target.with_name(f".{target.name}-scratch-{_token()}")
        folder.mkdir()
        try:
            owner = _owner_lock(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        assert owner is not None, "a folder made under the scratch lock is locked by nobody else"
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # while held: no sweep can find it half-deleted (Unix)
        owner.release()
        if os.path.lexists(folder):  # Windows: the held lock file, and so its folder, stayed
            shutil.rmtree(folder, ignore_errors=True)


#: The folder in kdata's cache beside which commands make scratch folders that belong to no output
#: folder (``kdata build --check``, an archive unpacked for a diff): ``<cache>/.tmp-scratch-X``.
CACHE_SCRATCH = "tmp"


@contextmanager
def cache_scratch() -> Iterator[Path]:
    """A scratch folder in kdata's cache (see ``scratch``), for temporary files that belong beside no output folder.

    Used instead of the system's temporary folder: what a killed process leaves here, the next
    command that makes a scratch folder in the cache deletes, and the files stay on disk (``/tmp``
    may be a tmpfs, held in memory).

    Raises:
        UsageError: The cache cannot be written (read-only, full), in one line.
    """
    cache = cache_dir()
    with ExitStack() as stack:
        try:
            folder = stack.enter_context(scratch(cache / CACHE_SCRATCH))
        except OSError as exc:
            raise UsageError(
                f"Could not make a scratch folder in kdata's cache {cache}: {write_error(exc)}. "
                f"Set {ENV_CACHE} to a writable folder."
            ) from None
        yield folder


def _lock_to_read(target: Path) -> bool:
    """Whether a reader should take the target's lock to read it whole.

    Yes where the lock file exists: writers lock this target. flock leaves the file when it is
    released, so there its absence means no writer ever locked here (a read-only installed
    package, a folder of the user's), and a reader should not leave a file behind. The other
    kinds (Windows, filelock's marker fallback) delete it on release, so its absence says
    nothing, and taking the lock leaves no trace.
    """
    lock = _lock_file(target)
    if os.path.exists(lock):
        return True
    if not os.path.isdir(os.path.dirname(lock)):
        return False  # no folder to lock in (filelock would create it)
    filelock = _filelock()
    return not issubclass(filelock.FileLock, filelock.UnixFileLock)


def read_whole(
    target: Path, read: Callable[[Path], _T], suspect: Callable[[_T], bool] | None = None, repair: bool = True
) -> _T:
    """``read(folder)``, which reads the files of ``target`` found in ``folder``, as of one whole version of it.

    The first attempt reads ``target`` and takes no lock. If it raises (``OSError`` or ``KdataError``),
    or ``suspect`` finds its result doubtful, a swap may have run under it: ``read`` runs once more
    holding the target's lock, so that no swap can interleave, and that result, or exception, is final.

    Holding the lock, a swap that died between its first two renames is repaired first (rule 2).
    With ``repair=False`` (a check, which changes nothing) it is left for the next writer: ``read``
    is then given the folder that holds the previous version meanwhile (``.T-old-X``, rule 3).
    """
    try:
        result = read(target)
    except (OSError, KdataError):
        pass
    else:
        if suspect is None or not suspect(result):
            return result
    with ExitStack() as stack:
        held = False
        try:
            if _lock_to_read(target):
                stack.enter_context(locked(target) if repair else _held(target))
                held = True
        except OSError:  # the lock file cannot be made (a read-only folder): no kdata writer swaps there
            pass
        if repair:
            recover(target)  # a no-op under the lock; without it, waits for a swap in flight
        return read(_whole_version(target) if held and not repair else target)


def _whole_version(target: Path) -> Path:
    """The folder that holds ``target``'s content now. Only with the target's lock held.

    ``target`` itself, or, where a swap died between its first two renames, its ``old`` folder (rule 3: at most one).
    """
    old = _leftovers(target, "old")
    return old[-1] if old and not os.path.lexists(target) else target


def staging_dir(target: Path) -> Path:
    """A new, empty folder beside ``target`` to build its replacement in."""
    path = target.with_name(f".{target.name}-new-{_token()}")
    path.mkdir(parents=True)
    return path


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's ``renameat2``, looked up once a process; None where the system lacks it (only Linux has it).

    From the symbols the process already has (``CDLL(None)``: libc is loaded in every Python on Linux), not
    through ``ctypes.util.find_library``, which runs ``ldconfig -p`` in a new process at each call.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2; False where the system lacks it."""
    import ctypes

    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result != 0:
        errno = ctypes.get_errno()
        if errno in (38, 22, 95):  # ENOSYS, EINVAL, EOPNOTSUPP: the filesystem cannot exchange
            return False
        raise OSError(errno, os.strerror(errno), str(b))
    return True


def _rename(source: Path, destination: Path) -> None:
    """``os.rename``; on Windows retried for a few seconds, since a folder with a file open in it cannot move there."""
    for delay in (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2) if sys.platform == "win32" else ():
        try:
            os.rename(source, destination)
            return
        except PermissionError:  # a reader has a file open; readers hold files for moments only
            time.sleep(delay)
    os.rename(source, destination)


def _swap_by_renames(new: Path, target: Path) -> None:
    """The fallback swap: three renames (see the module docstring). Only with the target's lock held."""
    old = target.with_name(f".{target.name}-old-{_token()}")
    _rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)  # put the previous content back now rather than leave it to a repair
        raise
    _discard(old, target)


#: The file inside every folder kdata replaces whole (dist/, schemas/, a site): which command wrote
#: the folder, and every file it wrote there. Only such a folder, or an empty one, is ever replaced,
#: and only while it holds nothing else: a command replaces only what it made.
MADE = ".kdata-made"
#: The marker's first line: ``# kdata-made: KIND``, the kind of folder (``package``, ``schemas``, ``site``).
_KIND = "# kdata-made: "
#: How many unknown entries a refusal names before "and N more".
_NAMED = 3


def _made(folder: Path) -> tuple[str, set[str]] | None:
    """The kind of folder and the files its marker lists, or None where there is no marker (or it is not a regular file)."""
    marker = folder / MADE
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        lines = marker.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    kind = lines[0].removeprefix(_KIND) if lines and lines[0].startswith(_KIND) else ""
    return kind, {line for line in lines if line and not line.startswith("#")}


def _entries(folder: Path) -> list[str]:
    """Every file, link and empty folder under ``folder``, as relative POSIX paths (links are not followed)."""
    found = []
    for root, dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            found.append((base / name).as_posix())
        if not dirs and not files and root != str(folder):
            found.append(base.as_posix() + "/")
    return sorted(found)


def foreign(target: Path, keep: tuple[str, ...] = ()) -> list[str]:
    """What in the folder ``target`` kdata did not write: entries its marker (``MADE``) does not list.

    Hidden files and empty folders count; everything counts where there is no marker. These are
    what ``check_replaceable`` refuses over, so a check that warns of them and the command that
    refuses agree (both call this).

    Args:
        target: A folder (a missing one holds nothing).
        keep: Subfolders the command carries over whole (``releases``): not foreign.

    Returns:
        Relative POSIX paths (``notes.txt``, ``sub/.hidden``, ``empty/``), sorted.
    """
    if not target.is_dir() or os.path.islink(target):
        return []
    made = _made(target)
    kept = tuple(f"{name}/" for name in keep)
    files = made[1] if made else set()
    return [e for e in _entries(target) if e != MADE and e not in files and not e.startswith(kept)]


def check_replaceable(target: Path, command: str, kind: str, keep: tuple[str, ...] = ()) -> None:
    """Refuse, in one line, to replace ``target`` unless it is missing, empty, or all made by kdata as a ``kind`` folder.

    Args:
        target: The folder a command is about to replace whole.
        command: The command that replaces it (``kdata build``), for the message.
        kind: The kind of folder the command writes (``package``, ``schemas``, ``site``): a folder
            kdata wrote as another kind (a site over a package) is refused too.
        keep: Subfolders that the command carries over into the new folder whole (``releases``).

    Raises:
        UsageError: ``target`` is a link or a file, was written as another kind, or holds anything
            kdata did not write there.
    """
    shown = str(target) or "."
    if os.path.islink(target):
        raise UsageError(f"'{shown}' is a symbolic link; {command} writes only a real folder. Pass another folder.")
    if not os.path.lexists(target):
        return
    if not target.is_dir():
        raise UsageError(f"'{shown}' is a file, not a folder; {command} writes a folder there. Pass another folder.")
    made = _made(target)
    strays = foreign(target, keep)
    if made is not None and made[0] != kind:
        raise UsageError(
            f"'{shown}' is a {made[0] or 'different'} folder written by kdata, not a {kind} folder; "
            f"{command} would replace it. Pass another folder."
        )
    if strays and made is None:
        raise UsageError(
            f"'{shown}' is not empty and was not written by kdata (no {MADE} file in it); {command} replaces only a "
            "folder it made. Pass a new or empty folder, or move that folder away first."
        )
    if strays:
        more = f" and {len(strays) - _NAMED} more" if len(strays) > _NAMED else ""
        raise UsageError(
            f"'{shown}' holds files that kdata did not write: {', '.join(strays[:_NAMED])}{more}; {command} would "
            "delete them. Move them out of that folder, then run the command again."
        )


def swap_in(new: Path, target: Path, command: str | None = None, kind: str = "", keep: tuple[str, ...] = ()) -> None:
    """Make ``new`` the folder at ``target``; the previous content is removed.

    Holds the target's lock (taking it if the caller does not hold it already): readers that
    recover never rename anything while a swap is in flight.

    Args:
        new: A complete folder beside ``target`` (see ``staging_dir``).
        target: The folder to replace; created if missing.
        command: The command writing ``target`` (``kdata build``): the folder gets its marker
            (``MADE``), and ``target`` is replaced only if ``check_replaceable`` allows it. None
            for kdata's own cache folders, which only kdata writes.
        kind: The kind of folder written (see ``check_replaceable``); with ``command`` only.
        keep: Subfolders of ``target`` the caller has copied into ``new`` (see ``check_replaceable``).

    Raises:
        UsageError: ``command`` is given and ``target`` may not be replaced; nothing was changed.
    """
    if command is not None:
        listing = "\n".join(entry for entry in _entries(new) if entry != MADE)
        header = f"{_KIND}{kind}\n# Written by `{command}`, which replaces this folder whole. The files it wrote:\n"
        atomic_write(new / MADE, (header + listing + "\n").encode("utf-8"))
    for folder in (new, *new.rglob("*")):
        if folder.is_dir():
            fsync_dir(folder)
    with locked(target):
        if command is not None:
            check_replaceable(target, command, kind, keep)
        if not target.exists():
            os.rename(new, target)
        elif _exchange(new, target):
            shutil.rmtree(new)  # `new` now holds the previous content
        else:
            _swap_by_renames(new, target)
        fsync_dir(target.parent)


#: What ``read_regular`` calls each kind of file that is not a regular one, by ``stat.S_IFMT``.
_FILE_KINDS: dict[int, str] = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFLNK: "a symlink",
}


class NotRegularFile(OSError):
    """A path names a symlink, folder, pipe, socket or device where a regular file belongs."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(f"'{os.fspath(path)}' is {kind}, not a regular file")
        self.kind = kind


class FileTooLarge(OSError):
    """A regular file is larger than its reader's limit."""

    def __init__(self, path: str | os.PathLike[str], size: int, limit: int) -> None:
        super().__init__(f"'{os.fspath(path)}' has {size} bytes; the limit is {limit}")
        self.size, self.limit = size, limit


#: Bytes asked for by each read of a file after the first (``read_regular``).
_READ_STEP = 1 << 16


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a regular file, never following a symlink and never waiting on a pipe.

    The file is opened without following a final symlink and without blocking (a FIFO opens at
    once instead of waiting for a writer), then refused unless ``fstat`` says it is a regular file:
    what is checked is what is read, with no race between a check and the open.

    Args:
        path: The file to read.
        limit: Largest size accepted, in bytes.

    Returns:
        The file's bytes.

    Raises:
        NotRegularFile: ``path`` is a symlink, folder, FIFO, socket or device.
        FileTooLarge: The file has more than ``limit`` bytes (or grew past it while read).
        OSError: The file is missing (or vanished), unreadable (permission denied), or a read failed.
    """
    if not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):  # Windows: no flag refuses a symlink at the open
        raise NotRegularFile(path, _FILE_KINDS[stat.S_IFLNK])
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        # A symlink (O_NOFOLLOW's ELOOP, EMLINK on some BSDs) or a socket (ENXIO) cannot be opened so:
        # say what it is rather than the system's words.
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            raise exc from None
        if stat.S_ISREG(mode):
            raise exc from None
        raise NotRegularFile(path, _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(path, _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file"))
        if info.st_size > limit:
            raise FileTooLarge(path, info.st_size, limit)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb", buffering=0) as handle:
        chunks, total = [], 0
        # The first read asks for the file's size and one byte more (to see it grew), the next ones for a step at
        # a time: Python allocates all that a read asks for, so asking for ``limit`` bytes made every text of a
        # few KB cost a 16 MB allocation.
        want = min(info.st_size + 1, limit + 1)
        while chunk := handle.read(want):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileTooLarge(path, total, limit)
            want = min(_READ_STEP, limit + 1 - total)
        return b"".join(chunks)
