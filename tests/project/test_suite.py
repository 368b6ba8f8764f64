"""The suite's own set-up (tests/conftest.py): where a run keeps its temporary files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RAM_FOLDER, RAM_FOLDER_MIN_FREE, REPO, ram_folder_has_room

#: A test that says where its run put its temporary files: its ``tmp_path``, ``tempfile``'s folder and ``TMPDIR``.
PROBE = """
import json, os, tempfile
from pathlib import Path

def test_where(tmp_path):
    found = {"tmp_path": str(tmp_path), "tempfile": tempfile.gettempdir(), "TMPDIR": os.environ.get("TMPDIR")}
    Path(os.environ["PROBE_OUT"]).write_text(json.dumps(found))
"""


def _pytest(tmp_path: Path, test: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``test`` (a module's text) under pytest with this suite's conftest.py (as a plugin), ``args`` and ``env``
    added to a copy of this environment without TMPDIR."""
    (tmp_path / "test_probe.py").write_text(test)
    environ = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "PYTEST_ADDOPTS")}
    environ |= {"PYTHONPATH": str(REPO / "tests"), **env}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest", *args, "test_probe.py"]
    return subprocess.run(command, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120)


def _where(tmp_path: Path, *args: str, **env: str) -> dict[str, str | None]:
    """Where a run of the probe, with ``args`` and ``env``, put its temporary files."""
    out = tmp_path / "found.json"
    result = _pytest(tmp_path, PROBE, *args, PROBE_OUT=str(out), **env)
    assert result.returncode == 0, result.stdout + result.stderr
    found: dict[str, str | None] = json.loads(out.read_text())
    return found


def test_a_run_keeps_its_temporary_files_in_memory_in_every_worker(tmp_path: Path) -> None:
    """With neither TMPDIR nor --basetemp, an xdist worker's ``tmp_path`` and ``tempfile`` are in a folder of the
    run's own in the RAM folder, which the run removes when it passes."""
    if not ram_folder_has_room():
        pytest.skip(f"no {RAM_FOLDER} with {RAM_FOLDER_MIN_FREE >> 30} GiB free here")
    found = _where(tmp_path, "-n", "1")
    run = Path(str(found["TMPDIR"]))
    assert run.parent == RAM_FOLDER / f"kdata-tests-{os.getuid()}" and run.name.startswith("run-")
    assert found["tempfile"] == str(run) and Path(str(found["tmp_path"])).is_relative_to(run)
    assert not run.exists()  # removed at the end of the run, which passed


def test_a_run_removes_the_folders_of_runs_no_longer_running(tmp_path: Path) -> None:
    """A killed run's folder (its process gone) is removed by the next run; a running one's is left alone."""
    if not ram_folder_has_room():
        pytest.skip(f"no {RAM_FOLDER} with {RAM_FOLDER_MIN_FREE >> 30} GiB free here")
    root = RAM_FOLDER / f"kdata-tests-{os.getuid()}"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    running = subprocess.Popen(["sleep", "120"])  # a process of this user's, running while the next run starts
    dead, live = root / f"run-{int(gone.stdout)}", root / f"run-{running.pid}"
    try:
        for folder in (dead, live):
            (folder / "pytest-of-someone" / "left").mkdir(parents=True)
        _where(tmp_path)
        assert not dead.exists() and (live / "pytest-of-someone" / "left").is_dir()
    finally:
        running.kill()
        running.wait()
        for folder in (dead, live):
            shutil.rmtree(folder, ignore_errors=True)


def test_tmpdir_or_basetemp_chooses_the_folder(tmp_path: Path) -> None:
    """A TMPDIR that is set is kept; --basetemp puts ``tmp_path`` there and leaves TMPDIR unset."""
    mine = tmp_path / "mine"
    mine.mkdir()
    found = _where(tmp_path, TMPDIR=str(mine))
    assert found["TMPDIR"] == str(mine) and Path(str(found["tmp_path"])).is_relative_to(mine)
    base = tmp_path / "base"
    found = _where(tmp_path, "--basetemp", str(base))
    assert found["TMPDIR"] is None and Path(str(found["tmp_path"])).is_relative_to(base)


@pytest.mark.parametrize(("word", "code"), [("true", 1), ("On", 1), ("0", 0), ("no", 0), ("garbage", 4)])
def test_require_all_takes_the_switch_words_and_refuses_others(tmp_path: Path, word: str, code: int) -> None:
    """Under KDATA_REQUIRE_ALL on, a skip fails the run (exit 1); off, it passes; an unknown word stops it (exit 4)."""
    skipped = "import pytest\n\ndef test_skipped():\n    pytest.skip('not here')\n"
    result = _pytest(tmp_path, skipped, KDATA_REQUIRE_ALL=word, TMPDIR=str(tmp_path))
    assert result.returncode == code, result.stdout + result.stderr
    if code == 4:
        assert "KDATA_REQUIRE_ALL='garbage' is not allowed" in result.stderr
