"""Read the bundled data package: paths, metadata, Arrow tables and DataFrames.

The package built into ``dist/`` ships inside the wheel as ``kdata/_data``; in a
source checkout the repository's ``dist/`` is used. Nothing here touches the
network.
"""

from __future__ import annotations

import json
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


def metadata() -> dict[str, Any]:
    """The bundled package's descriptor (``datapackage.json``) as a dict."""
    return _descriptor(bundled_dir())


def resources() -> list[str]:
    """Names of the tables in the bundled package, in descriptor order."""
    return [r["name"] for r in _descriptor(bundled_dir())["resources"] if r["format"] == "csv"]


def path(name: str, format: str = "parquet") -> Path:
    """Path of a table's file in the bundled package.

    Args:
        name: A table name, e.g. ``"events"`` (see ``resources()``).
        format: ``"parquet"`` or ``"csv"``.

    Raises:
        UsageError: Unknown table or format.
    """
    if format not in FORMATS:
        raise UsageError(f"Unknown format '{format}'; expected one of {', '.join(FORMATS)}.")
    names = resources()
    if name not in names:
        raise UsageError(f"No table named '{name}'; the tables are {', '.join(names)}.")
    return bundled_dir() / f"{name}{FORMATS[format]}"


def load_table(name: str) -> pyarrow.Table:
    """A table of the bundled package as a ``pyarrow.Table`` (from its Parquet file)."""
    import pyarrow.parquet as pq

    return pq.read_table(path(name, "parquet"))


def load(name: str) -> pandas.DataFrame:
    """A table of the bundled package as a pandas DataFrame.

    Columns use Arrow-backed dtypes, so dates stay dates (``date32``), counts
    stay integers and missing values stay missing (``<NA>``) in every column.

    Args:
        name: A table name, e.g. ``"events"`` (see ``resources()``).
    """
    import pandas as pd

    return load_table(name).to_pandas(types_mapper=pd.ArrowDtype)
