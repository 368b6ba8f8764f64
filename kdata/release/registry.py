"""The registry of published releases: version -> archive file, sha256 and bytes.

Like pooch's registry, it is committed and ships inside the package
(``kdata/registry.json``), so a download is checked against hashes that came
with the code, never against hashes served beside the file. The registry also
names the base URL where the archives are published; while none is known it is
``null`` and downloads say how to set ``KDATA_BASE_URL``. No URL is invented.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kdata.errors import DownloadError, ReleaseError, UsageError
from kdata.records.vocab import SEMVER_PATTERN

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
        """Where to download a release: ``$KDATA_BASE_URL`` or the registry's base URL.

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
        return base.rstrip("/") + "/" + release.file


def load_registry(path: Path | None = None) -> Registry:
    """Read a registry file: ``path``, else ``$KDATA_REGISTRY``, else the one shipped with kdata.

    Raises:
        UsageError: The file cannot be read or is not a registry.
    """
    path = path or Path(os.environ.get(ENV_REGISTRY) or REGISTRY_FILE)
    try:
        content: dict[str, Any] = json.loads(path.read_text("utf-8"))
        releases = {v: Release(version=v, **entry) for v, entry in content.get("releases", {}).items()}
        for version in releases:
            parse_version(version)
        return Registry(content.get("base_url"), releases, path)
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"Cannot read the release registry {path}: {exc}. Check the file or {ENV_REGISTRY}.") from None


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
    """``version`` raised by a bump ``level`` (``none`` leaves it as it is)."""
    major, minor, patch = parse_version(version)
    return {
        "major": f"{major + 1}.0.0",
        "minor": f"{major}.{minor + 1}.0",
        "patch": f"{major}.{minor}.{patch + 1}",
        "none": version,
    }[level]
