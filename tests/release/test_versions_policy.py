"""The version a build states is honest: a released version names exactly the released data; between releases
the data is the next version with ``-dev`` (SemVer ``1.0.0-dev``, the wheel's PEP 440 ``1.0.0.dev0``), never
released as it is."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from conftest import REPO
from inprocess import run_kdata_here
from releasing import make_project, set_version

from kdata.records.models import PackageInfo
from kdata.release.registry import is_development, load_registry, version_key

DIST = REPO / "dist"


def test_the_checkouts_version_is_a_release_it_equals_or_the_next_one_in_development() -> None:
    descriptor = json.loads((DIST / "datapackage.json").read_text("utf-8"))
    version, registry = descriptor["version"], load_registry(REPO / "kdata" / "registry.json")
    if is_development(version):  # newer than every release: 1.0.0-dev comes after 0.1.0 and before 1.0.0
        assert all(version_key(v) < version_key(version) for v in registry.versions()), version
        return
    release = registry.get(version)  # a released version: the bundled files are the released ones, byte for byte
    with zipfile.ZipFile(DIST / "releases" / release.file) as archive:
        inside = {
            name.split("/", 1)[1]: hashlib.sha256(archive.read(name)).hexdigest()
            for name in archive.namelist()
            if not name.endswith(("/", "SHA256SUMS"))
        }
    here = {name: hashlib.sha256((DIST / name).read_bytes()).hexdigest() for name in inside}
    assert here == inside, f"dist/ is not the released {version}: set 'version: X.Y.Z-dev' in raw/package.yaml"


def test_versions_order_as_semver_says() -> None:
    ordered = ["0.1.0", "0.1.1-dev", "0.1.1", "1.0.0-dev", "1.0.0", "1.0.1-dev", "1.10.0"]
    assert sorted(reversed(ordered), key=version_key) == ordered


@pytest.mark.parametrize(
    ("version", "valid"),
    [("1.0.0-dev", True), ("1.0.0", True), ("1.0.0-dev1", False), ("1.0.0-rc1", False), ("1.0.0.dev0", False)],
)
def test_the_data_version_is_a_release_or_the_next_one_with_dev(version: str, valid: bool) -> None:
    info = {
        "name": "kalbajar",
        "title": "T",
        "description": "D",
        "version": version,
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "CC BY"}],
        "contributors": [{"title": "kdata maintainers", "roles": ["creator"]}],
    }
    if valid:
        assert PackageInfo.model_validate(info).version == version
    else:
        with pytest.raises(ValueError, match="version"):
            PackageInfo.model_validate(info)


def test_a_development_version_is_never_released(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", tmp_path / "registry.json")
    set_version(project, "0.2.0-dev")
    env = {"KDATA_REGISTRY": str(tmp_path / "registry.json")}
    assert run_kdata_here("build", cwd=project, env=env).returncode == 0
    done = run_kdata_here("release", "--register", cwd=project, env=env)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done
    assert "Version 0.2.0-dev is a build between releases, never released as it is." in done.stderr
    assert "'version: 0.2.0' in raw/package.yaml" in done.stderr
    assert not (project / "dist" / "releases").exists()
    assert json.loads((tmp_path / "registry.json").read_text("utf-8"))["releases"] == {}


def test_the_readmes_diff_drafts_the_release_of_a_development_build(tmp_path: Path) -> None:
    """`kdata diff 0.1.0 dist --format changelog` (offline, from dist/releases/) heads its draft with the release.

    With a cache of its own: what other tests of the worker left in theirs is not what a user's cache holds.
    """
    version = json.loads((DIST / "datapackage.json").read_text("utf-8"))["version"]
    env = {"KDATA_OFFLINE": "1", "KDATA_CACHE_DIR": str(tmp_path / "cache")}
    done = run_kdata_here("diff", "0.1.0", "dist", "--format", "changelog", cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr
    head = done.stdout.splitlines()[0]
    assert head.startswith(f"## [{version.removesuffix('-dev')}] - "), head


def test_kdata_versions_says_the_bundled_build_is_not_a_release(tmp_path: Path) -> None:
    version = json.loads((DIST / "datapackage.json").read_text("utf-8"))["version"]
    lines = run_kdata_here("versions", cwd=tmp_path).stdout.splitlines()
    if is_development(version):
        assert (
            f"Bundled: {version}, not a release (a build between releases); pass version= to pin a published one."
            in lines
        )
    else:
        assert any(line.startswith(version) and "(bundled" in line for line in lines), lines
