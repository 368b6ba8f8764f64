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
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kdata import fs
from kdata.datapackage.descriptor import check_descriptor, file_problem
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
    return _parse(_descriptor_bytes(folder, error, hint)[0], folder, error, hint)


def _descriptor_bytes(folder: Path, error: type[KdataError], hint: str) -> tuple[bytes, os.stat_result]:
    """The bytes of ``folder``'s descriptor, a regular file of at most ``MAX_DESCRIPTOR_BYTES``, and its
    status when it was opened."""
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
                # The size it has, not the most it may have: a buffer of MAX_DESCRIPTOR_BYTES costs more than the read.
                raw = stream.read(info.st_size + 1)
                if len(raw) > info.st_size:  # it grew since fstat
                    raw += stream.read(MAX_DESCRIPTOR_BYTES + 1 - len(raw))
        finally:
            os.close(handle)
    except OSError as exc:
        raise error(f"Cannot read {path}: {_reason(exc)}.{hint}") from None
    if len(raw) > MAX_DESCRIPTOR_BYTES:
        raise error(f"Cannot read {path}: more than {MAX_DESCRIPTOR_BYTES} bytes.{hint}")
    return raw, info


def _reason(exc: BaseException) -> str:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return printable(reason)


def _parse(raw: bytes, folder: Path, error: type[KdataError], hint: str) -> dict[str, Any]:
    """The descriptor in ``raw`` (read from ``folder``), checked by ``check_descriptor``."""
    path = folder / DESCRIPTOR
    try:
        content = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        raise error(f"Cannot read {path}: {_reason(exc)}.{hint}") from None
    if not isinstance(content, dict):
        raise error(f"{path} holds no data package descriptor (a JSON object).{hint}")
    problem = check_descriptor(content, folder)
    if problem:
        raise error(f"{path} is not a valid kdata descriptor: {problem}.{hint}")
    return content


@dataclass(frozen=True)
class Layout:
    """What a reader of tables needs from a checked descriptor, immutable: shared by every read of the same bytes.

    Attributes:
        tables: The table names (CSV resources), in descriptor order.
        files: ``(table, format)`` -> the declared path of its file (``table_file``), for each one declared.
        fields: Table -> the names of its fields.
        index: Resource path -> its place in ``resources`` (for messages).
        hashes: Resource path -> its declared hash.
        version: The package's version.
    """

    tables: tuple[str, ...]
    files: MappingProxyType[tuple[str, str], str]
    fields: MappingProxyType[str, frozenset[str]]
    index: MappingProxyType[str, int]
    hashes: MappingProxyType[str, str]
    version: str

    @classmethod
    def of(cls, descriptor: dict[str, Any]) -> Layout:
        """The layout of a descriptor checked by ``read_descriptor``."""
        resources = descriptor["resources"]
        tables = tuple(r["name"] for r in resources if r["format"] == "csv")
        files = {}
        for table in tables:
            for format in FORMATS:
                try:
                    files[(table, format)] = table_file(descriptor, table, format)
                except PackageError:
                    continue
        return cls(
            tables=tables,
            files=MappingProxyType(files),
            fields=MappingProxyType(
                {r["name"]: frozenset(f["name"] for f in r["schema"]["fields"]) for r in resources}
            ),
            index=MappingProxyType({r["path"]: i for i, r in enumerate(resources)}),
            hashes=MappingProxyType({r["path"]: r["hash"] for r in resources}),
            version=str(descriptor["version"]),
        )

    def file(self, folder: Path, table: str, format: str = "parquet") -> Path:
        """The file of ``table`` in ``format`` inside ``folder``, checked now as ``check_descriptor`` checks it.

        Raises:
            UsageError: No such table.
            PackageError: The descriptor declares no such file, or it resolves outside ``folder`` or is
                not a regular file.
        """
        if table not in self.tables:
            raise UsageError(f"No table named '{table}'; the tables are {', '.join(self.tables)}.")
        declared = self.files.get((table, format))
        if declared is None:
            raise PackageError(f"The descriptor declares no {format} file of the table '{table}'; rebuild the package.")
        problem = file_problem(self.index[declared], declared, folder, folder.resolve())
        if problem:
            raise PackageError(f"{folder / DESCRIPTOR} is not a valid kdata descriptor: {problem}.")
        return folder / declared


#: A file's changes are told by its status (device, inode, size, times) only once its last change is
#: older than this: a change within the file system's clock tick after it may leave the status as it was.
SETTLED_NS = 3_000_000_000


def status(info: os.stat_result) -> tuple[int, ...]:
    """What tells a file's versions apart: device, inode, size, modification and change times."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def settled(info: os.stat_result, since: int) -> bool:
    """Whether a file of status ``info``, taken after ``since`` (``time.time_ns()``), had settled by then:
    a later change stamps a later time, so its status tells it apart (``SETTLED_NS``)."""
    return since - max(info.st_mtime_ns, info.st_ctime_ns) > SETTLED_NS


@dataclass(frozen=True)
class _Kept:
    raw: bytes
    status: tuple[int, ...]
    settled: bool
    layout: Layout


#: Folder -> the descriptor last read there and its layout; at most ``_LAYOUTS_KEPT`` folders.
_LAYOUTS: dict[str, _Kept] = {}
_LAYOUTS_KEPT = 8


def load_layout(folder: Path) -> Layout:
    """The ``Layout`` of ``folder``'s descriptor, read once, without a retry (for use inside ``fs.read_whole``).

    The descriptor is read and its checks made as ``read_descriptor`` makes them, except that bytes
    equal to those last read in this folder reuse that read's parse and shape check (they depend on
    the bytes only), and are not even read again while the file's status is the one it had then and
    it had settled (``settled``). The files a reader opens are checked on each use (``Layout.file``).

    Raises:
        PackageError: As ``read_descriptor``.
    """
    key = os.path.abspath(folder)
    kept = _LAYOUTS.get(key)
    if kept is not None and kept.settled:
        try:
            info = os.stat(folder / DESCRIPTOR)
        except OSError:
            pass  # read below, which says why in one line
        else:
            if stat.S_ISREG(info.st_mode) and status(info) == kept.status:
                return kept.layout
    since = time.time_ns()  # before the status: a change after it stamps a later time
    raw, info = _descriptor_bytes(folder, PackageError, "")
    if kept is not None and kept.raw == raw:
        layout = kept.layout
    else:
        layout = Layout.of(_parse(raw, folder, PackageError, ""))
    _LAYOUTS.pop(key, None)
    for oldest in list(_LAYOUTS)[: max(0, len(_LAYOUTS) - _LAYOUTS_KEPT + 1)]:  # safe if threads evict at once
        _LAYOUTS.pop(oldest, None)
    _LAYOUTS[key] = _Kept(raw, status(info), settled(info, since), layout)
    return layout


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
