"""Fetch published versions into a local cache: verified, atomic, safe to run in parallel.

Cache layout (``$KDATA_CACHE_DIR``, else the user cache folder from platformdirs)::

    <cache>/kalbajar-0.1.0.zip    the archive, exactly as the registry describes it
    <cache>/0.1.0/                the unpacked package (datapackage.json, CSV, Parquet, SHA256SUMS)
    <cache>/.0.1.0.lock           held while a process fetches or replaces 0.1.0 (see kdata.fs)

The archive is streamed from ``$KDATA_BASE_URL`` (else the registry's base URL): http(s)
through requests, or a folder path / ``file://`` URL (a mirror on disk) by plain reads; other
schemes are refused. Every source goes through one loop that writes into a temporary ``.part``
file beside its target, stops at the registry's size, gives up after
``KDATA_DOWNLOAD_TIMEOUT`` seconds in all, after ``KDATA_DOWNLOAD_WAIT`` seconds without a byte,
or when a ``KDATA_DOWNLOAD_WAIT`` span brings less than ``KDATA_DOWNLOAD_MIN_RATE`` bytes a
second; then the sha256 is checked against the registry that ships with kdata, and a bad file
is deleted. (pooch's ``HTTPDownloader`` has only requests' per-read timeout, which a server
sending a byte a second never trips, and ``pooch.retrieve`` silently downloads again when a
cached file stops matching, which we must report instead.) Only then is the archive unpacked
into a sibling folder, every member checked, the package checked with ``kdata verify``; the
archive and the folder are renamed into place last, all under a per-version file lock, so a
refused archive leaves the cache as it was and two processes fetching the same version leave
one valid copy. ``.part`` files and staging folders of killed processes are removed by the next
fetch of that version, under the lock.

Trust comes from the registry alone (``cache_problem``): a cached copy is valid only if the
archive has the registry's sha256 and every unpacked file matches the manifest read from that
verified archive. Nothing in the writable cache vouches for itself. A valid copy is recognised
without the lock; anything else is looked at again under it, so a process never mistakes a copy
that another one is replacing for a missing or damaged one. ``KDATA_OFFLINE=1`` makes every
function here fail before any network access.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

from kdata import settings
from kdata.errors import DownloadError, IntegrityError
from kdata.fs import ENV_CACHE, cache_dir, clear_staging, locked, sha256_file, staging_dir, swap_in, write_error
from kdata.release.registry import ENV_BASE_URL, Registry, Release, load_registry

ENV_OFFLINE = "KDATA_OFFLINE"
#: Numeric settings (kdata.settings): a download's deadline, its wait for bytes, its minimum rate.
ENV_TIMEOUT, ENV_WAIT, ENV_MIN_RATE = "KDATA_DOWNLOAD_TIMEOUT", "KDATA_DOWNLOAD_WAIT", "KDATA_DOWNLOAD_MIN_RATE"


def offline() -> bool:
    """Whether ``KDATA_OFFLINE`` forbids network access (a value it does not know raises ``UsageError``)."""
    return settings.switch(ENV_OFFLINE)


def cache_problem(release: Release, cache: Path) -> str | None:
    """Why the cached copy of a release does not match the registry, or None if it does.

    Trust comes from the registry alone, never from a file in the writable cache: the archive must
    have the registry's sha256, and the unpacked folder must be a real folder holding exactly the
    archive's members, each a regular file (no link) whose sha256 is the one the manifest *inside
    the verified archive* lists (``SHA256SUMS`` too, by the sha256 of its bytes in the archive).
    """
    from kdata.release.archive import archive_manifest

    archive, folder = cache / release.file, cache / release.version
    try:
        if not archive.is_file():
            return f"the archive {archive} is missing"
        actual = sha256_file(archive)
        if actual != release.sha256:
            return f"the archive {archive} has sha256 {actual}, expected {release.sha256}"
        expected = archive_manifest(archive)
        if folder.is_symlink() or not folder.is_dir():
            return f"{folder} is {'a link' if folder.is_symlink() else 'not a folder'}"
        entries = {entry.name: entry for entry in os.scandir(folder)}
        odd = sorted(set(entries) ^ set(expected))
        if odd:
            shown = ", ".join(repr(name) for name in odd[:5]) + (f" and {len(odd) - 5} more" if len(odd) > 5 else "")
            return f"{folder} holds {shown} unlike its archive (added or missing)"
        for name, want in sorted(expected.items()):
            if not entries[name].is_file(follow_symlinks=False):
                return f"{folder / name} is a link or special file, not a regular file"
            have = sha256_file(folder / name)
            if have != want:
                return f"{folder / name} has sha256 {have}, expected {want}"
    except IntegrityError as exc:
        return str(exc)
    except OSError as exc:
        return f"{exc.filename or folder} cannot be read ({exc.strerror or exc})"
    return None


class _Progress:
    """A progress bar on stderr: ``update(n)`` per chunk, ``close()`` at the end."""

    def __init__(self, label: str, stream: TextIO, total: int) -> None:
        self.label, self.stream, self.total, self.done = label, stream, total, 0

    def update(self, n: int) -> None:
        self.done = min(self.done + n, self.total)
        bar = "#" * int(30 * self.done / max(self.total, 1))
        self.stream.write(f"\r{self.label} [{bar:<30}] {self.done / 1e6:6.2f} MB")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


#: A source: a function that returns the next bytes (b"" at the end), and the size it announces (or None).
_Source = tuple[Callable[[], bytes], "int | None"]


@contextmanager
def _http(url: str, wait: int) -> Iterator[_Source]:
    """Read an http(s) URL with requests, waiting at most ``wait`` s for the connection and for each read.

    ``read1`` returns as soon as any bytes arrive (plain ``read`` and requests' ``iter_content`` wait for
    a whole chunk), so the caller sees a trickling server often enough to hold it to a deadline and a
    rate; pooch's downloader has only requests' per-read timeout, which a trickle never trips.
    """
    import threading

    import requests

    # requests' timeouts bound each socket read, so a server sending its headers a byte a second would
    # hold the request forever: the request runs in a thread, and the headers get 2 x wait in all
    # (a connection, then the response). An abandoned request closes its response when it comes.
    box: dict[str, Any] = {}

    def request() -> None:
        try:
            box["response"] = requests.get(
                url, stream=True, timeout=(wait, wait), headers={"Accept-Encoding": "identity"}
            )
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        if box.get("abandoned") and "response" in box:
            box["response"].close()

    thread = threading.Thread(target=request, name="kdata-download", daemon=True)
    thread.start()
    thread.join(2 * wait)
    if thread.is_alive():
        box["abandoned"] = True
        raise requests.Timeout(f"no complete response headers within {2 * wait} s")
    if "error" in box:
        raise box["error"]
    with box["response"] as response:
        response.raise_for_status()
        length = response.headers.get("Content-Length", "")
        # read1 exists from urllib3 2.3; before it, small reads bound how long a trickle goes unseen.
        read1 = getattr(response.raw, "read1", None) or (lambda amt: response.raw.read(min(amt, 1 << 10)))
        yield (lambda: read1(1 << 16)), int(length) if length.isascii() and length.isdigit() else None


@contextmanager
def _local(path: Path) -> Iterator[_Source]:
    """Read a file from a folder (a mirror on disk); opened without blocking, so a FIFO is refused, not waited on."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DownloadError(f"{path} is not a regular file; {ENV_BASE_URL} must name the folder of the archives.")
        yield (lambda: handle.read(1 << 16)), info.st_size


def _file_url(url: str) -> Path:
    """The path of a ``file://`` URL (only on this machine: no host, or ``localhost``)."""
    from urllib.parse import unquote, urlsplit
    from urllib.request import url2pathname

    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise DownloadError(f"{url} names the host '{parts.netloc}'; a file:// URL must be on this machine.")
    return Path(url2pathname(unquote(parts.path)))


#: How each kind of location is opened, by URL scheme ("": a folder path).
_OPENERS: dict[str, Callable[[str, int], AbstractContextManager[_Source]]] = {
    "http": _http,
    "https": _http,
    "file": lambda url, wait: _local(_file_url(url)),
    "": lambda url, wait: _local(Path(url)),
}


def _scheme(url: str) -> str:
    """The scheme of a location, lower-case; "" for a folder path (a Windows drive letter included)."""
    from urllib.parse import urlsplit

    scheme = urlsplit(url).scheme.lower()
    return "" if len(scheme) <= 1 else scheme


def _download(url: str, release: Release, part: Path, progress: bool) -> None:
    """Copy ``url`` into ``part``: at most the registry's size, within the deadline and minimum rate; check its sha256.

    Raises:
        DownloadError: The location cannot be read, is too slow, or the deadline passed.
        IntegrityError: The file is not the registry's (size announced or sent, or sha256).
    """
    import requests
    import urllib3

    try:
        scheme = _scheme(url)
    except ValueError as exc:  # urlsplit: "Invalid IPv6 URL" and the like
        raise DownloadError(f"Cannot download from {url[:200]!r}: {exc}. Check {ENV_BASE_URL}.") from None
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise DownloadError(f"Cannot download from {url[:200]!r}: it holds control characters. Check {ENV_BASE_URL}.")
    if scheme not in _OPENERS:
        raise DownloadError(
            f"Cannot download from {url[:200]}: the scheme '{scheme}:' is not supported. Set {ENV_BASE_URL} "
            "to an http://, https:// or file:// URL, or to a folder path."
        )
    deadline, wait, rate = (settings.number(name) for name in (ENV_TIMEOUT, ENV_WAIT, ENV_MIN_RATE))
    failed = (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError)  # ValueError: a bad port

    def gave_up(why: str) -> DownloadError:
        return DownloadError(
            f"Could not download {url}: {why}. Nothing was cached; check the network and the base URL "
            f"(set {ENV_BASE_URL} to the folder that holds the release archives), then try again."
        )

    bar = _Progress(f"Downloading {release.file}", sys.stderr, release.bytes) if progress else None
    start = window = time.monotonic()
    received = in_window = 0
    try:
        with ExitStack() as stack:
            try:
                read, announced = stack.enter_context(_OPENERS[scheme](url, wait))
            except failed as exc:  # opening the location; the reads are mapped in _read, writes go to fetch
                raise gave_up(_reason(exc)) from None
            handle = stack.enter_context(open(part, "wb"))
            if announced is not None and announced > release.bytes:  # a shorter one fails the sha256 check below
                raise IntegrityError(
                    f"{url} is {announced} bytes long, larger than the registry says ({release.bytes} bytes); "
                    "nothing was downloaded or cached. The server holds another file: "
                    "try again later or use another base URL."
                )
            while chunk := _read(read, failed, gave_up):
                received += len(chunk)
                if received > release.bytes:
                    raise IntegrityError(
                        f"The file downloaded from {url} is larger than the registry says ({release.bytes} bytes); "
                        "the download was stopped and nothing was cached. The server sends something else: "
                        "try again later or use another base URL."
                    )
                handle.write(chunk)
                if bar:
                    bar.update(len(chunk))
                now, in_window = time.monotonic(), in_window + len(chunk)
                if now - start > deadline:
                    raise gave_up(f"it took longer than {deadline} s ({ENV_TIMEOUT})")
                if now - window >= wait:
                    if in_window < rate * (now - window):
                        raise gave_up(
                            f"it slowed to {in_window / (now - window):.0f} bytes/s, below the minimum of {rate} "
                            f"({ENV_MIN_RATE}, averaged over {ENV_WAIT}={wait} s)"
                        )
                    window, in_window = now, 0
    finally:
        if bar:
            bar.close()
    size, actual = part.stat().st_size, sha256_file(part)
    if actual != release.sha256:
        raise IntegrityError(
            f"The file downloaded from {url} does not match the registry: sha256 expected {release.sha256} "
            f"({release.bytes} bytes), actual {actual} ({size} bytes). It was deleted, not cached. "
            "The file on the server is truncated or altered; try again later or use another base URL."
        )


def _read(read: Callable[[], bytes], failed: tuple[type[Exception], ...], gave_up: Callable[[str], Exception]) -> bytes:
    """The next bytes from a source; a failed read (timeout, connection closed mid-body) becomes a DownloadError."""
    try:
        return read()
    except failed as exc:
        raise gave_up(_reason(exc)) from None


def _reason(exc: BaseException) -> str:
    """An exception in one line, without a trailing full stop."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return " ".join(text.split()).rstrip(".")


def _clear_way(folder: Path) -> None:
    """Make room for a fresh copy at ``folder``: remove a file or link there, make a locked-up folder removable."""
    if folder.is_symlink() or (os.path.lexists(folder) and not folder.is_dir()):
        folder.unlink()  # the link only, never what it points to
    elif folder.is_dir() and not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        folder.chmod(0o700)  # e.g. chmod 000: the swap must list and delete what it replaces


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
        _clear_way(folder)
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
    if os.path.lexists(cache) and not cache.is_dir():
        raise DownloadError(f"The cache {cache} is a file, not a folder; move it away, or set {ENV_CACHE} to a folder.")
    if not refresh and not _leftovers(release, cache) and _valid_copy(release, cache):
        return folder  # the usual case, checked without the lock
    if offline() and not cache.is_dir():
        raise _offline_error(release, cache)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        # Anything but a valid copy is looked at again under the lock: another process may be fetching
        # the version, or replacing it (a refresh) right now, and the lock waits for it to finish.
        with locked(folder):
            for left in _leftovers(release, cache):  # of killed processes: only the lock holder writes these
                if left.suffix == ".part":
                    left.unlink(missing_ok=True)
            clear_staging(folder)  # the half-unpacked folders
            problem = cache_problem(release, cache)
            if problem is None:
                return folder  # another process fetched it while we waited, or it was fine all along
            if os.path.lexists(folder) and not refresh:
                raise IntegrityError(
                    f"The cached copy of version {release.version} no longer matches the registry: {problem}. "
                    f"It was left as it is; run `kdata download {release.version} --refresh` to fetch it again."
                )
            archive = cache / release.file
            if archive.is_file() and not archive.is_symlink() and sha256_file(archive) == release.sha256:
                _install(release, cache, None)  # the archive is the registry's: only the folder was damaged
            elif offline():  # the network is needed only from here on
                raise _offline_error(release, cache)
            else:
                url = registry.url(release)
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


def _leftovers(release: Release, cache: Path) -> list[Path]:
    """Partial downloads of ``release``, and its half-unpacked folders, that killed processes left in the cache.

    The staging folders are named by ``kdata.fs.staging_dir`` (``.0.1.0-new-X``); ``fetch`` deletes
    them through ``clear_staging``, and lists them here only to know that it must take the lock.
    """
    try:
        return sorted([*cache.glob(f".{release.file}.*.part"), *cache.glob(f".{release.version}-new-*")])
    except OSError:
        return []


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
