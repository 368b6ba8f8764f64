"""kdata: a cited dataset of the Kalbajar district, and the toolkit that publishes it.

>>> import kdata
>>> events = kdata.load("events")          # pandas DataFrame, Arrow-backed dtypes
>>> table = kdata.load_table("figures")    # pyarrow.Table

Importing kdata is light: pandas, pyarrow, pydantic and frictionless load only
when a function needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BuildError, DataError, Issue, KdataError, PackageError, UsageError

__version__ = "0.1.0"

__all__ = [
    "BuildError",
    "DataError",
    "Issue",
    "KdataError",
    "PackageError",
    "UsageError",
    "__version__",
    "load",
    "load_table",
    "metadata",
    "path",
    "resources",
]

if TYPE_CHECKING:
    from .api import load, load_table, metadata, path, resources

_API = frozenset({"load", "load_table", "metadata", "path", "resources"})


def __getattr__(name: str) -> Any:
    """Import the data API on first use, keeping ``import kdata`` fast."""
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'kdata' has no attribute '{name}'")
