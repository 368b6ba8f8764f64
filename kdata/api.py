"""Read the bundled data package: paths, metadata, Arrow tables and DataFrames.

The package built into ``dist/`` ships inside the wheel as ``kdata/_data``; in a
source checkout the repository's ``dist/`` is used. Every function also takes
``version="X.Y.Z"``: a published release, fetched into the cache on first use
(see :mod:`kdata.download`); only that touches the network.

Withdrawn records stay in the package as tombstones (``retracted_version`` is
set); ``load`` and ``load_table`` leave them out, with the rows of dependent
tables (citations, event actors) that belong to them, unless
``include_retracted=True``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdata import fs
from kdata.datapackage.parquet import read_parquet
from kdata.datapackage.read import (
    DESCRIPTOR,
    FORMATS,
    Layout,
    bundled_dir,
    load_layout,
    package_folder,
    read_descriptor,
    settled,
    status,
)
from kdata.errors import PackageError, UsageError
from kdata.records.models import TOMBSTONE
from kdata.release.registry import is_version

if TYPE_CHECKING:
    import frictionless
    import pandas
    import pyarrow


def package_dir(package: str | os.PathLike[str] | None = None, version: str | None = None) -> Path:
    """The folder of a data package: the bundled one, the folder (or descriptor) given, or a published version.

    Raises:
        UsageError: Both ``package`` and ``version`` given, or no package there.
    """
    if version is not None:
        if package is not None:
            raise UsageError("Pass either package= or version=, not both.")
        from kdata.download import fetch

        return fetch(version)
    if package is None:
        return bundled_dir()
    return package_folder(package)


@contextmanager
def open_package(spec: str | os.PathLike[str]) -> Iterator[Path]:
    """A package folder from a folder (or its descriptor), a release archive (.zip) or a version.

    The one resolver of "a package" for commands that take any of the three: an
    archive is unpacked into a scratch folder in kdata's cache for the duration (``fs.cache_scratch``), a version is
    fetched into the cache (or found there).

    Raises:
        UsageError: ``spec`` is none of the three.
    """
    path = Path(spec)
    if path.is_file() and path.suffix == ".zip":
        from kdata.release.archive import extract

        with fs.cache_scratch() as tmp:  # in the cache, not /tmp: a killed command's is deleted by the next one
            yield extract(path, tmp / "package")
    elif is_version(str(spec)) and not path.exists():
        yield package_dir(version=str(spec))
    else:
        try:
            folder = package_folder(path)  # waits for a rebuild of it that is between its renames
        except UsageError:
            if path.exists():
                raise
            raise UsageError(
                f"'{spec}' is neither a package folder, a .zip release archive nor a version like 0.1.0."
            ) from None
        yield folder


def metadata(package: str | os.PathLike[str] | None = None, *, version: str | None = None) -> dict[str, Any]:
    """A package's descriptor (``datapackage.json``) as a dict; default: the bundled package."""
    return read_descriptor(package_dir(package, version))


def package(package: str | os.PathLike[str] | None = None, *, version: str | None = None) -> frictionless.Package:
    """A package as a ``frictionless.Package``, for the Frictionless tools; default: the bundled package.

    Every resource is a ``TableResource``: ``read_rows()`` types each cell by its
    Table Schema, and ``validate()`` checks every row. The Parquet twins (named
    ``<table>-parquet``) are read through frictionless's parquet format and hold
    the CSV's rows; ``validate()`` checks the CSV files' bytes and hash, not the
    Parquet files' (frictionless never hashes those: ``kdata verify`` does, see
    :mod:`kdata.datapackage.write`). The Package describes
    the files as they are: tombstones (withdrawn records) are rows like any
    other, with ``retracted_version`` set.

    frictionless is imported on the first call (it takes about a third of a second).

    Args:
        package: A package folder (or its ``datapackage.json``); default: the bundled package.
        version: A published version instead, e.g. ``"0.1.0"`` (fetched into the cache if needed).

    Raises:
        PackageError: frictionless cannot read the descriptor.
        UsageError: Both ``package`` and ``version`` given, or no package there.
    """
    import frictionless

    folder = package_dir(package, version)
    metadata(
        folder
    )  # checked as every reader checks it (paths inside the folder, http(s) links) before frictionless reads it
    descriptor = folder / DESCRIPTOR
    try:
        return frictionless.Package(str(descriptor))
    except frictionless.FrictionlessException as exc:
        raise PackageError(f"frictionless cannot read {descriptor}: {exc}. Run `kdata verify` on its folder.") from None


def resources(package: str | os.PathLike[str] | None = None, *, version: str | None = None) -> list[str]:
    """Names of the tables in a package, in descriptor order; default: the bundled package."""
    return [r["name"] for r in metadata(package, version=version)["resources"] if r["format"] == "csv"]


def path(
    name: str, format: str = "parquet", package: str | os.PathLike[str] | None = None, *, version: str | None = None
) -> Path:
    """Path of a table's file.

    Args:
        name: A table name, e.g. ``"events"`` (see ``resources()``).
        format: ``"parquet"`` or ``"csv"``.
        package: A package folder; default: the bundled package.
        version: A published version instead (fetched into the cache if needed).

    Raises:
        UsageError: Unknown table or format.
    """
    if format not in FORMATS:
        raise UsageError(f"Unknown format '{format}'; expected one of {', '.join(FORMATS)}.")
    folder = package_dir(package, version)
    return fs.read_whole(folder, lambda where: load_layout(where).file(where, name, format))


#: (file, declared hash, status) -> (whether settled, the ids of its tombstones); at most ``_RETRACTED_KEPT``.
_RETRACTED: dict[tuple[Any, ...], tuple[bool, pyarrow.Array]] = {}
_RETRACTED_KEPT = 64


def _retracted_ids(file: Path, declared: str) -> pyarrow.Array:
    """The ids of the tombstones in an owner table's Parquet ``file`` (declared with hash ``declared``).

    The file's footer tells whether its tombstone column holds any value (its null count in each row
    group); only then are its ``id`` and tombstone columns read. The ids are kept for later calls,
    keyed by the file, its declared hash and its status, and trusted only once the file has settled
    (``read.settled``): a rebuild, an edit or a swap of the folder changes the key.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    since = time.time_ns()  # before the status: a change after it stamps a later time
    info = os.stat(file)
    key = (os.path.abspath(file), declared, *status(info))
    kept = _RETRACTED.get(key)
    if kept is not None and kept[0]:
        return kept[1]
    owners = read_parquet(file, columns=["id", TOMBSTONE], unless_all_null=TOMBSTONE)
    gone = pa.array([], pa.string()) if owners is None else owners.filter(pc.is_valid(owners[TOMBSTONE]))["id"]
    _RETRACTED.pop(key, None)
    for oldest in list(_RETRACTED)[: max(0, len(_RETRACTED) - _RETRACTED_KEPT + 1)]:  # safe if threads evict at once
        _RETRACTED.pop(oldest, None)
    _RETRACTED[key] = (settled(info, since), gone)
    return gone


def _without_retracted(name: str, table: pyarrow.Table, folder: Path, layout: Layout) -> pyarrow.Table:
    """Drop tombstones, and rows of a dependent table whose owner is a tombstone."""
    import pyarrow.compute as pc

    if TOMBSTONE in table.column_names:
        if table[TOMBSTONE].null_count == table.num_rows:
            return table  # no tombstones: no filtered copy
        return table.filter(pc.is_null(table[TOMBSTONE]))
    from kdata.records.models import TABLES

    spec = TABLES.get(name)
    for owner, column in (spec.owners if spec else {}).items():
        if column not in table.column_names or TOMBSTONE not in layout.fields.get(owner, ()):
            continue
        owner_file = layout.file(folder, owner, "parquet")
        gone = _retracted_ids(owner_file, layout.hashes[layout.files[(owner, "parquet")]])
        if len(gone):
            table = table.filter(pc.invert(pc.fill_null(pc.is_in(table[column], value_set=gone), False)))
    return table


def load_table(
    name: str,
    package: str | os.PathLike[str] | None = None,
    *,
    version: str | None = None,
    include_retracted: bool = False,
) -> pyarrow.Table:
    """A table as a ``pyarrow.Table``, read from its Parquet file.

    Args:
        name: A table name, e.g. ``"events"`` (see ``resources()``).
        package: A package folder; default: the bundled package.
        version: A published version instead, e.g. ``"0.1.0"`` (fetched into the cache if needed).
        include_retracted: Keep tombstones (withdrawn records) and the rows that belong to them.
    """
    return _table(name, package, version, include_retracted, ahead=False)


def _table(
    name: str, package: str | os.PathLike[str] | None, version: str | None, include_retracted: bool, ahead: bool
) -> pyarrow.Table:
    """``load_table``; ``ahead``: read as ``pandas.read_parquet`` does, for a caller that imports pandas anyway."""
    folder = package_dir(package, version)

    def read(where: Path) -> pyarrow.Table:
        layout = load_layout(where)  # one read of the descriptor for the table and its owners
        table = read_parquet(layout.file(where, name, "parquet"), ahead=ahead)
        return table if include_retracted else _without_retracted(name, table, where, layout)

    return fs.read_whole(folder, read)  # a failed read is retried once a rebuild's swap is over


def load(
    name: str,
    package: str | os.PathLike[str] | None = None,
    *,
    version: str | None = None,
    include_retracted: bool = False,
) -> pandas.DataFrame:
    """A table as a pandas DataFrame.

    Columns use Arrow-backed dtypes, so dates stay dates (``date32``), counts
    stay integers and missing values stay missing (``<NA>``) in every column.

    Args:
        name: A table name, e.g. ``"events"`` (see ``resources()``).
        package: A package folder; default: the bundled package.
        version: A published version instead, e.g. ``"0.1.0"`` (fetched into the cache if needed).
        include_retracted: Keep tombstones (withdrawn records) and the rows that belong to them.
    """
    import pandas as pd

    table = _table(name, package, version, include_retracted, ahead=True)
    frame: pd.DataFrame = table.to_pandas(types_mapper=pd.ArrowDtype)
    return frame
