"""kdata: a cited dataset of the Kalbajar district, and the toolkit that publishes it.

>>> import kdata
>>> events = kdata.load("events")          # pandas DataFrame, Arrow-backed dtypes
>>> table = kdata.load_table("figures")    # pyarrow.Table
>>> package = kdata.package()              # frictionless.Package

Importing kdata is light: pandas, pyarrow, pydantic and frictionless load only
when a function needs them.
"""

from __future__ import annotations

# A literal list, so that type checkers and linters read it (a test keeps it equal to dir(kdata)).
__all__ = [
    "BuildError",
    "DataError",
    "DownloadError",
    "IntegrityError",
    "Issue",
    "KdataError",
    "LockTimeout",
    "PackageError",
    "ReleaseError",
    "UsageError",
    "__version__",
    "load",
    "load_table",
    "metadata",
    "package",
    "path",
    "resources",
]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import time matters here)
if TYPE_CHECKING:
    from kdata.api import load, load_table, metadata, package, path, resources
    from kdata.errors import (
        BuildError,
        DataError,
        DownloadError,
        IntegrityError,
        Issue,
        KdataError,
        LockTimeout,
        PackageError,
        ReleaseError,
        UsageError,
    )

#: Public name -> the module that defines it: the classes come from kdata.errors, the functions from kdata.api.
_LAZY = {name: "errors" if name[0].isupper() else "api" for name in __all__ if name != "__version__"}


def __getattr__(name: str) -> object:
    """Import the public API on first use, keeping ``import kdata`` fast."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name == "__version__":  # the version of the bundled data, which the distribution shares (pyproject.toml)
        from kdata.datapackage.read import bundled_dir, read_descriptor
        from kdata.errors import PackageError

        try:
            return str(read_descriptor(bundled_dir())["version"])
        except PackageError:  # a checkout never built: the installed distribution's metadata
            from importlib.metadata import version

            return version("kalbajar-data")
    raise AttributeError(f"module 'kdata' has no attribute '{name}'")


def __dir__() -> list[str]:
    """The public API only: what ``__all__`` lists."""
    return sorted(__all__)
