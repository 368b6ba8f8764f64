"""The release policy: when a built package may become a published version, and making it one.

``make_release`` refuses a package that does not verify, a version without a
CHANGELOG entry, a bump smaller than the changes since the previous release
need (:mod:`kdata.release.diff`), and a version already published with other
bytes; then it writes the archive (:mod:`kdata.release.archive`) and, when
asked, records it in the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kdata.errors import ReleaseError
from kdata.fs import cache_scratch, sha256_bytes, sha256_file
from kdata.records.vocab import DEV_SUFFIX
from kdata.release.archive import MANIFEST, archive_bytes, descriptor_id, extract, sums_text
from kdata.release.registry import (
    LEVELS,
    Registry,
    Release,
    add_release,
    bump_of,
    is_development,
    load_registry,
    unpublished_or_same,
)

#: The largest changelog read (CHANGELOG.md is a few dozen KB).
MAX_CHANGELOG_BYTES = 16 << 20


def _changelog_text(changelog: Path) -> str | None:
    """The changelog's text; None where it is missing. Only a regular UTF-8 file is read (a FIFO never blocks).

    Raises:
        ReleaseError: It exists but is not a regular UTF-8 file within the size limit.
    """
    from kdata.fs import read_regular

    try:
        return read_regular(changelog, MAX_CHANGELOG_BYTES).decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"Cannot read the changelog {changelog}: {exc}.") from None


def changelog_has(changelog: Path, version: str) -> bool:
    """Whether the changelog has a ``## [version]`` entry."""
    text = _changelog_text(changelog)
    return text is not None and re.search(rf"^## \[{re.escape(version)}\]", text, re.MULTILINE) is not None


@dataclass(frozen=True)
class ReleaseResult:
    """What ``make_release`` wrote and checked."""

    archive: Path
    release: Release
    previous: str | None
    required: str
    registered: bool


def _check_bump(
    dist: Path, version: str, registry: Registry, out: Path, fetch: Callable[[str], Path] | None
) -> tuple[str | None, str]:
    """Compare with the previous release; raise when the version bump is too small."""
    from kdata.release.diff import diff_packages

    previous = registry.previous(version)
    if previous is None:
        return None, "none"
    local = out / previous.file
    with cache_scratch() as tmp:  # in the cache, not /tmp: a killed release's is deleted by the next command
        if local.is_file() and sha256_file(local) == previous.sha256:
            old = extract(local, tmp / "previous")
        elif fetch is not None:
            old = fetch(previous.version)
        else:
            raise ReleaseError(
                f"The previous release {previous.version} is not in {out}: put {previous.file} there "
                f"(`kdata download {previous.version}` fetches it) to compare the changes with it."
            )
        required = diff_packages(old, dist).bump
    made = bump_of(previous.version, version)
    if LEVELS.index(made if made in LEVELS else "none") < LEVELS.index(required):
        raise ReleaseError(
            f"Version {version} is a {made} bump over {previous.version}, but the changes need a {required} bump "
            f"(see `kdata diff {previous.version} {dist}`). Raise the version in raw/package.yaml and rebuild."
        )
    return previous.version, required


def make_release(
    dist: Path,
    out: Path | None = None,
    changelog: Path = Path("CHANGELOG.md"),
    register: bool = False,
    fetch: Callable[[str], Path] | None = None,
    *,
    tag: str | None = None,
    registered: bool = False,
) -> ReleaseResult:
    """Write the release archive of the package in ``dist`` to ``out`` (default ``dist/releases``).

    Refuses when the package does not verify, when the changelog has no entry
    for the version, when the version bump is smaller than the changes since
    the previous release need, or when the version is already published with
    different bytes.

    Args:
        dist: The built package folder.
        out: Where to write the archive and SHA256SUMS (default ``dist/releases``).
        changelog: The changelog that must have an entry for the version.
        register: Also record the release in the registry.
        fetch: Gives the package folder of a published version (e.g. :func:`kdata.download.fetch`),
            for the previous release when its archive is not in ``out``.
        tag: The git tag being released (``v`` and the version); refused when it names another version.
        registered: Refuse unless the registry already lists the version with exactly these bytes (the
            release workflow rebuilds, from the tagged commit, what the maintainer registered).

    Raises:
        ReleaseError: One of the refusals above.
    """
    from kdata.datapackage.verify import verify
    from kdata.fs import atomic_write

    out = out or dist / "releases"
    problems = verify(dist)
    if problems:
        raise ReleaseError(f"{dist} does not verify ({problems[0]}); run `kdata build` and `kdata verify` first.")
    version = descriptor_id(dist)["version"]
    if is_development(version):
        final = version.removesuffix(DEV_SUFFIX)
        raise ReleaseError(
            f"Version {version} is a build between releases, never released as it is. To release it, set "
            f"'version: {final}' in raw/package.yaml, add a '## [{final}] - YYYY-MM-DD' section to {changelog}, "
            "run `kdata build`, then `kdata release`."
        )
    if not changelog_has(changelog, version):
        raise ReleaseError(
            f"{changelog} has no entry for version {version}. Add a '## [{version}] - YYYY-MM-DD' section "
            "saying what changed (`kdata diff --format changelog` drafts one)."
        )
    if tag is not None and tag != f"v{version}":
        raise ReleaseError(
            f"The tag {tag!r} does not name version {version} of {dist}: a release is tagged 'v{version}'. "
            "Tag the commit whose raw/package.yaml has the version the tag names."
        )
    registry = load_registry()
    name, content = archive_bytes(dist)
    release = Release(version, name, sha256_bytes(content), len(content), _changelog_date(changelog, version))
    known = unpublished_or_same(registry, release, str(dist))
    if registered and known is None:
        raise ReleaseError(
            f"Version {version} is not in the registry {registry.path}. Run `kdata release --register`, "
            "commit the registry and dist/releases/, then tag that commit."
        )
    previous, required = (None, "none") if known else _check_bump(dist, version, registry, out, fetch)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / name, content)
    sums = {p.name: sha256_file(p) for p in sorted(out.glob("*.zip"))}
    atomic_write(out / MANIFEST, sums_text(sums).encode())
    if register and known is None:
        add_release(registry, release)
    return ReleaseResult(out / name, release, previous, required, register and known is None)


def _changelog_date(changelog: Path, version: str) -> str | None:
    match = re.search(
        rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d{{2}}-\d{{2}})", _changelog_text(changelog) or "", re.M
    )
    return match.group(1) if match else None
