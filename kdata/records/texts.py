"""Archived texts read where their records are checked, prepared for anchoring once per process.

The worker that checks a chunk of record files anchors the chunk's quotes here (``settle``), and
the rows made of the same chunk reuse those anchors (``take_anchors``, ``TextsBeside``). A text is
prepared (:class:`kdata.records.anchors.Archived`) once per process while it stays among the most
recently used (``PREPARED_LIMIT``), and read from disk once a run while its lstat stays the same
(``_text_at``). Quote verification over the whole tree, which reports every
issue, is :mod:`kdata.records.evidence`'s.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from kdata import fs
from kdata.fs import sha256_bytes
from kdata.records import models
from kdata.records.anchors import Anchor, Archived, locator_problem
from kdata.records.listing import TEXT_SUFFIX, display
from kdata.records.scan import FileResult

#: Largest archived text read (the archive's are 3 to 27 KB).
TEXT_LIMIT = 16 << 20
#: The table of archived documents.
SOURCES = models.table_of(models.Source)


def read_text(path: Path) -> tuple[bytes | None, str, str]:
    """The bytes of an archived text, or None with the code and sentence that say why not."""
    try:
        return fs.read_regular(path, TEXT_LIMIT), "", ""
    except fs.NotRegularFile:
        return (
            None,
            "KD011",
            f"The archived text {display(path)} must be a regular file, not a symlink, folder or special file.",
        )
    except FileNotFoundError:
        return None, "KD302", f"The archived text {display(path)} is missing; archive the document there."
    except (OSError, fs.FileTooLarge) as exc:
        return None, "KD012", f"The archived text {display(path)} cannot be read: {exc}."


#: Most code points of archived text a process keeps prepared for anchoring (about 4 bytes each). A run that
#: quotes more reads the others' preparations back from its ``shared_store``, at a few percent of the cost of
#: making them; measured on a million records (10,000 texts), 16M held a worker at 250 MB and growing, 4M at
#: 190 MB and steady, at the same speed.
PREPARED_LIMIT = 4 << 20


class _Prepared:
    """Archived texts prepared for anchoring, most recently used first, keyed by the sha256 of their bytes.

    Shared by every chunk a process turns into rows, so a text cited all over the tree is prepared
    once per process, not once per chunk. Keyed by the sha256 of the bytes read (not the bytes, which
    would hold each text twice), so a text that changed on disk is never served from an earlier preparation. Written by hand: ``functools.lru_cache`` bounds the
    number of entries, and a text's size (up to ``TEXT_LIMIT``) is what has to be bounded.
    """

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self.texts: OrderedDict[str, Archived] = OrderedDict()

    def held(self, sha256: str) -> Archived | None:
        """The prepared text of the bytes with ``sha256``, if held (then the most recently used)."""
        found = self.texts.get(sha256)
        if found is not None:
            self.texts.move_to_end(sha256)
        return found

    def get(self, raw: bytes) -> Archived:
        """The text of ``raw`` prepared for anchoring (bytes that are not UTF-8 replaced)."""
        return self.entry(raw)[0]

    def entry(self, raw: bytes, store: Path | None = None) -> tuple[Archived, str]:
        """The text of ``raw`` prepared for anchoring, and the sha256 of ``raw``.

        With ``store`` (``shared_store``), a text not held here is read from there if another
        process, or this one, prepared it before, and a text prepared here is left there.
        """
        sha256 = sha256_bytes(raw)
        found = self.held(sha256) or (_restored(store, sha256) if store is not None else None)
        if found is None:
            found = Archived(raw.decode("utf-8", errors="replace"))
            if store is not None:
                _keep(store, sha256, found)
        return self.hold(sha256, found), sha256

    def hold(self, sha256: str, found: Archived) -> Archived:
        """Hold ``found`` as the most recently used, letting the least recently used go past the limit."""
        if sha256 not in self.texts:
            self.texts[sha256] = found
            self.size += len(found.text)
            while self.size > self.limit and len(self.texts) > 1:
                self.size -= len(self.texts.popitem(last=False)[1].text)
        return found


_PREPARED = _Prepared(PREPARED_LIMIT)


def _restored(store: Path, sha256: str) -> Archived | None:
    """The text of the bytes with ``sha256`` as prepared in ``store`` by a process of this run, or None if not there."""
    try:
        return Archived.restored((store / sha256).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):  # not there yet (or cut short: never, it is renamed in)
        return None


#: Per run (its ``shared_store``): each archived text's lstat, and the sha256 of the bytes read at that lstat.
#: A chunk that quotes a text read before in this run, and not changed since, takes it held or from the store
#: without reading and hashing the file again: with a million records, each chunk quotes about 3,300 of
#: 10,000 texts, and reading and hashing them cost more than taking their preparations from the store.
_SEEN: dict[Path, dict[Path, tuple[tuple[int, ...], str]]] = {}


def _text_at(path: Path, store: Path | None) -> tuple[Archived | None, str]:
    """The archived text at ``path`` prepared, and the sha256 of its bytes; (None, "") if it cannot be read."""
    if store is None:
        raw = read_text(path)[0]
        return _PREPARED.entry(raw) if raw is not None else (None, "")
    if store not in _SEEN:  # a new run: what an earlier one saw is let go
        _SEEN.clear()
    seen = _SEEN.setdefault(store, {})
    try:
        st = os.lstat(path)  # lstat: a link put where a text was read is never taken for it
        key: tuple[int, ...] | None = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    except OSError:
        key = None
    known = seen.get(path)
    if key is not None and known is not None and known[0] == key:
        found = _PREPARED.held(known[1]) or _restored(store, known[1])
        if found is not None:
            return _PREPARED.hold(known[1], found), known[1]
    raw = read_text(path)[0]
    if raw is None:
        return None, ""
    text, sha256 = _PREPARED.entry(raw, store)
    if key is not None:
        seen[path] = (key, sha256)
    return text, sha256


def _keep(store: Path, sha256: str, found: Archived) -> None:
    """Leave a preparation in ``store`` for the other processes, whole or not at all (renamed in)."""
    part = store / f".{sha256}.{os.getpid()}"
    try:
        part.write_bytes(found.dump())
        os.replace(part, store / sha256)
    except OSError:  # a full disk only costs the others a preparation
        part.unlink(missing_ok=True)


def prepared(path: Path, sha256: str, store: Path | None = None) -> Archived | None:
    """The archived text at ``path``, whose bytes were found to have ``sha256``, prepared for anchoring.

    Kept among the texts this process holds prepared (``PREPARED_LIMIT``), so a run over a million
    records holds a bounded number; a text let go is read again (and its preparation from ``store``,
    if given). None if the file no longer has those bytes.
    """
    found = _PREPARED.held(sha256)
    if found is not None:
        return found
    raw = read_text(path)[0]
    if raw is None or sha256_bytes(raw) != sha256:
        return None
    return _PREPARED.entry(raw, store)[0]


@contextmanager
def shared_store(wanted: bool) -> Iterator[Path | None]:
    """A scratch folder in kdata's cache where the processes of one run leave the texts they prepared.

    A tree with many more sources than a process keeps prepared (``PREPARED_LIMIT``) has every chunk
    of its records quote most of them: reading a preparation back costs a few percent of making it
    (measured: 17,000 characters, 1.1 ms to prepare). None when not ``wanted``, or when the cache
    cannot be written (each process then prepares what it needs).
    """
    if not wanted:
        yield None
        return
    from kdata.errors import UsageError

    with ExitStack() as stack:
        try:
            folder: Path | None = stack.enter_context(fs.cache_scratch())
        except UsageError:
            folder = None
        try:
            yield folder
        finally:
            _SEEN.clear()  # what this run saw of its texts is never taken for a later run's


#: What ``settle`` found in the chunk it last saw, for the rows of that chunk (``take_anchors``): the folder
#: of texts, and the anchor (or None) of each (source id, quote). Taken once, by the same process, right after.
_ANCHORED: list[tuple[Path, dict[tuple[str, str], Anchor | None]]] = []


def take_anchors(folder: Path) -> dict[tuple[str, str], Anchor | None]:
    """The anchors ``settle`` just found in the texts of ``folder`` for the chunk being turned into rows; empty if none."""
    found = _ANCHORED.pop() if _ANCHORED else None
    return found[1] if found is not None and found[0] == folder else {}


class TextsBeside:
    """The archived texts of a raw/sources/ folder by source id, each read once, for anchoring quotes.

    Used where records become rows (possibly in a worker process); sha256 and every quote not found
    are reported by ``verify_quotes``, which the build runs too, so a quote without an anchor never
    reaches a written package.

    Args:
        folder: The raw/sources/ folder.
        anchored: Anchors found already by (source id, quote) (``take_anchors``); only the others are searched.
    """

    def __init__(self, folder: Path, anchored: dict[tuple[str, str], Anchor | None] | None = None) -> None:
        self.folder = folder
        self.anchored = anchored or {}
        self._texts: dict[str, Archived | None] = {}

    def anchor(self, source: str, quote: str) -> Anchor | None:
        """The anchor of ``quote`` in the text of ``source``, or None if either is missing."""
        key = (source, quote)
        if key in self.anchored:
            return self.anchored[key]
        if source not in self._texts:
            raw = read_text(self.folder / f"{source}{TEXT_SUFFIX}")[0]
            self._texts[source] = _PREPARED.get(raw) if raw is not None else None
        text = self._texts[source]
        return text.anchor(quote) if text is not None else None


def settle(
    results: list[FileResult], sources: Path, rows: bool = False, store: Path | None = None, keep: bool = False
) -> dict[str, str]:
    """Anchor a chunk's quotes where its files were checked, and drop those that need nothing more.

    Run in the worker that checked the files (``load_raw(..., settle=True)``), source by source: each
    text is read and prepared once for the chunk, its quotes anchored, and let go. A quote found in
    the text beside its source (``sources/<id>.txt``), with a locator that agrees with its anchor,
    gives no issue wherever the same bytes are its source's text: it is dropped from its result's
    ``quotes`` and the result marked ``settled``. ``verify_quotes`` relies on that only for a source
    whose checked text has the sha256 returned here; otherwise it reads the settled files' quotes again.

    Args:
        results: The chunk's file results.
        sources: The raw/sources/ folder.
        rows: Keep the anchors found for the rows of this chunk (``take_anchors``).
        store: Where the run's processes share the texts they prepared (``shared_store``), if anywhere.
        keep: Keep the settled quotes in ``quotes`` (a run filling the validate cache stores them all) and
            name them in the result's ``anchored`` (citation indices) instead.

    Returns:
        Source id -> sha256 of the text beside it that settled quotes were anchored in.
    """
    by_source: dict[str, list[tuple[int, int]]] = {}
    for n, result in enumerate(results):
        for at, quote in enumerate(result.quotes):
            by_source.setdefault(quote[1], []).append((n, at))
    anchored: dict[tuple[str, str], Anchor | None] = {}
    settled: set[tuple[int, int]] = set()
    used: dict[str, str] = {}
    for source, places in by_source.items():
        text, sha256 = _text_at(sources / f"{source}{TEXT_SUFFIX}", store)
        for n, at in places:
            _, _, words, locator = results[n].quotes[at]
            anchor = anchored[(source, words)] = text.anchor(words) if text is not None else None
            if anchor is not None and not locator_problem(locator, anchor):
                settled.add((n, at))
                used[source] = sha256
    for n, result in enumerate(results):
        if keep:
            result.anchored = tuple(quote[0] for at, quote in enumerate(result.quotes) if (n, at) in settled)
            continue
        kept = tuple(quote for at, quote in enumerate(result.quotes) if (n, at) not in settled)
        if len(kept) < len(result.quotes):
            result.quotes, result.settled = kept, True
    _ANCHORED.clear()
    if rows:
        _ANCHORED.append((sources, anchored))
    return used
