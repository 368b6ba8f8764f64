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

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import fsutil
from .errors import KdataError, PackageError, UsageError
from .parquet import read_parquet

if TYPE_CHECKING:
    import frictionless
    import pandas
    import pyarrow

_HERE = Path(__file__).resolve().parent
#: Where the bundled package may be: inside an installed wheel, or a checkout's dist/.
_CANDIDATES = (_HERE / "_data", _HERE.parent / "dist")
#: File suffix of each format.
FORMATS = {"parquet": ".parquet", "csv": ".csv"}


def bundled_dir() -> Path:
    """The folder of the data package bundled with this installation.

    Raises:
        PackageError: No built package is bundled (a checkout that was never built).
    """
    for look in ("first", "again"):
        for folder in _CANDIDATES:
            if (folder / "datapackage.json").is_file():
                return folder
        if look == "first":
            for folder in _CANDIDATES:
                fsutil.recover(folder)  # a checkout's dist/ may be between the two renames of a rebuild: wait for it
    raise PackageError("No built data package found. In a source checkout, run `kdata build` first.")


def read_descriptor(folder: Path, error: type[KdataError] = PackageError, hint: str = "") -> dict[str, Any]:
    """The ``datapackage.json`` of a package folder, as a dict.

    Raises:
        KdataError: ``error``, naming the file and why it cannot be read (plus ``hint``).
    """
    path = folder / "datapackage.json"

    def read() -> dict[str, Any]:
        try:
            content = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise error(f"Cannot read {path}: {exc}.{hint}") from None
        if not isinstance(content, dict):
            raise error(f"{path} holds no data package descriptor (a JSON object).{hint}")
        return content

    return fsutil.read_whole(folder, read)  # a failed read is retried once a rebuild's swap is over


def package_dir(package: str | os.PathLike[str] | None = None, version: str | None = None) -> Path:
    """The folder of a data package: the bundled one, the folder (or descriptor) given, or a published version.

    Raises:
        UsageError: Both ``package`` and ``version`` given, or no package there.
    """
    if version is not None:
        if package is not None:
            raise UsageError("Pass either package= or version=, not both.")
        from .download import fetch

        return fetch(version)
    if package is None:
        return bundled_dir()
    folder = Path(package)
    folder = folder.parent if folder.name == "datapackage.json" else folder
    if not (folder / "datapackage.json").is_file():
        fsutil.recover(folder)  # between the two renames of a rebuild: wait for it
    if not (folder / "datapackage.json").is_file():
        raise UsageError(f"No datapackage.json in '{folder}'. Pass a built package folder, e.g. dist.")
    return folder


def metadata(package: str | os.PathLike[str] | None = None, *, version: str | None = None) -> dict[str, Any]:
    """A package's descriptor (``datapackage.json``) as a dict; default: the bundled package."""
    return read_descriptor(package_dir(package, version))


def package(package: str | os.PathLike[str] | None = None, *, version: str | None = None) -> frictionless.Package:
    """A package as a ``frictionless.Package``, for the Frictionless tools; default: the bundled package.

    The CSV tables are ``TableResource``s: ``read_rows()`` types each cell by its
    Table Schema, and ``validate()`` checks every row, the bytes and the hash.
    The Parquet twins (named ``<table>-parquet``) are declared as plain ``file``
    resources (see :mod:`kdata.package`), so they are ``FileResource``s:
    ``read_bytes()``, their declared ``schema``, and bytes and hash checked by
    ``validate()``; read their rows with ``load_table``. The Package describes
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

    descriptor = package_dir(package, version) / "datapackage.json"
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
    names = resources(folder)
    if name not in names:
        raise UsageError(f"No table named '{name}'; the tables are {', '.join(names)}.")
    return folder / f"{name}{FORMATS[format]}"


#: The column that marks a tombstone: the version that withdrew the record.
RETRACTED = "retracted_version"


def _without_retracted(name: str, table: pyarrow.Table, folder: Path) -> pyarrow.Table:
    """Drop tombstones, and rows of a dependent table whose owner is a tombstone."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if RETRACTED in table.column_names:
        if table[RETRACTED].null_count == table.num_rows:
            return table  # no tombstones: no filtered copy
        return table.filter(pc.is_null(table[RETRACTED]))
    from .models import TABLES

    spec = TABLES.get(name)
    for owner, column in (spec.owners if spec else {}).items():
        owner_file = folder / f"{owner}{FORMATS['parquet']}"
        if column not in table.column_names or RETRACTED not in pq.read_schema(owner_file).names:
            continue
        owners = read_parquet(owner_file, columns=["id", RETRACTED])
        gone = owners.filter(pc.is_valid(owners[RETRACTED]))["id"]
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
    folder = package_dir(package, version)

    def read() -> pyarrow.Table:
        table = read_parquet(path(name, "parquet", folder))
        return table if include_retracted else _without_retracted(name, table, folder)

    return fsutil.read_whole(folder, read)  # a failed read is retried once a rebuild's swap is over


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

    table = load_table(name, package, version=version, include_retracted=include_retracted)
    frame: pd.DataFrame = table.to_pandas(types_mapper=pd.ArrowDtype)
    return frame
