"""Build dist/ atomically, and tell whether the committed dist/ and schemas/ are fresh.

The build validates raw/, writes the whole package into a staging folder beside
``dist/`` and swaps it in, holding a lock so two builds never interleave. A
failed or killed build leaves the previous ``dist/`` as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from kdata import fs
from kdata.datapackage.read import DESCRIPTOR, read_descriptor
from kdata.datapackage.rows import Part, TableRows, chunk_tables, merge
from kdata.datapackage.schemas import schema_files, write_schemas
from kdata.datapackage.write import table_parts, write_package
from kdata.errors import BuildError, DataError, PackageError
from kdata.records import models
from kdata.records.validate import load_raw

#: Folders inside dist/ that a build carries over untouched (published releases).
KEEP = ("releases",)


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: the package folder and its row counts by table."""

    dist: Path
    rows: dict[str, int]


class Valid(NamedTuple):
    """What the build keeps of a valid raw/: the package metadata and each table's rows, part by part."""

    info: models.PackageInfo
    parts: dict[str, list[Part]]


def validated(raw: Path) -> Valid:
    """Read raw/ into the package's rows; raise DataError listing every issue, if there is any.

    Only the metadata and the rows are kept: what else ``load_raw`` returns (a small
    check result per file, ~0.5 KB) is dropped before the rows are gathered by table.
    """
    data = load_raw(raw, keep=chunk_tables)
    if data.issues:
        raise DataError(data.issues)
    info, chunks = data.info, data.parts
    assert info is not None, "a raw/ without issues has valid package metadata"
    del data  # frees the file results now, before the conflicts table is made on top of them
    return Valid(info, table_parts(chunks))


def _merged(parts: dict[str, list[Part]]) -> Iterator[tuple[str, TableRows]]:
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
        BuildError: The files could not be written; the old dist/ is untouched.
    """
    info, parts = validated(raw)
    try:
        dist.parent.mkdir(parents=True, exist_ok=True)
        with fs.locked(dist):  # .dist.lock: repairs a swap that died half-way on entry
            fs.clear_staging(dist)  # left by killed builds; ours are the only staging folders
            stage = fs.staging_dir(dist)
            try:
                counts = write_package(info, _merged(parts), stage)
                for keep in KEEP:
                    if (dist / keep).is_dir():
                        shutil.copytree(dist / keep, stage / keep)
                fs.swap_in(stage, dist)
            finally:
                if stage.exists():
                    shutil.rmtree(stage, ignore_errors=True)
        if schemas is not None:
            write_schemas(schemas)
    except OSError as exc:
        reason = fs.write_error(exc)
        raise BuildError(f"Could not write the package to {dist}: {reason}. The previous build is unchanged.") from None
    return BuildResult(dist, counts)


def _parquet_equal(a: bytes, b: bytes) -> bool:
    """Parquet files hold the same typed table (bytes may differ between pyarrow versions)."""
    import io

    from kdata.datapackage.parquet import read_parquet

    return bool(read_parquet(io.BytesIO(a), threads=False).equals(read_parquet(io.BytesIO(b), threads=False)))


def _comparable(descriptor: dict[str, Any]) -> dict[str, Any]:
    """A descriptor without the Parquet files' bytes and hashes, which vary with the writer."""
    varying = ("bytes", "hash")
    resources = [
        {key: value for key, value in resource.items() if resource["format"] != "parquet" or key not in varying}
        for resource in descriptor["resources"]
    ]
    return {**descriptor, "resources": resources}


def _differs(path: Path, want: bytes, descriptor: dict[str, Any]) -> bool:
    """Whether the file at ``path`` differs from a fresh build's ``want`` (``descriptor``: the fresh one, comparable)."""
    if path.suffix == ".parquet":
        return not _parquet_equal(want, path.read_bytes())
    if path.name == DESCRIPTOR:
        try:
            return _comparable(read_descriptor(path.parent, repair=False)) != descriptor
        except PackageError:  # unreadable: stale too
            return True
    return want != path.read_bytes()


def stale_files(raw: Path, dist: Path, schemas: Path) -> list[str]:
    """What in ``dist`` and ``schemas`` differs from a fresh build of ``raw``.

    CSV, JSON and schema files are compared byte for byte, except ``datapackage.json``
    and the Parquet files: their bytes depend on the pyarrow version, so Parquet files
    are compared by content and the descriptor without their sizes and hashes.

    Returns:
        One line per stale, missing or unexpected file; empty when all is fresh.
    """
    info, parts = validated(raw)
    with tempfile.TemporaryDirectory(prefix="kdata-check-") as scratch:
        fresh = Path(scratch)
        write_package(info, _merged(parts), fresh, sync=False)
        expected = {dist / path.name: path.read_bytes() for path in fresh.iterdir()}
        descriptor = _comparable(read_descriptor(fresh, BuildError))
    expected.update({schemas / name: content for name, content in schema_files().items()})
    problems = []
    for path, content in expected.items():
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif _differs(path, content, descriptor):
            problems.append(f"{path} differs from a fresh build")
    for folder in (dist, schemas):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and path not in expected and not path.name.startswith("."):
                    problems.append(f"{path} is not produced by the build")
    return problems
