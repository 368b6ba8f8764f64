"""The registry of published releases: version -> archive file, sha256 and bytes.

Like pooch's registry, it is committed and ships inside the package
(``kdata/registry.json``), so a download is checked against hashes that came
with the code, never against hashes served beside the file. The registry also
names the base URL where the archives are published (``{version}`` in it stands for the
version); while none is known it is ``null`` and downloads say how to set ``KDATA_BASE_URL``.
The release workflow derives it from the repository it runs in (``github_base_url``); no URL is
typed by hand or invented.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kdata.errors import DownloadError, ReleaseError, UsageError
from kdata.records.vocab import DEV_SUFFIX, SEMVER_PATTERN

#: The registry that ships with kdata.
REGISTRY_FILE = Path(__file__).resolve().parent.parent / "registry.json"
#: Environment variables: another registry file (a mirror, tests) and the base URL to download from.
ENV_REGISTRY = "KDATA_REGISTRY"
ENV_BASE_URL = "KDATA_BASE_URL"
_SEMVER = re.compile(SEMVER_PATTERN)


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` -> ``(1, 2, 3)``.

    Raises:
        UsageError: The text is not a MAJOR.MINOR.PATCH version.
    """
    match = _SEMVER.fullmatch(text)  # fullmatch: "$" alone would let a final newline through
    if not match:
        raise UsageError(f"'{text}' is not a version; expected MAJOR.MINOR.PATCH, e.g. 0.1.0.")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def is_development(version: str) -> bool:
    """Whether ``version`` is a build between releases (``1.0.0-dev``: what will become 1.0.0)."""
    return version.endswith(DEV_SUFFIX)


def version_key(version: str) -> tuple[int, int, int, int]:
    """A key that orders released and development versions as SemVer does: 0.1.0 < 1.0.0-dev < 1.0.0.

    Raises:
        UsageError: The text is neither MAJOR.MINOR.PATCH nor that with ``-dev``.
    """
    release = version.removesuffix(DEV_SUFFIX)
    return (*parse_version(release), 0 if release != version else 1)


def is_version(text: str) -> bool:
    """Whether ``text`` looks like a MAJOR.MINOR.PATCH version."""
    return bool(_SEMVER.fullmatch(text))


@dataclass(frozen=True)
class Release:
    """One published release archive."""

    version: str
    file: str
    sha256: str
    bytes: int
    date: str | None = None


@dataclass(frozen=True)
class Registry:
    """Every published release, and where the archives are published."""

    base_url: str | None
    releases: dict[str, Release] = field(default_factory=dict)
    path: Path = REGISTRY_FILE

    def versions(self) -> list[str]:
        """Published versions, oldest first."""
        return sorted(self.releases, key=parse_version)

    def get(self, version: str | None = None) -> Release:
        """A release by version; ``None`` means the newest.

        Raises:
            UsageError: The version is not published (the message lists those that are).
        """
        if not self.releases:
            raise UsageError(f"No release is published yet (the registry {self.path} is empty).")
        if version is None:
            return self.releases[self.versions()[-1]]
        if version not in self.releases:
            raise UsageError(
                f"Version '{version}' is not published; the available versions are {', '.join(self.versions())}."
            )
        return self.releases[version]

    def previous(self, version: str) -> Release | None:
        """The newest published release older than ``version``, if any."""
        older = [v for v in self.versions() if parse_version(v) < parse_version(version)]
        return self.releases[older[-1]] if older else None

    def url(self, release: Release) -> str:
        """Where to download a release: ``$KDATA_BASE_URL`` or the registry's base URL, with its file name.

        A base URL may hold ``{version}``, replaced by the release's version (GitHub keeps each
        release's files under its own tag: ``.../releases/download/v{version}/``).

        Raises:
            DownloadError: No base URL is known.
        """
        base = os.environ.get(ENV_BASE_URL) or self.base_url
        if not base:
            raise DownloadError(
                f"No download location is known for {release.file}: the registry {self.path} has no base_url. "
                f"Set the environment variable {ENV_BASE_URL} to the URL of the folder that holds the release "
                "archives (the folder where kalbajar-X.Y.Z.zip files are published, or a mirror of it)."
            )
        return release_url(base, release)


def release_url(base: str, release: Release) -> str:
    """The URL of a release archive under ``base`` (``{version}`` in it replaced by the version).

    Raises:
        DownloadError: ``base`` has a query or a fragment: it names a folder, and the archive's name is appended.
    """
    if "://" in base and ("?" in base or "#" in base):  # a folder path may hold either
        raise DownloadError(  # named without them: a query or a fragment may carry a token
            f"The base URL {re.split('[?#]', base, maxsplit=1)[0]}… has a query ('?') or a fragment ('#'); it must name the folder of the archives "
            f"(the archive's name is appended to it). Check {ENV_BASE_URL} or the registry's base_url."
        )
    return base.replace(VERSION_FIELD, release.version).rstrip("/") + "/" + release.file


#: The placeholder a base URL may hold for the version.
VERSION_FIELD = "{version}"
#: Environment variables GitHub Actions sets: the server (https://github.com) and the repository (owner/name).
GITHUB_SERVER, GITHUB_REPOSITORY = "GITHUB_SERVER_URL", "GITHUB_REPOSITORY"
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_SERVER = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")


def github_base_url(environ: dict[str, str] | None = None) -> str:
    """The base URL of the release files of the GitHub repository a workflow runs in.

    ``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/releases/download/v{version}/``: where
    ``gh release upload`` puts the files of the release of tag ``v{version}``. Derived, never typed.

    Raises:
        ReleaseError: The variables are missing or malformed (not in a GitHub workflow).
    """
    env = os.environ if environ is None else environ
    server = env.get(GITHUB_SERVER, "https://github.com").rstrip("/")
    repository = env.get(GITHUB_REPOSITORY, "")
    if not _REPOSITORY.fullmatch(repository):
        raise ReleaseError(
            f"{GITHUB_REPOSITORY}={repository[:100]!r} is not a repository name like owner/name; "
            "--base-url-from-github works in a GitHub workflow, which sets it."
        )
    if not _SERVER.fullmatch(server):
        raise ReleaseError(f"{GITHUB_SERVER}={server[:100]!r} is not a server URL like https://github.com.")
    return f"{server}/{repository}/releases/download/v{VERSION_FIELD}/"


def with_base_url(registry: Registry, base_url: str) -> Registry:
    """Set the registry's base URL (the file replaced atomically); return the new registry."""
    from kdata.fs import atomic_write

    updated = Registry(base_url, registry.releases, registry.path)
    if base_url != registry.base_url:
        atomic_write(registry.path, registry_bytes(updated))
    return updated


#: A registry larger than this is refused unread (it lists a few hundred releases at most).
MAX_REGISTRY_BYTES = 1 << 20
#: What an archive's file name may be: one plain name, no folder, no "..", ending in .zip.
FILE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.zip$"


def _registry_bytes_of(path: Path) -> bytes:
    """The bytes of a registry file, refusing anything but a regular file of sane size.

    Opened without blocking, so a FIFO (or device) is refused instead of waiting for a writer.
    """
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if info.st_size > MAX_REGISTRY_BYTES:
            raise ValueError(f"it is {info.st_size} bytes, more than a registry's {MAX_REGISTRY_BYTES}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_REGISTRY_BYTES + 1)
    finally:
        os.close(fd)


#: What each field must hold, in plain words (pydantic would show the pattern).
_EXPECTED = {
    "file": "expected a plain archive name such as kalbajar-0.1.0.zip (no folder, no '..')",
    "sha256": "expected 64 lower-case hex digits",
    "bytes": "expected a whole number of bytes, at least 1",
    "date": "expected a date YYYY-MM-DD or null",
    "base_url": "expected a URL as text, or null",
}


@functools.cache
def _registry_model() -> Any:
    """The pydantic model of a registry file, built once (pydantic is imported only when a registry is read)."""
    from typing import Annotated

    import pydantic

    class _Entry(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(strict=True, extra="forbid")
        file: str = pydantic.Field(pattern=FILE_PATTERN, max_length=200)
        sha256: str = pydantic.Field(pattern=r"^[0-9a-f]{64}$")
        bytes: int = pydantic.Field(ge=1, le=1 << 40)
        date: str | None = pydantic.Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")

    class _File(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(strict=True, extra="forbid")
        base_url: str | None = pydantic.Field(default=None, max_length=2000)
        releases: dict[Annotated[str, pydantic.Field(pattern=SEMVER_PATTERN)], _Entry]

    return _File


def _problem(loc: tuple[int | str, ...], kind: str, msg: str) -> str:
    """One pydantic error in plain words: ``releases['0.1.0'].sha256: expected 64 lower-case hex digits``."""
    if loc and loc[-1] == "[key]":  # a key of "releases" that is not a version
        return f"{loc[-2]!r} is not a version (MAJOR.MINOR.PATCH)"
    where = "".join(f"[{part!r}]" if "." in str(part) else f".{part}" for part in loc).lstrip(".")
    field = str(loc[-1]) if loc and kind != "missing" else ""
    return f"{where or 'the top level'}: {_EXPECTED.get(field, msg)}"


def parse_registry(content: bytes, path: Path) -> Registry:
    """Validate a registry's bytes (the one check every reader goes through) and return it.

    The shape is a pydantic model in strict mode: an object with ``base_url`` (text or null) and
    ``releases`` mapping SemVer versions to ``file`` (a plain ``*.zip`` name), ``sha256`` (64 lower-case
    hex digits), ``bytes`` (a whole number from 1) and ``date`` (``YYYY-MM-DD`` or null).

    Raises:
        ValueError: The bytes are not such a registry (the message names the first problem).
    """
    import pydantic

    model = _registry_model()
    try:
        parsed: Any = model.model_validate_json(content.decode("utf-8"))
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False)
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ValueError(
            "; ".join(_problem(error["loc"], error["type"], error["msg"]) for error in errors[:3]) + more
        ) from None
    releases = {v: Release(version=v, **entry.model_dump()) for v, entry in parsed.releases.items()}
    return Registry(parsed.base_url, releases, path)


def load_registry(path: Path | None = None) -> Registry:
    """Read a registry file: ``path``, else ``$KDATA_REGISTRY``, else the one shipped with kdata.

    Every reader of a registry comes here, and through ``parse_registry``.

    Raises:
        UsageError: The file cannot be read or is not a registry (one line naming the first problem).
    """
    path = path or Path(os.environ.get(ENV_REGISTRY) or REGISTRY_FILE)
    try:
        return parse_registry(_registry_bytes_of(path), path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
    except UnicodeDecodeError:
        reason = "it is not UTF-8 text"
    except ValueError as exc:
        reason = str(exc)
    raise UsageError(f"Cannot read the release registry {path}: {reason}. Check the file or {ENV_REGISTRY}.")


def registry_bytes(registry: Registry) -> bytes:
    """The registry as kdata writes it: versions oldest first, indented, newline-terminated."""
    releases = {}
    for version in registry.versions():
        entry = asdict(registry.releases[version])
        del entry["version"]
        releases[version] = entry
    content = {"base_url": registry.base_url, "releases": releases}
    return (json.dumps(content, indent=2) + "\n").encode("utf-8")


def unpublished_or_same(registry: Registry, release: Release, source: str) -> Release | None:
    """The registered release of ``release.version``, or None; raise if it was published with other bytes.

    Raises:
        ReleaseError: The version is registered with another sha256 or size.
    """
    known = registry.releases.get(release.version)
    if known is not None and (known.sha256, known.bytes) != (release.sha256, release.bytes):
        raise ReleaseError(
            f"Version {release.version} is already published as sha256 {known.sha256} ({known.bytes} bytes), but "
            f"{source} gives sha256 {release.sha256} ({release.bytes} bytes). A published release never changes: "
            "bump the version in raw/package.yaml and rebuild."
        )
    return known


def add_release(registry: Registry, release: Release) -> Registry:
    """Record a release in the registry file (replaced atomically); return the new registry.

    Raises:
        ReleaseError: The version is already registered with a different archive.
    """
    from kdata.fs import atomic_write

    unpublished_or_same(registry, release, "the new archive")
    updated = Registry(registry.base_url, {**registry.releases, release.version: release}, registry.path)
    atomic_write(registry.path, registry_bytes(updated))
    return updated


#: Bump levels, smallest first.
LEVELS = ("none", "patch", "minor", "major")


def bump_of(old: str, new: str) -> str:
    """The bump from one version to the next: ``major``, ``minor``, ``patch``, ``none`` or ``downgrade``."""
    a, b = parse_version(old), parse_version(new)
    if b < a:
        return "downgrade"
    for level, x, y in zip(("major", "minor", "patch"), a, b, strict=True):
        if y > x:
            return level
    return "none"


def bumped(version: str, level: str) -> str:
    """``version`` raised by a bump ``level`` (``none`` leaves it as it is; a ``-dev`` version is raised from its release)."""
    major, minor, patch = parse_version(version.removesuffix(DEV_SUFFIX))
    return {
        "major": f"{major + 1}.0.0",
        "minor": f"{major}.{minor + 1}.0",
        "patch": f"{major}.{minor}.{patch + 1}",
        "none": version,
    }[level]
