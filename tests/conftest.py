"""Shared fixtures: a real raw/ tree on disk and the real ``kdata`` command."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
GOOD = DATA / "good"
#: The archived sources the real dataset cites (beside the checkout, as in CI).
SHARED_SOURCES = REPO.parent / "shared" / "sources"


def run_kdata(
    *args: str | Path,
    cwd: Path,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``kdata`` command (``python -m kdata``) in a subprocess, with variables added to its environment."""
    return subprocess.run(
        [sys.executable, "-m", "kdata", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        preexec_fn=preexec_fn,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder (hidden ones too), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep every cache (validation results, downloads) of the test run out of the user's cache folder."""
    os.environ.setdefault("KDATA_CACHE_DIR", str(tmp_path_factory.mktemp("kdata-cache")))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the small, valid test project: raw/ and the archive it cites."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    shutil.copytree(GOOD / "archive", tmp_path / "archive")
    return tmp_path


@pytest.fixture
def built(project: Path) -> Path:
    """The test project with dist/ and schemas/ built by the real command."""
    result = run_kdata("build", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    return project
