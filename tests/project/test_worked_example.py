"""ARCHITECTURE.md's worked example, followed for real: a field added to a model reaches every output.

The field's line is taken from ARCHITECTURE.md itself and inserted into a copy of the package,
so the document and the code cannot drift apart: model -> JSON Schema -> Table Schema -> CSV and
Parquet -> site -> README data model -> diff (a minor bump).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from conftest import GOOD, REPO
from inprocess import run_kdata_here

DESCRIPTION = "Name in the actor's own language, as a source writes it."
VALUE = "Example Native Name"


def _step_one_code() -> str:
    """The line of Python that step 1 of the worked example tells a developer to add."""
    text = (REPO / "ARCHITECTURE.md").read_text("utf-8")
    example = text[text.index("## Worked example") :]
    (code,) = re.findall(r"```python\n(.*?)\n\s*```", example, re.S)[:1]
    return code.strip()


#: Runs ``kdata`` commands one after another in one Python (one start, one import of the changed package);
#: before each, a line naming it, so that each command's output can be told apart.
_COMMANDS = r"""
import json, sys
from kdata.cli import main
for args in json.loads(sys.argv[1]):
    print("\0" + " ".join(args), flush=True)
    try:
        main(args, prog_name="kdata")
    except SystemExit as exc:
        if exc.code:
            sys.exit(exc.code)
"""


def _kdata(src: Path, cwd: Path, *commands: list[str | Path]) -> dict[str, str]:
    """The real commands of the package copy in ``src``, in one process; each command's stdout by its first word."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = json.dumps([[str(arg) for arg in args] for args in commands])
    result = subprocess.run(
        [sys.executable, "-c", _COMMANDS, argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    parts = [part.split("\n", 1) for part in result.stdout.split("\0")[1:]]
    assert [line for line, _ in parts] == [" ".join(map(str, args)) for args in commands]
    return {line.split()[0]: out for line, out in parts}


def test_a_new_field_reaches_every_output(tmp_path: Path) -> None:
    src, project = tmp_path / "src", tmp_path / "project"
    shutil.copytree(REPO / "kdata", src / "kdata", ignore=shutil.ignore_patterns("__pycache__", "_data"))
    shutil.copytree(GOOD / "raw", project / "raw")
    shutil.copy(REPO / "README.md", project / "README.md")
    # The package before the change: the copy is still this kdata, so it is built in this process.
    built = run_kdata_here("build", cwd=project)
    assert built.returncode == 0, built.stdout + built.stderr
    shutil.copytree(project / "dist", tmp_path / "before")

    # 1. The model: the line ARCHITECTURE.md shows, added to Actor after its `role` field.
    code = _step_one_code()
    assert code.startswith("native_name:") and DESCRIPTION in code
    models = src / "kdata" / "records" / "models.py"
    text = models.read_text("utf-8")
    anchor = '    role: Text | None = Field(default=None, description="Role or title as stated in the sources.")\n'
    assert text.count(anchor) == 1
    models.write_text(text.replace(anchor, anchor + "    " + code + "\n"), "utf-8")
    # 4. A record uses it.
    record = project / "raw" / "actors" / "town-council.yaml"
    record.write_text(record.read_text("utf-8") + f"native_name: {VALUE}\n", "utf-8")

    # 2, 3. Build: schemas, Table Schema, CSV and Parquet, with nothing else written by hand. Then, by the
    # same changed package in the same process: verify, the site (5), the docs (6) and the diff (7).
    outputs = _kdata(
        src,
        project,
        ["build"],
        ["verify"],
        ["site", "site", "--package", "dist"],
        ["docs", "README.md"],
        ["diff", tmp_path / "before", "dist", "--format", "json"],
    )
    schema = json.loads((project / "schemas" / "actors.schema.json").read_text("utf-8"))
    assert DESCRIPTION in json.dumps(schema["properties"]["native_name"])
    descriptor = json.loads((project / "dist" / "datapackage.json").read_text("utf-8"))
    (actors,) = [r for r in descriptor["resources"] if r["name"] == "actors"]
    (field,) = [f for f in actors["schema"]["fields"] if f["name"] == "native_name"]
    assert field["type"] == "string" and field["description"] == DESCRIPTION
    with open(project / "dist" / "actors.csv", newline="", encoding="utf-8") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert rows["town-council"]["native_name"] == VALUE
    assert {row["native_name"] for key, row in rows.items() if key != "town-council"} == {""}
    table = pq.read_table(project / "dist" / "actors.parquet")
    assert str(table.schema.field("native_name").type) == "string"
    assert VALUE in table.column("native_name").to_pylist()

    # 5. The site shows the column, its description and the value.
    page = (project / "site" / "tables" / "actors.html").read_text("utf-8")
    assert "native_name" in page and VALUE in page
    assert DESCRIPTION.replace("'", "&#39;") in page or DESCRIPTION in page

    # 6. The docs: the README's data model lists the field.
    readme = (project / "README.md").read_text("utf-8")
    assert f"| `native_name` | string |  | {DESCRIPTION} |" in readme

    # 7. The release tooling sees a field added: a minor bump.
    assert json.loads(outputs["diff"])["bump"] == "minor"
