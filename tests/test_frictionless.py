"""kdata.package(): the data package as a frictionless.Package, read and validated by frictionless itself.

The tests call ``kdata.api.package``: the submodule ``kdata/package.py`` (the
package writer) replaces the attribute ``kdata.package`` once anything imports
it, and pytest imports it while collecting other test files. A fresh
interpreter (``test_package_is_public_and_frictionless_loads_on_first_call``)
checks the public name.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import frictionless
import pytest
from conftest import REPO

import kdata
from kdata.api import package


def test_csv_resources_read_the_rows_load_table_reads() -> None:
    """Every table's CSV resource, typed by frictionless, holds the rows of kdata.load_table, tombstones included."""
    bundled = package()
    assert isinstance(bundled, frictionless.Package) and bundled.version == kdata.metadata()["version"]
    for name in kdata.resources():
        resource = bundled.get_resource(name)
        assert isinstance(resource, frictionless.resources.TableResource) and resource.format == "csv"
        rows = [row.to_dict() for row in resource.read_rows()]
        assert rows == kdata.load_table(name, include_retracted=True).to_pylist(), name


def test_frictionless_validates_the_package_as_valid() -> None:
    """frictionless checks every row of every table, CSV and Parquet, and every CSV file's bytes and sha256: valid.

    The one whole-package validation of the suite (about 11 s of CPU): the other tests validate
    only the resource they change, a byte copy of this valid package otherwise.
    """
    report = package().validate()
    assert report.valid, report.flatten(["type", "note"])
    assert len(report.tasks) == 2 * len(kdata.resources())
    assert all(task.stats["rows"] > 0 for task in report.tasks)


def test_a_changed_parquet_file_passes_frictionless_but_not_kdata_verify(tmp_path: Path) -> None:
    """The measured gap (docs/PITFALLS.md): frictionless 5.21 never hashes a Parquet table, kdata verify does.

    The same rows written with another compression are other bytes: frictionless, reading rows,
    still says valid; ``kdata verify`` names the file and its sha256.
    """
    import pyarrow.parquet as pq

    from kdata.datapackage.verify import verify

    copy = tmp_path / "dist"
    copy.mkdir()
    for path in (REPO / "dist").iterdir():
        if path.is_file():
            shutil.copy2(path, copy / path.name)
    pq.write_table(pq.read_table(copy / "events.parquet"), copy / "events.parquet", compression="snappy")
    assert package(copy).get_resource("events-parquet").validate().valid  # the other files: the valid package's bytes
    problems = verify(copy)
    assert len(problems) == 1 and problems[0].startswith("events.parquet: sha256 is sha256:"), problems


def test_package_resolves_like_the_other_functions(tmp_path: Path) -> None:
    """A folder or its descriptor selects a package; a tampered copy is invalid; package and version together are refused."""
    copy = tmp_path / "dist"
    copy.mkdir()
    for path in (REPO / "dist").iterdir():
        if path.is_file():
            shutil.copy2(path, copy / path.name)
    assert package(copy).basepath == str(copy)
    assert package(copy / "datapackage.json").basepath == str(copy)
    with open(copy / "events.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    assert not package(copy).get_resource("events").validate().valid  # frictionless checks the CSV's sha256
    with pytest.raises(kdata.UsageError, match="Pass either package= or version=, not both"):
        package(copy, version="0.1.0")
    with pytest.raises(kdata.UsageError, match=r"No datapackage\.json in"):
        package(tmp_path)
    (copy / "datapackage.json").write_text("[]")  # refused by kdata's own check, before frictionless reads it
    with pytest.raises(kdata.PackageError, match=r"holds no data package descriptor \(a JSON object\)"):
        package(copy)


def test_package_is_public_and_frictionless_loads_on_first_call() -> None:
    """kdata.package is the API function; frictionless is imported when it is called, not before."""
    code = (
        "import json, sys, kdata, kdata.api; f = kdata.package; before = 'frictionless' in sys.modules;"
        "p = f(); print(json.dumps([f is kdata.api.package, before, type(p).__module__]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [True, False, "frictionless.package.package"]
