"""Release archives in dist/releases/ are used before the network, only when the registry vouches for them.

The README's own `kdata diff 0.1.0 dist` runs offline in a copy of this checkout through the real
command; the test project's releases check `kdata download`, `kdata.load(version=...)` and the
refusal of an archive with other bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from inprocess import run_kdata_here
from releasing import built_project, kdata_ok_here, serve

import kdata
from kdata.datapackage.verify import verify
from kdata.download import fetch, local_releases
from kdata.errors import DownloadError

#: Where the checkout keeps the archive of the published 0.1.0.
ARCHIVE = Path("dist") / "releases" / "kalbajar-0.1.0.zip"


def _checkout(root: Path) -> Path:
    """A copy of this checkout as a clone has it: code, raw/, dist/ with dist/releases/, the changelog."""
    copy = root / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "_data", ".kdata-*", ".dist-*")
    for name in ("kdata", "raw", "dist"):
        shutil.copytree(REPO / name, copy / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md"):
        shutil.copy(REPO / name, copy / name)
    return copy


def _run(copy: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command of the copy (its own code on PYTHONPATH), offline, with a fresh cache and no overrides."""
    clean = {k: v for k, v in os.environ.items() if k not in ("KDATA_BASE_URL", "KDATA_REGISTRY")}
    clean.update({"PYTHONPATH": str(copy), "KDATA_OFFLINE": "1", "KDATA_CACHE_DIR": str(copy.parent / "cache"), **env})
    return subprocess.run(
        [sys.executable, *args], cwd=cwd or copy, env=clean, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return _checkout(tmp_path)


def test_readme_diff_works_offline_in_a_checkout(checkout: Path) -> None:
    """`kdata diff 0.1.0 dist` finds the archive in dist/releases/, checks it against the registry, and diffs."""
    readme = (REPO / "README.md").read_text("utf-8")
    assert "kdata diff 0.1.0 dist " in readme  # the command the README shows
    registry = json.loads((checkout / "kdata" / "registry.json").read_text("utf-8"))
    assert registry["releases"]["0.1.0"]["file"] == ARCHIVE.name and (checkout / ARCHIVE).is_file()
    by_version = _run(checkout, "-m", "kdata", "diff", "0.1.0", "dist")
    assert by_version.returncode == 0, by_version.stderr
    assert by_version.stderr == ""
    # The archive named by its path needs nothing of the copy's own code: the command's function here.
    offline = {"KDATA_OFFLINE": "1", "KDATA_CACHE_DIR": str(checkout.parent / "cache-by-path")}
    by_archive = run_kdata_here("diff", str(ARCHIVE), "dist", cwd=checkout, env=offline)
    assert by_archive.returncode == 0, by_archive.stderr
    assert by_version.stdout == by_archive.stdout
    assert by_version.stdout.startswith("0.1.0 → ") and "Required bump:" in by_version.stdout
    # It went through the cache like any download, checked: the cached copy verifies.
    assert verify(checkout.parent / "cache" / "0.1.0") == []


def test_a_local_archive_with_other_bytes_is_refused_in_one_line_and_never_used(checkout: Path) -> None:
    archive = checkout / ARCHIVE
    content = bytearray(archive.read_bytes())
    content[-30] ^= 1  # still a zip of the right size, with another sha256
    archive.write_bytes(bytes(content))
    result = _run(checkout, "-m", "kdata", "diff", "0.1.0", "dist")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(f"Not using {archive}: its sha256 is ")
    assert "but the registry's 0.1.0 is " in lines[0]
    assert "KDATA_OFFLINE forbids downloading it" in lines[1]  # and nothing else was used instead
    assert not (checkout.parent / "cache" / "0.1.0").exists()


def test_load_with_a_version_finds_the_checkouts_archive_from_a_subfolder(checkout: Path) -> None:
    """A notebook in a subfolder of the checkout: the checkout kdata runs from holds the archive."""
    notebooks = checkout / "notebooks"
    notebooks.mkdir()
    code = "import kdata; print(len(kdata.load('events', version='0.1.0')), kdata.metadata(version='0.1.0')['version'])"
    result = _run(checkout, "-c", code, cwd=notebooks)
    assert result.returncode == 0, result.stderr
    count, version = result.stdout.split()
    assert int(count) > 0 and version == "0.1.0"


@pytest.fixture(scope="module")
def _released_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test project built and released into its dist/releases/ once for the module (each test gets a copy)."""
    root = tmp_path_factory.mktemp("released-once")
    project = built_project(root / "project", root / "registry.json")
    kdata_ok_here("release", "--register", cwd=project, env={"KDATA_REGISTRY": str(root / "registry.json")})
    return root


@pytest.fixture
def project(_released_once: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test project, built and released into its own dist/releases/ (the default), registered; cwd there."""
    registry = tmp_path / "registry.json"
    shutil.copy(_released_once / "registry.json", registry)
    project = tmp_path / "project"
    shutil.copytree(_released_once / "project", project, symlinks=True)
    monkeypatch.chdir(project)
    monkeypatch.setenv("KDATA_REGISTRY", str(registry))
    monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KDATA_BASE_URL", raising=False)
    monkeypatch.delenv("KDATA_OFFLINE", raising=False)
    return project


def test_download_and_load_use_the_local_archive_without_a_base_url(project: Path) -> None:
    assert local_releases()[0] == (project / "dist" / "releases").absolute()  # then the checkout kdata runs from
    result = run_kdata_here(
        "download", "0.1.0", cwd=project, env={"KDATA_CACHE_DIR": str(project.parent / "cache-cli")}
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert verify(Path(result.stdout.strip().splitlines()[-1])) == []
    assert len(kdata.load("figures", version="0.1.0")) == 3
    listed = run_kdata_here("versions", cwd=project, env={"KDATA_CACHE_DIR": str(project.parent / "cache-none")}).stdout
    assert listed.splitlines()[0].endswith("in dist/releases)")


def test_a_mismatching_local_archive_falls_back_to_the_network(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refused archive is named on stderr; the registry's archive comes from the base URL instead."""
    (archive,) = (project / "dist" / "releases").glob("*.zip")
    www = tmp_path / "www"
    www.mkdir()
    shutil.copy(archive, www / archive.name)
    archive.write_bytes(archive.read_bytes() + b"\0")
    assert "dist/releases" not in run_kdata_here("versions", cwd=project).stdout  # not vouched for: not listed as there
    with pytest.raises(DownloadError, match="No download location is known"):
        fetch("0.1.0")
    assert f"Not using {archive}: its sha256 is " in capsys.readouterr().err
    with serve(www) as url:
        monkeypatch.setenv("KDATA_BASE_URL", url)
        folder = fetch("0.1.0", progress=False)
    assert verify(folder) == []
    assert f"Not using {archive}" in capsys.readouterr().err
    assert archive.read_bytes().endswith(b"\0")  # the local file is left as it is
