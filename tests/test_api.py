"""The public Python API on the bundled package, as a user calls it after pip install."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

import kdata

HEAVY = ("pandas", "pyarrow", "pydantic", "frictionless", "yaml", "click", "numpy")


def test_import_is_light() -> None:
    """import kdata loads none of the heavy libraries."""
    code = f"import sys, kdata; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_exactly_all() -> None:
    """__all__ lists the public API and every name in it exists."""
    assert sorted(kdata.__all__) == sorted(
        [
            "BuildError",
            "DataError",
            "Issue",
            "KdataError",
            "PackageError",
            "UsageError",
            "__version__",
            "load",
            "load_table",
            "metadata",
            "path",
            "resources",
        ]
    )
    for name in kdata.__all__:
        assert getattr(kdata, name) is not None
    with pytest.raises(AttributeError):
        kdata.nonexistent  # noqa: B018


def test_bundled_tables_load_with_proper_dtypes() -> None:
    """Every bundled table loads; row counts match the descriptor; dates are dates."""
    meta = kdata.metadata()
    rows = {r["name"]: r["kdata:rows"] for r in meta["resources"] if r["format"] == "csv"}
    assert kdata.resources() == list(rows)
    for name, count in rows.items():
        assert len(kdata.load(name)) == count
        assert kdata.load_table(name).num_rows == count
    events = kdata.load("events")
    assert str(events["date_start"].dtype) == "date32[day][pyarrow]"
    assert str(events["date_precision"].dtype) == "string[pyarrow]"
    assert kdata.path("events").name == "events.parquet"
    assert kdata.path("events", format="csv").read_bytes().startswith(b"id,title,kind,status,date,")


def test_unknown_table_and_format_are_clear_errors() -> None:
    """A wrong name says which names exist."""
    with pytest.raises(kdata.UsageError, match="No table named 'event'; the tables are sources, actors"):
        kdata.load("event")
    with pytest.raises(kdata.UsageError, match="Unknown format 'xlsx'"):
        kdata.path("events", format="xlsx")
    with pytest.raises(kdata.UsageError, match=r"No datapackage\.json in"):
        kdata.load("events", package=REPO / "raw")


def test_wheel_bundles_the_package_and_loads_offline(tmp_path: Path) -> None:
    """The wheel carries dist/ as kdata/_data; installed alone, kdata.load reads it."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "wheel"), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "wheel").glob("kalbajar_data-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for path in sorted((REPO / "dist").glob("*.*")):
            assert archive.read(f"kdata/_data/{path.name}") == path.read_bytes()
        assert "kdata/py.typed" in names
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    code = "import json, kdata, kdata.api; print(json.dumps([kdata.__file__, str(kdata.api.bundled_dir()), len(kdata.load('events'))]))"
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin", "KDATA_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    module, bundled, rows = json.loads(out.stdout)
    assert module.startswith(str(tmp_path / "site"))
    assert bundled == str(tmp_path / "site" / "kdata" / "_data")
    assert rows == kdata.metadata()["resources"][3]["kdata:rows"]
