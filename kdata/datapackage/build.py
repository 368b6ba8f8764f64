"""Build dist/ atomically, and tell whether the committed dist/ and schemas/ are fresh.

The build validates raw/, writes the whole package into a staging folder beside
``dist/`` and swaps it in, holding a lock so two builds never interleave. A
failed or killed build leaves the previous ``dist/`` as it was.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

from kdata import fs
from kdata.datapackage.rows import Chunked, TableRows, merge, spill_chunk
from kdata.datapackage.schemas import schema_files, write_schemas
from kdata.datapackage.write import table_parts, write_package
from kdata.errors import BuildError, DataError, UsageError
from kdata.records import models
from kdata.records.evidence import verify_quotes
from kdata.records.texts import SOURCES
from kdata.records.validate import load_raw

#: Folders inside dist/ that a build carries over untouched (published releases).
KEEP = ("releases",)
#: The command named in the folders a build writes (their ``fs.MADE`` marker) and in its refusals.
COMMAND = "kdata build"
#: The changelog beside raw/ whose dated entry for the version gives the descriptor's ``created``.
CHANGELOG = "CHANGELOG.md"


def created(raw: Path, version: str) -> str | None:
    """The descriptor's ``created``: the release date of ``version`` in the changelog beside ``raw``, or None.

    ``kdata release`` refuses a version without a ``## [X.Y.Z] - YYYY-MM-DD`` entry, so every
    released package has one. The date (as midnight UTC, RFC 3339) comes from the data's own
    history, never the clock: two builds of the same version write the same bytes. A version not
    yet dated (or no changelog) leaves ``created`` out.
    """
    try:
        text = fs.read_regular(raw.parent / CHANGELOG, 8 << 20).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = re.search(rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d{{2}}-\d{{2}})\b", text, re.M)
    return f"{match.group(1)}T00:00:00Z" if match else None


def _check_overlaps(raw: Path, dist: Path, schemas: Path | None) -> None:
    """Refuse output folders that would replace or sit inside raw/ or each other, in one line."""
    raw_at, dist_at = Path(raw).resolve(), dist.resolve()
    pairs = [(dist, raw_at, "the records folder")]
    if schemas is not None:
        pairs += [(schemas, raw_at, "the records folder"), (schemas, dist_at, "the package folder")]
    for out, taken, what in pairs:
        place = out.resolve()
        if place == taken or taken.is_relative_to(place) or place.is_relative_to(taken):
            raise UsageError(f"'{out}' overlaps {what}; {COMMAND} writes each folder apart. Pass another folder.")


def _outputs(dist: Path, schemas: Path | None) -> list[tuple[Path, str, tuple[str, ...]]]:
    """The folders a build replaces: each with its kind and the subfolders it keeps (see ``fs.check_replaceable``)."""
    return [(dist, "package", KEEP)] + ([(schemas, "schemas", ())] if schemas is not None else [])


def _check_places(raw: Path, dist: Path, schemas: Path | None) -> None:
    """Refuse output folders that would replace or sit inside raw/, or that hold what kdata did not write.

    Raises:
        UsageError: In one line, before anything is read or written.
    """
    _check_overlaps(raw, dist, schemas)
    for folder, kind, keep in _outputs(dist, schemas):
        fs.check_replaceable(folder, COMMAND, kind, keep)


def refusals(raw: Path, dist: Path, schemas: Path) -> list[str]:
    """Why ``kdata build`` would refuse to replace ``dist`` or ``schemas`` (the refusals it would print); empty if it would not.

    ``kdata build --check`` reports these apart from stale files: running the build does not fix them.

    Raises:
        UsageError: The folders overlap raw/ or each other.
    """
    _check_overlaps(raw, dist, schemas)
    found = []
    for folder, kind, keep in _outputs(dist, schemas):
        try:
            fs.check_replaceable(folder, COMMAND, kind, keep)
        except UsageError as exc:
            found.append(str(exc))
    return found


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: the package folder and its row counts by table."""

    dist: Path
    rows: dict[str, int]


class Valid(NamedTuple):
    """What the build keeps of a valid raw/: the package metadata and each table's rows, part by part."""

    info: models.PackageInfo
    parts: dict[str, list[Chunked]]


def validated(raw: Path, spill: Path) -> Valid:
    """Read raw/ into the package's rows; raise DataError listing every issue, if there is any.

    The worker processes write the rows into ``spill`` (``rows.spill_chunk``): the parts
    kept here only name their files. Only the metadata and the parts are kept: what else
    ``load_raw`` returns (a small check result per file) is dropped before the rows are
    gathered by table.
    """
    data = load_raw(raw, keep=partial(spill_chunk, sources=raw / SOURCES, folder=spill), settle=True)
    issues = data.issues + verify_quotes(data)  # every citation anchored, or the build stops here
    if issues:
        raise DataError(issues)
    info, chunks = data.info, data.parts
    assert info is not None, "a raw/ without issues has valid package metadata"
    del data  # frees the file results now, before the disagreement tables are made on top of them
    return Valid(info, table_parts(chunks))


def _merged(parts: dict[str, list[Chunked]]) -> Iterator[tuple[str, TableRows]]:
    """Each table's rows in turn, merged only when asked for.

    Takes each table's parts out of ``parts`` (the build's own, from ``validated``)
    as it merges them, so a table's parts are freed once it is written.
    """
    for table in models.TABLES:
        yield table, merge(table, parts.pop(table))


def build(raw: Path, dist: Path, schemas: Path | None = None) -> BuildResult:
    """Validate ``raw`` and replace ``dist`` with the freshly built package.

    Args:
        raw: The raw/ folder.
        dist: The package folder to replace.
        schemas: Where to write the generated schemas too, if given.

    Returns:
        The package folder and its row counts.

    Raises:
        DataError: raw/ holds invalid records; nothing is written.
        UsageError: ``dist`` or ``schemas`` overlaps raw/ or each other, or holds what kdata did not write.
        BuildError: The files could not be written; the message says what was left as it was.
    """
    _check_places(raw, dist, schemas)
    try:
        # Beside dist/, on its disk (not a tmpfs /tmp, in memory); a killed build's is deleted by the next build.
        with fs.scratch(dist) as spill:
            return _build(raw, dist, schemas, spill)
    except OSError as exc:  # writing the rows to the scratch folder (writing dist/ raises BuildError itself)
        reason = fs.write_error(exc)
        raise BuildError(
            f"Could not write the rows to a scratch folder beside {dist}: {reason}. The previous build is unchanged."
        ) from None


def _build(raw: Path, dist: Path, schemas: Path | None, spill: Path) -> BuildResult:
    """The body of ``build``, with ``spill`` the scratch folder for the rows."""
    info, parts = validated(raw, spill)
    state, writing = "The previous build is unchanged.", f"the package to {dist}"
    try:
        dist.parent.mkdir(parents=True, exist_ok=True)
        with fs.locked(dist):  # .dist.lock: repairs a swap that died half-way on entry
            fs.check_replaceable(dist, COMMAND, "package", KEEP)  # again, under the lock
            fs.clear_staging(dist)  # left by killed builds; ours are the only staging folders
            stage = fs.staging_dir(dist)
            try:
                counts = write_package(info, _merged(parts), stage, previous=dist, created=created(raw, info.version))
                for keep in KEEP:
                    if (dist / keep).is_dir():
                        shutil.copytree(dist / keep, stage / keep, symlinks=True)
                if schemas is not None:
                    writing = f"the schemas to {schemas}"
                    write_schemas(schemas, COMMAND)  # before dist/: a failure here leaves both as they were
                    writing = f"the package to {dist}"
                    state = f"{schemas} was rewritten (it depends only on kdata's models); {dist} is unchanged."
                fs.swap_in(stage, dist, COMMAND, "package", KEEP)
            finally:
                if stage.exists():
                    shutil.rmtree(stage, ignore_errors=True)
    except OSError as exc:
        reason = fs.write_error(exc)
        raise BuildError(f"Could not write {writing}: {reason}. {state}") from None
    return BuildResult(dist, counts)


def stale_files(raw: Path, dist: Path, schemas: Path) -> list[str]:
    """What in ``dist`` and ``schemas`` differs from a fresh build of ``raw``.

    Every file is compared byte for byte. Parquet bytes name the pyarrow version that
    wrote them; the fresh build, like a real one, keeps the Parquet files of ``dist``
    whose tables are unchanged (``write.write_table``), so a package built with
    another pyarrow is fresh when its tables are.

    Files kdata did not write are not listed here (see ``refusals``): a build would refuse over them.

    Returns:
        One line per stale, missing or unexpected file; empty when all is fresh.
    """
    import filecmp

    problems = []
    expected: set[Path] = set()
    with fs.cache_scratch() as scratch:  # not beside dist/: a check writes nothing in the project
        fresh, spill = scratch / "dist", scratch / "rows"
        fresh.mkdir()
        spill.mkdir()
        info, parts = validated(raw, spill)
        write_package(info, _merged(parts), fresh, sync=False, previous=dist, created=created(raw, info.version))
        for made in sorted(fresh.iterdir()):  # compared file by file, never all held at once
            path = dist / made.name
            expected.add(path)
            if not path.is_file():
                problems.append(f"{path} is missing")
            elif not filecmp.cmp(made, path, shallow=False):
                problems.append(f"{path} differs from a fresh build")
    for name, content in schema_files().items():
        path = schemas / name
        expected.add(path)
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif path.read_bytes() != content:
            problems.append(f"{path} differs from a fresh build")
    for folder, _, keep in _outputs(dist, schemas):
        if folder.is_dir() and not folder.is_symlink():
            strays = set(fs.foreign(folder, keep))  # reported by ``refusals``: a build would not delete them
            for path in sorted(folder.iterdir()):
                if path.is_file() and path not in expected and path.name != fs.MADE and path.name not in strays:
                    problems.append(f"{path} is not produced by the build")  # written by an earlier build: it goes
    return problems
