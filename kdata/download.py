"""Fetch published versions into a local cache: verified, atomic, safe to run in parallel.

Cache layout (``$KDATA_CACHE_DIR``, else the user cache folder from platformdirs)::

    <cache>/kalbajar-0.1.0.zip    the archive, exactly as the registry describes it
    <cache>/0.1.0/                the unpacked package (datapackage.json, CSV, Parquet, SHA256SUMS)
    <cache>/.0.1.0.lock           held while a process fetches or replaces 0.1.0 (see kdata.fs)

The archive is streamed by pooch's ``HTTPDownloader`` into a temporary file
beside its target, stopped at the registry's size, and its sha256 checked
against the registry that ships with kdata; a bad file is deleted. We call the
downloader rather than ``pooch.retrieve`` because ``retrieve`` silently
downloads again when a cached file stops matching its hash, and we must report
that instead. Only then is the archive unpacked into a sibling folder, every
member checked, the package checked with ``kdata verify``; the archive and the
folder are renamed into place last, all under a per-version file lock, so a
refused archive leaves the cache as it was and two processes fetching the same
version leave one valid copy. A valid copy is recognised without the lock;
anything else is looked at again under it, so a process never mistakes a copy
that another one is replacing for a missing or damaged one. ``KDATA_OFFLINE=1``
makes every function here fail before any network access.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from kdata.errors import DownloadError, IntegrityError
from kdata.fs import ENV_CACHE, cache_dir, clear_staging, locked, sha256_file, staging_dir, swap_in, write_error
from kdata.release.registry import ENV_BASE_URL, Registry, Release, load_registry

ENV_OFFLINE = "KDATA_OFFLINE"
TIMEOUT = 30  # seconds without data before a download is given up


def offline() -> bool:
    """Whether ``KDATA_OFFLINE`` forbids network access."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in ("1", "true", "yes", "on")


def cache_problem(release: Release, cache: Path) -> str | None:
    """Why the cached copy of a release does not match the registry, or None if it does.

    The archive must have the registry's sha256, and every unpacked file the
    sha256 that the archive's manifest lists, with no file added or missing.
    """
    from kdata.release.archive import MANIFEST, parse_sums

    archive, folder = cache / release.file, cache / release.version
    if not archive.is_file():
        return f"the archive {archive} is missing"
    actual = sha256_file(archive)
    if actual != release.sha256:
        return f"the archive {archive} has sha256 {actual}, expected {release.sha256}"
    try:
        sums = parse_sums((folder / MANIFEST).read_text("utf-8"))
    except OSError:
        return f"{folder / MANIFEST} is missing"
    present = {p.name for p in folder.iterdir() if p.is_file()} - {MANIFEST}
    if present != set(sums):
        return f"{folder} holds {', '.join(sorted(present ^ set(sums)))} unlike its manifest"
    for name, want in sorted(sums.items()):
        have = sha256_file(folder / name)
        if have != want:
            return f"{folder / name} has sha256 {have}, expected {want}"
    return None


class _Progress:
    """The progress bar pooch's downloader drives (``total``, ``update``, ``reset``, ``close``), on stderr."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label, self.stream, self.total, self.done = label, stream, 0, 0

    def update(self, n: int) -> None:
        self.done = min(self.done + n, self.total) if self.total else self.done + n
        share = self.done / self.total if self.total else 0.0
        bar = "#" * int(30 * share)
        self.stream.write(f"\r{self.label} [{bar:<30}] {self.done / 1e6:6.2f} MB")
        self.stream.flush()

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class _Capped:
    """A file the downloader writes into that refuses to grow past the registry's size.

    A server (or a proxy) that sends more than the registry says cannot fill the disk:
    the download stops at the first byte too many.
    """

    def __init__(self, handle: BinaryIO, release: Release, url: str) -> None:
        self.handle, self.release, self.url, self.size = handle, release, url, 0

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self.release.bytes:
            raise IntegrityError(
                f"The file downloaded from {self.url} is larger than the registry says ({self.release.bytes} bytes); "
                "the download was stopped and nothing was cached. The server sends something else: "
                "try again later or use another base URL."
            )
        return self.handle.write(chunk)

    def flush(self) -> None:
        self.handle.flush()


def _download(url: str, release: Release, part: Path, progress: bool) -> None:
    """Stream ``url`` into ``part`` (at most the registry's size) and check its sha256."""
    import pooch
    import requests

    bar: Any = _Progress(f"Downloading {release.file}", sys.stderr) if progress else False
    try:
        with open(part, "wb") as handle:
            downloader = pooch.HTTPDownloader(progressbar=bar, chunk_size=1 << 16, timeout=TIMEOUT)
            downloader(url, _Capped(handle, release, url), None)
    except requests.RequestException as exc:
        raise DownloadError(
            f"Could not download {url}: {exc}. Check the network and the base URL "
            f"(set {ENV_BASE_URL} to the folder that holds the release archives), then try again."
        ) from None
    size, actual = part.stat().st_size, sha256_file(part)
    if actual != release.sha256:
        raise IntegrityError(
            f"The file downloaded from {url} does not match the registry: sha256 expected {release.sha256} "
            f"({release.bytes} bytes), actual {actual} ({size} bytes). It was deleted, not cached. "
            "The file on the server is truncated or altered; try again later or use another base URL."
        )


def _install(release: Release, cache: Path, part: Path | None) -> None:
    """Unpack a checked archive into a sibling folder, verify it, then move archive and folder into place.

    Args:
        release: The release being installed.
        cache: The cache folder.
        part: A freshly downloaded archive whose sha256 matched, or None to unpack the cached one.
    """
    from kdata.datapackage.verify import verify
    from kdata.release.archive import extract

    archive, folder = cache / release.file, cache / release.version
    stage = staging_dir(folder)
    try:
        shutil.rmtree(stage)
        extract(part or archive, stage, label=release.file)
        problems = verify(stage)
        if problems:
            raise IntegrityError(f"The package in {release.file} does not verify: {problems[0]}. Nothing was cached.")
        if part is not None:
            os.replace(part, archive)  # the archive first: a kill before the folder is in place is redone
        swap_in(stage, folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def fetch(
    version: str | None = None,
    *,
    registry: Registry | None = None,
    refresh: bool = False,
    progress: bool | None = None,
) -> Path:
    """The package folder of a published version, downloading it into the cache if needed.

    Args:
        version: A published version; None means the newest.
        registry: The registry to use; default: ``load_registry()``.
        refresh: Download again when the cached copy no longer matches the registry.
        progress: Show a progress bar; default: when stderr is a terminal.

    Returns:
        The unpacked, verified package folder in the cache.

    Raises:
        UsageError: The version is not published (the message lists those that are).
        IntegrityError: The cached copy no longer matches the registry (and ``refresh`` is off), or
            the downloaded archive does not match it.
        DownloadError: Offline, no base URL, or the download failed.
    """
    registry = registry or load_registry()
    release = registry.get(version)
    cache = cache_dir()
    folder = cache / release.version
    if not refresh and _valid_copy(release, cache):
        return folder  # the usual case, checked without the lock
    if offline() and not cache.is_dir():
        raise _offline_error(release, cache)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        # Anything but a valid copy is looked at again under the lock: another process may be fetching
        # the version, or replacing it (a refresh) right now, and the lock waits for it to finish.
        with locked(folder):
            problem = cache_problem(release, cache)
            if problem is None:
                return folder  # another process fetched it while we waited, or it was fine all along
            if folder.exists() and not refresh:
                raise IntegrityError(
                    f"The cached copy of version {release.version} no longer matches the registry: {problem}. "
                    f"It was left as it is; run `kdata download {release.version} --refresh` to fetch it again."
                )
            if offline():
                raise _offline_error(release, cache)
            url = registry.url(release)
            clear_staging(folder)  # left by killed downloads; ours are the only staging folders
            archive = cache / release.file
            if archive.is_file() and sha256_file(archive) == release.sha256:
                _install(release, cache, None)
            else:
                part = cache / f".{release.file}.{secrets.token_hex(4)}.part"
                try:
                    _download(url, release, part, sys.stderr.isatty() if progress is None else progress)
                    _install(release, cache, part)
                finally:
                    part.unlink(missing_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"Could not write to the cache {cache}: {write_error(exc)}. What was cached before is unchanged; "
            f"free some space, or set {ENV_CACHE} to a writable folder."
        ) from None
    return folder


def _valid_copy(release: Release, cache: Path) -> bool:
    """Whether the cached copy matches the registry, checked without the lock.

    A refresh in another process may be replacing the folder meanwhile: then this says False
    (never True falsely: every file is checked against the manifest), and ``fetch`` looks again
    under the lock, after the refresh.
    """
    try:
        return cache_problem(release, cache) is None
    except OSError:  # the folder vanished mid-check: a swap without renameat2 was under way
        return False


def _offline_error(release: Release, cache: Path) -> DownloadError:
    return DownloadError(
        f"Version {release.version} is not in the cache ({cache}) and {ENV_OFFLINE} forbids downloading it. "
        f"Unset {ENV_OFFLINE} and run `kdata download {release.version}` while online, "
        "or load the bundled data (version=None)."
    )
