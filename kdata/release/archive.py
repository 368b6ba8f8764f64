"""Release archives: write them reproducibly, read them safely.

A release archive is a zip of the built data package, every file under one
folder ``<name>-<version>/``, with a ``SHA256SUMS`` manifest of the other
members. The same ``dist/`` gives the same bytes: entries sorted, every
timestamp 1980-01-01 00:00:00, permissions 0644, deflate at a fixed level.
Beside the archives, ``dist/releases/SHA256SUMS`` lists each archive's sha256
in the format ``sha256sum -c`` reads.

Reading is the dangerous half (``zipfile.extractall`` rewrites ``../x`` and
absolute names instead of refusing them, and turns symlinks into files), so
``extract`` checks every member itself before writing a byte.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from kdata.datapackage.read import DESCRIPTOR, read_descriptor
from kdata.errors import IntegrityError, ReleaseError
from kdata.fs import sha256_bytes

MANIFEST = "SHA256SUMS"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_MODE = 0o100644  # a regular file, rw-r--r--
_LEVEL = 9
#: Refuse archives past these limits (a zip bomb, or not a kdata release at all).
MAX_MEMBERS = 1000
MAX_BYTES = 1 << 30
MAX_RATIO = 200


def archive_name(name: str, version: str) -> str:
    """File name of a release archive, e.g. ``kalbajar-0.1.0.zip``."""
    return f"{name}-{version}.zip"


def sums_text(hashes: dict[str, str]) -> str:
    """A SHA256SUMS file: ``<sha256>  <name>`` lines, sorted by name."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(hashes.items()))


def parse_sums(text: str) -> dict[str, str]:
    """Read a SHA256SUMS file into name -> sha256.

    Raises:
        IntegrityError: A line is not ``<64 hex>  <name>``.
    """
    out = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not match:
            raise IntegrityError(f"The manifest line '{line[:80]}' is not '<sha256>  <file>'; the archive is damaged.")
        out[match.group(2)] = match.group(1)
    return out


def descriptor_id(dist: Path) -> dict[str, str]:
    content = read_descriptor(dist, ReleaseError, " Run `kdata build` first.")
    try:
        return {"name": str(content["name"]), "version": str(content["version"])}
    except KeyError as exc:
        raise ReleaseError(f"{dist / DESCRIPTOR} names no {exc}; run `kdata build` first.") from None


def archive_bytes(dist: Path) -> tuple[str, bytes]:
    """The release archive of a built package folder: its file name and its bytes.

    Only the package's own files are archived (no subfolders such as
    ``releases/``, no hidden files).
    """
    meta = descriptor_id(dist)
    root = f"{meta['name']}-{meta['version']}"
    files = {p.name: p.read_bytes() for p in sorted(dist.iterdir()) if p.is_file() and not p.name.startswith(".")}
    files[MANIFEST] = sums_text({name: sha256_bytes(content) for name, content in files.items()}).encode()
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{root}/{name}", date_time=_EPOCH)
            info.create_system = 3  # Unix, so the permissions below are read as such
            info.external_attr = _MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=_LEVEL)
    return archive_name(meta["name"], meta["version"]), sink.getvalue()


def _check_members(archive: zipfile.ZipFile, source: str) -> tuple[str, list[zipfile.ZipInfo]]:
    """Check every member's name, kind and size; return the top folder and the members."""

    def refuse(why: str) -> IntegrityError:
        return IntegrityError(f"{source} is not a safe kdata release archive: {why}. Nothing was extracted.")

    members = archive.infolist()
    if not members or len(members) > MAX_MEMBERS:
        raise refuse(f"it has {len(members)} members (expected 1 to {MAX_MEMBERS})")
    names = [m.filename for m in members]
    if len(set(names)) != len(names):
        raise refuse("a member name occurs twice")
    roots = set()
    total = 0
    for member in members:
        name = member.filename
        parts = PurePosixPath(name).parts
        if "\\" in name or name.startswith("/") or ":" in name or len(parts) != 2 or ".." in parts or "." in parts:
            raise refuse(f"the member '{name}' is not '<folder>/<file>' inside the archive")
        mode = member.external_attr >> 16
        if member.is_dir() or stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: no type recorded, a plain file
            raise refuse(f"the member '{name}' is a link, folder or special file, not a regular file")
        total += member.file_size
        if member.file_size > MAX_RATIO * max(member.compress_size, 1 << 16) or total > MAX_BYTES:
            raise refuse(f"the member '{name}' unpacks to more than the size limits allow")
        roots.add(parts[0])
    if len(roots) != 1:
        raise refuse(f"its files are in {len(roots)} top folders, not one")
    # Each member's local header and data must end before the next begins: overlapping entries
    # (one stored byte range read under two names) are a zip-bomb trick, never a kdata release.
    spans = sorted(
        (m.header_offset, m.header_offset + 30 + len(m.orig_filename.encode()) + m.compress_size) for m in members
    )
    overlap = any(end > start for (_, end), (start, _) in itertools.pairwise(spans))
    if overlap or spans[-1][1] > archive.start_dir:
        raise refuse("its members overlap one another")
    return roots.pop(), members


def _check_bounds(path: Path, archive: zipfile.ZipFile, refuse: str) -> None:
    """The archive starts with its first member and ends with its directory: no bytes before or after."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(-22, 2)
        tail = handle.read(22)
    if head != b"PK\x03\x04" or tail[:4] != b"PK\x05\x06" or archive.comment:
        raise IntegrityError(
            f"{refuse}: it has bytes before its first member or after its directory. Nothing was extracted."
        )


def archive_manifest(archive_path: Path) -> dict[str, str]:
    """The sha256 of every member of a release archive, by file name, as its own ``SHA256SUMS`` lists them.

    ``SHA256SUMS`` itself is included, with the sha256 of its bytes in the archive. Read from an archive
    whose own sha256 was checked, this is what the unpacked files must match: nothing in the unpacked
    folder (its copy of ``SHA256SUMS`` included) is trusted.

    Raises:
        IntegrityError: The archive is unreadable, unsafe or its manifest does not list its members.
    """
    source = str(archive_path)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            root, members = _check_members(archive, source)
            manifest = archive.read(f"{root}/{MANIFEST}")
    except (zipfile.BadZipFile, KeyError, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise IntegrityError(f"{source} is not a readable release archive ({exc}).") from None
    try:
        sums = parse_sums(manifest.decode("utf-8"))
    except UnicodeDecodeError:
        raise IntegrityError(f"The {MANIFEST} of {source} is not UTF-8 text.") from None
    if set(sums) | {MANIFEST} != {PurePosixPath(m.filename).name for m in members}:
        raise IntegrityError(f"{source} does not match its manifest {MANIFEST}.")
    return {**sums, MANIFEST: sha256_bytes(manifest)}


def extract(archive_path: Path, target: Path, label: str | None = None) -> Path:
    """Unpack a release archive into ``target`` (a new folder), checking everything.

    Refused: names that are absolute, hold ``..``, backslashes or drive letters,
    or lie outside one top folder; links, folders and special files; duplicate
    names; archives past the size limits; members missing from ``SHA256SUMS``
    or not matching it. ``target`` is created and holds the package files.

    Args:
        archive_path: The archive to read.
        target: The folder to create and fill.
        label: How messages name the archive (default: its path).

    Raises:
        IntegrityError: The archive is unreadable, unsafe or does not match its manifest.
    """
    source = label or str(archive_path)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            root, members = _check_members(archive, source)
            _check_bounds(archive_path, archive, f"{source} is not a safe kdata release archive")
            sums = parse_sums(archive.read(f"{root}/{MANIFEST}").decode("utf-8"))
            listed = {f"{root}/{name}" for name in sums} | {f"{root}/{MANIFEST}"}
            if listed != {m.filename for m in members}:
                odd = sorted(listed ^ {m.filename for m in members})
                raise IntegrityError(
                    f"{source} does not match its manifest {MANIFEST}: {', '.join(odd)} listed on one side only. "
                    "The archive was altered; download it again."
                )
            target.mkdir(parents=True)
            for member in members:
                name = PurePosixPath(member.filename).name
                digest = hashlib.sha256()
                with archive.open(member) as src, open(target / name, "xb") as dst:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        digest.update(chunk)
                        dst.write(chunk)
                if name != MANIFEST and digest.hexdigest() != sums[name]:
                    raise IntegrityError(
                        f"{name} in {source} has sha256 {digest.hexdigest()}, expected {sums[name]} "
                        f"from its {MANIFEST}. The archive was altered; download it again."
                    )
    except (
        zipfile.BadZipFile,
        KeyError,
        EOFError,
        UnicodeDecodeError,
        zlib.error,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression method.
        raise IntegrityError(f"{source} is not a readable release archive ({exc}). Download it again.") from None
    return target
