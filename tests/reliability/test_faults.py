"""Faults of the machine: a full disk, a read-only folder, many processes downloading at once.

- Disk full is simulated two ways: a file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so a
  write fails with EFBIG) that needs no privileges, and, where the test may mount one, a real
  tiny tmpfs that runs out of space (ENOSPC).
- Read-only is a folder made immutable with ``chattr +i`` when running as root (root ignores
  permissions), else one whose write permission is removed.
- Each time kdata must exit 1 with one clear sentence and no traceback, and leave the old dist/
  or cache byte-identical.
- Concurrency: 8 ``kdata download`` processes at once on a cold cache, trial after trial, against
  a real HTTP server; every process succeeds and one valid copy is left. The suite runs 2 trials;
  ``benchmarks/stress.py`` runs 30.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GOOD, run_kdata, snapshot
from inprocess import run_kdata_here
from releasing import race, released_project, serve

from kdata.datapackage.verify import verify

FRICTIONLESS = Path(sys.executable).parent / "frictionless"


def run_limited(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, fsize: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real kdata command, optionally unable to write files larger than ``fsize`` bytes."""

    def limit() -> None:
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return run_kdata(*args, cwd=cwd, env=env, preexec_fn=limit)


def clear_error(result: subprocess.CompletedProcess[str], words: str) -> None:
    """Exit 1, one 'Error: ...' line on stderr naming the cause, no traceback."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], result.stderr


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` refuse new entries: immutable for root (root ignores permissions), else r-x."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not available here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)


@contextmanager
def tiny_disk(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` mounted at ``where`` (skips when mounting is not allowed)."""
    where.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    ).returncode:
        pytest.skip("mounting a tmpfs is not allowed here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until about ``leave`` bytes are free."""
    free = shutil.disk_usage(folder).free
    with open(folder / "filler", "wb") as handle:
        handle.write(b"\0" * max(free - leave, 0))


@pytest.fixture
def built(tmp_path: Path, _built_once: Path) -> Path:
    """A project (raw/, dist/, schemas/ and their lock files) in a folder of its own: a copy of one real build."""
    project = tmp_path / "project"
    shutil.copytree(_built_once, project, symlinks=True)
    return project


def _changed_title(project: Path) -> None:
    record = project / "raw" / "events" / "riverton-return-2020.yaml"
    record.write_text(record.read_text().replace("Residents returned", "Residents moved back"))


def test_build_past_a_file_size_limit_keeps_the_old_dist(built: Path) -> None:
    """EFBIG while writing the new package: a clear error, the old dist/ untouched, no staging left."""
    before = snapshot(built / "dist")
    _changed_title(built)
    result = run_limited("build", cwd=built, fsize=4096)
    clear_error(result, "a file grew past the size limit")
    assert "The previous build is unchanged." in result.stderr
    assert snapshot(built / "dist") == before
    assert not list(built.glob(".dist-*"))
    assert verify(built / "dist") == []


def test_build_on_a_full_disk_keeps_the_old_dist(tmp_path: Path) -> None:
    """ENOSPC on a real, full tmpfs: a clear error and the old dist/ untouched."""
    with tiny_disk(tmp_path / "disk", "2m") as disk:  # room for raw/, dist/, schemas/ and a second build's staging
        project = disk / "project"
        shutil.copytree(GOOD / "raw", project / "raw")
        assert run_kdata_here("build", cwd=project).returncode == 0  # set-up, in this process
        before = snapshot(project / "dist")
        _changed_title(project)
        fill(disk, 8 * 1024)
        result = run_limited("build", cwd=project)  # the real command runs out of space
        clear_error(result, "the disk is full")
        assert snapshot(project / "dist") == before
        assert not list(project.glob(".dist-*"))
        (disk / "filler").unlink()
        again = run_kdata_here("build", cwd=project)  # with space again, the build goes through
        assert again.returncode == 0, again.stdout + again.stderr
        assert snapshot(project / "dist") != before


def test_new_on_a_full_disk_leaves_no_partial_record(tmp_path: Path) -> None:
    """`kdata new` writes its record whole or not at all: a full disk left an empty .yaml that validate refused."""
    with tiny_disk(tmp_path / "disk", "1m") as disk:
        project = disk / "project"
        shutil.copytree(GOOD / "raw", project / "raw")
        fill(disk, 0)
        result = run_limited("new", "event", "a-new-event", cwd=project)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert "the disk is full" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert not (project / "raw" / "events" / "a-new-event.yaml").exists()
        assert not [p for p in (project / "raw" / "events").iterdir() if p.name.startswith(".")]


def test_build_into_a_read_only_folder_keeps_the_old_dist(built: Path) -> None:
    """The folder that holds dist/ accepts no new entry: a clear error, dist/ untouched."""
    before = snapshot(built / "dist")
    _changed_title(built)
    with read_only(built):
        result = run_limited("build", cwd=built)
    clear_error(result, "Could not write the rows to a scratch folder beside dist")  # the first thing written
    assert "The previous build is unchanged." in result.stderr
    assert snapshot(built / "dist") == before
    assert not list(built.glob(".dist-*"))


@pytest.mark.parametrize("dist", ["out/dist", "out/sub/dist", "out/sub/deeper/dist"])
def test_build_into_a_new_dist_under_a_read_only_folder_writes_nothing(tmp_path: Path, dist: str) -> None:
    """No dist/ yet, its parent (or an ancestor) read-only: one clear line, nothing made there, no scratch anywhere."""
    project = tmp_path / "project"
    shutil.copytree(GOOD / "raw", project / "raw")
    (project / "out").mkdir()
    env = {"TMPDIR": str(tmp_path / "system-tmp"), "KDATA_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / "system-tmp").mkdir()
    with read_only(project / "out"):
        result = run_limited("build", "--dist", dist, cwd=project, env=env)
    clear_error(result, f"Could not write the rows to a scratch folder beside {dist}")
    assert os.listdir(project / "out") == [] and os.listdir(tmp_path / "system-tmp") == []


def test_check_in_a_read_only_project_passes_and_writes_nothing(built: Path, tmp_path: Path) -> None:
    """``build --check`` makes its scratch folder in kdata's cache: a read-only checkout can be checked."""
    before = sorted(os.listdir(built))
    env = {"TMPDIR": str(tmp_path / "system-tmp"), "KDATA_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / "system-tmp").mkdir()
    with read_only(built):
        result = run_limited("build", "--check", cwd=built, env=env)
    assert result.returncode == 0 and "dist and schemas are fresh." in result.stdout, result.stdout + result.stderr
    assert sorted(os.listdir(built)) == before and os.listdir(tmp_path / "system-tmp") == []
    assert not list((tmp_path / "cache").glob(".tmp-scratch-*"))


def test_check_with_a_read_only_cache_says_so_in_one_line(built: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    with read_only(cache):
        result = run_limited("build", "--check", cwd=built, env={"KDATA_CACHE_DIR": str(cache)})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: Could not make a scratch folder in kdata's cache {cache}")
    assert "KDATA_CACHE_DIR" in lines[0] and os.listdir(cache) == []


@dataclass(frozen=True)
class Site:
    project: Path
    registry: Path
    url: str
    served: list[str]  # the paths of the requests the server answered, in order


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("faults")
    project, registry = released_project(root, root / "www")
    served: list[str] = []
    with serve(root / "www", served) as url:
        yield Site(project, registry, url, served)


def _env(site: Site, cache: Path) -> dict[str, str]:
    return {"KDATA_REGISTRY": str(site.registry), "KDATA_CACHE_DIR": str(cache), "KDATA_BASE_URL": site.url}


def test_download_past_a_file_size_limit_leaves_the_cache_as_it_was(site: Site, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "other.txt").write_text("kept")
    before = snapshot(cache)
    result = run_limited("download", "0.1.0", cwd=tmp_path, env=_env(site, cache), fsize=8192)
    clear_error(result, "a file grew past the size limit")
    assert "What was cached before is unchanged" in result.stderr
    after = snapshot(cache)
    empty = hashlib.sha256(b"").hexdigest()
    assert after.pop(".0.1.0.lock", empty) == empty  # filelock may remove the empty lock file or leave it
    assert after == before


def test_download_into_a_full_disk_leaves_the_cache_as_it_was(site: Site, tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk", "1m") as disk:
        cache = disk / "cache"
        cache.mkdir()
        fill(disk, 16 * 1024)
        before = snapshot(cache)
        clear_error(run_limited("download", "0.1.0", cwd=tmp_path, env=_env(site, cache)), "the disk is full")
        after = snapshot(cache)
        after.pop(".0.1.0.lock", None)
        assert after == before


def test_download_into_a_read_only_cache(site: Site, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    with read_only(cache):
        result = run_limited("download", "0.1.0", cwd=tmp_path, env=_env(site, cache))
    clear_error(result, "Could not write to the cache")
    assert list(cache.iterdir()) == []


def concurrent_trials(site: Site, root: Path, trials: int, processes: int = 8) -> dict[str, int]:
    """``trials`` cold caches, each filled by ``processes`` simultaneous ``kdata download`` runs.

    Returns:
        Counts: trials, processes run, errors (non-zero exits), valid single copies, and archive fetches:
        one a trial, as the per-version lock makes the others wait for that copy instead of fetching their own.
    """
    counts = {"trials": 0, "processes": 0, "errors": 0, "valid_copies": 0, "archive_fetches": 0}
    for trial in range(trials):
        cache = root / f"cache-{trial}"
        env = {**os.environ, **_env(site, cache)}
        before = len(site.served)
        results = race("download", "0.1.0", processes=processes, cwd=root, env=env, out=root / f"race-{trial}")
        counts["trials"] += 1
        counts["processes"] += processes
        counts["errors"] += sum(code != 0 or "Traceback" in err for code, _, err in results)
        counts["archive_fetches"] += sum(path.endswith(".zip") for path in site.served[before:])
        folders = {out.strip().splitlines()[-1] if out.strip() else "" for _, out, _ in results}
        visible = sorted(p.name for p in cache.iterdir() if not p.name.startswith("."))
        hidden = sorted(p.name for p in cache.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))
        if folders == {str(cache / "0.1.0")} and verify(cache / "0.1.0") == [] and len(visible) == 2 and not hidden:
            counts["valid_copies"] += 1
        if trial < trials - 1:
            shutil.rmtree(cache)
    return counts


def test_eight_processes_download_one_version_at_once(site: Site, tmp_path: Path) -> None:
    """8 processes started at the same instant x 2 cold-cache trials: no error, one valid copy each time (frictionless
    agrees), and one download each time: the others wait on the version's lock and take that copy (without the lock,
    atomic staging alone would still leave one valid copy, so the fetch count is what proves the lock).

    The processes are forked from one warm Python and released together (``releasing.race``): they
    once were 24 cold starts, which cost 24 imports and met each other less often.
    """
    counts = concurrent_trials(site, tmp_path, trials=2)  # without the lock, each trial alone fetched 8 times
    expected = {"trials": 2, "processes": 16, "errors": 0, "valid_copies": 2, "archive_fetches": 2}
    assert counts == expected, counts
    import frictionless

    report = frictionless.validate(str(tmp_path / "cache-1" / "0.1.0" / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:20]
