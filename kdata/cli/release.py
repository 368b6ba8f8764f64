"""Commands about published versions: versions, download, cite, diff and release."""

from __future__ import annotations

import os
from pathlib import Path

import click

from kdata.errors import redact
from kdata.release.diff_format import FORMATS


@click.command(name="download")
@click.argument("version", required=False)
@click.option("--refresh", is_flag=True, help="Fetch again if the cached copy no longer matches the registry.")
def download_command(version: str | None, refresh: bool) -> None:
    """Fetch a published VERSION (default: newest) into the cache; print the folder on the last line."""
    from kdata.download import fetch

    click.echo(fetch(version, refresh=refresh))


def _bundled_version() -> str | None:
    from kdata.api import metadata

    try:
        return str(metadata()["version"])
    except Exception:  # no bundled package: nothing to mark
        return None


@click.command(name="versions")
def versions_command() -> None:
    """List the published versions; mark the bundled one, those in the cache and those in dist/releases/."""
    from kdata.download import local_archive
    from kdata.fs import cache_dir
    from kdata.release.registry import ENV_BASE_URL, load_registry

    registry = load_registry()
    bundled, cache = _bundled_version(), cache_dir()
    if not registry.releases:
        click.echo(f"No release is published yet (registry: {registry.path}).")
    for version in reversed(registry.versions()):
        release = registry.releases[version]
        found = (
            ("bundled", version == bundled),
            ("cached", (cache / version).is_dir()),
            ("in dist/releases", local_archive(release, warn=False) is not None),
        )
        marks = [m for m, on in found if on]
        note = f"  ({', '.join(marks)})" if marks else ""
        click.echo(f"{version}  {release.date or '':<10}  {release.file}  {release.bytes} bytes{note}")
    if bundled is not None and bundled not in registry.releases:
        click.echo(
            f"Bundled: {bundled}, not a release (a build between releases); pass version= to pin a published one."
        )
    where = redact(os.environ.get(ENV_BASE_URL) or registry.base_url or f"none known (set {ENV_BASE_URL})")
    click.echo(f"Base URL: {where}. Cache: {cache}.")


@click.command(name="cite")
@click.argument("version", required=False)
def cite_command(version: str | None) -> None:
    """Print how to cite VERSION (default: the bundled data, what kdata.load() reads), as plain text and BibTeX."""
    from kdata.api import metadata
    from kdata.datapackage.safety import printable_lines
    from kdata.release.cite import bibtex, citation, plain

    parts = citation(metadata(), version)
    click.echo(printable_lines(plain(parts)))
    click.echo()
    click.echo(printable_lines(bibtex(parts)))


@click.command(name="diff")
@click.argument("old")
@click.argument("new", default="dist")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    default="text",
    show_default=True,
    help="text; json; markdown (a pull-request summary); changelog (a draft CHANGELOG entry).",
)
def diff_command(old: str, new: str, fmt: str) -> None:
    """Compare OLD with NEW (default: dist): folders, .zip archives or versions; print the bump needed."""
    from kdata.api import open_package
    from kdata.datapackage.safety import printable_lines
    from kdata.release.diff import diff_packages

    with open_package(old) as old_dir, open_package(new) as new_dir:
        click.echo(printable_lines(FORMATS[fmt](diff_packages(old_dir, new_dir))))


@click.command(name="release")
@click.option(
    "--dist",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Built package folder to release.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the archive and SHA256SUMS (default: DIST/releases).",
)
@click.option(
    "--changelog",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("CHANGELOG.md"),
    show_default=True,
    help="Changelog that must have an entry for the version.",
)
@click.option(
    "--register", is_flag=True, help="Also record the release in the registry (maintainers, when publishing)."
)
@click.option(
    "--registered",
    is_flag=True,
    help="Refuse unless the registry already lists this version with exactly these bytes (the release workflow).",
)
@click.option("--tag", help="The git tag being released; refused unless it is v and the package's version.")
@click.option(
    "--base-url-from-github",
    is_flag=True,
    help="Set the registry's base URL to the releases of the GitHub repository the workflow runs in "
    "($GITHUB_SERVER_URL/$GITHUB_REPOSITORY/releases/download/v{version}/).",
)
def release_command(
    dist: Path,
    out: Path | None,
    changelog: Path,
    register: bool,
    registered: bool,
    tag: str | None,
    base_url_from_github: bool,
) -> None:
    """Write the reproducible release archive of the current version (zip + SHA256SUMS)."""
    from kdata.download import fetch
    from kdata.release.publish import make_release
    from kdata.release.registry import github_base_url, load_registry, with_base_url

    base_url = github_base_url() if base_url_from_github else None  # refused before anything is written
    result = make_release(dist, out, changelog, register, fetch, tag=tag, registered=registered)
    if base_url is not None:
        registry = with_base_url(load_registry(), base_url)
        click.echo(f"Base URL of {registry.path}: {redact(base_url)}")
    if result.previous:
        click.echo(f"Compared with {result.previous}: the changes need a {result.required} bump; the version has it.")
    rel = result.release
    click.echo(f"sha256 {rel.sha256}  {rel.bytes} bytes")
    if result.registered:
        click.echo(f"Registered {rel.version} in {load_registry().path}.")
    click.echo(f"Wrote {result.archive}")
