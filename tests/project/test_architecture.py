"""The layout keeps its promises: stages import only earlier stages, no cycle, only the CLI imports click.

The contract itself is written once, in pyproject.toml's ``[tool.importlinter]``; these tests run
import-linter on the real package, then on copies with a planted violation, to show the contract
can fail. grimp (import-linter's graph) sees every import, those inside functions included.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

# The lowest-versions drift run leaves import-linter out (see .ci/drift); CI's KDATA_REQUIRE_ALL fails on this skip.
grimp = pytest.importorskip(
    "grimp", reason="import-linter is not installed (the drift run's lowest versions leave it out)"
)

#: The stage packages, in the order the data flows through them (ARCHITECTURE.md).
STAGES = ("records", "datapackage", "release", "site", "cli")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter with the project's contracts, on the ``kdata`` package found in ``root``."""
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    env = {"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent), "HOME": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "kdata", tmp_path / "kdata", ignore=shutil.ignore_patterns("__pycache__", "_data"))
    return tmp_path


def test_the_import_contract_holds(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


#: Violations planted together in one copy (module, text appended, the chain import-linter must report).
PLANTED = (
    # An import inside a function counts as much as one at the top.
    ("records/dates.py", "\n\ndef _planted():\n    from kdata.api import load\n", "kdata.records.dates -> kdata.api"),
    ("datapackage/verify.py", "\nfrom kdata.release import registry\n", "kdata.datapackage.verify -> kdata.release"),
    ("fs.py", "\nimport kdata.records.models\n", "kdata.fs -> kdata.records.models"),
    ("release/diff.py", "\nimport " + "click\n", "kdata.release.diff -> click"),  # split: no real import to grep
)


def test_each_planted_violation_breaks_the_contract(tmp_path: Path) -> None:
    """Four violations of both contracts, planted in one copy: import-linter fails and names every one."""
    root = _copy(tmp_path)
    for module, planted, _ in PLANTED:
        path = root / "kdata" / module
        path.write_text(path.read_text("utf-8") + planted, "utf-8")
    result = _lint(root)
    assert result.returncode == 1, result.stdout + result.stderr
    for _, _, broken in PLANTED:
        assert broken in result.stdout, broken
    assert "Contracts: 0 kept, 2 broken." in result.stdout


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("kdata", include_external_packages=True)


def test_no_import_cycle() -> None:
    """No module imports itself through others (imports inside functions and TYPE_CHECKING count)."""
    graph = _graph()
    ours = sorted(m for m in graph.modules if m == "kdata" or m.startswith("kdata."))
    cycles = []
    for module in ours:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("kdata") and graph.chain_exists(importer=imported, imported=module):
                cycles.append((module, imported))
    assert cycles == []


def test_only_the_cli_imports_click() -> None:
    graph = _graph()
    importers = graph.find_modules_that_directly_import("click")
    assert importers and all(m.startswith("kdata.cli") for m in importers), importers


def test_every_stage_package_says_what_enters_and_what_leaves() -> None:
    for stage in STAGES:
        doc = (REPO / "kdata" / stage / "__init__.py").read_text("utf-8")
        assert doc.startswith('"""') and len(doc.split('"""')[1]) > 80, stage


def test_tests_mirror_the_stages() -> None:
    """Every stage has its folder of tests, and no test file sits in a folder no stage owns."""
    folders = {p.name for p in (REPO / "tests").iterdir() if p.is_dir()}
    assert set(STAGES) <= folders
    assert folders <= {*STAGES, "reliability", "project", "data", "tools", "__pycache__"}
