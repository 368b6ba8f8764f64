"""The pre-commit hooks, run for real by pre-commit in temporary git repositories.

- The project's own ``.pre-commit-config.yaml`` (``language: system``): installed as a
  git hook, it lets a good record be committed and refuses a bad one.
- The ``kdata-validate`` hook of ``.pre-commit-hooks.yaml``, as another repository uses
  it: a config naming a copy of this repository and a revision (what ``pre-commit
  try-repo`` writes for itself, and what the manifest's comment tells users to write).
  pre-commit installs kdata from that repository into its own environment and runs it.
  That install fetches pandas, pyarrow and the rest from the package index, so the test
  runs only with ``KDATA_TEST_TRY_REPO=1``, as the GitHub workflow sets it. The test group
  holds pre-commit-uv: installed beside pre-commit, it makes pre-commit create a hook's
  environment with ``uv venv`` and ``uv pip install .`` instead of virtualenv and pip (about
  5 s from uv's cache instead of 15-50 s), the same hook installed from the same repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import DATA, GOOD, REPO

# The lowest-versions drift run leaves pre-commit out (see .ci/drift); CI's KDATA_REQUIRE_ALL fails on this skip.
pytest.importorskip("pre_commit", reason="pre-commit is not installed (the drift run's lowest versions leave it out)")

BAD_RECORD = DATA / "malformed" / "misspelt-field" / "files" / "raw" / "events" / "riverton-bridge-opened.yaml"
#: Left out of the copy of this repository that try-repo installs: not in a clone, or not needed (.uv is the
#: Makefile's own uv, 1,600 files; .hypothesis the property tests' example database).
NOT_IN_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".uv",
    ".hypothesis",
    "__pycache__",
    ".*_cache",
    "node_modules",
    "test-artifacts",
    "releases",
    ".dist-*",
)


def _env(tmp_path: Path) -> dict[str, str]:
    """An environment with kdata on PATH, a private pre-commit cache and a git identity."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _git_repo(path: Path, env: dict[str, str], *extra: Path) -> Path:
    """A git repository holding the good raw/ tree (and ``extra`` files), committed."""
    shutil.copytree(GOOD / "raw", path / "raw")
    for file in extra:
        shutil.copy(file, path / file.name)
    _run(["git", "init", "--quiet", "--initial-branch=main"], path, env).check_returncode()
    _run(["git", "add", "--all"], path, env).check_returncode()
    _run(["git", "commit", "--quiet", "--no-verify", "-m", "Good data"], path, env).check_returncode()
    return path


def _pre_commit(*args: str) -> list[str]:
    return [sys.executable, "-m", "pre_commit", *args]


def test_manifest_and_config_are_valid(tmp_path: Path) -> None:
    """pre-commit accepts both files, and the public hook is the one documented."""
    env = _env(tmp_path)
    for command in (("validate-manifest", ".pre-commit-hooks.yaml"), ("validate-config", ".pre-commit-config.yaml")):
        result = _run(_pre_commit(*command), REPO, env)
        assert result.returncode == 0, result.stdout + result.stderr
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert hook["id"] == "kdata-validate"
    assert (hook["entry"], hook["language"], hook["pass_filenames"], hook["files"]) == (
        "kdata validate",
        "python",
        False,
        "^raw/",
    )


def test_project_hook_lets_good_data_in_and_keeps_bad_data_out(tmp_path: Path) -> None:
    """Installed as a git hook, the project's config commits a good record and refuses a bad one."""
    env = _env(tmp_path)
    repo = _git_repo(tmp_path / "data", env, REPO / ".pre-commit-config.yaml")
    installed = _run(_pre_commit("install"), repo, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    good = repo / "raw" / "places" / "riverton-park.yaml"
    good.write_text("id: riverton-park\nname: Riverton Park\nkind: settlement\nparent: riverton\n", "utf-8")
    _run(["git", "add", "--all"], repo, env).check_returncode()
    committed = _run(["git", "commit", "-m", "Add a place"], repo, env)
    assert committed.returncode == 0, committed.stdout + committed.stderr
    assert "kdata validate" in committed.stderr and "Passed" in committed.stderr  # git prints hooks on stderr

    shutil.copy(BAD_RECORD, repo / "raw" / "events" / BAD_RECORD.name)
    _run(["git", "add", "--all"], repo, env).check_returncode()
    refused = _run(["git", "commit", "-m", "Break an event"], repo, env)
    assert refused.returncode != 0
    assert "Failed" in refused.stderr
    assert (
        "raw/events/riverton-bridge-opened.yaml:2:1: KD104 unknown-field: titel: 'titel' is not a known field."
        in refused.stderr
    )
    log = _run(["git", "log", "--format=%s"], repo, env).stdout.splitlines()
    assert log == ["Add a place", "Good data"]  # the bad commit was not made


@pytest.mark.skipif(
    os.environ.get("KDATA_TEST_TRY_REPO") != "1",
    reason="installs kdata and its dependencies from the package index (1-3 min): set KDATA_TEST_TRY_REPO=1",
)
def test_public_hook_installs_from_the_repository(tmp_path: Path) -> None:
    """Another repository's view: its config names this repository; pre-commit installs the hook from there and runs it.

    One environment for both runs, as a contributor's pre-commit keeps it (``try-repo`` would
    install everything afresh for each run: its store is a temporary folder).
    """
    # pre-commit-uv installs with uv, which writes no bytecode. Where pip installs (pre-commit without the plugin),
    # pip's --no-compile (PIP_COMPILE=0: pip reads a PIP_ variable as the option's value): no bytecode for pandas,
    # pyarrow and the rest, most of pip's time; the hook's run compiles what it imports.
    env = {**_env(tmp_path), "PIP_COMPILE": "0"}
    # Nothing of the test's own kdata in reach: the hook must run the kdata pre-commit installed.
    env.pop("PYTHONPATH", None)
    ours = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != ours)
    hook_repo = tmp_path / "kdata"
    shutil.copytree(REPO, hook_repo, ignore=NOT_IN_CLONE)
    _run(["git", "init", "--quiet"], hook_repo, env).check_returncode()
    _run(["git", "add", "--all"], hook_repo, env).check_returncode()
    _run(["git", "commit", "--quiet", "-m", "kdata"], hook_repo, env).check_returncode()
    rev = _run(["git", "rev-parse", "HEAD"], hook_repo, env).stdout.strip()
    config = {"repos": [{"repo": str(hook_repo), "rev": rev, "hooks": [{"id": "kdata-validate"}]}]}
    (tmp_path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), "utf-8")
    data = _git_repo(tmp_path / "data", env, tmp_path / ".pre-commit-config.yaml")

    passed = _run(_pre_commit("run", "kdata-validate", "--all-files"), data, env, timeout=600)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "kdata validate" in passed.stdout and "Passed" in passed.stdout
    envs = list((tmp_path / "pre-commit-home").glob("repo*/py_env-*/bin/kdata"))
    assert len(envs) == 1  # kdata installed from the repository into pre-commit's own environment

    shutil.copy(BAD_RECORD, data / "raw" / "events" / BAD_RECORD.name)
    _run(["git", "add", "--all"], data, env).check_returncode()
    failed = _run(_pre_commit("run", "kdata-validate", "--all-files"), data, env, timeout=600)
    assert failed.returncode == 1
    assert "Failed" in failed.stdout
    assert "raw/events/riverton-bridge-opened.yaml:1:1: KD101 missing-field: title:" in failed.stdout
    assert "2 problems in 1 file." in failed.stdout
