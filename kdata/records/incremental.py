"""Incremental ``kdata validate``: file results and the checks across records, kept in SQLite and patched.

The cache (one SQLite database outside raw/, in WAL mode) holds each record file's result with
the stat it was made from, the ids, references and citations of every file (indexed both ways),
the members of every cycle of parents, and the final issues of each file. A run finds what
changed (stat, or git: ``kdata.records.changes``), rechecks only those files, and recomputes the
checks across records only for the files whose inputs changed:

- a changed file's own (table, id) and (table, file name): the files claiming that id (KD201) and the
  files referring to it (KD202; for a source, its citations: KD205, KD206, quotes);
- a changed archived text: its source record (KD302, KD303, KD306 ...) and the files quoting it;
- a changed parent: the members of its old and its new cycle (KD204).

A stat taken less than ``listing.RACY_NS`` (2 s) after its file's mtime is not kept, as a later write in the
same tick of the file's clock would not change it: that file is read again by the next run (``settled_key``).

Everything is written in one transaction, so a killed run leaves the cache as it was; a damaged,
foreign or stale (other checking code) cache is a cold run. When nothing changed, neither YAML nor
pydantic is imported: the stored issues are printed as they are.

An empty cache (or one whose files mostly changed) is filled in bulk: every file checked, the checks
across records done in memory (``crossstate.Fresh``, the same code as a patch), the rows written with one
statement a table and the indexes made after them, so a first cached run costs about what ``--no-cache``
does. A run lays the stored stats out beside the listing (each table folder's names and stats kept as one
value: ``_Folders``) and compares them where they are taken (``statpass``); with ``--git`` it looks up only the
files git names. Each run seals a summary of the issues and counts it leaves, which the next checks
(``_check_summary``): a row lost or a count changed is damage, never printed.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kdata.errors import Issue
from kdata.records import listing, statpass
from kdata.records.sealing import sealed, unsealed

#: How long a run waits for another run that holds the cache (seconds); then it runs without the cache.
BUSY_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB);
CREATE TABLE stats(path TEXT PRIMARY KEY, mtime INTEGER, ctime INTEGER, size INTEGER, ino INTEGER) WITHOUT ROWID;
CREATE TABLE files(path TEXT PRIMARY KEY, tbl TEXT NOT NULL, stem TEXT NOT NULL, id TEXT, data BLOB NOT NULL);
CREATE TABLE refs(tbl TEXT NOT NULL, id TEXT NOT NULL, path TEXT NOT NULL);
CREATE TABLE texts(path TEXT PRIMARY KEY, mtime INTEGER, ctime INTEGER, size INTEGER, ino INTEGER);
CREATE TABLE cycles(tbl TEXT NOT NULL, id TEXT NOT NULL, cid TEXT NOT NULL, PRIMARY KEY(tbl, id));
CREATE TABLE issues(path TEXT PRIMARY KEY, blob BLOB NOT NULL);
CREATE TABLE folders(path TEXT PRIMARY KEY, v BLOB NOT NULL);
"""
#: The indexes of the cross-record lookups: dropped before the cache is filled in bulk, made again after.
_INDEXES = {
    "files_id": "files(tbl, id)",
    "files_stem": "files(tbl, stem)",
    "refs_target": "refs(tbl, id)",
    "refs_path": "refs(path)",
    "cycles_cid": "cycles(tbl, cid)",
}
_DATA = ("stats", "files", "refs", "texts", "cycles", "issues", "folders")
#: What reading a damaged cache raises: SQLite's refusals (a broken page, rows that disagree), text that is not
#: UTF-8, a value whose checksum does not match (``sealing``), or not of the shape written. The ids and paths
#: kept for lookups (``files``, ``refs``, ``cycles``) carry no checksum: damage there that still reads as an id
#: or a path is not seen (``--no-cache``, or deleting the cache, helps).
DAMAGE = (sqlite3.DatabaseError, ValueError, EOFError, TypeError, IndexError, KeyError)
#: SQLite's page cache of a run filling the cache, per database (negative: KiB; SQLite's default is 2,000 KiB).
FILL_CACHE_KIB = -256
#: How many times smaller the chunks of a run filling the cache are than a ``--no-cache`` run's: each result carries
#: every quote and its packed rows, and with chunks half the size the run's processes hold no more than a
#: ``--no-cache`` run's at once (measured: all processes at 10,000 records 70-71 MB against 72-74 MB; with chunks
#: of the same size, 75-76 MB).
FILL_SMALLER = 2
#: Above this share of the tree's files changed, the cache is emptied and filled again in bulk.
REFILL_SHARE = 0.6
#: With ``--git``, the files git names are looked up one by one when they are at most this many plus a share
#: (1 / LOOKUP_SHARE) of the tree; more, and one pass over the listing and the cache is cheaper.
MAX_LOOKUPS = 64
LOOKUP_SHARE = 8
#: The largest value kept for a folder (its names and stats; SQLite refuses values over 10**9 bytes): a larger
#: folder's stats are read from their rows, and the folder listed.
MAX_FOLDER_BYTES = 256 * 2**20
#: A file's stat as the cache compares it; () for a file that cannot be stat-ed (always rechecked).
Key = tuple[int, ...]


class Files(Protocol):
    """(table, path) of record files in path order, and their count (``listing.RecordFiles``, or a list)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[tuple[str, str]]: ...


@dataclass
class Checked:
    """What an incremental check found: every issue, sorted, and the number of records per table."""

    issues: list[Issue]
    counts: dict[str, int] = field(default_factory=dict)
    rechecked: int = 0  # files read and validated afresh


def cache_file(root: Path) -> Path:
    """Where the cache of a raw/ folder lives (file names in issues depend on it and on the working directory)."""
    from kdata.fs import cache_dir

    where = f"{Path(root).resolve()}\0{os.getcwd()}"
    return cache_dir() / "validate" / f"{hashlib.sha256(where.encode()).hexdigest()[:24]}.sqlite"


def _connect(file: Path, fingerprint: str) -> sqlite3.Connection:
    """The cache, locked for this run, emptied if made by other checking code; in memory if it cannot be used."""
    try:
        if os.path.islink(file) or (os.path.lexists(file) and not os.path.isfile(file)):
            raise sqlite3.OperationalError("not a regular file")  # a FIFO, folder or link: never opened
        file.parent.mkdir(parents=True, exist_ok=True)
        return _prepared(sqlite3.connect(file, timeout=BUSY_SECONDS, isolation_level=None), fingerprint)
    except sqlite3.OperationalError as exc:  # held by another run past BUSY_SECONDS, or not a file: no cache
        if "locked" not in str(exc) and "busy" not in str(exc) and "not a regular file" not in str(exc):
            return _renewed(file, fingerprint)
    except sqlite3.DatabaseError:
        return _renewed(file, fingerprint)
    except OSError:
        pass
    return _prepared(sqlite3.connect(":memory:", isolation_level=None), fingerprint)


def _renewed(file: Path, fingerprint: str) -> sqlite3.Connection:
    """A damaged cache replaced by an empty one (a cold run), or one in memory if that fails."""
    try:
        if os.path.isfile(file) and not os.path.islink(file):  # damaged: start again
            for stale in (file, Path(f"{file}-wal"), Path(f"{file}-shm")):
                stale.unlink(missing_ok=True)
            return _prepared(sqlite3.connect(file, timeout=BUSY_SECONDS, isolation_level=None), fingerprint)
    except (sqlite3.DatabaseError, OSError):
        pass
    return _prepared(sqlite3.connect(":memory:", isolation_level=None), fingerprint)


def _prepared(db: sqlite3.Connection, fingerprint: str) -> sqlite3.Connection:
    """The cache in a write transaction; its tables made afresh if it was made by other checking code."""
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL: a power cut may lose the last run, never corrupt the cache
    db.execute("BEGIN IMMEDIATE")  # one writer at a time: a second run waits, then sees what the first wrote
    try:
        stored = db.execute("SELECT v FROM meta WHERE k = 'fingerprint'").fetchone()
    except sqlite3.OperationalError:  # no such table: a new cache
        stored = None
    if stored is None or stored[0] != fingerprint:  # other code may have made other tables: all made again
        names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        for (name,) in names.fetchall():
            db.execute(f'DROP TABLE "{name}"')
        for statement in filter(str.strip, _SCHEMA.split(";")):
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
    return db


def _load_issues(blob: bytes) -> list[Issue]:
    return [Issue(*i) for i in unsealed(blob)]


def _dump_issues(issues: Iterable[Issue]) -> bytes:
    return sealed(tuple((i.file, i.line, i.col, i.code, i.field, i.message) for i in issues))


def check_tree(root: Path, jobs: int | None = None, git: bool = False) -> Checked:
    """Check a raw/ tree, reusing the cache for every file whose stat is unchanged.

    Reports exactly what ``load_raw`` and ``verify_quotes`` report together (texts beside their records).
    With ``git``, only the files git names as possibly changed since the cache was made are stat-ed
    (``kdata.records.gitchanges``); where git cannot tell, every file is.
    """
    if root.is_symlink() or not root.is_dir():  # refused (or an error) before anything is listed
        from kdata.records.validate import load_raw

        return Checked(load_raw(root, keep="nothing").issues)
    import gc

    enabled = gc.isenabled()
    gc.disable()  # everything read lives until the end: the collector's passes would free nothing
    try:
        try:
            return _check_tree(root, jobs, git)
        except DAMAGE:  # the cache is damaged where only reading it shows: a cold run on a new one
            return _check_tree(root, jobs, git, damaged=True)
    finally:
        if enabled:
            gc.enable()


def _check_tree(root: Path, jobs: int | None, git: bool, damaged: bool = False) -> Checked:
    """The body of ``check_tree``, run with the garbage collector paused; ``damaged``: replace the cache first."""
    listed: list[Issue] = []
    here = Path(__file__).parent
    db = (_renewed if damaged else _connect)(cache_file(root), listing.code_fingerprint(here))
    try:
        before = _summary(db)
        _check_summary(db, before)
        folders = _Folders(db)
        files = listing.record_files(root, listed, folders)
        texts = _texts(root)
        seen, candidates = _git_changes(db, root) if git else (None, None)
        changed, keys, deleted, kept, final = _compare(db, files, candidates, folders, jobs)
        bulk = bool(changed) and (not kept or len(changed) > REFILL_SHARE * len(files))
        dirty = {path.rpartition("/")[0] for path in (*(p for _, p in changed), *deleted)}
        if bulk and (kept or deleted):  # most files changed: the cache emptied and filled again in bulk
            for table in _DATA:
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE k LIKE 'count:%'")
        if bulk:  # every file stat-ed again where it is read (``_fill``)
            changed, deleted, final = files, [], None
            keys.clear()
        stored_texts = {row[0]: row[1:] for row in db.execute("SELECT path, mtime, ctime, size, ino FROM texts")}
        text_keys: dict[str, Key] = {}
        touched = []
        for path in texts:
            old = stored_texts.pop(path, None)
            if candidates is not None and old is not None and path not in candidates:
                continue  # git: the text the cache was made from
            text_keys[path] = key = listing.stat_key(path)
            if old != key or not key:
                touched.append(path)
        touched += stored_texts  # deleted since
        package = root / listing.PACKAGE_FILE
        package_stat = listing.stat_key(str(package)) if os.path.lexists(package) else None
        package_key = marshal.dumps(package_stat)  # compared as bytes: sealed with the package file's issues
        stored_package = db.execute("SELECT v FROM meta WHERE k = 'package'").fetchone()
        result = Checked([], rechecked=len(changed))
        if bulk:
            _fill(db, root, files, jobs)
            final, dirty = _laid_out(db, files), {folder for _, folder, _ in files.tables()}
        elif changed or deleted or touched:
            _update(db, changed, keys, deleted, touched, jobs)
        if changed or deleted or touched:
            db.executemany("DELETE FROM texts WHERE path = ?", ((p,) for p in touched))
            db.executemany("INSERT INTO texts VALUES (?, ?, ?, ?, ?)", _text_rows(touched, text_keys))
            if seen is None:  # the cache moved on without git: its base no longer says what it holds
                db.execute("DELETE FROM meta WHERE k = 'git'")
        if seen is not None:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('git', ?)", (sealed((seen.base, seen.dirty)),))
        unsettled = package_stat == ()  # not stat-ed, or changed just now: read again
        if unsettled or stored_package is None or unsealed(stored_package[0])[0] != package_key:
            package_issues = _package_issues(root)
            row = sealed((package_key, _dump_issues(package_issues)))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('package', ?)", (row,))
        else:
            package_issues = _load_issues(unsealed(stored_package[0])[1])
        after = _summary(db, result.issues)
        if after != before:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('summary', ?)", (sealed(after),))
        result.counts = {table.removeprefix("count:"): n for table, n in after[2].items() if n > 0}
        folders.save(files, final, dirty)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            with suppress(sqlite3.DatabaseError):  # a damaged cache may refuse even this: it is replaced
                db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    result.issues.extend(listed)
    result.issues.extend(listing.orphan_texts(root))
    result.issues.extend(package_issues)
    result.issues.sort()
    return result


def _summary(db: sqlite3.Connection, into: list[Issue] | None = None) -> tuple[int, int, dict[str, Any]]:
    """The issues rows (how many, and the XOR of the CRC-32 of each path with its value) and the records counted
    by table: what a run leaves, sealed in ``meta`` (``_check_summary``). The issues read go ``into`` a list."""
    rows, digest = 0, 0
    for path, blob in db.execute("SELECT path, blob FROM issues"):
        rows += 1
        digest ^= zlib.crc32(blob, zlib.crc32(f"{path}\0".encode("utf-8", "surrogatepass")))  # a damaged path too
        if into is not None:
            into.extend(_load_issues(blob))
    return rows, digest, dict(db.execute("SELECT k, v FROM meta WHERE k LIKE 'count:%'").fetchall())


def _check_summary(db: sqlite3.Connection, found: tuple[int, int, dict[str, Any]]) -> None:
    """Raise ValueError (damage) unless the issues rows and counts are the ones the last run left: a row lost or
    a count changed still reads as a value, and the run would print them."""
    kept = db.execute("SELECT v FROM meta WHERE k = 'summary'").fetchone()
    if kept is None:  # a new cache, or one whose summary went missing
        if found != (0, 0, {}) or db.execute("SELECT 1 FROM stats LIMIT 1").fetchone() is not None:
            raise ValueError("the cache's summary is missing")
    elif tuple(unsealed(kept[0])) != found:
        raise ValueError("the cache's issues or counts are not the ones its last run left")


class _Folders:
    """The table folders' names and stats kept in the cache (``listing.Known``), one value a folder, written in the
    transaction that writes the stats' rows (``stats`` holds the same stats, a row a file, for lookups by path). A
    folder whose stat is the one kept holds the same entries as when it was last listed, so its names and its files'
    stats come from that value in one read; a folder listed again takes its files' earlier stats from it by name. A
    run that does not lay the stats out (git's few files looked up) keeps the names alone, and the next run reads
    the stats from their rows. Each value carries a checksum (``sealing``): damage is a cold run, never a file
    lost."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.keys: dict[str, Key] = {}  # the settled stat of each folder listed whole or recalled this run
        self.kept: dict[str, statpass.Stored] = {}  # the stats of the files of each recalled folder
        self._read: dict[str, tuple[Key, list[str], statpass.Stored | None] | None] = {}

    def names(self, folder: str, key: tuple[int, ...]) -> list[str] | None:
        value = self._value(folder)
        if value is None or not value[0] or value[0] != key:
            return None
        _, names, kept = value
        self.keys[folder] = key
        if kept is not None:
            self.kept[folder] = kept
        return names

    def listed(self, folder: str, key: tuple[int, ...], names: list[str]) -> None:
        self.keys[folder] = key

    def before(self, folder: str) -> tuple[list[str], statpass.Stored] | None:
        """The names and stats ``folder`` held at the end of the last run that kept them, or None."""
        value = self._value(folder)
        return None if value is None or value[2] is None else (value[1], value[2])

    def _value(self, folder: str) -> tuple[Key, list[str], statpass.Stored | None] | None:
        if folder not in self._read:
            row = self.db.execute("SELECT v FROM folders WHERE path = ?", (folder,)).fetchone()
            self._read[folder] = None if row is None else _folder_value(folder, row[0])
        return self._read[folder]

    def save(self, files: listing.RecordFiles, final: statpass.Stored | None, dirty: set[str]) -> None:
        """Keep each table folder's names and stats as this run leaves them, and forget the others.

        ``final`` holds the stats of the whole listing, in its order, as the cache's rows now do; without it (git's
        few files looked up), a folder listed at a settled stat is kept with its names alone, and one left as it was
        stays as it was. ``dirty``: the folders where a file changed, came or went this run. A folder
        not listed whole at a settled stat is kept without one (``()``): never recalled, only its stats taken by name.
        """
        keep, at = set(), 0
        for _, folder, names in files.tables():
            lo, at = at, at + len(names)
            key, old = self.keys.get(folder, ()), self._read.get(folder) or ((), None, None)
            if folder not in dirty and old[:2] == (key, names) and (final is None or old[2] is not None):
                keep.add(folder)  # as it was (recalled, or listed as it was)
            elif final is not None or key:
                stats = final.parts(lo, at) if final is not None else ()
                value = sealed((key, "\0".join(names).encode("utf-8", "surrogatepass"), *stats))
                if len(value) <= MAX_FOLDER_BYTES:
                    self.db.execute("INSERT OR REPLACE INTO folders VALUES (?, ?)", (folder, value))
                    keep.add(folder)
        held = [path for (path,) in self.db.execute("SELECT path FROM folders")]
        self.db.executemany("DELETE FROM folders WHERE path = ?", ((path,) for path in held if path not in keep))


def _folder_value(folder: str, value: bytes) -> tuple[Key, list[str], statpass.Stored | None]:
    """A folder's kept stat, names and stats (None: kept without them) from its sealed value (``_Folders.save``)."""
    key, names, *stats = unsealed(value)
    kept = statpass.Stored.frombytes(*stats) if stats else None
    found = names.decode("utf-8", "surrogatepass").split("\0") if names else []
    if kept is not None and len(found) != len(kept):
        raise ValueError(f"the cache holds {len(found)} names and {len(kept)} stats for {folder}")
    return tuple(key), found, kept


def _rows(db: sqlite3.Connection, folder: str, columns: str) -> sqlite3.Cursor:
    """The cache's stats rows of the files in ``folder``, in path order: from "<folder>/" up to "<folder>0"."""
    sql = f"SELECT {columns} FROM stats WHERE path > ? AND path < ? ORDER BY path"
    return db.execute(sql, (f"{folder}/", f"{folder}0"))


def _compare(
    db: sqlite3.Connection,
    files: listing.RecordFiles,
    candidates: set[str] | None,
    folders: _Folders,
    jobs: int | None = None,
) -> tuple[Files, dict[str, Key], list[str], int, statpass.Stored | None]:
    """The files changed since the cache was made (with their stat), the files deleted, how many it holds, and
    the stats of the listing as the cache will hold them (None where the files are not laid out: ``_Folders.save``).

    The cache's stat of each listed file is laid out in listing order (``statpass.Stored``): a folder not listed
    again brings its own (``_Folders``), a listed one takes them by name from what the cache kept of it, or else
    is read beside its rows, one at a time. Then the files are
    stat-ed and compared, a large listing's second half in a forked child (``statpass.changed``). With
    ``candidates`` (git), a file the cache holds is stat-ed only if it is one of them; when they are few, only
    they are looked up (``_compare_candidates``), unless the counts show git missed a file.
    """
    few = candidates is not None and len(candidates) <= len(files) // LOOKUP_SHARE + MAX_LOOKUPS
    found = _compare_candidates(db, files, candidates) if candidates is not None and few else None
    if found is not None:
        return (*found, None)
    if db.execute("SELECT 1 FROM stats LIMIT 1").fetchone() is None:  # an empty cache: ``_fill`` stats each file
        return files, {}, [], 0, None
    stored, deleted = statpass.Stored(), _outside(db, [folder for _, folder, _ in files.tables()])
    for _, folder, names in files.tables():
        kept = folders.kept.pop(folder, None)
        if kept is not None:
            stored.extend(kept)
            continue
        before = folders.before(folder)
        if before is not None:
            _by_name(stored, folder, names, *before, deleted)
            continue
        _from_rows(stored, db, folder, names, deleted)
    held = len(stored) - stored.sizes.count(statpass.NEW)
    workers = listing.jobs_default() if jobs is None else jobs
    listed = [(folder, names) for _, folder, names in files.tables()]
    hits = statpass.changed(listed, stored, workers, candidates)
    changed, keys, deleted, held = _named(files, hits, deleted, held, stored)
    return changed, keys, deleted, held, stored


def _from_rows(
    stored: statpass.Stored, db: sqlite3.Connection, folder: str, names: list[str], deleted: list[str]
) -> None:
    """Lay out the stats the cache's rows hold of the files ``names`` of ``folder``, the listing and the rows side by
    side (both in path order): a row of no file listed is added to ``deleted``, a file without a row is NEW."""
    rows = _rows(db, folder, "path, mtime, ctime, size, ino")
    row = next(rows, None)
    for name in names:
        path = f"{folder}/{name}"
        while row is not None and row[0] < path:
            deleted.append(row[0])
            row = next(rows, None)
        if row is not None and row[0] == path:
            stored.add(*row[1:])
            row = next(rows, None)
        else:
            stored.new()
    while row is not None:
        deleted.append(row[0])
        row = next(rows, None)


def _by_name(
    stored: statpass.Stored,
    folder: str,
    names: list[str],
    old: list[str],
    kept: statpass.Stored,
    deleted: list[str],
) -> None:
    """Lay out the stats ``kept`` of the files named ``old`` for the listing ``names`` of ``folder``: a file gone
    is added to ``deleted``, a file new is ``statpass.NEW``."""
    if names == old:  # the same files (one replaced by a rename, say): the stats as they are
        stored.extend(kept)
        return
    at = {name: i for i, name in enumerate(old)}
    for name in names:
        i = at.pop(name, -1)
        if i < 0:
            stored.new()
        else:
            stored.take(kept, i)
    deleted.extend(f"{folder}/{name}" for name in at)


def _laid_out(db: sqlite3.Connection, files: listing.RecordFiles) -> statpass.Stored:
    """The stats the cache's rows hold of the listing, in its order (after a fill, whose workers stat the files)."""
    stored, deleted = statpass.Stored(), list[str]()  # no row of a file not listed: the fill wrote them all
    for _, folder, names in files.tables():
        _from_rows(stored, db, folder, names, deleted)
    return stored


def _outside(db: sqlite3.Connection, folders: list[str]) -> list[str]:
    """The paths the cache holds outside every listed table folder (a table folder gone): deleted."""
    bounds = [bound for folder in folders for bound in (f"{folder}/", f"{folder}0")]
    below, above = "SELECT path FROM stats WHERE path <= ?", "SELECT path FROM stats WHERE path >= ?"
    if not bounds:
        return [path for (path,) in db.execute("SELECT path FROM stats")]
    out = [path for (path,) in db.execute(below, (bounds[0],))]
    for low, high in zip(bounds[1::2], bounds[2::2], strict=False):  # the gaps between folders: index lookups
        out.extend(path for (path,) in db.execute(f"{above} AND path <= ?", (low, high)))
    out.extend(path for (path,) in db.execute(above, (bounds[-1],)))
    return out


def _named(
    files: listing.RecordFiles, found: list[statpass.Found], deleted: list[str], kept: int, stored: statpass.Stored
) -> tuple[Files, dict[str, Key], list[str], int]:
    """``_compare``'s answer from the indices of the changed files in the listing; ``stored`` takes their new stats."""
    changed: list[tuple[str, str]] = []
    keys: dict[str, Key] = {}
    at, settled = 0, listing.settled_key
    hits = iter(found)
    hit = next(hits, None)
    for table, folder, names in files.tables():
        while hit is not None and hit[0] < at + len(names):
            path = f"{folder}/{names[hit[0] - at]}"
            changed.append((table, path))
            keys[path] = key = settled(*hit[1]) if hit[1] is not None else ()
            stored.put(hit[0], key)
            hit = next(hits, None)
        at += len(names)
    return changed, keys, sorted(deleted), kept


def _compare_candidates(
    db: sqlite3.Connection, files: Files, candidates: set[str]
) -> tuple[Files, dict[str, Key], list[str], int] | None:
    """``_compare`` when git names the only files that may differ from the cache: only those are looked up
    and stat-ed. None if the cache and the listing do not hold as many other files (git missed a change)."""
    changed: list[tuple[str, str]] = []
    keys: dict[str, Key] = {}
    deleted: list[str] = []
    listed = {path: table for table, path in files if path in candidates}
    stored = 0
    for path in sorted(candidates):
        old = db.execute("SELECT mtime, ctime, size, ino FROM stats WHERE path = ?", (path,)).fetchone()
        stored += old is not None
        if path not in listed:
            if old is not None:
                deleted.append(path)
            continue
        key = listing.stat_key(path)
        if old != key or not key:
            changed.append((listed[path], path))
            keys[path] = key
    total = db.execute("SELECT count(*) FROM stats").fetchone()[0]
    if total - stored != len(files) - len(listed):  # a file outside git's view came or went: stat everything
        return None
    return changed, keys, deleted, total - len(deleted)


def _git_changes(db: sqlite3.Connection, root: Path) -> tuple[Any, set[str] | None]:
    """git's state of raw/ now and the files that may differ from the cache (None, None: git cannot tell)."""
    from kdata.records import gitchanges

    row = db.execute("SELECT v FROM meta WHERE k = 'git'").fetchone()
    before = gitchanges.GitState(*unsealed(row[0])) if row else None
    found = gitchanges.changes(root, before)
    return found if found is not None else (None, None)


def _texts(root: Path) -> list[str]:
    """The archived texts of raw/sources/ that could be read (regular files named ``*.txt``, not hidden)."""
    folder = root / listing.SOURCES
    try:
        with os.scandir(folder) as entries:
            return sorted(
                e.path for e in entries if e.name.endswith(listing.TEXT_SUFFIX) and not e.name.startswith(".")
            )
    except OSError:
        return []


def _text_rows(paths: list[str], keys: dict[str, Key]) -> Iterable[tuple[Any, ...]]:
    """The rows of the archived texts still there; one not stat-ed, or changed just now, is kept without a stat:
    its next run reads it again, and sees it gone if it is."""
    for path in paths:
        key = keys.get(path)
        if key is not None:
            yield (path, *(key or (None, None, None, None)))


def _package_issues(root: Path) -> list[Issue]:
    from kdata.records.validate import RawData, _load_info

    data = RawData(root)
    _load_info(data)
    return data.issues


def _update(
    db: sqlite3.Connection,
    changed: Files,
    keys: dict[str, Key],
    deleted: list[str],
    touched_texts: list[str],
    jobs: int | None,
) -> None:
    """Recheck the changed files, drop the deleted ones, and redo the checks across records they affect."""
    from kdata.records.crossstate import Stored
    from kdata.records.scan import scan

    state = Stored(db)
    for path in [p for _, p in changed] + deleted:
        state.forget(path)
    workers = listing.jobs_default() if jobs is None else jobs
    for chunk in scan(changed, workers, "nothing"):
        for r in chunk.results:
            state.store(r, keys[r.path])
    for text in touched_texts:  # raw/sources/<stem>.txt: the record beside it, and every file quoting it
        state.text_changed(text[: -len(listing.TEXT_SUFFIX)] + ".yaml")
    state.settle(_dump_issues)


def _fill(db: sqlite3.Connection, root: Path, files: listing.RecordFiles, jobs: int | None) -> None:
    """Check every file and fill the empty cache in bulk: rows written a chunk at a time with one statement a
    table, the checks across records from what ``crossstate.Fresh`` keeps, the indexes made once the rows are in.

    Each file is stat-ed where it is checked, just before it is read, and each chunk's rows are packed there
    (``crossstate.packed``): the stats of the files on their way and their results' parts are never held here.
    The quotes are anchored where their files are checked (``texts.settle``, in the workers), as ``--no-cache``
    does, and kept for the cache; the checks across records look again only at those the workers did not find.
    """
    from functools import partial

    from kdata.records import crossstate, texts
    from kdata.records.scan import PARALLEL_MIN_FILES, scan

    for name in _INDEXES:
        db.execute(f"DROP INDEX IF EXISTS {name}")
    for schema in ("main", "temp"):  # rows come in path order, indexes are made once: a small page cache is enough
        db.execute(f"PRAGMA {schema}.cache_size = {FILL_CACHE_KIB}")
    fresh = crossstate.Fresh(db, files.names())
    workers = listing.jobs_default() if jobs is None else jobs
    settled: dict[str, set[str]] = {}  # source id -> sha256 of the texts the workers anchored quotes in
    with texts.shared_store(len(files) >= PARALLEL_MIN_FILES) as store:
        settle = partial(texts.settle, sources=root / listing.SOURCES, store=store, keep=True)
        chunks = scan(
            files, workers, "nothing", settle, len(files), stat=True, pack=crossstate.packed, smaller=FILL_SMALLER
        )
        for chunk in chunks:
            for source, sha256 in (chunk.texts or {}).items():
                settled.setdefault(source, set()).add(sha256)
            assert chunk.packed is not None
            fresh.add(chunk.results, chunk.packed)
        db.executemany("INSERT INTO cycles VALUES (?, ?, ?)", fresh.settle())
        checked = fresh.issues(crossstate.Cross(fresh, store, settled))
        found = [(path, _dump_issues(issues)) for path, issues in checked if issues]
    db.executemany("INSERT INTO issues VALUES (?, ?)", found)
    counts = {table: n for table in fresh.holders.tables() if (n := sum(1 for _ in fresh.holders.held(table)))}
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", ((f"count:{t}", n) for t, n in counts.items()))
    for name, on in _INDEXES.items():
        db.execute(f"CREATE INDEX {name} ON {on}")
