"""Fetch published versions into a local cache: verified, atomic, safe to run in parallel.

Cache layout (``$KDATA_CACHE_DIR``, else the user cache folder from platformdirs)::

    <cache>/kalbajar-0.1.0.zip    the archive, exactly as the registry describes it
    <cache>/0.1.0/                the unpacked package (datapackage.json, CSV, Parquet, SHA256SUMS)
    <cache>/.0.1.0.lock           held while a process fetches or replaces 0.1.0 (see kdata.fs)

The archive comes from the first of: an archive of the registry's sha256 in ``dist/releases/``
(``local_releases``: the working folder's, then the source checkout's; one with other bytes is
named on stderr and never used), else ``$KDATA_BASE_URL`` or the registry's base URL, copied by
:mod:`kdata.download.transfer` (http(s) with retries, ``file://`` or a folder; deadline, minimum
rate, size cap, sha256) into a temporary ``.part`` file beside its target. Only then is the
archive unpacked into a sibling folder, every member checked, the package checked with
``kdata verify``; the archive and the folder are renamed into place last, all under a
per-version file lock, so a refused archive leaves the cache as it was and two processes
fetching the same version leave one valid copy. ``.part`` files and staging folders of killed
processes are removed by the next fetch of that version, under the lock.

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
import sys
from pathlib import Path

from kdata import settings
from kdata.download.transfer import (
    ENV_MIN_RATE,
    ENV_RETRIES,
    ENV_TIMEOUT,
    ENV_WAIT,
    download,
    progress_bar,
    show_progress,
)
from kdata.errors import DownloadError, IntegrityError
from kdata.fs import ENV_CACHE, cache_dir, clear_staging, locked, sha256_file, staging_dir, swap_in, write_error
from kdata.release.registry import Registry, Release, load_registry

__all__ = [
    "ENV_MIN_RATE",
    "ENV_OFFLINE",
    "ENV_RETRIES",
    "ENV_TIMEOUT",
    "ENV_WAIT",
    "cache_problem",
    "download",
    "fetch",
    "local_archive",
    "local_releases",
    "offline",
    "progress_bar",
    "show_progress",
]

ENV_OFFLINE = "KDATA_OFFLINE"


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
        progress: Show a progress bar; default: when stderr is a terminal, or in a Jupyter kernel.

    Returns:
        The unpacked, verified package folder in the cache.

    Raises:
        UsageError: The version is not published (the message lists those that are), or a KDATA_* variable
            is set to a value it does not allow.
        IntegrityError: The cached copy no longer matches the registry (and ``refresh`` is off), or
            the downloaded archive does not match it.
        DownloadError: Offline, no base URL, or the download failed.
    """
    settings.check()  # a bad KDATA_* value stops a cached load too, not only the download that reads it
    registry = registry or load_registry()
    release = registry.get(version)
    cache = cache_dir()
    folder = cache / release.version
    if os.path.lexists(cache) and not cache.is_dir():
        raise DownloadError(f"The cache {cache} is a file, not a folder; move it away, or set {ENV_CACHE} to a folder.")
    if not refresh and not _leftovers(release, cache) and _valid_copy(release, cache):
        return folder  # the usual case, checked without the lock
    if offline() and not cache.is_dir() and not _local_candidates(release):
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
            else:
                local = local_archive(release)
                if local is None and offline():  # the network is needed only from here on
                    raise _offline_error(release, cache)
                url = str(local) if local else registry.url(release)
                part = cache / f".{release.file}.{secrets.token_hex(4)}.part"
                try:
                    download(url, release, part, local is None and show_progress(progress))
                    _install(release, cache, part)
                finally:
                    part.unlink(missing_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"Could not write to the cache {cache}: {write_error(exc)}. What was cached before is unchanged; "
            f"free some space, or set {ENV_CACHE} to a writable folder."
        ) from None
    return folder


def local_releases() -> list[Path]:
    """Folders searched for a release archive before the network, in order (those that exist).

    ``dist/releases/`` of the working folder, where `kdata release` writes, then that of the source
    checkout kdata runs from (none for an installed wheel). An archive there is used only when its
    sha256 is the registry's.
    """
    code = Path(__file__).resolve().parents[2]  # kdata/download/__init__.py -> the checkout
    folders = [Path("dist") / "releases"]
    if (code / "pyproject.toml").is_file():
        folders.append(code / "dist" / "releases")
    unique: dict[Path, Path] = {}
    for folder in folders:
        try:
            if folder.is_dir():
                unique.setdefault(folder.resolve(), folder.absolute())
        except OSError:
            continue
    return list(unique.values())


def _local_candidates(release: Release) -> list[Path]:
    """The archives named like ``release`` in the local release folders (not yet checked)."""
    found = []
    for folder in local_releases():
        path = folder / release.file
        try:
            if path.is_file():
                found.append(path)
        except OSError:
            continue
    return found


def local_archive(release: Release, warn: bool = True) -> Path | None:
    """The first archive of ``release`` in the local release folders whose sha256 is the registry's, or None.

    Each archive of that name with other bytes is never used, and (``warn``) named in one line on stderr.
    """
    for path in _local_candidates(release):
        try:
            actual = sha256_file(path)
        except OSError as exc:
            if warn:
                sys.stderr.write(f"Not using {path}: it cannot be read ({exc.strerror or exc}).\n")
            continue
        if actual == release.sha256:
            return path
        if warn:
            sys.stderr.write(
                f"Not using {path}: its sha256 is {actual}, but the registry's {release.version} is {release.sha256} "
                f"({release.bytes} bytes).\n"
            )
    return None


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
