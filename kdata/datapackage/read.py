"""Find and read a built data package: the bundled folder, a folder given, its descriptor.

Every later stage (release, download, api, site) reads packages through these
functions, so "where is the package" and "read ``datapackage.json``" are each
answered once. A checkout's ``dist/`` may be half-way through a rebuild's swap;
reads that fail are retried once the swap is over (see :mod:`kdata.fs`).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from kdata import fs
from kdata.datapackage.descriptor import check_descriptor
from kdata.datapackage.safety import printable
from kdata.errors import KdataError, PackageError, UsageError

#: The descriptor's file name inside a package folder.
DESCRIPTOR = "datapackage.json"
_KDATA = Path(__file__).resolve().parent.parent
#: Where the bundled package may be: inside an installed wheel, or a checkout's dist/.
_CANDIDATES = (_KDATA / "_data", _KDATA.parent / "dist")
#: File suffix of each format.
FORMATS = {"parquet": ".parquet", "csv": ".csv"}
#: A descriptor larger than this is refused unread (kdata writes some tens of kilobytes).
MAX_DESCRIPTOR_BYTES = 16 * 1024 * 1024


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
    """The ``datapackage.json`` of a package folder, as a dict, checked before anyone trusts it.

    The one place descriptors are read: the file must be a regular file of at most
    ``MAX_DESCRIPTOR_BYTES``, UTF-8 JSON, and pass ``descriptor.check_descriptor`` (shape,
    resource paths inside the folder, http(s) links only). A failed read is retried once a
    rebuild's swap is over (``fs.read_whole``); ``repair=False`` for checks, which leave a swap
    that died half-way to the next writer.

    Raises:
        KdataError: ``error``, one line naming the file and why it cannot be read (plus ``hint``).
    """
    return fs.read_whole(folder, lambda where: load_descriptor(where, error, hint), repair=repair)


def load_descriptor(folder: Path, error: type[KdataError] = PackageError, hint: str = "") -> dict[str, Any]:
    """``read_descriptor`` once, without its retry (for ``verify``, which retries in its own way)."""
    path = folder / DESCRIPTOR
    try:
        # O_NONBLOCK: a FIFO standing in for the file must not block the open; fstat then refuses it.
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                raise error(f"Cannot read {path}: it is not a regular file.{hint}")
            if info.st_size > MAX_DESCRIPTOR_BYTES:
                raise error(f"Cannot read {path}: {info.st_size} bytes, more than {MAX_DESCRIPTOR_BYTES}.{hint}")
            with os.fdopen(os.dup(handle), "rb") as stream:
                raw = stream.read(MAX_DESCRIPTOR_BYTES + 1)
        finally:
            os.close(handle)
        if len(raw) > MAX_DESCRIPTOR_BYTES:
            raise error(f"Cannot read {path}: more than {MAX_DESCRIPTOR_BYTES} bytes.{hint}")
        content = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise error(f"Cannot read {path}: {printable(reason)}.{hint}") from None
    if not isinstance(content, dict):
        raise error(f"{path} holds no data package descriptor (a JSON object).{hint}")
    problem = check_descriptor(content, folder)
    if problem:
        raise error(f"{path} is not a valid kdata descriptor: {problem}.{hint}")
    return content


def table_file(descriptor: dict[str, Any], table: str, format: str = "parquet") -> str:
    """The declared path of ``table``'s file in ``format``: its CSV resource's path, or the resource
    declared at that path with the format's suffix (the Parquet twin). Checked by ``read_descriptor``.

    Raises:
        PackageError: The descriptor declares no such file.
    """
    suffix = FORMATS[format]
    for resource in descriptor["resources"]:
        if resource["name"] == table and resource["format"] == "csv":
            want = resource["path"].removesuffix(FORMATS["csv"]) + suffix
            if any(r["path"] == want for r in descriptor["resources"]):
                return str(want)
    raise PackageError(f"The descriptor declares no {format} file of the table '{table}'; rebuild the package.")


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
