"""Read the bundled data package: paths, metadata, Arrow tables and DataFrames.

The package built into ``dist/`` ships inside the wheel as ``kdata/_data``; in a
source checkout the repository's ``dist/`` is used. Nothing here touches the
network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import PackageError, UsageError

if TYPE_CHECKING:
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
    for folder in _CANDIDATES:
        if (folder / "datapackage.json").is_file():
            return folder
    raise PackageError("No built data package found. In a source checkout, run `kdata build` first.")


def _descriptor(folder: Path) -> dict[str, Any]:
    try:
        content: dict[str, Any] = json.loads((folder / "datapackage.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageError(f"Cannot read {folder / 'datapackage.json'}: {exc}.") from None
    return content


def package_dir(package: str | os.PathLike[str] | None = None) -> Path:
    """The folder of a data package: the bundled one, or the folder (or descriptor) given."""
    if package is None:
        return bundled_dir()
    folder = Path(package)
    folder = folder.parent if folder.name == "datapackage.json" else folder
    if not (folder / "datapackage.json").is_file():
        raise UsageError(f"No datapackage.json in '{folder}'. Pass a built package folder, e.g. dist.")
    return folder


def metadata(package: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """A package's descriptor (``datapackage.json``) as a dict; default: the bundled package."""
    return _descriptor(package_dir(package))


def resources(package: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the tables in a package, in descriptor order; default: the bundled package."""
    return [r["name"] for r in metadata(package)["resources"] if r["format"] == "csv"]


def path(name: str, format: str = "parquet", package: str | os.PathLike[str] | None = None) -> Path:
    """Path of a table's file.

    Args:
        name: A table name, e.g. ``"events"`` (see ``resources()``).
        format: ``"parquet"`` or ``"csv"``.
        package: A package folder; default: the bundled package.

    Raises:
        UsageError: Unknown table or format.
    """
    if format not in FORMATS:
        raise UsageError(f"Unknown format '{format}'; expected one of {', '.join(FORMATS)}.")
    names = resources(package)
    if name not in names:
        raise UsageError(f"No table named '{name}'; the tables are {', '.join(names)}.")
    return package_dir(package) / f"{name}{FORMATS[format]}"


def load_table(name: str, package: str | os.PathLike[str] | None = None) -> pyarrow.Table:
    """A table as a ``pyarrow.Table``, read from its Parquet file.

    Args:
        name: A table name, e.g. ``"events"`` (see ``resources()``).
        package: A package folder; default: the bundled package.
    """
    import pyarrow.parquet as pq

    return pq.read_table(path(name, "parquet", package))


def load(name: str, package: str | os.PathLike[str] | None = None) -> pandas.DataFrame:
    """A table as a pandas DataFrame.

    Columns use Arrow-backed dtypes, so dates stay dates (``date32``), counts
    stay integers and missing values stay missing (``<NA>``) in every column.

    Args:
        name: A table name, e.g. ``"events"`` (see ``resources()``).
        package: A package folder; default: the bundled package.
    """
    import pandas as pd

    frame: pd.DataFrame = load_table(name, package).to_pandas(types_mapper=pd.ArrowDtype)
    return frame
