"""The suite's own set-up (tests/conftest.py): where a run keeps its temporary files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RAM_FOLDER, RAM_FOLDER_MIN_FREE, REPO

#: A test that says where its run put its temporary files: its ``tmp_path``, ``tempfile``'s folder and ``TMPDIR``.
PROBE = """
import json, os, tempfile
from pathlib import Path

def test_where(tmp_path):
    found = {"tmp_path": str(tmp_path), "tempfile": tempfile.gettempdir(), "TMPDIR": os.environ.get("TMPDIR")}
    Path(os.environ["PROBE_OUT"]).write_text(json.dumps(found))
"""


def _where(tmp_path: Path, *args: str, **env: str) -> dict[str, str | None]:
    """Run the probe under pytest with this suite's conftest.py (as a plugin), ``args`` and ``env`` added."""
    (tmp_path / "test_where.py").write_text(PROBE)
    out = tmp_path / "found.json"
    environ = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "PYTEST_ADDOPTS")}
    environ |= {"PYTHONPATH": str(REPO / "tests"), "PROBE_OUT": str(out), **env}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest", *args, "test_where.py"]
    result = subprocess.run(command, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    found: dict[str, str | None] = json.loads(out.read_text())
    return found


def _ram_folder_qualifies() -> bool:
    try:
        free = os.statvfs(RAM_FOLDER)
    except (OSError, AttributeError):
        return False
    return free.f_bavail * free.f_frsize >= RAM_FOLDER_MIN_FREE and os.access(RAM_FOLDER, os.W_OK | os.X_OK)


def test_a_run_keeps_its_temporary_files_in_memory_in_every_worker(tmp_path: Path) -> None:
    """With neither TMPDIR nor --basetemp, an xdist worker's ``tmp_path`` and ``tempfile`` are in the RAM folder."""
    if not _ram_folder_qualifies():
        pytest.skip(f"no {RAM_FOLDER} with {RAM_FOLDER_MIN_FREE >> 30} GiB free here")
    found = _where(tmp_path, "-n", "1")
    assert found["TMPDIR"] == str(RAM_FOLDER) and found["tempfile"] == str(RAM_FOLDER)
    assert Path(str(found["tmp_path"])).is_relative_to(RAM_FOLDER)


def test_tmpdir_or_basetemp_chooses_the_folder(tmp_path: Path) -> None:
    """A TMPDIR that is set is kept; --basetemp puts ``tmp_path`` there and leaves TMPDIR unset."""
    mine = tmp_path / "mine"
    mine.mkdir()
    found = _where(tmp_path, TMPDIR=str(mine))
    assert found["TMPDIR"] == str(mine) and Path(str(found["tmp_path"])).is_relative_to(mine)
    base = tmp_path / "base"
    found = _where(tmp_path, "--basetemp", str(base))
    assert found["TMPDIR"] is None and Path(str(found["tmp_path"])).is_relative_to(base)
