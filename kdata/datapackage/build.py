"""Build dist/ atomically, and tell whether the committed dist/ and schemas/ are fresh.

The build validates raw/, writes the whole package into a staging folder beside
``dist/`` and swaps it in, holding a lock so two builds never interleave. A
failed or killed build leaves the previous ``dist/`` as it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdata import fs
from kdata.datapackage.rows import chunk_tables
from kdata.datapackage.schemas import schema_files, write_schemas
from kdata.datapackage.write import write_package
from kdata.errors import BuildError, DataError
from kdata.records.validate import RawData, load_raw

#: Folders inside dist/ that a build carries over untouched (published releases).
KEEP = ("releases",)


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: the package folder and its row counts by table."""

    dist: Path
    rows: dict[str, int]


def validated(raw: Path) -> RawData:
    """Read raw/ into the package's rows; raise DataError listing every issue, if there is any."""
    data = load_raw(raw, keep=chunk_tables)
    if data.issues:
        raise DataError(data.issues)
    data.results.clear()  # the checks are done: the build needs only the rows (frees ~0.5 KB a file)
    return data


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
    data = validated(raw)
    try:
        dist.parent.mkdir(parents=True, exist_ok=True)
        with fs.locked(dist):  # .dist.lock: repairs a swap that died half-way on entry
            fs.clear_staging(dist)  # left by killed builds; ours are the only staging folders
            stage = fs.staging_dir(dist)
            try:
                counts = write_package(data, stage)
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


def _comparable(descriptor: bytes) -> Any:
    """A descriptor without the Parquet files' bytes and hashes, which vary with the writer."""
    content = json.loads(descriptor)
    for resource in content["resources"]:
        if resource["format"] == "parquet":
            resource.pop("bytes", None)
            resource.pop("hash", None)
    return content


def _differs(name: str, want: bytes, have: bytes) -> bool:
    if name.endswith(".parquet"):
        return not _parquet_equal(want, have)
    if name == "datapackage.json":
        return bool(_comparable(want) != _comparable(have))
    return want != have


def stale_files(raw: Path, dist: Path, schemas: Path) -> list[str]:
    """What in ``dist`` and ``schemas`` differs from a fresh build of ``raw``.

    CSV, JSON and schema files are compared byte for byte. Parquet files are
    compared by content, since their bytes depend on the pyarrow version.

    Returns:
        One line per stale, missing or unexpected file; empty when all is fresh.
    """
    data = validated(raw)
    with tempfile.TemporaryDirectory(prefix="kdata-check-") as scratch:
        write_package(data, Path(scratch), sync=False)
        expected = {dist / path.name: path.read_bytes() for path in Path(scratch).iterdir()}
    expected.update({schemas / name: content for name, content in schema_files().items()})
    problems = []
    for path, content in expected.items():
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif _differs(path.name, content, path.read_bytes()):
            problems.append(f"{path} differs from a fresh build")
    for folder in (dist, schemas):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and path not in expected and not path.name.startswith("."):
                    problems.append(f"{path} is not produced by the build")
    return problems
