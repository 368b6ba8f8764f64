"""Release archives: reproducible bytes, safe extraction, the refusals, the registry, citation, distribution."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_kdata
from inprocess import run_kdata_here
from releasing import built_project, kdata_ok, kdata_ok_here, run_env, set_version

from kdata.datapackage.build import build
from kdata.errors import IntegrityError
from kdata.fs import sha256_bytes
from kdata.release.archive import MANIFEST, archive_bytes, extract, sums_text
from kdata.release.registry import load_registry


@pytest.fixture
def proj(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The good project built, with a changelog and its own empty registry (a copy of one build)."""
    project = built_project(tmp_path / "p", tmp_path / "registry.json")
    return project, {"KDATA_REGISTRY": str(tmp_path / "registry.json")}


def test_archive_is_reproducible_and_well_formed(proj: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Two builds years apart in mtime, with other permissions, give the same archive bytes."""
    project, _ = proj
    dist = project / "dist"
    for path in dist.iterdir():
        os.utime(path, (1_000_000_000, 1_000_000_000))  # 2001
    name, first = archive_bytes(dist)
    build(project / "raw", dist)  # rewrites every file now
    for path in dist.iterdir():
        os.utime(path, (1_700_000_001, 1_700_000_001))  # 2023, an odd second
        path.chmod(0o600)
    assert archive_bytes(dist) == (name, first)
    archive = zipfile.ZipFile(io.BytesIO(first))
    names = [i.filename for i in archive.infolist()]
    assert names == sorted(names) and all(n.startswith("kdata-test-0.1.0/") for n in names)
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in archive.infolist()} == {0o100644}
    sums = archive.read(f"kdata-test-0.1.0/{MANIFEST}").decode()
    assert sums == sums_text(
        {n.split("/")[1]: sha256_bytes(archive.read(n)) for n in names if not n.endswith(MANIFEST)}
    )


def test_release_writes_archive_and_sums_and_keeps_them_across_builds(proj: tuple[Path, dict[str, str]]) -> None:
    project, env = proj
    out = kdata_ok_here("release", cwd=project, env=env)
    archive = project / "dist" / "releases" / "kdata-test-0.1.0.zip"
    assert out.strip().splitlines()[-1] == f"Wrote {Path('dist/releases/kdata-test-0.1.0.zip')}"
    assert (project / "dist" / "releases" / "SHA256SUMS").read_text() == sums_text(
        {archive.name: sha256_bytes(archive.read_bytes())}
    )
    kdata_ok_here("build", cwd=project)
    assert archive.is_file()  # kdata build keeps dist/releases/
    shutil.copytree(REPO / "schemas", project / "schemas", dirs_exist_ok=True)
    kdata_ok_here("build", "--check", cwd=project)  # ...and --check ignores it
    kdata_ok_here("verify", "dist", cwd=project)


def test_release_refusals(proj: tuple[Path, dict[str, str]]) -> None:
    """No changelog entry; a published version with other bytes; too small a bump. Then a good bump.

    The first refusal runs the real command in its own process; the rest run its function here.
    """
    project, env = proj
    set_version(project, "0.3.0")
    build(project / "raw", project / "dist")
    result = run_env("release", cwd=project, env=env)
    assert result.returncode == 1 and "CHANGELOG.md has no entry for version 0.3.0" in result.stderr
    set_version(project, "0.1.0")
    build(project / "raw", project / "dist")
    kdata_ok_here("release", "--register", cwd=project, env=env)
    assert list(json.loads(Path(env["KDATA_REGISTRY"]).read_text())["releases"]) == ["0.1.0"]
    # A new record, published under the same version: refused.
    place = project / "raw" / "places" / "riverton-ferry.yaml"
    place.write_text("id: riverton-ferry\nname: Ferry at Riverton\nkind: facility\nparent: riverton\n")
    build(project / "raw", project / "dist")
    result = run_kdata_here("release", cwd=project, env=env)
    assert result.returncode == 1 and "already published" in result.stderr
    # A patch bump is too small for an added row.
    set_version(project, "0.1.1")
    build(project / "raw", project / "dist")
    result = run_kdata_here("release", cwd=project, env=env)
    assert result.returncode == 1
    assert "0.1.1 is a patch bump over 0.1.0, but the changes need a minor bump" in result.stderr
    set_version(project, "0.2.0")
    build(project / "raw", project / "dist")
    done = run_kdata_here("release", "--register", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert "the changes need a minor bump; the version has it" in done.stdout
    assert sorted(load_registry(Path(env["KDATA_REGISTRY"])).releases) == ["0.1.0", "0.2.0"]


def _zip(members: list[tuple[str, bytes]], symlink: str = "") -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name == symlink:
                info.external_attr = 0o120777 << 16
            archive.writestr(info, content)
    return sink.getvalue()


def _manifest(*names: str) -> tuple[str, bytes]:
    return "r/SHA256SUMS", sums_text({n: sha256_bytes(b"x") for n in names}).encode()


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile warns while writing the duplicate on purpose
@pytest.mark.parametrize(
    ("members", "symlink", "message"),
    [
        ([("r/../evil", b"x"), _manifest("evil")], "", "is not '<folder>/<file>'"),
        ([("/abs/evil", b"x"), _manifest("evil")], "", "is not '<folder>/<file>'"),
        ([("r\\evil", b"x"), _manifest("evil")], "", "is not '<folder>/<file>'"),
        ([("r/a/b", b"x"), _manifest("b")], "", "is not '<folder>/<file>'"),
        ([("r/link", b"/etc/passwd"), _manifest("link")], "r/link", "link, folder or special file"),
        ([("r/a", b"x"), ("r/a", b"x"), _manifest("a")], "", "occurs twice"),
        ([("r/a", b"x"), ("q/b", b"x"), _manifest("a")], "", "top folders"),
        ([("r/a", b"x"), ("r/extra", b"x"), _manifest("a")], "", "does not match its manifest"),
        ([("r/a", b"y"), _manifest("a")], "", "has sha256"),
        ([("r/a", b"\0" * 30_000_000), _manifest("a")], "", "size limits"),
    ],
)
def test_extract_refuses_unsafe_archives(
    tmp_path: Path, members: list[tuple[str, bytes]], symlink: str, message: str
) -> None:
    """Escaping names, links, duplicates, several roots, manifest mismatches and zip bombs are refused."""
    path = tmp_path / "bad.zip"
    path.write_bytes(_zip(members, symlink))
    with pytest.raises(IntegrityError, match=re.escape(message)):
        extract(path, tmp_path / "out" / "package")
    assert not (tmp_path / "evil").exists() and not Path("/abs/evil").exists()
    assert not list((tmp_path / "out").rglob("evil"))


def test_shipped_registry_matches_the_published_archive() -> None:
    """Version 0.1.0 is registered (no base URL invented) and its committed archive has the registered bytes."""
    registry = load_registry(REPO / "kdata" / "registry.json")
    assert registry.base_url is None
    release = registry.get("0.1.0")
    archive = REPO / "dist" / "releases" / release.file
    assert archive.stat().st_size == release.bytes and sha256_bytes(archive.read_bytes()) == release.sha256
    assert f"{release.sha256}  {release.file}" in (archive.parent / "SHA256SUMS").read_text()


def test_citation_file_and_cite_command() -> None:
    """CITATION.cff names the data version; `kdata cite` prints plain text and BibTeX for it."""
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    package = yaml.safe_load((REPO / "raw" / "package.yaml").read_text())
    assert cff["version"] == package["version"] and cff["type"] == "dataset" and cff["cff-version"] == "1.2.0"
    out = kdata_ok("cite", "0.1.0", cwd=REPO)
    assert "(Version 0.1.0) [Data set]" in out and "@misc{kalbajar_0_1_0," in out and "sha256 " in out
    bad = run_kdata_here("cite", "7.0.0", cwd=REPO)
    assert bad.returncode == 2 and "available versions are" in bad.stderr


@pytest.mark.parametrize("kind", ["fifo", "folder", "not-utf8"])
def test_a_changelog_that_is_not_a_regular_utf8_file_is_one_line(
    proj: tuple[Path, dict[str, str]], tmp_path: Path, kind: str
) -> None:
    """`kdata release --changelog` on a FIFO (which hung), a folder or bad bytes: one line, nothing released.

    The package is a release candidate (0.1.0), so the changelog is what stops it. The FIFO by the real
    command in its own process (a hang meets the timeout); the others run its function here.
    """
    project, env = proj
    changelog = tmp_path / "CHANGELOG.md"
    makers = {
        "fifo": lambda: os.mkfifo(changelog),
        "folder": lambda: changelog.mkdir(),
        "not-utf8": lambda: changelog.write_bytes(b"## [0.1.0] - 2026-01-01\n\xff"),
    }
    makers[kind]()
    args = ("release", "--dist", project / "dist", "--changelog", changelog, "--out", tmp_path / "out")
    if kind == "fifo":
        result = run_kdata(*args, cwd=tmp_path, env=env, timeout=30)
    else:
        result = run_kdata_here(*args, cwd=tmp_path, env=env)
    assert result.returncode == (2 if kind == "folder" else 1) and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "changelog" in result.stderr.lower()
    assert kind == "folder" or f"Cannot read the changelog {changelog}" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()
