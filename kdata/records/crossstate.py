"""The checks across records of the incremental ``kdata validate``, over the cache or over results in memory.

``Cross`` computes one file's final issues (its own, then KD201, KD202, KD204, KD205, KD206 and
its quotes' and text's) from a ``Lookup``: ``Stored`` answers from the SQLite cache and tracks
what a change touches (``kdata.records.incremental`` patches the cache with it); ``Fresh``
answers from the file results of a run that fills an empty cache, so that run does no query per
file. Both give the same answers for the same files, so a filled cache and a patched one hold the
same issues.
"""

from __future__ import annotations

import marshal
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kdata.errors import Issue
from kdata.records import listing
from kdata.records.sealing import sealed, unsealed

if TYPE_CHECKING:
    from kdata.records.scan import FileResult

#: Tables whose records name a parent record of the same table (checked for cycles, KD204).
TREES = ("actors", "places")
#: (table, id) of a record.
RecordKey = tuple[str, str]
#: What the checks across records need of a file: (name, own issues, refs, parent, sha256, published, bound,
#: said, quotes), as stored in the cache.
Data = tuple[Any, ...]


#: The stat stored for a file that could not be stat-ed: it never equals a stat, so the file is always rechecked.
_NO_STAT = (None, None, None, None)
#: The file name ending of a record file.
_SUFFIX = ".yaml"


def stem(path: str) -> str:
    """The file name of a record file without ``.yaml``."""
    return path[path.rindex("/") + 1 : -len(_SUFFIX)]


def data_of(r: FileResult) -> Data:
    """What the checks across records need of a file result, as plain tuples (all marshal needs)."""
    own = tuple((i.file, i.line, i.col, i.code, i.field, i.message) for i in r.issues)
    return (r.name, own, r.refs, r.parent, r.sha256, r.published, r.bound, r.said, r.quotes)


def packed(results: list[FileResult]) -> bytes:
    """The rows a chunk's results add to the cache's stats, files, refs and anchored quotes, in one bytes object.

    A ``scan`` ``Pack``, run in the worker: the process filling the cache takes in one object a chunk, not
    every quote, issue and date as objects of their own, which it would only marshal again. The results keep
    only their table, path, id and parent (``Fresh.add``).
    """
    stats: list[tuple[Any, ...]] = []
    files: list[tuple[Any, ...]] = []
    refs: list[tuple[str, str, str]] = []
    anchored: list[tuple[str, bytes]] = []
    for r in results:
        path = r.path
        stats.append((path, *(r.key or _NO_STAT)))
        files.append((path, r.table, stem(path), r.id, sealed(data_of(r))))
        refs.extend((table, rid, path) for table, rid in r.refs)
        if r.anchored:
            anchored.append((path, marshal.dumps(r.anchored)))
        r.issues, r.refs, r.quotes, r.anchored = (), (), (), ()
        r.sha256, r.published, r.bound, r.said, r.key = None, None, None, None, None
    return marshal.dumps((stats, files, refs, anchored))


class Lookup(Protocol):
    """The state across records that ``Cross`` reads."""

    def row(self, path: str) -> tuple[str, str, str | None, Data] | None:
        """(table, stem, id, data) of a record file, or None."""

    def owner(self, key: RecordKey) -> str | None:
        """The file that holds (table, id): the first in path order of the files that give that id."""

    def present(self, table: str, rid: str) -> bool:
        """Whether a file of ``table`` gives that id or has that name."""

    def on_cycle(self, table: str, rid: str) -> bool:
        """Whether following parents from (table, id) comes back to it."""

    def anchored(self, path: str) -> tuple[int, ...]:
        """The citation indices of the file's quotes that the worker which checked it anchored (``texts.settle``)."""


def cycles(keys: Iterator[RecordKey], owner: Callable[[RecordKey], str | None], parent: Callable[[str], Any]) -> Any:
    """For each (table, id) in ``keys`` whose chain of parents comes back to it: the chain and its cycle's id.

    ``parent`` gives the parent id named by a file (the owner of a key).
    """
    for table, rid in keys:
        chain, held = [rid], owner((table, rid))
        node = parent(held) if held is not None else None
        seen = {rid}
        while node is not None and node not in seen:
            held = owner((table, node))
            if held is None:
                break
            seen.add(node)
            chain.append(node)
            node = parent(held)
        if node == rid:
            yield table, chain, min(chain)


class Holders:
    """Each table's file names, and who holds each id: the file of the first path that gives it.

    A million records in tens of megabytes: an id held by its own file (``<folder>/<id>.yaml``, the
    common case) is a flag on its table's entry for that file name; only other holders keep their path.

    Args:
        listed: Each table's file names (``<id>.yaml``) as the listing holds them: kept as the keys, not copied.
    """

    def __init__(self, listed: Iterable[tuple[str, list[str]]] = ()) -> None:
        #: table -> file name -> whether the file holds the id its name gives
        self._names: dict[str, dict[str, bool]] = {table: dict.fromkeys(names, False) for table, names in listed}
        self._folders: dict[str, str] = {}  # table -> the folder of its first file
        self._other: dict[RecordKey, str] = {}  # (table, id) -> path, where the holder is not <folder>/<id>.yaml

    def add(self, table: str, path: str, rid: str | None) -> None:
        """A file of ``table`` read, giving ``rid`` (None: no valid id)."""
        cut = path.rindex("/")
        folder, name = path[:cut], path[cut + 1 :]
        names = self._names.setdefault(table, {})
        names.setdefault(name, False)
        if rid is None:
            return
        key = (table, rid)
        held = self.owner(key)
        if held is not None and held <= path:
            return
        if held is not None:
            if self._other.pop(key, None) is None:
                names[rid + _SUFFIX] = False
        if name == rid + _SUFFIX and folder == self._folders.setdefault(table, folder):
            names[name] = True
        else:
            self._other[key] = path

    def owner(self, key: RecordKey) -> str | None:
        """The path of the file that holds ``key``, if any does."""
        found = self._other.get(key)
        if found is None and self._names.get(key[0], {}).get(key[1] + _SUFFIX):
            return f"{self._folders[key[0]]}/{key[1]}{_SUFFIX}"
        return found

    def present(self, table: str, rid: str) -> bool:
        """Whether a file of ``table`` is named ``rid`` or a record gives that id."""
        return rid + _SUFFIX in self._names.get(table, {}) or (table, rid) in self._other

    def held(self, table: str) -> Iterator[str]:
        """The ids of ``table`` that a file holds."""
        yield from (name[: -len(_SUFFIX)] for name, own in self._names.get(table, {}).items() if own)
        yield from (rid for t, rid in self._other if t == table)

    def tables(self) -> list[str]:
        """The tables a file was read of."""
        return [table for table, names in self._names.items() if names]


class Fresh:
    """The state across records of a whole tree, made while its file results are written to an empty cache.

    Each chunk of results goes to the cache as it comes; kept in memory are only what other files' checks
    read: who holds each id (``Holders``), every file name, the parents of the trees' records and the rows of
    the sources. ``issues`` then reads the files back one at a time, so the tree's quotes are never all held.
    """

    def __init__(self, db: sqlite3.Connection, listed: Iterable[tuple[str, list[str]]] = ()) -> None:
        self.db = db
        self._listed: Iterable[tuple[str, list[str]]] | None = listed
        self._holders: Holders | None = None
        self.on: set[RecordKey] = set()  # records on a cycle
        self.parents: dict[str, Any] = {}  # path of a record of a tree -> the parent it names
        self.sources: dict[str, tuple[str, str, str | None, Data]] = {}  # path -> row, for every source file
        # The file ``issues`` is at: its path, row and the citation indices its worker anchored.
        self.current: tuple[str, tuple[str, str, str | None, Data], tuple[int, ...]] | None = None
        # What the workers anchored is true of this run's texts only: kept beside the cache, never in it.
        db.execute("CREATE TEMP TABLE IF NOT EXISTS anchored(path TEXT PRIMARY KEY, at BLOB NOT NULL) WITHOUT ROWID")
        db.execute("DELETE FROM temp.anchored")

    @property
    def holders(self) -> Holders:
        """Who holds each id, made when the first results come: after the worker processes were forked, which
        then never hold a copy of it (the pages a parent writes after a fork are the children's alone)."""
        if self._holders is None:
            self._holders, self._listed = Holders(self._listed or ()), None
        return self._holders

    def add(self, results: list[FileResult], packed: bytes) -> None:
        """Write a chunk of file results to the cache (``packed``: their rows), keeping what the checks across
        records look up."""
        stats, files, refs, anchored = marshal.loads(packed)
        for r in results:
            self.holders.add(r.table, r.path, r.id)
            if r.table in TREES:
                self.parents[r.path] = r.parent
        for path, table, name, rid, data in files:
            if table == listing.SOURCES:
                self.sources[path] = (table, name, rid, unsealed(data))
        self.db.executemany("INSERT INTO stats VALUES (?, ?, ?, ?, ?)", stats)
        self.db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)", files)
        self.db.executemany("INSERT INTO refs VALUES (?, ?, ?)", refs)
        self.db.executemany("INSERT INTO temp.anchored VALUES (?, ?)", anchored)

    def settle(self) -> list[tuple[str, str, str]]:
        """Find the cycles of parents; returns the cache's rows for them: (table, id, cycle id)."""
        out: list[tuple[str, str, str]] = []
        keys = sorted((table, rid) for table in TREES for rid in self.holders.held(table))
        for table, chain, cid in cycles(iter(keys), self.holders.owner, self.parents.__getitem__):
            out.extend((table, m, cid) for m in chain)
            self.on.update((table, m) for m in chain)
        return sorted(set(out))

    def issues(self, cross: Cross) -> Iterator[tuple[str, list[Issue]]]:
        """Each file's final issues, the files read back from the cache one at a time in path order."""
        for path, table, name, rid, blob, at in self.db.execute(
            "SELECT f.path, f.tbl, f.stem, f.id, f.data, a.at FROM files f"
            " LEFT JOIN temp.anchored a ON a.path = f.path ORDER BY f.path"
        ):
            self.current = (path, (table, name, rid, unsealed(blob)), marshal.loads(at) if at is not None else ())
            yield path, cross.issues(path)
        self.current = None

    def row(self, path: str) -> tuple[str, str, str | None, Data] | None:
        if self.current is not None and self.current[0] == path:
            return self.current[1]
        if path in self.sources:
            return self.sources[path]
        row = self.db.execute("SELECT tbl, stem, id, data FROM files WHERE path = ?", (path,)).fetchone()
        return None if row is None else (row[0], row[1], row[2], unsealed(row[3]))

    def owner(self, key: RecordKey) -> str | None:
        return self.holders.owner(key)

    def present(self, table: str, rid: str) -> bool:
        return self.holders.present(table, rid)

    def on_cycle(self, table: str, rid: str) -> bool:
        return (table, rid) in self.on

    def anchored(self, path: str) -> tuple[int, ...]:
        return self.current[2] if self.current is not None and self.current[0] == path else ()


class Stored:
    """The state across records in the cache, and the files whose checks across records must be redone."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.keys: set[RecordKey] = set()  # (table, id) whose holders, presence or owner may have changed
        self.owned_before: dict[RecordKey, bool] = {}
        self.dirty: set[str] = set()  # files whose checks across records are redone
        self.old_cycles: set[RecordKey] = set()
        self.sources: set[str] = set()  # source ids whose text may have changed

    def _touch(self, key: RecordKey) -> None:
        if key not in self.keys:
            self.keys.add(key)
            self.owned_before[key] = self.owner(key) is not None
            if key[0] in TREES:
                row = self.db.execute("SELECT cid FROM cycles WHERE tbl = ? AND id = ?", key).fetchone()
                if row:
                    members = self.db.execute("SELECT id FROM cycles WHERE tbl = ? AND cid = ?", (key[0], row[0]))
                    self.old_cycles.update((key[0], m) for (m,) in members)

    def row(self, path: str) -> tuple[str, str, str | None, Data] | None:
        row = self.db.execute("SELECT tbl, stem, id, data FROM files WHERE path = ?", (path,)).fetchone()
        return None if row is None else (row[0], row[1], row[2], unsealed(row[3]))

    def owner(self, key: RecordKey) -> str | None:
        row = self.db.execute("SELECT min(path) FROM files WHERE tbl = ? AND id = ?", key).fetchone()
        return row[0] if row else None

    def present(self, table: str, rid: str) -> bool:
        by_id = "SELECT 1 FROM files WHERE tbl = ? AND id = ? LIMIT 1"  # two lookups, each on its index
        by_stem = "SELECT 1 FROM files WHERE tbl = ? AND stem = ? LIMIT 1"
        return any(self.db.execute(sql, (table, rid)).fetchone() for sql in (by_id, by_stem))

    def on_cycle(self, table: str, rid: str) -> bool:
        return self.db.execute("SELECT 1 FROM cycles WHERE tbl = ? AND id = ?", (table, rid)).fetchone() is not None

    def anchored(self, path: str) -> tuple[int, ...]:
        return ()  # a patch checks its files in this process, quotes included

    def forget(self, path: str) -> None:
        """Drop a file that changed or was deleted."""
        self.db.execute("DELETE FROM stats WHERE path = ?", (path,))
        row = self.db.execute("SELECT tbl, stem, id FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return
        table, name, rid = row
        self._touch((table, name))
        if rid is not None:
            self._touch((table, rid))
        for sql in (
            "DELETE FROM files WHERE path = ?",
            "DELETE FROM refs WHERE path = ?",
            "DELETE FROM issues WHERE path = ?",
        ):
            self.db.execute(sql, (path,))

    def store(self, r: FileResult, key: tuple[Any, ...]) -> None:
        """Keep a file checked afresh, with the stat it was checked at."""
        name = stem(r.path)
        self._touch((r.table, name))
        if r.id is not None:
            self._touch((r.table, r.id))
        self.db.execute("INSERT INTO stats VALUES (?, ?, ?, ?, ?)", (r.path, *(key or _NO_STAT)))
        data = sealed(data_of(r))
        self.db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?)", (r.path, r.table, name, r.id, data))
        self.db.executemany("INSERT INTO refs VALUES (?, ?, ?)", ((t, i, r.path) for t, i in r.refs))
        self.dirty.add(r.path)

    def text_changed(self, record: str) -> None:
        """An archived text changed: its record, and the files quoting its source, are checked again."""
        row = self.db.execute("SELECT id FROM files WHERE path = ?", (record,)).fetchone()
        if row is not None:
            self.dirty.add(record)
            if row[0] is not None:
                self.sources.add(row[0])

    def settle(self, dump: Callable[[list[Issue]], bytes]) -> None:
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
        cross = Cross(self)
        for path in sorted(self.dirty):
            found = cross.issues(path)
            db.execute("DELETE FROM issues WHERE path = ?", (path,))
            if found:
                db.execute("INSERT INTO issues VALUES (?, ?)", (path, dump(found)))

    def _parent(self, path: str) -> Any:
        return unsealed(self.db.execute("SELECT data FROM files WHERE path = ?", (path,)).fetchone()[0])[3]

    def _settle_cycles(self) -> None:
        """Find again whether each record whose chain of parents may have changed stands on a cycle."""
        nodes = {k for k in self.keys if k[0] in TREES} | self.old_cycles
        for table, rid in nodes:
            self.db.execute("DELETE FROM cycles WHERE tbl = ? AND id = ?", (table, rid))
        for table, chain, cid in list(cycles(iter(sorted(nodes)), self.owner, self._parent)):
            self.db.executemany("INSERT OR REPLACE INTO cycles VALUES (?, ?, ?)", ((table, m, cid) for m in chain))
            nodes.update((table, m) for m in chain)
        for table, rid in nodes:
            owner = self.owner((table, rid))
            if owner is not None:
                self.dirty.add(owner)


class Cross:
    """The checks across records of one file at a time, read from a ``Lookup`` (texts prepared once a run)."""

    def __init__(self, lookup: Lookup, store: Path | None = None, settled: dict[str, set[str]] | None = None) -> None:
        from kdata.records import evidence, texts, validate, yamlio

        self.lookup, self.store = lookup, store
        #: Source id -> the sha256 of each text beside it that workers anchored quotes in (``texts.settle``).
        self.settled = settled or {}
        self.evidence, self.validate, self.yamlio, self.prepared = evidence, validate, yamlio, texts.prepared
        #: Source id -> (its archived text, the text's sha256) once found valid, or None; the texts are
        #: kept prepared a bounded number at a time (``texts.prepared``): a million records quote thousands.
        self.texts: dict[str, tuple[Path, str] | None] = {}

    def _source(self, source: str) -> tuple[str, Data] | None:
        owner = self.lookup.owner((listing.SOURCES, source))
        row = self.lookup.row(owner) if owner is not None else None
        return None if row is None or owner is None else (owner, row[3])

    def published_of(self, source: str) -> str | None:
        found = self._source(source)
        return found[1][5] if found else None

    def _valid(self, source: str) -> tuple[Path, str] | None:
        """(path, sha256) of the source's archived text if it is valid: checked once a run, never prepared here."""
        if source not in self.texts:
            found = self._source(source)
            sha256: str | None = found[1][4] if found else None
            valid = found is not None and sha256 and self.evidence.text_checked(found[0], sha256)[0] is not None
            self.texts[source] = (self.evidence.text_path(found[0]), sha256) if found and sha256 and valid else None
        return self.texts[source]

    def text_of(self, source: str) -> Any:
        """The source's archived text prepared for anchoring (only when a quote needs it), or None if not valid."""
        known = self._valid(source)
        return self.prepared(*known, self.store) if known is not None else None

    def issues(self, path: str) -> list[Issue]:
        """The final issues of one file: its own and those across records, capped, then its quotes' and text's."""
        row = self.lookup.row(path)
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

            owner = self.lookup.owner((table, rid))
            if owner != path:
                line, col = where(("id",))
                held = self.lookup.row(owner) if owner else None
                other = held[3][0] if held else ""
                issues.append(Issue(name, line, col, "KD201", "id", f"The id '{rid}' is already used by {other}."))
            else:
                issues.extend(self._owned(table, rid, path, name, refs, bound, said, where))
                evidence = self._evidence(table, rid, path, name, sha256, quotes, where)
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
        missing = [(t, v) for t, v in refs if not self.lookup.present(t, v)]
        if missing:
            doc = self.yamlio.read(path, name)
            found = ref_locations(table, doc.data)
            for target, value in missing:
                for loc in found.get((target, value), []):
                    line, col = doc.pos.get(loc, (0, 0))
                    message = f"No record in {target} has the id '{value}'."
                    out.append(Issue(name, line, col, "KD202", ".".join(map(str, loc)), message))
        if table in TREES and self.lookup.on_cycle(table, rid):
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
        self,
        table: str,
        rid: str,
        path: str,
        name: str,
        sha256: str | None,
        quotes: Any,
        where: Callable[[Any], tuple[int, int]],
    ) -> list[Issue]:
        out = []
        if table == listing.SOURCES and sha256 is not None and self._valid(rid) is None:
            text, code, message = self.evidence.text_checked(path, sha256)  # what is wrong; nothing to prepare
            if text is None:
                line, col = where(("sha256",))
                out.append(Issue(name, line, col, code, "sha256", message))
        anchored = self.lookup.anchored(path)
        if anchored:  # found by the worker in the very bytes this source's record names: no issue to look for
            quotes = [q for q in quotes if q[0] not in anchored or not self._settled_in(q[1])]
        if quotes:
            out.extend(self.evidence.quote_issues(name, quotes, self.text_of, where)[1])
        return out

    def _settled_in(self, source: str) -> bool:
        """Whether a worker anchored quotes in the source's valid text (the bytes its record names)."""
        shas = self.settled.get(source, set())
        known = self._valid(source) if shas else None
        return known is not None and known[1] in shas
