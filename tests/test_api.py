"""The public Python API on the bundled package, as a user calls it after pip install."""

from __future__ import annotations

import subprocess
import sys

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
            "DownloadError",
            "IntegrityError",
            "Issue",
            "KdataError",
            "LockTimeout",
            "PackageError",
            "ReleaseError",
            "UsageError",
            "__version__",
            "load",
            "load_table",
            "metadata",
            "package",
            "path",
            "resources",
        ]
    )
    for name in kdata.__all__:
        assert getattr(kdata, name) is not None
    with pytest.raises(AttributeError):
        kdata.nonexistent  # noqa: B018
    assert dir(kdata) == sorted(kdata.__all__)


def test_every_error_a_user_can_meet_is_exported() -> None:
    """Each KdataError subclass (and the root) is public, so callers can catch exactly what they meet."""
    import kdata.errors

    errors = {
        name
        for name, value in vars(kdata.errors).items()
        if isinstance(value, type) and issubclass(value, kdata.errors.KdataError)
    }
    assert len(errors) >= 8
    assert errors <= set(kdata.__all__)
    for name in errors:
        assert getattr(kdata, name) is getattr(kdata.errors, name)


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
