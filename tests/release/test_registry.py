"""kdata.release.registry: versions, bumps, and the committed registry of published archives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kdata.errors import DownloadError, ReleaseError, UsageError
from kdata.release.registry import (
    ENV_BASE_URL,
    ENV_REGISTRY,
    LEVELS,
    REGISTRY_FILE,
    Registry,
    Release,
    add_release,
    bump_of,
    bumped,
    is_version,
    load_registry,
    parse_version,
    registry_bytes,
)


def release(version: str, sha: str = "a", size: int = 100, date: str | None = "2026-11-23") -> Release:
    return Release(version, f"kalbajar-{version}.zip", sha * 64, size, date)


def registry_at(path: Path, *versions: str, base_url: str | None = None) -> Registry:
    """A registry file at ``path`` holding ``versions``, read back through load_registry."""
    path.write_bytes(registry_bytes(Registry(base_url, {v: release(v) for v in versions}, path)))
    return load_registry(path)


@pytest.mark.parametrize(
    ("text", "parts"), [("0.1.0", (0, 1, 0)), ("1.2.3", (1, 2, 3)), ("10.0.20", (10, 0, 20)), ("0.0.0", (0, 0, 0))]
)
def test_parse_version_gives_three_numbers(text: str, parts: tuple[int, int, int]) -> None:
    assert parse_version(text) == parts and is_version(text)


@pytest.mark.parametrize("text", ["1.0", "v1.0.0", "1.0.0-rc1", "01.0.0", "1.0.0.0", "", "latest", "1.0.0\n", " 1.0.0"])
def test_parse_version_refuses_what_is_not_major_minor_patch(text: str) -> None:
    assert not is_version(text)
    with pytest.raises(UsageError) as caught:
        parse_version(text)
    assert str(caught.value) == f"'{text}' is not a version; expected MAJOR.MINOR.PATCH, e.g. 0.1.0."


@pytest.mark.parametrize(
    ("old", "new", "level"),
    [
        ("0.1.0", "0.1.0", "none"),
        ("0.1.0", "0.1.1", "patch"),
        ("0.1.9", "0.2.0", "minor"),
        ("0.9.9", "1.0.0", "major"),
        ("1.0.0", "1.2.5", "minor"),  # the largest part that rises decides
        ("0.9.0", "0.10.0", "minor"),  # numbers, not text: 10 > 9
        ("0.2.0", "0.1.5", "downgrade"),
        ("1.0.0", "0.9.9", "downgrade"),
    ],
)
def test_bump_of_names_the_largest_part_raised(old: str, new: str, level: str) -> None:
    assert bump_of(old, new) == level


def test_bumped_raises_a_version_by_each_level_and_levels_run_smallest_first() -> None:
    assert LEVELS == ("none", "patch", "minor", "major")
    assert [bumped("1.4.7", level) for level in LEVELS] == ["1.4.7", "1.4.8", "1.5.0", "2.0.0"]
    for level in LEVELS[1:]:
        assert bump_of("1.4.7", bumped("1.4.7", level)) == level  # the two agree


def test_get_and_previous_follow_version_order_not_text_order(tmp_path: Path) -> None:
    registry = registry_at(tmp_path / "registry.json", "0.10.0", "0.2.0", "0.9.1", "0.1.0")
    assert registry.versions() == ["0.1.0", "0.2.0", "0.9.1", "0.10.0"]
    assert registry.get().version == "0.10.0"  # the newest
    assert registry.get("0.2.0") == release("0.2.0")
    assert registry.previous("0.10.0") == release("0.9.1")
    assert registry.previous("0.5.0") == release("0.2.0")  # unpublished versions have a previous one too
    assert registry.previous("0.1.0") is None
    with pytest.raises(UsageError) as caught:
        registry.get("0.3.0")
    assert (
        str(caught.value) == "Version '0.3.0' is not published; the available versions are 0.1.0, 0.2.0, 0.9.1, 0.10.0."
    )
    with pytest.raises(UsageError, match="No release is published yet"):
        Registry(None, {}, tmp_path / "empty.json").get()


def test_url_comes_from_the_environment_else_the_registry_and_is_never_invented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_BASE_URL, raising=False)
    published = registry_at(tmp_path / "a.json", "0.1.0", base_url="https://example.org/releases/")
    assert published.url(release("0.1.0")) == "https://example.org/releases/kalbajar-0.1.0.zip"
    unknown = registry_at(tmp_path / "b.json", "0.1.0")
    with pytest.raises(DownloadError) as caught:
        unknown.url(release("0.1.0"))
    assert "kalbajar-0.1.0.zip" in str(caught.value) and ENV_BASE_URL in str(caught.value)
    monkeypatch.setenv(ENV_BASE_URL, "http://mirror.test/kdata")
    assert unknown.url(release("0.1.0")) == "http://mirror.test/kdata/kalbajar-0.1.0.zip"
    assert published.url(release("0.1.0")) == "http://mirror.test/kdata/kalbajar-0.1.0.zip"  # the mirror wins


def test_load_registry_reads_the_given_file_else_the_environments_else_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_REGISTRY, raising=False)
    shipped = load_registry()
    assert shipped.path == REGISTRY_FILE
    assert shipped.versions() == sorted(json.loads(REGISTRY_FILE.read_text())["releases"], key=parse_version)
    mirror = registry_at(tmp_path / "mirror.json", "0.3.0")
    monkeypatch.setenv(ENV_REGISTRY, str(mirror.path))
    assert load_registry().versions() == ["0.3.0"]
    other = registry_at(tmp_path / "other.json", "0.4.0")
    assert load_registry(other.path).versions() == ["0.4.0"]  # an explicit path beats the environment


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "No such file"),
        ("{", "Invalid JSON"),
        ('{"releases": {"0.1.0": {"file": "k.zip", "sha256": "x", "bytes": 1, "size": 2}}}', "size"),
        ('{"releases": {"0.1.0": {"file": "k.zip"}}}', "sha256"),
    ],
)
def test_load_registry_refuses_a_broken_file_naming_it(tmp_path: Path, content: str | None, says: str) -> None:
    path = tmp_path / "registry.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert message.startswith(f"Cannot read the release registry {path}: ") and says in message
    assert message.endswith(f"Check the file or {ENV_REGISTRY}.")


def test_load_registry_refuses_a_release_that_is_not_a_version(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text('{"base_url": null, "releases": {"v1": {"file": "k.zip", "sha256": "x", "bytes": 1}}}')
    with pytest.raises(UsageError, match="'v1' is not a version"):
        load_registry(path)


def test_add_release_writes_the_registry_and_refuses_other_bytes_for_a_published_version(tmp_path: Path) -> None:
    registry = registry_at(tmp_path / "registry.json", "0.1.0")
    updated = add_release(registry, release("0.2.0", sha="b", size=200, date=None))
    assert load_registry(registry.path) == updated
    assert updated.get().version == "0.2.0" and updated.get("0.2.0").date is None
    assert registry.path.read_bytes() == registry_bytes(updated)
    assert list(json.loads(registry.path.read_text())["releases"]) == ["0.1.0", "0.2.0"]  # oldest first
    before = registry.path.read_bytes()
    assert add_release(updated, release("0.2.0", sha="b", size=200, date=None)) == updated  # the same archive again
    for other in (release("0.2.0", sha="c", size=200), release("0.2.0", sha="b", size=201)):
        with pytest.raises(ReleaseError) as caught:
            add_release(updated, other)
        assert "Version 0.2.0 is already published as sha256 " + "b" * 64 + " (200 bytes)" in str(caught.value)
        assert "bump the version" in str(caught.value)
    assert registry.path.read_bytes() == before  # a refused release leaves the file as it was
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]  # no temporary file left behind
