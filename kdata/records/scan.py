"""Check record files one by one: in worker processes for large trees, and incrementally.

Each file is read, parsed and validated on its own (embarrassingly parallel);
what the checks across records need from it is kept in a small ``FileResult``.
``kdata validate`` keeps those results in a cache outside raw/, keyed by each
file's stat and by a fingerprint of kdata's own checking code, so a second run
only rechecks the files that changed. The checks across records always run in
full, so a cached run reports exactly what a cold run reports.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from kdata.errors import Issue
from kdata.fs import read_regular
from kdata.records import models, rules, vague
from kdata.records.chars import visible
from kdata.records.dates import parse_edtf
from kdata.records.issues import from_validation_error
from kdata.records.listing import code_fingerprint, display, stat_key
from kdata.records.yamlio import Loc, capped, read

#: Below this many files, worker processes cost more than they save.
PARALLEL_MIN_FILES = 2000
#: Largest validate cache file read (a million files' results take about 200 MB); a larger one is ignored.
MAX_CACHE_BYTES = 1 << 30


@dataclass(slots=True)
class FileResult:
    """What checking one record file found, and what the checks across records need from it.

    Kept for every file of the tree at once, so it is small: slots, shared empty
    tuples, and references without their locations (``ref_locations`` finds them
    again in the rare case one dangles); ``load_raw`` checks the references as
    results arrive and then drops them.
    """

    table: str
    path: str
    name: str
    id: str | None = None
    issues: Sequence[Issue] = ()
    refs: tuple[tuple[str, str], ...] = ()  # (target table, target id), each once
    parent: str | None = None
    sha256: str | None = None
    quotes: tuple[tuple[int, str, str, str | None], ...] = ()  # (citation index, source, quote, locator)
    record: Any = None
    published: str | None = None  # a source's publication date (EDTF)
    bound: tuple[str, tuple[tuple[int, str], ...], tuple[str, ...]] | None = None  # a vague date's end, spans, sources
    said: tuple[str, tuple[str, ...]] | None = None  # a reported date's first day, and its citing sources (KD206)
    settled: bool = False  # quotes were anchored in the worker and dropped from ``quotes`` (``texts.settle``)
    anchored: tuple[int, ...] = ()  # citation indices of quotes anchored in the worker and kept (``keep=True``)
    key: tuple[int, ...] | None = None  # the file's stat, taken just before it was read (``scan(..., stat=True)``)


def _never(fields: dict[str, Any]) -> bool:
    return False


#: Table -> whether a record's date is one its citing sources report as past: a claim was made by then,
#: an event that occurred had begun. No source reports such a date before it was published (KD206).
_REPORTED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "claims": lambda fields: True,
    "events": lambda fields: fields["status"] == "occurred",
}


@cache
def _ref_paths(model: type[BaseModel]) -> tuple[tuple[tuple[str, ...], str], ...]:
    """Where a model holds foreign keys: (path with '*' for list items, target table)."""
    paths: list[tuple[tuple[str, ...], str]] = []
    for key, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if "x-references" in extra:
            paths.append(((key,), str(extra["x-references"])))
            continue
        origin, args = get_origin(info.annotation), get_args(info.annotation)
        listed = [m.table for m in get_args(args[0])[1:] if isinstance(m, models.References)] if origin is list else []
        if listed:  # a list of ids (Claim.targets)
            paths.append(((key, "*"), listed[0]))
            continue
        for arg in args or (info.annotation,):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                prefix = (key, "*") if origin is list else (key,)
                paths.extend((prefix + sub, table) for sub, table in _ref_paths(arg))
    return tuple(paths)


def _follow(value: Any, path: tuple[str, ...], loc: Loc) -> Iterator[tuple[Loc, Any]]:
    """Values at ``path`` inside parsed YAML data, with their locations."""
    if not path:
        if value is not None:
            yield loc, value
    elif path[0] == "*":
        for i, item in enumerate(value if isinstance(value, list) else ()):
            yield from _follow(item, path[1:], loc + (i,))
    elif isinstance(value, dict) and path[0] in value:
        yield from _follow(value[path[0]], path[1:], loc + (path[0],))


def ref_locations(table: str, data: Any) -> dict[tuple[str, str], list[Loc]]:
    """Where a record's parsed data refers to each (target table, id) it names, found in one walk."""
    found: dict[tuple[str, str], list[Loc]] = {}
    for sub, into in _ref_paths(models.RECORD_TABLES[table]):
        for loc, value in _follow(data, sub, ()):
            found.setdefault((into, value), []).append(loc)
    return found


def check_file(table: str, path: str) -> FileResult:
    """Read, parse and validate one record file."""
    name = display(path)
    name = path if name == path else name  # one string, not two equal ones, per file
    doc = read(path, name)
    result = FileResult(table, path, name, issues=tuple(doc.issues))
    if doc.issues:
        return result
    model = models.RECORD_TABLES[table]
    try:
        record = model.model_validate(doc.data)
    except ValidationError as exc:
        result.issues = from_validation_error(exc, model, doc, name)
        return result
    fields = record.__dict__
    result.record, result.id = record, fields["id"]
    result.parent, result.sha256, result.published = fields.get("parent"), fields.get("sha256"), fields.get("published")
    if _REPORTED.get(result.table, _never)(fields):
        first = parse_edtf(fields["date"]).start
        if first is not None:
            result.said = (first.isoformat(), tuple(sorted({c.source for c in fields["citations"]})))
    if fields.get("date_phrase"):
        bounded = vague.horizon(fields["date_phrase"], fields["date"])
        if bounded is not None:
            result.bound = (*bounded, tuple(sorted({c.source for c in fields["citations"]})))
    result.quotes = tuple((i, c.source, c.quote, c.locator) for i, c in enumerate(fields.get("citations", ())))
    refs = {(target, value): None for sub, target in _ref_paths(model) for _, value in _follow(doc.data, sub, ())}
    result.refs = tuple(refs)
    stem = os.path.basename(path)[: -len(".yaml")]
    if result.id != stem:
        line, col = doc.pos[("id",)]
        result.issues = [
            Issue(name, line, col, "KD107", "id", f"The id '{result.id}' differs from the file name '{visible(stem)}'.")
        ]
    found = [
        Issue(name, *doc.pos.get(f.loc, (0, 0)), f.code, ".".join(map(str, f.loc)), f.message)
        for f in rules.findings(table, record)
    ]
    if found:
        result.issues = capped([*result.issues, *found], name)
    return result


#: Turns a chunk's valid records, as (table, record) pairs, into tables of rows. A later stage passes
#: one in (the build: ``kdata.datapackage.rows.chunk_tables`` with its folder of texts); it must be a
#: module-level function or a partial of one, so that worker processes can receive it.
Convert = Callable[[list[tuple[str, Any]]], dict[str, Any]]
#: What a scan keeps of each valid record besides its FileResult: the model, nothing, or what a
#: ``Convert`` makes of it (in the worker, so only rows cross between processes).
Keep = Literal["nothing", "records"] | Convert


#: Anchors the quotes of a chunk's results where they were checked, drops those that need nothing more
#: (marking their results ``settled``) and returns the sha256 of each text it anchored in, by source id
#: (``kdata.records.texts.settle``, with its folder of texts); a module-level function or a partial of one.
Settle = Callable[[list[FileResult]], dict[str, str]]
#: Packs what the caller keeps of a chunk's results into one bytes object where they were checked, and empties
#: the results of it, so that few objects cross between processes and none waits in the parent's memory
#: (``kdata.records.crossstate.packed``); a module-level function or a partial of one.
Pack = Callable[[list[FileResult]], bytes]


@dataclass
class Chunk:
    """The results of checking a run of files, and the rows of its valid records (if asked for)."""

    results: list[FileResult]
    tables: dict[str, Any] | None = None  # table -> what the Convert made of this chunk's records
    texts: dict[str, str] | None = None  # source id -> sha256 of the text its settled quotes were anchored in
    packed: bytes | None = None  # what a ``Pack`` made of the results


def _check_chunk(
    chunk: list[tuple[str, str]],
    keep: Keep,
    dump: bool,
    settle: Settle | None = None,
    stat: bool = False,
    pack: Pack | None = None,
) -> Chunk:
    """Check files; keep each valid record as a model (or its ``dump``), as rows, or not at all."""
    results = [_stated(table, path) for table, path in chunk] if stat else [check_file(t, p) for t, p in chunk]
    out = Chunk(results)
    if settle is not None:
        out.texts = settle(results)
    if callable(keep):
        out.tables = keep([(r.table, r.record) for r in results if r.record is not None])
    for result in results:
        if keep != "records":
            result.record = None
        elif dump and result.record is not None:
            result.record = result.record.model_dump()  # cheaper to send between processes than a model
    if pack is not None:
        out.packed = pack(results)
    return out


def _stated(table: str, path: str) -> FileResult:
    """``check_file`` with the file's stat taken first: a change while it is read makes the stat differ later."""
    key = stat_key(path)
    result = check_file(table, path)
    result.key = key
    return result


@cache
def _nested(model: type[BaseModel]) -> tuple[tuple[str, type[BaseModel], bool], ...]:
    """The fields of a model that hold sub-models: (name, sub-model, is a list)."""
    out = []
    for key, info in model.model_fields.items():
        for arg in get_args(info.annotation) or (info.annotation,):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                out.append((key, arg, get_origin(info.annotation) is list))
    return tuple(out)


def construct(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """A model from the dump of an instance validated before, without validating it again."""
    for key, sub, many in _nested(model):
        value = data.get(key)
        if value is not None:
            data[key] = [construct(sub, item) for item in value] if many else construct(sub, value)
    return model.model_construct(**data)


#: Chunks a parallel scan sends ahead per worker: enough to keep every worker busy while the results of
#: earlier chunks are taken in, and few enough that results never pile up (a million files' would take GBs).
AHEAD = 3


def _parallel(chunks: Iterator[list[tuple[str, str]]], jobs: int, keep: Keep, *how: Any) -> Iterator[Chunk]:
    """The chunks checked in ``jobs`` worker processes, in order (``how``: ``_check_chunk``'s last arguments)."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    models.built()  # once here, not once in every worker
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        # Not pool.map: it sends every chunk at once and holds every result until it is taken.
        pending: deque[Future[Chunk]] = deque()
        for files in chunks:
            pending.append(pool.submit(_check_chunk, files, keep, True, *how))
            if len(pending) >= jobs * AHEAD:
                yield _rebuilt(pending.popleft().result())
        while pending:
            yield _rebuilt(pending.popleft().result())


def _rebuilt(chunk: Chunk) -> Chunk:
    """A chunk checked in a worker, its records strictly validated there already: rebuilt, not checked again."""
    for result in chunk.results:
        if result.record is not None:
            result.record = construct(models.RECORD_TABLES[result.table], result.record)
    return chunk


def _chunked(files: Iterator[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    while chunk := list(islice(files, size)):
        yield chunk


def scan(
    files: Iterable[tuple[str, str]],
    jobs: int,
    keep: Keep,
    settle: Settle | None = None,
    count: int | None = None,
    stat: bool = False,
    pack: Pack | None = None,
    smaller: int = 1,
) -> Iterator[Chunk]:
    """Check every file, in ``jobs`` worker processes when there are many, a chunk of files at a time.

    ``files`` is read as the chunks are sent (``count`` is its length if it has none). With ``settle``,
    each chunk's quotes are anchored where they were checked (see ``Settle``); with ``stat``, each result
    carries its file's stat (``FileResult.key``); with ``pack``, each chunk is packed there (see ``Pack``).
    Chunks are ``smaller`` times smaller than usual where a run keeps more of each result: what a process
    holds at once grows with them.
    """
    total = len(files) if count is None else count  # type: ignore[arg-type]
    parallel = jobs > 1 and total >= PARALLEL_MIN_FILES
    most = 2000 // smaller
    size = max(50, min(most, total // (jobs * 8 * smaller))) if parallel else most
    chunks = _chunked(iter(files), size)
    if parallel:
        yield from _parallel(chunks, jobs, keep, settle, stat, pack)
    else:
        yield from (_check_chunk(chunk, keep, False, settle, stat, pack) for chunk in chunks)


def _fingerprint() -> str:
    return code_fingerprint(Path(__file__).parent)


def _encode(r: FileResult, key: tuple[int, ...]) -> tuple[Any, ...]:
    """A result as plain tuples (all marshal needs), without its quotes (kept apart)."""
    issues = tuple((i.file, i.line, i.col, i.code, i.field, i.message) for i in r.issues)
    return (key, r.table, r.name, r.id, issues, r.refs, r.parent, r.sha256, r.published, r.bound, r.said)


def _load(file: Path, fingerprint: str) -> dict[str, tuple[Any, ...]]:
    """Entries of a cache file, or none if it is missing, damaged or made by other checking code."""
    try:
        stored = marshal.loads(read_regular(file, MAX_CACHE_BYTES))  # never a FIFO's wait, nor a symlink
        if stored[0] == fingerprint and isinstance(stored[1], dict):
            return stored[1]
    except (OSError, ValueError, EOFError, TypeError, IndexError, KeyError):  # OSError: read_regular's refusals too
        pass  # no cache, or an unreadable one: check everything
    return {}


class ScanCache:
    """Results of earlier file checks, kept outside raw/ in the user's cache folder.

    Each entry is keyed by the file's path and stat (mtime, ctime, size, inode).
    The quotes, which only quote verification needs and which are most of the bytes,
    live in a second file that is read only when asked for; its entries carry
    their own stat keys, so a run without quotes never leaves them wrong.

    Stored with ``marshal``: it reads and writes 100,000 entries several times
    faster than json, and unlike pickle it cannot run code; a damaged file only
    means a cold run.
    """

    def __init__(self, root: Path, quotes: bool = True) -> None:
        from kdata.fs import cache_dir

        where = f"{Path(root).resolve()}\0{os.getcwd()}"  # file names in issues depend on both
        stem = cache_dir() / "validate" / hashlib.sha256(where.encode()).hexdigest()[:24]
        self.fingerprint = _fingerprint()
        self.files = {"results": stem.with_suffix(".marshal"), "quotes": stem.with_suffix(".quotes.marshal")}
        self.stored = {
            kind: _load(file, self.fingerprint) for kind, file in self.files.items() if quotes or kind == "results"
        }
        self.fresh: dict[str, dict[str, tuple[Any, ...]]] = {kind: {} for kind in self.stored}

    def scan(self, files: list[tuple[str, str]], jobs: int) -> list[FileResult]:
        """Results for every file: cached where the file's stat is unchanged, fresh otherwise."""
        results: list[FileResult | None] = []
        stale: list[tuple[str, str]] = []
        keys: dict[str, tuple[tuple[int, ...], int]] = {}  # stale path -> (stat key, index in results)
        entries, quotes = self.fresh["results"], self.fresh.get("quotes")
        stored, stored_quotes = self.stored["results"], self.stored.get("quotes")
        stat = os.stat
        for table, path in files:  # the hot loop of a cached run: one stat and a few lookups a file
            try:
                st = stat(path)
                key: tuple[int, ...] = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
            except OSError:  # vanished or unreadable since raw/ was listed: checked afresh, which says so
                key = ()
            entry = stored.get(path)
            kept = (key, ()) if stored_quotes is None else stored_quotes.get(path)
            if entry is None or entry[0] != key or entry[1] != table or kept is None or kept[0] != key:
                keys[path] = (key, len(results))
                stale.append((table, path))
                results.append(None)
                continue
            if quotes is not None:
                quotes[path] = kept
            issues = tuple(Issue(*i) for i in entry[4]) if entry[4] else ()
            result = FileResult(table, path, entry[2], entry[3], issues, entry[5], entry[6], entry[7], kept[1])
            result.published, result.bound, result.said = entry[8], entry[9], entry[10]
            results.append(result)
            entries[path] = entry
        for result in (r for chunk in scan(stale, jobs, "nothing") for r in chunk.results):
            key, index = keys[result.path]
            results[index], entries[result.path] = result, _encode(result, key)
            if quotes is not None:
                quotes[result.path] = (key, result.quotes)
        return [result for result in results if result is not None]  # every None was replaced above

    def save(self) -> None:
        """Write what changed, each file atomically; a cache that cannot be written only slows the next run."""
        from kdata.fs import atomic_write

        for kind, entries in self.fresh.items():
            if entries == self.stored[kind]:
                continue
            try:
                self.files[kind].parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.files[kind], marshal.dumps((self.fingerprint, entries)))
            except OSError:
                pass
