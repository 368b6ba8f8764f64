"""Find and read a built data package: the bundled folder, a folder given, its descriptor.

Every later stage (release, download, api, site) reads packages through these
functions, so "where is the package" and "read ``datapackage.json``" are each
answered once. A checkout's ``dist/`` may be half-way through a rebuild's swap;
reads that fail are retried once the swap is over (see :mod:`kdata.fs`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kdata import fs
from kdata.errors import KdataError, PackageError, UsageError

#: The descriptor's file name inside a package folder.
DESCRIPTOR = "datapackage.json"
_KDATA = Path(__file__).resolve().parent.parent
#: Where the bundled package may be: inside an installed wheel, or a checkout's dist/.
_CANDIDATES = (_KDATA / "_data", _KDATA.parent / "dist")
#: File suffix of each format.
FORMATS = {"parquet": ".parquet", "csv": ".csv"}


def bundled_dir() -> Path:
    """The folder of the data package bundled with this installation.

    Raises:
        PackageError: No built package is bundled (a checkout that was never built).
    """
    for look in ("first", "again"):
        for folder in _CANDIDATES:
            if (folder / DESCRIPTOR).is_file():
                return folder
        if look == "first":
            for folder in _CANDIDATES:
                fs.recover(folder)  # a checkout's dist/ may be between the two renames of a rebuild: wait for it
    raise PackageError("No built data package found. In a source checkout, run `kdata build` first.")


def read_descriptor(
    folder: Path, error: type[KdataError] = PackageError, hint: str = "", repair: bool = True
) -> dict[str, Any]:
    """The ``datapackage.json`` of a package folder, as a dict.

    A failed read is retried once a rebuild's swap is over (``fs.read_whole``); ``repair=False``
    for checks, which leave a swap that died half-way to the next writer.

    Raises:
        KdataError: ``error``, naming the file and why it cannot be read (plus ``hint``).
    """

    def read(where: Path) -> dict[str, Any]:
        path = where / DESCRIPTOR
        try:
            content = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise error(f"Cannot read {path}: {exc}.{hint}") from None
        if not isinstance(content, dict):
            raise error(f"{path} holds no data package descriptor (a JSON object).{hint}")
        return content

    return fs.read_whole(folder, read, repair=repair)


def package_folder(package: str | os.PathLike[str]) -> Path:
    """The folder of the package at ``package``: a package folder or its ``datapackage.json``.

    Raises:
        UsageError: No built package there.
    """
    folder = Path(package)
    folder = folder.parent if folder.name == DESCRIPTOR else folder

    def check(where: Path) -> Path:
        if not (where / DESCRIPTOR).is_file():
            raise UsageError(f"No {DESCRIPTOR} in '{folder}'. Pass a built package folder, e.g. dist.")
        return folder

    # Missing between the two renames of a rebuild: checked once more under the lock, after it.
    return fs.read_whole(folder, check)
