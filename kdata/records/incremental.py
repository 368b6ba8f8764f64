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

Everything is written in one transaction, so a killed run leaves the cache as it was; a damaged,
foreign or stale (other checking code) cache is a cold run. When nothing changed, neither YAML nor
pydantic is imported: the stored issues are printed as they are.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdata.errors import Issue
from kdata.records import listing

if TYPE_CHECKING:
    from kdata.records.scan import FileResult

#: Tables whose records name a parent record of the same table (checked for cycles, KD204).
TREES = ("actors", "places")
#: How long a run waits for another run that holds the cache (seconds); then it runs without the cache.
BUSY_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB);
CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, tbl TEXT NOT NULL, stem TEXT NOT NULL, id TEXT,
    mtime INTEGER, ctime INTEGER, size INTEGER, ino INTEGER, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS files_id ON files(tbl, id);
CREATE INDEX IF NOT EXISTS files_stem ON files(tbl, stem);
CREATE TABLE IF NOT EXISTS refs(tbl TEXT NOT NULL, id TEXT NOT NULL, path TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS refs_target ON refs(tbl, id);
CREATE INDEX IF NOT EXISTS refs_path ON refs(path);
CREATE TABLE IF NOT EXISTS texts(path TEXT PRIMARY KEY, mtime INTEGER, ctime INTEGER, size INTEGER, ino INTEGER);
CREATE TABLE IF NOT EXISTS cycles(tbl TEXT NOT NULL, id TEXT NOT NULL, cid TEXT NOT NULL, PRIMARY KEY(tbl, id));
CREATE INDEX IF NOT EXISTS cycles_cid ON cycles(tbl, cid);
CREATE TABLE IF NOT EXISTS issues(path TEXT PRIMARY KEY, blob BLOB NOT NULL);
"""
_TABLES = ("meta", "files", "refs", "texts", "cycles", "issues")
#: A file's stat as the cache compares it; () for a file that cannot be stat-ed (always rechecked).
Key = tuple[int, ...]


@dataclass
class Checked:
    """What an incremental check found: every issue, sorted, and the number of records per table."""

    issues: list[Issue]
    counts: dict[str, int] = field(default_factory=dict)
    rechecked: int = 0  # files read and validated afresh


def stat_key(path: str) -> Key:
    """(mtime, ctime, size, inode) of a file, or () if it cannot be stat-ed."""
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


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
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL: a power cut may lose the last run, never corrupt the cache
    db.executescript(_SCHEMA)  # (executescript commits first: run before the transaction)
    db.execute("BEGIN IMMEDIATE")  # one writer at a time: a second run waits, then sees what the first wrote
    stored = db.execute("SELECT v FROM meta WHERE k = 'fingerprint'").fetchone()
    if stored is None or stored[0] != fingerprint:
        for table in _TABLES:
            db.execute(f"DELETE FROM {table}")
        db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
    return db


def _load_issues(blob: bytes) -> list[Issue]:
    return [Issue(*i) for i in marshal.loads(blob)]


def _dump_issues(issues: Iterable[Issue]) -> bytes:
    return marshal.dumps(tuple((i.file, i.line, i.col, i.code, i.field, i.message) for i in issues))


def check_tree(root: Path, jobs: int | None = None, git: bool = False) -> Checked:
    """Check a raw/ tree, reusing the cache for every file whose stat is unchanged.

    Reports exactly what ``load_raw`` and ``verify_quotes`` report together (texts beside their records).
    With ``git``, only the files git names as possibly changed since the cache was made are stat-ed
    (``kdata.records.gitchanges``); where git cannot tell, every file is.
    """
    if root.is_symlink() or not root.is_dir():  # refused (or an error) before anything is listed
        from kdata.records.validate import load_raw

        return Checked(load_raw(root, keep="nothing").issues)
    listed: list[Issue] = []
    files = listing.record_files(root, listed)
    texts = _texts(root)
    here = Path(__file__).parent
    db = _connect(cache_file(root), listing.code_fingerprint(here))
    try:
        seen, candidates = _git_changes(db, root) if git else (None, None)
        stored = {row[0]: row[1:] for row in db.execute("SELECT path, mtime, ctime, size, ino FROM files")}
        changed: list[tuple[str, str]] = []
        keys: dict[str, Key] = {}
        for table, path in files:  # the hot loop: one stat and one lookup a file
            old = stored.pop(path, None)
            if candidates is not None and old is not None and path not in candidates:
                continue  # git: the content the cache was made from
            key = stat_key(path)
            if old != key or not key:
                changed.append((table, path))
                keys[path] = key
        deleted = list(stored)
        stored_texts = {row[0]: row[1:] for row in db.execute("SELECT path, mtime, ctime, size, ino FROM texts")}
        text_keys: dict[str, Key] = {}
        touched = []
        for path in texts:
            old = stored_texts.pop(path, None)
            if candidates is not None and old is not None and path not in candidates:
                continue  # git: the text the cache was made from
            text_keys[path] = key = stat_key(path)
            if old != key or not key:
                touched.append(path)
        touched += stored_texts  # deleted since
        package = root / listing.PACKAGE_FILE
        package_key = marshal.dumps(stat_key(str(package)) if os.path.lexists(package) else None)
        stored_package = db.execute("SELECT v FROM meta WHERE k = 'package'").fetchone()
        result = Checked([], rechecked=len(changed))
        if changed or deleted or touched:
            _update(db, changed, keys, deleted, touched, jobs)
            db.executemany("DELETE FROM texts WHERE path = ?", ((p,) for p in touched))
            db.executemany("INSERT INTO texts VALUES (?, ?, ?, ?, ?)", _text_rows(touched, text_keys))
            if seen is None:  # the cache moved on without git: its base no longer says what it holds
                db.execute("DELETE FROM meta WHERE k = 'git'")
        if seen is not None:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('git', ?)", (marshal.dumps((seen.base, seen.dirty)),))
        if stored_package is None or marshal.loads(stored_package[0])[0] != package_key:
            package_issues = _package_issues(root)
            row = marshal.dumps((package_key, _dump_issues(package_issues)))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('package', ?)", (row,))
        else:
            package_issues = _load_issues(marshal.loads(stored_package[0])[1])
        for (blob,) in db.execute("SELECT blob FROM issues"):
            result.issues.extend(_load_issues(blob))
        counts = db.execute("SELECT k, v FROM meta WHERE k LIKE 'count:%' AND v > 0")
        result.counts = {k.removeprefix("count:"): v for k, v in counts}
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    result.issues.extend(listed)
    result.issues.extend(listing.orphan_texts(root))
    result.issues.extend(package_issues)
    result.issues.sort()
    return result


def _git_changes(db: sqlite3.Connection, root: Path) -> tuple[Any, set[str] | None]:
    """git's state of raw/ now and the files that may differ from the cache (None, None: git cannot tell)."""
    from kdata.records import gitchanges

    row = db.execute("SELECT v FROM meta WHERE k = 'git'").fetchone()
    before = gitchanges.GitState(*marshal.loads(row[0])) if row else None
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
    for path in paths:
        key = keys.get(path)
        if key:
            yield (path, *key)


def _package_issues(root: Path) -> list[Issue]:
    from kdata.records.validate import RawData, _load_info

    data = RawData(root)
    _load_info(data)
    return data.issues


def _update(
    db: sqlite3.Connection,
    changed: list[tuple[str, str]],
    keys: dict[str, Key],
    deleted: list[str],
    touched_texts: list[str],
    jobs: int | None,
) -> None:
    """Recheck the changed files, drop the deleted ones, and redo the checks across records they affect."""
    from kdata.records.scan import jobs_default, scan

    state = _State(db)
    for path in [p for _, p in changed] + deleted:
        state.forget(path)
    workers = jobs_default() if jobs is None else jobs
    for chunk in scan(changed, workers, "nothing"):
        for r in chunk.results:
            state.store(r, keys[r.path])
    for text in touched_texts:  # raw/sources/<stem>.txt: the record beside it, and every file quoting it
        state.text_changed(text[: -len(listing.TEXT_SUFFIX)] + ".yaml")
    state.settle()


def _stem(path: str) -> str:
    return path[path.rindex("/") + 1 : -len(".yaml")]


class _State:
    """The cross-record state in the cache, and the files whose checks across records must be redone."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.keys: set[tuple[str, str]] = set()  # (table, id) whose holders, presence or owner may have changed
        self.owned_before: dict[tuple[str, str], bool] = {}
        self.dirty: set[str] = set()  # files whose checks across records are redone
        self.old_cycles: set[tuple[str, str]] = set()
        self.sources: set[str] = set()  # source ids whose text may have changed

    def _touch(self, key: tuple[str, str]) -> None:
        if key not in self.keys:
            self.keys.add(key)
            self.owned_before[key] = self.owner(key) is not None
            if key[0] in TREES:
                row = self.db.execute("SELECT cid FROM cycles WHERE tbl = ? AND id = ?", key).fetchone()
                if row:
                    members = self.db.execute("SELECT id FROM cycles WHERE tbl = ? AND cid = ?", (key[0], row[0]))
                    self.old_cycles.update((key[0], m) for (m,) in members)

    def owner(self, key: tuple[str, str]) -> str | None:
        """The file that holds (table, id): the first in name order of the valid files that give that id."""
        row = self.db.execute("SELECT min(path) FROM files WHERE tbl = ? AND id = ?", key).fetchone()
        return row[0] if row else None

    def forget(self, path: str) -> None:
        row = self.db.execute("SELECT tbl, stem, id FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return
        table, stem, rid = row
        self._touch((table, stem))
        if rid is not None:
            self._touch((table, rid))
        for sql in (
            "DELETE FROM files WHERE path = ?",
            "DELETE FROM refs WHERE path = ?",
            "DELETE FROM issues WHERE path = ?",
        ):
            self.db.execute(sql, (path,))

    def store(self, r: FileResult, key: Key) -> None:
        stem = _stem(r.path)
        self._touch((r.table, stem))
        if r.id is not None:
            self._touch((r.table, r.id))
        own = tuple((i.file, i.line, i.col, i.code, i.field, i.message) for i in r.issues)
        data = marshal.dumps((r.name, own, r.refs, r.parent, r.sha256, r.published, r.bound, r.said, r.quotes))
        stat = key if key else (None, None, None, None)
        self.db.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (r.path, r.table, stem, r.id, *stat, data)
        )
        self.db.executemany("INSERT INTO refs VALUES (?, ?, ?)", ((t, i, r.path) for t, i in r.refs))
        self.dirty.add(r.path)

    def text_changed(self, record: str) -> None:
        row = self.db.execute("SELECT id FROM files WHERE path = ?", (record,)).fetchone()
        if row is not None:
            self.dirty.add(record)
            if row[0] is not None:
                self.sources.add(row[0])

    def settle(self) -> None:
        """Redo the checks across records of every file they may have changed for, and the counts."""
        db = self.db
        for table, rid in self.keys:
            self.dirty.update(p for (p,) in db.execute("SELECT path FROM files WHERE tbl = ? AND id = ?", (table, rid)))
            self.dirty.update(p for (p,) in db.execute("SELECT path FROM refs WHERE tbl = ? AND id = ?", (table, rid)))
            if table == listing.SOURCES:
                self.sources.add(rid)
        for source in self.sources:
            # a citation's source is a reference: the files citing a source are those referring to it
            self.dirty.update(
                p for (p,) in db.execute("SELECT path FROM refs WHERE tbl = ? AND id = ?", (listing.SOURCES, source))
            )
        self._settle_cycles()
        deltas: dict[str, int] = {}
        for key in self.keys:
            delta = (self.owner(key) is not None) - self.owned_before[key]
            deltas[key[0]] = deltas.get(key[0], 0) + delta
        for table, delta in deltas.items():
            if delta:
                db.execute(
                    "INSERT INTO meta VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v",
                    (f"count:{table}", delta),
                )
        cross = _Cross(self)
        for path in sorted(self.dirty):
            found = cross.issues(path)
            db.execute("DELETE FROM issues WHERE path = ?", (path,))
            if found:
                db.execute("INSERT INTO issues VALUES (?, ?)", (path, _dump_issues(found)))

    def parent(self, table: str, rid: str) -> str | None:
        owner = self.owner((table, rid))
        if owner is None:
            return None
        parent: str | None = marshal.loads(
            self.db.execute("SELECT data FROM files WHERE path = ?", (owner,)).fetchone()[0]
        )[3]
        return parent

    def _settle_cycles(self) -> None:
        """Find again whether each record whose chain of parents may have changed stands on a cycle."""
        nodes = {k for k in self.keys if k[0] in TREES} | self.old_cycles
        for table, rid in nodes:
            self.db.execute("DELETE FROM cycles WHERE tbl = ? AND id = ?", (table, rid))
        for table, rid in sorted(nodes):
            chain, node = [rid], self.parent(table, rid)
            seen = {rid}
            while node is not None and node not in seen and self.owner((table, node)) is not None:
                seen.add(node)
                chain.append(node)
                node = self.parent(table, node)
            if node == rid:
                cid = min(chain)
                self.db.executemany("INSERT OR REPLACE INTO cycles VALUES (?, ?, ?)", ((table, m, cid) for m in chain))
                nodes.update((table, m) for m in chain)
        for table, rid in nodes:
            owner = self.owner((table, rid))
            if owner is not None:
                self.dirty.add(owner)


class _Cross:
    """The checks across records of one file at a time, read from the cache (texts prepared once a run)."""

    def __init__(self, state: _State) -> None:
        from kdata.records import evidence, validate, yamlio

        self.state, self.db = state, state.db
        self.evidence, self.validate, self.yamlio = evidence, validate, yamlio
        self.texts: dict[str, Any] = {}

    def _row(self, path: str) -> tuple[str, str, str | None, tuple[Any, ...]] | None:
        row = self.db.execute("SELECT tbl, stem, id, data FROM files WHERE path = ?", (path,)).fetchone()
        return None if row is None else (row[0], row[1], row[2], marshal.loads(row[3]))

    def _present(self, table: str, rid: str) -> bool:
        by_id = "SELECT 1 FROM files WHERE tbl = ? AND id = ? LIMIT 1"  # two lookups, each on its index
        by_stem = "SELECT 1 FROM files WHERE tbl = ? AND stem = ? LIMIT 1"
        return any(self.db.execute(sql, (table, rid)).fetchone() for sql in (by_id, by_stem))

    def _source(self, source: str) -> tuple[str, tuple[Any, ...]] | None:
        owner = self.state.owner((listing.SOURCES, source))
        row = self._row(owner) if owner is not None else None
        return None if row is None or owner is None else (owner, row[3])

    def published_of(self, source: str) -> str | None:
        found = self._source(source)
        return found[1][5] if found else None

    def text_of(self, source: str) -> Any:
        if source not in self.texts:
            found = self._source(source)
            sha256 = found[1][4] if found else None
            self.texts[source] = self.evidence.text_state(found[0], sha256)[0] if found and sha256 else None
        return self.texts[source]

    def issues(self, path: str) -> list[Issue]:
        """The final issues of one file: its own and those across records, capped, then its quotes' and text's."""
        row = self._row(path)
        if row is None:
            return []
        table, _, rid, (name, own, refs, _, sha256, _, bound, said, quotes) = row
        issues = [Issue(*i) for i in own]
        evidence: list[Issue] = []
        if rid is not None:
            pos: dict[str, Any] = {}

            def where(loc: Any) -> tuple[int, int]:
                if "doc" not in pos:
                    pos["doc"] = self.yamlio.read(path, name)
                found: tuple[int, int] = pos["doc"].pos.get(loc, (0, 0))
                return found

            owner = self.state.owner((table, rid))
            if owner != path:
                line, col = where(("id",))
                other = self._row(owner)[3][0] if owner else ""  # type: ignore[index]
                issues.append(Issue(name, line, col, "KD201", "id", f"The id '{rid}' is already used by {other}."))
            else:
                issues.extend(self._owned(table, rid, path, name, refs, bound, said, where))
                evidence = self._evidence(table, path, name, sha256, quotes, where)
        kept = issues if any(i.code == "KD014" for i in issues) else self.yamlio.capped(issues, name)
        return kept + evidence

    def _owned(
        self,
        table: str,
        rid: str,
        path: str,
        name: str,
        refs: Any,
        bound: Any,
        said: Any,
        where: Callable[[Any], tuple[int, int]],
    ) -> list[Issue]:
        from kdata.records.scan import ref_locations

        out = []
        missing = [(t, v) for t, v in refs if not self._present(t, v)]
        if missing:
            doc = self.yamlio.read(path, name)
            found = ref_locations(table, doc.data)
            for target, value in missing:
                for loc in found.get((target, value), []):
                    line, col = doc.pos.get(loc, (0, 0))
                    message = f"No record in {target} has the id '{value}'."
                    out.append(Issue(name, line, col, "KD202", ".".join(map(str, loc)), message))
        if table in TREES and self.db.execute("SELECT 1 FROM cycles WHERE tbl = ? AND id = ?", (table, rid)).fetchone():
            line, col = where(("parent",))
            message = f"Following parents from '{rid}' comes back to '{rid}'."
            out.append(Issue(name, line, col, "KD204", "parent", message))
        present = lambda s: self._source(s) is not None  # noqa: E731
        dates = [
            ("KD205", self.validate.bound_problem(bound, self.published_of) if bound else ""),
            ("KD206", self.validate.reported_problem(said, self.published_of, present) if said else ""),
        ]
        for code, problem in dates:
            if problem:
                line, col = where(("date",))
                out.append(Issue(name, line, col, code, "date", problem))
        return out

    def _evidence(
        self, table: str, path: str, name: str, sha256: str | None, quotes: Any, where: Callable[[Any], tuple[int, int]]
    ) -> list[Issue]:
        out = []
        if table == listing.SOURCES and sha256 is not None:
            text, code, message = self.evidence.text_state(path, sha256)
            if text is None:
                line, col = where(("sha256",))
                out.append(Issue(name, line, col, code, "sha256", message))
        if quotes:
            out.extend(self.evidence.quote_issues(name, quotes, self.text_of, where)[1])
        return out
