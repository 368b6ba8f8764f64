"""The distribution: `python -m build` in a checkout whose dist/ holds strays ships the data package's files only.

dist/ is both the data package and the folder `python -m build` writes to by
default, so after one build it holds wheels and sdists; people also leave
notes, hidden files and folders there. One module-wide build of the wheel and
the sdist, from a copy of the checkout with such strays, is inspected by every
test here.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest
from conftest import REPO

import kdata
from kdata.records import models

#: Files nobody may ship, put into the copy's dist/ before building (path in dist/ -> content).
STRAYS = {
    "kalbajar_data-0.0.9-py3-none-any.whl": b"PK\x05\x06" + bytes(18),  # an empty zip: an earlier build
    "kalbajar_data-0.0.9.tar.gz": gzip.compress(b"", mtime=0),
    "notes.csv": b"id,note\nx,not named by the descriptor\n",
    ".draft.csv": b"id\nhidden\n",
    "scratch/events.csv": b"id\nin a subfolder\n",
}


class Built(NamedTuple):
    """The copied checkout and the two archives `python -m build` wrote into its dist/."""

    src: Path
    wheel: Path
    sdist: Path


def clone_files() -> list[str]:
    """The files a fresh clone of the checkout has (tracked or new, not ignored), relative to it."""
    if not (REPO / ".git").exists():  # e.g. tests run from an unpacked sdist: all its files
        return [str(p.relative_to(REPO)) for p in REPO.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def package_names(dist: Path) -> set[str]:
    """What the data package in ``dist`` consists of: its descriptor and every path it names."""
    descriptor = json.loads((dist / "datapackage.json").read_text("utf-8"))
    return {"datapackage.json"} | {r["path"] for r in descriptor["resources"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A copy of the checkout with strays in dist/, built as a developer builds it: outputs land in dist/.

    ``--sdist --wheel`` builds both from the source tree (plain ``python -m build``
    builds the wheel from the unpacked sdist, whose dist/ is already clean), and
    the sdist written first is one more stray for the wheel build to leave out.
    ``--no-isolation`` uses the installed hatchling: no package index needed.
    """
    src = tmp_path_factory.mktemp("checkout")
    for name in clone_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, src / name)
    for name, content in STRAYS.items():
        (src / "dist" / name).parent.mkdir(parents=True, exist_ok=True)
        (src / "dist" / name).write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stem = f"kalbajar_data-{_hook().wheel_version(kdata.__version__)}"  # 1.0.0-dev: 1.0.0.dev0
    return Built(src, src / "dist" / f"{stem}-py3-none-any.whl", src / "dist" / f"{stem}.tar.gz")


def test_wheel_bundles_exactly_the_package_files(built: Built) -> None:
    """The wheel holds kdata's own files and, as kdata/_data, the descriptor's files byte for byte: no stray."""
    dist = built.src / "dist"
    expected = package_names(dist)
    with zipfile.ZipFile(built.wheel) as archive:
        names = set(archive.namelist())
        for name in expected:
            assert archive.read(f"kdata/_data/{name}") == (dist / name).read_bytes(), name
    code = {name for name in clone_files() if name.startswith("kdata/")}
    data = {f"kdata/_data/{name}" for name in expected}
    assert {n for n in names if not n.startswith("kalbajar_data-")} == code | data
    assert len(data) == 2 * len(models.TABLES) + 1 and "kdata/registry.json" in code and "kdata/py.typed" in code
    assert all((dist / name).is_file() for name in STRAYS)  # the strays were there all along


def test_sdist_carries_only_the_package_files_of_dist(built: Built) -> None:
    """The sdist's dist/ is the descriptor and the files it names, byte for byte: no wheel, sdist, note or folder."""
    dist = built.src / "dist"
    root = built.sdist.name.removesuffix(".tar.gz")
    with tarfile.open(built.sdist) as archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile()}
        shipped = {n.removeprefix(f"{root}/dist/") for n in members if n.startswith(f"{root}/dist/")}
        assert shipped == package_names(dist)
        for name in shipped:
            handle = archive.extractfile(members[f"{root}/dist/{name}"])
            assert handle is not None and handle.read() == (dist / name).read_bytes(), name
    assert f"{root}/pyproject.toml" in members and f"{root}/hatch_build.py" in members
    assert not [n for n in members if n.endswith((".whl", ".tar.gz", ".zip")) or n.endswith("SHA256SUMS")]


def test_wheel_and_sdist_pass_twine_check(built: Built) -> None:
    """Both archives have metadata PyPI accepts (README renders, licence files present)."""
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built.wheel), str(built.sdist)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_installed_wheel_loads_offline_from_its_bundled_package(built: Built, tmp_path: Path) -> None:
    """Unpacked alone (no checkout, no network), kdata reads kdata/_data, not a dist/ folder."""
    with zipfile.ZipFile(built.wheel) as archive:
        archive.extractall(tmp_path / "site")
    code = "import json, kdata, kdata.api; print(json.dumps([kdata.__file__, str(kdata.api.bundled_dir()), kdata.load_table('events').num_rows]))"
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin", "KDATA_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    module, bundled, rows = json.loads(out.stdout)
    assert module == str(tmp_path / "site" / "kdata" / "__init__.py")
    assert bundled == str(tmp_path / "site" / "kdata" / "_data")
    events = next(r for r in kdata.metadata(built.src / "dist")["resources"] if r["name"] == "events")
    assert rows == events["kdata:rows"]


def _hook() -> ModuleType:
    """hatch_build.py of the checkout, imported as a module."""
    spec = importlib.util.spec_from_file_location("hatch_build", REPO / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "events.csv").unlink(), r"dist/events\.csv is named in datapackage\.json but missing"),
        (
            lambda d: (d / "events.csv").write_bytes(b"id\n"),
            r"dist/events\.csv has 3 bytes; datapackage\.json declares",
        ),
        (lambda d: _rename(d, "events.csv", "../raw/events.csv"), r"names '\.\./raw/events\.csv': only plain relative"),
        (lambda d: _rename(d, "events.csv", "https://example.org/e.csv"), r"names 'https://example\.org/e\.csv'"),
        (lambda d: (d / "datapackage.json").unlink(), r"holds no built data package"),
    ],
    ids=["missing", "tampered", "outside", "url", "no-descriptor"],
)
def test_hook_refuses_a_package_it_cannot_ship_whole(
    tmp_path: Path, damage: Callable[[Path], object], message: str
) -> None:
    """The build stops, saying what is wrong, rather than ship a package `kdata verify` would refuse."""
    dist = tmp_path / "dist"
    dist.mkdir()
    for path in (REPO / "dist").iterdir():
        if path.is_file():
            shutil.copy2(path, dist / path.name)
    hook = _hook()
    assert set(hook.package_files(dist)) == package_names(dist)
    damage(dist)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        hook.package_files(dist)


def _rename(dist: Path, old: str, new: str) -> None:
    """Make the descriptor name ``new`` where it named ``old``."""
    descriptor = json.loads((dist / "datapackage.json").read_text("utf-8"))
    for resource in descriptor["resources"]:
        if resource["path"] == old:
            resource["path"] = new
    (dist / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")


def test_wheel_and_sdist_carry_no_archived_text(built: Built) -> None:
    """LICENSE-DATA.md: the archived texts stay in the repository; the wheel and the sdist carry anchors and hashes only."""
    from archived import texts_carried

    with zipfile.ZipFile(built.wheel) as archive:
        wheel = {name: archive.read(name) for name in archive.namelist()}
    with tarfile.open(built.sdist) as archive:
        sdist = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}  # type: ignore[union-attr]  # files have a reader
    assert texts_carried(wheel) == [] and texts_carried(sdist) == []
    root = built.sdist.name.removesuffix(".tar.gz")
    assert f"{root}/raw/sources/newsaz-2020-04-02-mfa-statement.yaml" in sdist  # the records travel, with their sha256
    assert f"{root}/LICENSE-DATA.md" in sdist
    citations = wheel["kdata/_data/citations.csv"].decode("utf-8")
    assert "anchor_start" in citations.splitlines()[0]  # the anchors do
    # The check does see a text: the sdist's own checkout holds them all.
    assert len(texts_carried({p.name: p.read_bytes() for p in (built.src / "raw" / "sources").glob("*.txt")})) >= 5


@pytest.mark.parametrize("version", ["0.1.1", "1.0.0", "0.1.0rc1", "1.0.0-dev", "1.0.0.dev1", ""])
def test_hook_refuses_a_wheel_whose_version_is_not_the_datas(version: str) -> None:
    """A wheel of kdata X.Y.Z bundles the data package X.Y.Z (X.Y.Z.dev0 the data X.Y.Z-dev): PyPI, the tag and
    `kdata versions` agree."""
    hook = _hook()
    stated = json.loads((REPO / "dist" / "datapackage.json").read_text("utf-8"))["version"]
    assert stated == kdata.__version__
    hook.check_version(REPO / "dist", hook.wheel_version(stated))  # the checkout's own versions agree
    assert {hook.wheel_version(v) for v in ("1.0.0-dev", "1.0.0", "0.1.0")} == {"1.0.0.dev0", "1.0.0", "0.1.0"}
    with pytest.raises(
        ValueError, match=f"The distribution is version {version}, but dist/datapackage.json is version"
    ):
        hook.check_version(REPO / "dist", version)
