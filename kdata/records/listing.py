"""List a raw/ tree: its record files and its archived texts, and anything else found there, refused.

Kept free of YAML and pydantic, so a cached ``kdata validate`` that finds nothing changed never imports them.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from kdata.errors import Issue
from kdata.records import vocab
from kdata.records.chars import first_forbidden, visible

#: The file beside the tables that holds package-level metadata.
PACKAGE_FILE = "package.yaml"
#: The table of archived documents: its folder also holds each document's text, ``<id>.txt``.
SOURCES = "sources"
#: The file name ending of an archived text, ``raw/sources/<id>.txt`` beside ``<id>.yaml``.
TEXT_SUFFIX = ".txt"
#: kdata's modules outside kdata/records whose code decides what a file check finds. With every module of
#: kdata/records (a new rule module there joins by itself), they make the cache's fingerprint.
_CHECKING_CODE = ("../errors.py", "../fs.py", "../settings.py")
#: A file changed less than this long before it is stat-ed is read again by the next cached run (``settled_key``).
RACY_NS = 2_000_000_000


def code_fingerprint(here: Path) -> str:
    """sha256 of the checking code in ``here`` (kdata/records), the modules it relies on, and pydantic's version.

    pydantic's version is read from its ``version.py`` without importing it (a cached run that finds nothing
    changed imports neither pydantic nor the models).
    """
    from importlib.util import find_spec

    spec = find_spec("pydantic")
    origin = Path(spec.origin) if spec and spec.origin else None
    digest = hashlib.sha256(origin.with_name("version.py").read_bytes() if origin else b"")
    for module in (*_CHECKING_CODE, *sorted(p.name for p in here.glob("*.py"))):
        digest.update((here / module).read_bytes())
    return digest.hexdigest()


def stat_key(path: str) -> tuple[int, ...]:
    """(mtime, ctime, size, inode) of a file, as the validate cache keeps it, or () if it cannot be stat-ed or
    changed too recently to be trusted (``settled_key``)."""
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return settled_key(st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def settled_key(mtime: int, ctime: int, size: int, ino: int) -> tuple[int, ...]:
    """The key of a file stat-ed just now, or () if its mtime is less than ``RACY_NS`` old (or in the future).

    A file's clock ticks coarsely (FAT: 2 s; Linux's file systems: a few ms), so a write landing in the same
    tick as the one before it, after the file was read, would leave its stat as it was (git's "racily clean"
    files). Such a stat is not kept: the next run reads the file again, when its tick is long past. As in git,
    the mtime decides (every write sets it to the present); the ctime stays part of the key.
    """
    if time.time_ns() - mtime < RACY_NS:
        return ()
    return (mtime, ctime, size, ino)


def jobs_default() -> int:
    """Worker processes to use: ``KDATA_JOBS`` if set (1 to 64), else one per core."""
    from kdata import settings

    return settings.number("KDATA_JOBS", default=os.cpu_count() or 1)


def display(path: str | os.PathLike[str]) -> str:
    """How a file is named in messages: relative to the working directory if inside it."""
    # abspath, not resolve: a symlink is named as itself, not as its target.
    full, here = os.path.abspath(path), os.getcwd()
    name = full[len(here) + 1 :] if full.startswith(here + os.sep) else str(path)
    # A file name may hold a line break or an invisible character: never shown raw (other names, Windows
    # backslashes included, stay as they are).
    return name if first_forbidden(name, "") is None else visible(name)


class RecordFiles:
    """(table, path) of every record file in path order, kept as each table's folder and file names.

    A million files in the strings of their names: each (table, path) is made as it is read.
    """

    def __init__(self, tables: list[tuple[str, str, list[str]]]) -> None:
        # Folders ordered with their separator: each table's paths then follow the previous table's, as
        # no "<folder>/" starts another, and the names within a folder are sorted.
        self._tables = sorted(tables, key=lambda t: t[1] + "/")
        self._count = sum(len(names) for _, _, names in tables)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for table, folder, names in self._tables:
            for name in names:
                yield table, f"{folder}/{name}"

    def tables(self) -> list[tuple[str, str, list[str]]]:
        """(table, folder, file names in name order) of each table, in path order (the listing's own lists)."""
        return self._tables

    def names(self) -> Iterator[tuple[str, list[str]]]:
        """Each table's file names, in name order (the listing's own lists)."""
        return ((table, names) for table, _, names in self._tables)


class Known(Protocol):
    """What a caller remembers of the table folders it saw listed before (the validate cache)."""

    def names(self, folder: str, key: tuple[int, ...]) -> list[str] | None:
        """The names of ``folder``'s record files, in name order, if it was last listed at this stat, else None.

        A folder's stat changes whenever an entry is added, removed or renamed in it, so the same stat
        (taken long enough after the folder changed: ``settled_key``) means the same entries.
        """

    def listed(self, folder: str, key: tuple[int, ...], names: list[str]) -> None:
        """``folder``, stat-ed at ``key`` just before it was listed, holds these record files and nothing else."""


def record_files(root: Path, issues: list[Issue], known: Known | None = None) -> RecordFiles:
    """(table, path) of every record file, in path order; report anything else found in raw/ (``record_names``)."""
    return RecordFiles(record_names(root, issues, known))


def record_names(root: Path, issues: list[Issue], known: Known | None = None) -> list[tuple[str, str, list[str]]]:
    """(table, folder, file names in name order) of every table folder; report anything else found in raw/.

    A record file's path is ``f"{folder}/{name}"``. Hidden files, ``package.yaml``, README files and the
    archived texts in raw/sources/ are left alone. Symlinks are refused wherever they point, so nothing
    outside raw/ is ever read. With ``known``, a table folder whose stat is unchanged is not listed again:
    its names are the ones ``known`` kept.
    """
    tables = ", ".join(vocab.RECORD_TABLES)

    def refuse(path: Path, code: str, message: str) -> None:
        issues.append(Issue(display(path), 0, 0, code, "", message))

    files: list[tuple[str, str, list[str]]] = []
    for entry in sorted(_listing(root, refuse), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name == PACKAGE_FILE or entry.name.lower().startswith("readme"):
            continue
        if entry.is_symlink():
            refuse(Path(entry.path), "KD011", f"raw/ may not hold symlinks; '{visible(entry.name)}' is one.")
        elif not entry.is_dir():
            message = f"raw/ holds only the folders {tables} and {PACKAGE_FILE}; found '{visible(entry.name)}'."
            refuse(Path(entry.path), "KD203", message)
        elif entry.name not in vocab.RECORD_TABLES:
            refuse(Path(entry.path), "KD203", f"'{visible(entry.name)}' is not a table; expected one of {tables}.")
        else:
            key = stat_key(entry.path) if known is not None else ()  # taken before the folder is listed
            kept = known.names(entry.path, key) if known is not None and key else None
            if kept is not None:
                files.append((entry.name, entry.path, kept))
                continue
            names, seen = _record_names(Path(entry.path), refuse)
            if len(names) == seen:  # the common case: nothing but record files
                names.sort()
                files.append((entry.name, entry.path, names))
                if known is not None and key:
                    known.listed(entry.path, key, names)
                continue
            listing = _listing(Path(entry.path), refuse)  # read again, whole: the names and what else is there
            present = {item.name for item in listing}
            names = []
            for item in listing:
                name = item.name
                if name.endswith(".yaml") and not name.startswith(".") and item.is_file(follow_symlinks=False):
                    names.append(name)
                    continue
                elif entry.name == SOURCES and name.endswith(TEXT_SUFFIX) and not name.startswith("."):
                    # A link, folder or pipe where a text belongs; beside a record, its check reports it.
                    if not item.is_file(follow_symlinks=False) and name[: -len(TEXT_SUFFIX)] + ".yaml" not in present:
                        what = f"'{visible(name)}' is not one"
                        refuse(Path(item.path), "KD011", f"An archived text must be a regular file; {what}.")
                    continue  # an archived text: checked with the quotes (kdata.records.evidence)
                elif not name.startswith("."):
                    _refuse_entry(item, refuse)
            files.append((entry.name, entry.path, sorted(names)))
    return files


def _record_names(folder: Path, refuse: Callable[[Path, str, str], None]) -> tuple[list[str], int]:
    """The names of the record files in a table folder, and how many entries it holds (a KD012 issue if unreadable).

    Read as the entries come, kept to the cheapest tests (100,000 files: ~0.1 s): only the names are kept,
    never a million directory entries at once.
    """
    names: list[str] = []
    seen = 0
    try:
        # scandir: the file type comes with the directory entry, no stat per file.
        with os.scandir(folder) as entries:
            for e in entries:
                seen += 1
                if (n := e.name).endswith(".yaml") and n[0] != "." and e.is_file(follow_symlinks=False):
                    names.append(n)
    except OSError as exc:
        _unreadable(folder, exc, refuse)
        return [], 0
    return names, seen


def _listing(folder: Path, refuse: Callable[[Path, str, str], None]) -> list[os.DirEntry[str]]:
    """The entries of a folder of raw/, or none and a KD012 issue if it cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError as exc:
        _unreadable(folder, exc, refuse)
        return []


def _unreadable(folder: Path, exc: OSError, refuse: Callable[[Path, str, str], None]) -> None:
    """Report a folder of raw/ that cannot be listed (KD012)."""
    from kdata.records.yamlio import READ_ERRORS

    why = READ_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
    refuse(folder, "KD012", f"The folder cannot be read: {why}.")


def _refuse_entry(item: os.DirEntry[str], refuse: Callable[[Path, str, str], None]) -> None:
    """Report an entry of a table folder that is not a record file."""
    stem, suffix = os.path.splitext(item.name)
    if item.is_symlink() or suffix == ".yaml":  # a symlink, or a .yaml that is not a regular file
        refuse(Path(item.path), "KD011", "Record files must be regular files, not symlinks or special files.")
    else:
        fix = f" Rename it to '{stem}.yaml'." if suffix.lower() in (".yml", ".yaml") else ""
        message = f"A table folder holds only '<id>.yaml' record files; found '{visible(item.name)}'.{fix}"
        refuse(Path(item.path), "KD203", message)


def orphan_texts(root: Path) -> list[Issue]:
    """A KD203 issue for each archived text in raw/sources/ with no record file beside it."""
    folder = root / SOURCES
    if not folder.is_dir():
        return []
    names = set(os.listdir(folder))
    out = []
    for entry in sorted(names):
        stem, suffix = os.path.splitext(entry)
        if suffix != TEXT_SUFFIX or f"{stem}.yaml" in names or entry.startswith("."):
            continue
        if os.path.isfile(folder / entry) and not os.path.islink(folder / entry):
            message = (
                f"'{visible(entry)}' is the archived text of no source record; add {visible(stem)}.yaml beside it."
            )
            out.append(Issue(display(folder / entry), 0, 0, "KD203", "", message))
    return out
