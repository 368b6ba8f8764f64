"""Read a raw/ tree into records: per-file checks, then checks across records.

``load_raw`` is the one entry point: it returns every valid record and every
issue found, sorted, so a contributor sees all problems in one run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kdata.errors import Issue, UsageError
from kdata.records import models, texts, vague, yamlio
from kdata.records.dates import bounds
from kdata.records.issues import from_validation_error
from kdata.records.ledger import LISTED, Ledger
from kdata.records.listing import PACKAGE_FILE, display, jobs_default, record_names
from kdata.records.scan import (
    PARALLEL_MIN_FILES,
    Chunk,
    FileResult,
    Keep,
    ScanCache,
    ref_locations,
    scan,
)
from kdata.records.yamlio import Loc, capped, read

#: Tables whose records may name a parent of the same table (``Actor.parent``, ``Place.parent``): checked for cycles.
_TREES = tuple(table for table, model in models.RECORD_TABLES.items() if "parent" in model.model_fields)


@dataclass
class RawData:
    """Everything read from a raw/ tree."""

    root: Path
    info: models.PackageInfo | None = None
    records: dict[str, list[Any]] = field(default_factory=dict)  # table -> models (keep="records")
    parts: list[dict[str, Any]] = field(default_factory=list)  # what a Convert made of each chunk (keep=a Convert)
    results: Ledger = field(default_factory=lambda: Ledger({}, {}))  # (table, id) -> its file check
    issues: list[Issue] = field(default_factory=list)
    #: Source id -> the sha256 of each text beside it that workers anchored settled quotes in (``settle=True``).
    settled: dict[str, set[str]] = field(default_factory=dict)

    def where(self, table: str, record_id: str, loc: Loc) -> tuple[int, int]:
        """Line and column of a value in a record's file (reparsed: positions are only kept for errors)."""
        result = self.results[(table, record_id)]
        return read(result.path, result.name).pos.get(loc, (0, 0))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while records and cached results pile up.

    Everything read is kept, so the collector's full passes only grow with the
    tree and free nothing (measured: 1.6x the time of a 10,000-file scan, and
    most of the time of a 100,000-file cached run); it runs again afterwards.
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()  # what was read lives on: keep it out of the collector's passes from now on
            gc.enable()


#: A file's parsed document, and where it names each (table, id).
_Refs = tuple[yamlio.Document, dict[tuple[str, str], list[Loc]]]


def _dangling(data: RawData, result: FileResult, target: str, value: str, docs: dict[str, _Refs]) -> None:
    """Report each place where a record refers to a missing record (``docs``: files read so far, by path)."""
    if result.path not in docs:
        doc = read(result.path, result.name)
        docs[result.path] = (doc, ref_locations(result.table, doc.data))
    doc, refs = docs[result.path]
    for loc in refs.get((target, value), []):
        line, col = doc.pos.get(loc, (0, 0))
        message = f"No record in {target} has the id '{value}'."
        data.issues.append(Issue(result.name, line, col, "KD202", ".".join(map(str, loc)), message))


def _check_cycles(data: RawData, table: str) -> None:
    """Report each record whose chain of parents comes back to itself."""
    parents = {rid: r.parent for (_, rid), r in data.results.items_of(table)}
    for start in sorted(parents):
        seen, node = {start}, parents[start]
        while node is not None and node in parents and node not in seen:
            seen.add(node)
            node = parents[node]
        if node == start:
            file = data.results[(table, start)].name
            line, col = data.where(table, start, ("parent",))
            message = f"Following parents from '{start}' comes back to '{start}'."
            data.issues.append(Issue(file, line, col, "KD204", "parent", message))


#: The publication date (EDTF) of the source record that holds an id, or None (missing, undated, invalid).
PublishedOf = Callable[[str], "str | None"]


def bound_problem(bound: tuple[str, tuple[tuple[int, str], ...], tuple[str, ...]], published_of: PublishedOf) -> str:
    """Why a vague date ends later than its latest citing source's year and its phrase allow (KD205), or ""."""
    end, spans, cited = bound
    published = [d for d in map(published_of, cited) if d is not None]
    if not published:
        return ""  # no citing source states its date: nothing to bound by
    latest = max(published, key=lambda d: bounds(d)[1])  # a publication date is never open
    return vague.bound_problem(end, spans, latest) or ""


def reported_problem(
    said: tuple[str, tuple[str, ...]], published_of: PublishedOf, present: Callable[[str], bool]
) -> str:
    """Why a claim made, or event begun, comes after every source that reports it was published (KD206), or ""."""
    first, cited = said
    published = [published_of(s) for s in cited if present(s)]
    days = [bounds(d)[1] for d in published if d is not None]  # a publication date is never open
    if len(days) < len(cited) or not days or first <= max(days).isoformat():
        return ""  # a source without a date could have reported it later: nothing to say
    return (
        f"The date starts on {first}, after every source that reports it was published (the latest on "
        f"{max(days).isoformat()}): no source reports what had not yet been said or done."
    )


def _check_dates(data: RawData, result: FileResult) -> None:
    """Report KD205 and KD206 for a record with a vague or a reported date, once every source has been read."""

    def published_of(source: str) -> str | None:
        held = data.results.get((texts.SOURCES, source))
        return held.published if held is not None else None

    def present(source: str) -> bool:
        return (texts.SOURCES, source) in data.results

    found = [
        ("KD205", bound_problem(result.bound, published_of) if result.bound else ""),
        ("KD206", reported_problem(result.said, published_of, present) if result.said else ""),
    ]
    for code, problem in found:
        if problem:
            line, col = read(result.path, result.name).pos.get(("date",), (0, 0))
            data.issues.append(Issue(result.name, line, col, code, "date", problem))


def load_raw(
    root: Path,
    jobs: int | None = None,
    keep: Keep = "records",
    cache: bool = False,
    quotes: bool = True,
    settle: bool = False,
) -> RawData:
    """Read and check every record under ``root``.

    Args:
        root: A raw/ folder: ``package.yaml`` plus one folder per table.
        jobs: Worker processes for large trees (default: ``KDATA_JOBS`` or one per core).
        keep: What to keep of the valid records: ``"records"`` (the models, in ``records``),
            a ``Convert`` function (the rows it makes of each chunk, in ``parts``: what the build needs, and
            complete only when there is no issue) or ``"nothing"`` (validation alone).
        cache: Reuse the results of files unchanged since the last cached run; the checks
            across records always run in full. A cached run keeps nothing, so it needs
            ``keep="nothing"``.
        quotes: Keep every record's quotes (for ``verify_quotes``); only a cached run can skip them.
        settle: Anchor each quote where its file is checked, in the text beside its source record, and keep
            only the quotes ``verify_quotes`` still has to look at (``texts.settle``): a million records'
            quotes are never held at once. Not with ``cache``.

    Returns:
        What was kept of the valid records, and every issue found, sorted.

    Raises:
        UsageError: ``root`` is not a folder, or ``cache`` asked with something to keep.
    """
    if cache and keep != "nothing":
        raise UsageError("A cached check keeps no records: call load_raw(..., cache=True) with keep='nothing'.")
    if cache and settle:
        raise UsageError("A cached check keeps every quote: call load_raw(..., cache=True) without settle.")
    with _gc_paused(), ExitStack() as stack:
        return _load_raw(root, jobs, keep, cache, quotes, settle, stack)


def _load_raw(
    root: Path, jobs: int | None, keep: Keep, cache: bool, quotes: bool, settle: bool, stack: ExitStack
) -> RawData:
    """The body of ``load_raw``, run with the garbage collector paused (``stack`` holds its scratch folder)."""
    if not root.is_dir():
        message = f"No raw data folder at '{root}'. Pass the folder that holds package.yaml and the table folders."
        raise UsageError(message)
    data = RawData(root)
    if root.is_symlink():
        message = f"raw/ may not be a symlink; '{root}' is one. Move the folder it points to here."
        data.issues.append(Issue(display(root), 0, 0, "KD011", "", message))
        return data
    # Sources first: every other record's dates are checked against its sources' as it is read.
    listed = sorted(record_names(root, data.issues), key=lambda t: t[0] != texts.SOURCES)
    stems = {table: dict.fromkeys((name[:-5] for name in names), LISTED) for table, _, names in listed}
    folders = {table: folder for table, folder, _ in listed}
    del listed  # the file names live on as the stems, once (a million files: about 100 MB)
    data.results = Ledger(folders, stems)
    files = ((table, f"{folders[table]}/{stem}.yaml") for table, names in stems.items() for stem in names)
    count = sum(map(len, stems.values()))

    def present(key: tuple[str, str]) -> bool:
        """Whether a file of the table has that name, or a record read so far gives that id."""
        return key[1] in stems.get(key[0], ()) or key in data.results

    unresolved: list[tuple[FileResult, tuple[str, str]]] = []
    workers = jobs_default() if jobs is None else jobs
    store = ScanCache(root, quotes) if cache else None
    # A large tree quotes more texts than a process keeps prepared, in one process or in many.
    shared = stack.enter_context(texts.shared_store(settle and count >= PARALLEL_MIN_FILES))
    settler = None
    if settle:
        settler = partial(texts.settle, sources=root / texts.SOURCES, rows=callable(keep), store=shared)
    if store:
        results: Iterable[FileResult] = store.scan(list(files), workers)
    else:
        results = _results(scan(files, workers, keep, settler, count), data)
    for result in results:
        if result.issues:
            data.issues.extend(result.issues)
        if result.id is None:
            continue
        key = (result.table, result.id)
        if key in data.results:
            line, col = read(result.path, result.name).pos.get(("id",), (0, 0))  # (0, 0): gone since
            message = f"The id '{result.id}' is already used by {data.results[key].name}."
            data.issues.append(Issue(result.name, line, col, "KD201", "id", message))
            continue
        # References are checked as results arrive, so they need not be kept for all files at once.
        unresolved.extend((result, ref) for ref in result.refs if not present(ref))
        result.refs = ()
        if result.bound or result.said:
            _check_dates(data, result)
            result.bound = result.said = None
        if result.record is not None:
            data.records.setdefault(result.table, []).append(result.record)
            result.record = None  # kept once, in data.records
        data.results.add(result)
    if store:
        store.save()
    docs: dict[str, _Refs] = {}  # each file parsed once, however many of its references dangle
    for result, (target, value) in unresolved:
        if not present((target, value)):
            _dangling(data, result, target, value, docs)
    for table in _TREES:
        _check_cycles(data, table)
    data.records = {table: data.records[table] for table in stems if table in data.records}
    _load_info(data)
    data.issues = _capped_per_file(data.issues)
    return data


def _capped_per_file(issues: list[Issue]) -> list[Issue]:
    """All issues, sorted, with at most ``yamlio.MAX_ISSUES`` a file: the checks across records are capped too."""
    by_file: dict[str, list[Issue]] = {}
    for issue in issues:
        by_file.setdefault(issue.file, []).append(issue)
    return sorted(
        kept
        for name, found in by_file.items()
        for kept in (found if any(i.code == "KD014" for i in found) else capped(found, name))  # capped already
    )


def _results(chunks: Iterable[Chunk], data: RawData) -> Iterator[FileResult]:
    """The file results of each chunk, keeping its tables of rows (if any) in ``data.parts``, and the texts
    its settled quotes were anchored in in ``data.settled``."""
    for chunk in chunks:
        if chunk.tables is not None:
            data.parts.append(chunk.tables)
        for source, sha256 in (chunk.texts or {}).items():
            data.settled.setdefault(source, set()).add(sha256)
        yield from chunk.results


def _load_info(data: RawData) -> None:
    path = data.root / PACKAGE_FILE
    name = display(path)
    if not os.path.lexists(path):
        data.issues.append(Issue(name, 0, 0, "KD101", "", f"The package metadata file {PACKAGE_FILE} is missing."))
        return
    doc = read(path, name)  # refuses a symlink, pipe, folder or unreadable file as it does a record's
    if doc.issues:
        data.issues.extend(doc.issues)
        return
    try:
        data.info = models.PackageInfo.model_validate(doc.data)
    except ValidationError as exc:
        data.issues.extend(from_validation_error(exc, models.PackageInfo, doc, name))
