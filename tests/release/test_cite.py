"""kdata.release.cite: a citation names the exact archive of a version, from the package's own metadata."""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from inprocess import run_kdata_here

from kdata.errors import UsageError
from kdata.release.cite import bibtex, cff, citation, plain, zenodo
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
        "url": "",  # the registry's base URL is where archives are fetched, not part of a citation
        "description": "",
        "keywords": "",
        "after": "",
    }
    assert plain(c) == (
        "kdata maintainers (2026). Kalbajar: a cited record of events, figures, places and actors (Version 0.1.0) "
        f"[Data set]. Licence CC-BY-4.0. Archive kalbajar-0.1.0.zip, sha256 {SHA}."
    )


def test_the_default_is_the_packages_own_version_the_data_in_use(registry: Path) -> None:
    """What ``kdata.load()`` reads, whether published (with its archive) or not (saying so)."""
    c = citation(meta("0.1.1"))
    assert (c["version"], c["file"], c["year"]) == ("0.1.1", "kalbajar-0.1.1.zip", "2027")
    c = citation(meta("0.2.0"))
    assert (c["version"], c["file"], c["after"]) == ("0.2.0", "", "0.1.1")


def test_an_unreleased_bundled_version_says_so_and_names_no_archive(registry: Path) -> None:
    c = citation(meta("0.2.0"), "0.2.0")
    assert (c["file"], c["sha256"], c["date"], c["url"]) == ("", "", "", "")
    assert c["year"] == str(datetime.date.today().year)
    assert plain(c).endswith("[Data set]. Licence CC-BY-4.0. Unreleased version, after 0.1.1.")
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
        f"  note = {{Data set, licence CC-BY-4.0; archive kalbajar-0.1.0.zip, sha256 {SHA}}}\n"
        "}"
    )
    assert bibtex(c).replace("\\{", "").count("{") == bibtex(c).replace("\\}", "").count("}")


# One source, every published form -------------------------------------------------------------


def test_cff_and_zenodo_carry_the_citation_parts_whatever_the_text(registry: Path) -> None:
    """Quotes, colons, braces, a leading dash and non-ASCII text survive both layouts exactly (read back)."""
    title = 'Kalbajar: "a cited record" - {draft} #1 — Kəlbəcər'
    people = [{"title": "- Aynur: Mammadova", "roles": ["creator"]}, {"title": "kdata maintainers", "roles": []}]
    m = meta("0.1.0", title=title, contributors=people, description="Line one.\n  Line two.", keywords=["a: b", "c"])
    c = citation(m, "0.1.0")
    read = yaml.safe_load(cff(c))
    assert read["title"] == title and read["version"] == "0.1.0" and read["date-released"] == "2026-11-23"
    assert [a["name"] for a in read["authors"]] == ["- Aynur: Mammadova", "kdata maintainers"]
    assert read["license"] == "CC-BY-4.0" and read["keywords"] == ["a: b", "c"]
    assert read["abstract"] == "Line one. Line two."
    assert "url" not in read  # no homepage: no URL
    assert read["message"].endswith(plain(c))
    record = json.loads(zenodo(c))
    assert record["title"] == title and record["version"] == "0.1.0" and record["publication_date"] == "2026-11-23"
    assert [p["name"] for p in record["creators"]] == ["- Aynur: Mammadova", "kdata maintainers"]
    assert record["license"] == "cc-by-4.0" and record["upload_type"] == "dataset" and record["notes"] == plain(c)


def test_an_unreleased_version_has_no_release_date_anywhere(registry: Path) -> None:
    c = citation(meta("0.2.0"), "0.2.0")
    assert "date-released" not in yaml.safe_load(cff(c)) and "publication_date" not in json.loads(zenodo(c))


def test_another_packages_release_of_the_same_number_is_not_cited(registry: Path) -> None:
    """The registry's 0.1.0 is kalbajar-0.1.0.zip: a package named otherwise is not cited by its archive."""
    c = citation(meta("0.1.0", name="other"), "0.1.0")
    assert (c["file"], c["sha256"], c["url"]) == ("", "", "")


def test_kdata_cite_the_citation_files_and_the_site_say_the_same(
    dist_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this checkout: `kdata cite`, CITATION.cff, .zenodo.json and the site's front page, one text.

    The commands run in this process; the site is the one of dist/ written once per test process (``dist_site``).
    """
    for name in ("KDATA_REGISTRY", "KDATA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    descriptor = json.loads((REPO / "dist" / "datapackage.json").read_text("utf-8"))
    version = descriptor["version"]

    def kdata_here(*args: str) -> str:
        done = run_kdata_here(*args, cwd=REPO)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    text = kdata_here("cite", version).splitlines()[0]
    assert f"(Version {version}) [Data set]" in text and descriptor["title"] in text
    kdata_here("docs", "--check")  # the files are what the source gives today
    cff_file = yaml.safe_load((REPO / "CITATION.cff").read_text("utf-8"))
    assert cff_file["message"].endswith(": " + text)
    assert (cff_file["title"], cff_file["version"]) == (descriptor["title"], version)
    assert [a["name"] for a in cff_file["authors"]] == [c["title"] for c in descriptor["contributors"]]
    zenodo_file = json.loads((REPO / ".zenodo.json").read_text("utf-8"))
    assert zenodo_file["notes"] == text
    assert (zenodo_file["title"], zenodo_file["version"]) == (descriptor["title"], version)
    assert zenodo_file.get("publication_date") == cff_file.get("date-released")
    front = (dist_site / "index.html").read_text("utf-8")
    (shown,) = re.findall(r'<pre class="cite">(.*?)</pre>', front, re.S)
    assert html.unescape(shown) == text


def test_kdata_docs_rewrites_stale_citation_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kdata docs --check` names a stale CITATION.cff; `kdata docs` rewrites it from dist/ and the registry."""
    shutil.copytree(REPO / "dist", tmp_path / "dist", ignore=shutil.ignore_patterns("releases", ".kdata-*"))
    (tmp_path / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: typed by hand\n")
    (tmp_path / ".zenodo.json").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_REGISTRY, raising=False)
    stale = run_kdata_here("docs", "--check", cwd=tmp_path)
    assert stale.returncode == 1
    assert stale.stdout.splitlines() == ["CITATION.cff is stale", ".zenodo.json is stale"]
    assert run_kdata_here("docs", cwd=tmp_path).returncode == 0
    assert (tmp_path / "CITATION.cff").read_text() == (REPO / "CITATION.cff").read_text()
    assert (tmp_path / ".zenodo.json").read_text() == (REPO / ".zenodo.json").read_text()
    assert run_kdata_here("docs", "--check", cwd=tmp_path).returncode == 0


def test_every_form_says_the_same_before_and_after_the_workflow_sets_the_base_url(tmp_path: Path) -> None:
    """`kdata cite`, CITATION.cff, .zenodo.json and the site's text, with the committed registry and with the
    base URL the release workflow derives (only in the wheel it builds): one text, unchanged."""
    from kdata.release.cite import citation_files
    from kdata.release.registry import github_base_url, load_registry, with_base_url

    descriptor = json.loads((REPO / "dist" / "datapackage.json").read_text("utf-8"))
    registry = tmp_path / "registry.json"
    shutil.copyfile(REPO / "kdata" / "registry.json", registry)
    env = {ENV_REGISTRY: str(registry)}
    committed = {name: (REPO / name).read_text("utf-8") for name in ("CITATION.cff", ".zenodo.json")}
    texts = []
    for state in ("committed", "base URL set"):
        if state == "base URL set":
            url = github_base_url({"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "owner/kdata"})
            with_base_url(load_registry(registry), url)
            assert json.loads(registry.read_text("utf-8"))["base_url"] == url
        done = run_kdata_here("cite", cwd=tmp_path, env=env)  # the default: the bundled version
        assert done.returncode == 0, done.stderr
        text = done.stdout.splitlines()[0]
        old = os.environ.get(ENV_REGISTRY)
        os.environ[ENV_REGISTRY] = str(registry)
        try:
            files = citation_files(descriptor)
            site = plain(citation(descriptor, str(descriptor["version"])))  # what the site's front page shows
        finally:
            os.environ.pop(ENV_REGISTRY) if old is None else os.environ.__setitem__(ENV_REGISTRY, old)
        assert files == committed, state  # kdata docs --check would pass: the committed files still say it
        assert yaml.safe_load(files["CITATION.cff"])["message"].endswith(": " + text)
        assert json.loads(files[".zenodo.json"])["notes"] == text == site
        assert "github.com" not in text and "url" not in yaml.safe_load(files["CITATION.cff"])
        texts.append(text)
    assert texts[0] == texts[1]
