"""kdata.release.cite: a citation names the exact archive of a version, from the package's own metadata."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from kdata.errors import UsageError
from kdata.release.cite import bibtex, citation, plain
from kdata.release.registry import ENV_REGISTRY

SHA = "0bc85196340cdaa490caea9385e96ec69ab4f9f62dc57e012355fddbccbdbd3f"


def meta(version: str = "0.2.0", **fields: Any) -> dict[str, Any]:
    """A package descriptor as the build writes it (only the parts a citation reads)."""
    return {
        "name": "kalbajar",
        "title": "Kalbajar: a cited record of events, figures, places and actors",
        "version": version,
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "CC BY"}],
        "contributors": [{"title": "kdata maintainers", "roles": ["creator"]}],
        **fields,
    }


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry with 0.1.0 (dated) and 0.1.1 (undated) published, used through $KDATA_REGISTRY."""
    path = tmp_path / "registry.json"
    releases = {
        "0.1.0": {"file": "kalbajar-0.1.0.zip", "sha256": SHA, "bytes": 86748, "date": "2026-11-23"},
        "0.1.1": {"file": "kalbajar-0.1.1.zip", "sha256": "f" * 64, "bytes": 86750, "date": "2027-01-05"},
    }
    path.write_text(json.dumps({"base_url": "https://example.org/kdata/", "releases": releases}))
    monkeypatch.setenv(ENV_REGISTRY, str(path))
    return path


def test_a_published_version_is_cited_with_its_archive_date_and_hash(registry: Path) -> None:
    c = citation(meta(), "0.1.0")
    assert c == {
        "key": "kalbajar_0_1_0",
        "authors": "kdata maintainers",
        "title": "Kalbajar: a cited record of events, figures, places and actors",
        "version": "0.1.0",
        "year": "2026",
        "date": "2026-11-23",
        "license": "CC-BY-4.0",
        "file": "kalbajar-0.1.0.zip",
        "sha256": SHA,
        "url": "https://example.org/kdata/kalbajar-0.1.0.zip",  # the registry's base URL and the archive
    }
    assert plain(c) == (
        "kdata maintainers (2026). Kalbajar: a cited record of events, figures, places and actors (Version 0.1.0) "
        f"[Data set]. Licence CC-BY-4.0. Archive kalbajar-0.1.0.zip, sha256 {SHA}. "
        "https://example.org/kdata/kalbajar-0.1.0.zip"
    )


def test_the_default_is_the_newest_published_version(registry: Path) -> None:
    c = citation(meta("0.2.0"))
    assert (c["version"], c["file"], c["year"]) == ("0.1.1", "kalbajar-0.1.1.zip", "2027")


def test_an_unreleased_bundled_version_says_so_and_names_no_archive(registry: Path) -> None:
    c = citation(meta("0.2.0"), "0.2.0")
    assert (c["file"], c["sha256"], c["date"], c["url"]) == ("", "", "", "")
    assert c["year"] == str(datetime.date.today().year)
    assert plain(c).endswith("[Data set]. Licence CC-BY-4.0. Unreleased version.")
    assert "archive" not in bibtex(c) and "url =" not in bibtex(c)


def test_a_version_neither_published_nor_bundled_is_refused_with_the_list(registry: Path) -> None:
    with pytest.raises(UsageError) as caught:
        citation(meta("0.2.0"), "0.3.0")
    assert str(caught.value) == "Version '0.3.0' is not published; the available versions are 0.1.0, 0.1.1."


def test_the_homepage_is_the_url_and_no_url_is_made_up(registry: Path) -> None:
    assert citation(meta(homepage="https://kdata.example"), "0.1.0")["url"] == "https://kdata.example"
    registry.write_text(json.dumps({**json.loads(registry.read_text()), "base_url": None}))
    c = citation(meta(), "0.1.0")
    assert c["url"] == "" and c["file"] == "kalbajar-0.1.0.zip"
    assert plain(c).endswith(f"sha256 {SHA}.")


def test_bibtex_is_a_misc_entry_with_each_author_braced_and_braces_escaped(registry: Path) -> None:
    people = [{"title": "Aynur Mammadova", "roles": ["creator"]}, {"title": "kdata {maintainers}", "roles": []}]
    c = citation(meta(contributors=people, title="Kalbajar {draft}"), "0.1.0")
    assert c["authors"] == "Aynur Mammadova; kdata {maintainers}"
    assert bibtex(c) == (
        "@misc{kalbajar_0_1_0,\n"
        "  author = {{Aynur Mammadova} and {kdata \\{maintainers\\}}},\n"
        "  title = {Kalbajar \\{draft\\}},\n"
        "  year = {2026},\n"
        "  version = {0.1.0},\n"
        f"  note = {{Data set, licence CC-BY-4.0; archive kalbajar-0.1.0.zip, sha256 {SHA}}},\n"
        "  url = {https://example.org/kdata/kalbajar-0.1.0.zip}\n"
        "}"
    )
    assert bibtex(c).replace("\\{", "").count("{") == bibtex(c).replace("\\}", "").count("}")
