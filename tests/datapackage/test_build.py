"""The whole path on real files: raw YAML -> validate -> build -> frictionless -> load.

The package is built once per test process by the real command (``conftest._built_once``) and each
test changes a copy of its own; ``frictionless validate`` and the command as users start it run as
real processes; the checks of what ``build``, ``verify``, ``build --check``, ``info`` and
``conflicts`` print call the command in the test process.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import run_kdata, snapshot
from inprocess import run_kdata_here

import kdata
from kdata.records import models

FRICTIONLESS = Path(sys.executable).parent / "frictionless"


@pytest.fixture
def built(_built_once: Path, tmp_path: Path) -> Path:
    """A copy of its own, for each test, of the test project built once by the real command (tests change raw/ and dist/)."""
    project = tmp_path / "project"
    shutil.copytree(_built_once, project, symlinks=True)
    return project


def test_validate_accepts_the_good_project(project: Path) -> None:
    """A valid tree exits 0 and says how many records it checked (the real process: the test below)."""
    result = run_kdata_here("validate", "raw", cwd=project)
    assert result.returncode == 0, result.stdout
    assert "raw is valid: 12 records in 6 tables, every quote found in its source's archived text." in result.stdout


def test_built_package_passes_real_frictionless_validate(built: Path) -> None:
    """frictionless-py, run as users run it, reports the package valid, Parquet twins included."""
    result = subprocess.run(
        [str(FRICTIONLESS), "validate", "--json", "dist/datapackage.json"], cwd=built, capture_output=True, text=True
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["valid"], result.stdout
    names = sorted(task["name"] for task in report["tasks"])
    assert "events" in names and "events-parquet" in names and len(names) == 2 * len(models.TABLES)


def test_frictionless_catches_a_tampered_file(built: Path) -> None:
    """The declared bytes and hash are real: frictionless rejects a changed CSV, naming both.

    frictionless's own validation of the resource, in this process: the command that reads it is the
    one the test above runs, on the untouched package.
    """
    from kdata.api import package

    with open(built / "dist" / "events.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    report = package(built / "dist").get_resource("events").validate()
    assert not report.valid
    assert {"byte-count", "hash-count"} <= {error for (error,) in report.flatten(["type"])}, report.flatten(["type"])


def test_descriptor_declares_keys_types_and_integrity(built: Path) -> None:
    """Every resource has path, format, mediatype and sha256, CSV ones bytes too (not Parquet); tables have keys."""
    descriptor = json.loads((built / "dist" / "datapackage.json").read_text())
    assert descriptor["version"] == "0.1.0" and descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    for resource in descriptor["resources"]:
        content = (built / "dist" / resource["path"]).read_bytes()
        assert resource.get("bytes", len(content)) == len(content)
        assert ("bytes" in resource) == (resource["format"] == "csv")
        assert resource["hash"] == "sha256:" + hashlib.sha256(content).hexdigest()
        assert resource["mediatype"] in ("text/csv", "application/vnd.apache.parquet")
    events = next(r for r in descriptor["resources"] if r["name"] == "events")
    fields = {f["name"]: f for f in events["schema"]["fields"]}
    assert events["schema"]["primaryKey"] == ["id"]
    assert fields["date_start"]["type"] == "date" and fields["date_precision"]["constraints"]["enum"] == [
        "day",
        "month",
        "year",
    ]
    assert {"fields": ["place"], "reference": {"resource": "places", "fields": ["id"]}} in events["schema"][
        "foreignKeys"
    ]
    assert all(f.get("description") for f in events["schema"]["fields"])


def _csv_rows(path: Path, schema: dict) -> list[dict]:
    """Read a CSV with the standard library, typing cells by the Table Schema."""
    casts = {
        "string": str,
        "integer": int,
        "number": float,
        "date": date.fromisoformat,
        "boolean": lambda v: v == "true",
    }
    types = {f["name"]: casts[f["type"]] for f in schema["fields"]}
    with open(path, encoding="utf-8", newline="") as handle:
        return [{k: (types[k](v) if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)]


def test_csv_and_parquet_hold_the_same_rows_and_types(built: Path) -> None:
    """Each table's two files agree cell for cell, with the declared types."""
    dist = built / "dist"
    descriptor = json.loads((dist / "datapackage.json").read_text())
    for resource in (r for r in descriptor["resources"] if r["format"] == "csv"):
        from_csv = _csv_rows(dist / resource["path"], resource["schema"])
        from_parquet = kdata.load_table(resource["name"], package=dist).to_pylist()
        assert from_csv == from_parquet, resource["name"]
        assert len(from_csv) == resource["kdata:rows"]


def test_load_returns_the_yaml_values_with_proper_dtypes(built: Path) -> None:
    """kdata.load gives back what the YAML says: hedges, dates and their precision."""
    figures = kdata.load("figures", package=built / "dist").set_index("id")
    upto = figures.loc["riverton-returnees-other"]
    assert upto["qualifier"] == "at_most" and upto["high"] == 1500 and upto["stated_as"] == "up to 1,500"
    assert upto["low"] is __import__("pandas").NA
    assert (
        upto["as_of_start"] == date(2020, 3, 1)
        and upto["as_of_end"] == date(2020, 3, 31)
        and upto["as_of_precision"] == "month"
    )
    assert str(figures["value"].dtype) == "int64[pyarrow]"
    assert str(figures["as_of_start"].dtype) == "date32[day][pyarrow]"
    citations = kdata.load("citations", package=built / "dist")
    assert set(citations["figure"].dropna()) == set(figures.index)
    disagreements = kdata.load("disagreements", package=built / "dist")
    assert sorted(disagreements["aspect"]) == ["number", "wording"]
    sides = kdata.load("disagreement_sides", package=built / "dist")
    assert len(sides) == 4 and set(sides["figure"]) == {"riverton-returnees-council", "riverton-returnees-other"}


def test_two_builds_are_byte_identical(project: Path, _built_once: Path) -> None:
    """Builds from the same raw/ in different places, times and processes give the same bytes.

    The first is the session's build by the real command; the second runs in this process, at least a
    second later.
    """
    made = (_built_once / "dist" / "datapackage.json").stat().st_mtime
    time.sleep(max(0.0, made + 1.1 - time.time()))
    assert run_kdata_here("build", cwd=project).returncode == 0
    assert snapshot(project / "dist") == snapshot(_built_once / "dist")
    assert snapshot(project / "schemas") == snapshot(_built_once / "schemas")


def _rewrite_parquet(path: Path, **options: object) -> None:
    """Write the table of a Parquet file again with other writer options: other bytes, the same table."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    before = path.read_bytes()
    pq.write_table(table, path, **options)
    assert path.read_bytes() != before and pq.read_table(path).equals(table, check_metadata=True)


def test_a_rebuild_keeps_parquet_bytes_whose_table_is_unchanged(built: Path) -> None:
    """As if another pyarrow wrote dist/: unchanged tables keep their bytes; changed, damaged or foreign ones do not.

    Parquet files name the pyarrow version that wrote them, so without this a build on another
    Python (another pyarrow in the lock) rewrote every committed Parquet file and the descriptor.
    """
    dist = built / "dist"
    _rewrite_parquet(dist / "events.parquet", compression="zstd", write_statistics=False)  # kept
    _rewrite_parquet(dist / "actors.parquet", compression="snappy")  # another codec: written afresh
    _rewrite_parquet(dist / "figures.parquet", compression="zstd", row_group_size=1)  # split: afresh
    (dist / "citations.parquet").write_bytes(b"PAR1 not really")  # damaged: afresh
    (dist / "sources.parquet").unlink()
    (dist / "sources.parquet").symlink_to(dist / "events.parquet")  # a link is never read: afresh
    kept = (dist / "events.parquet").read_bytes()
    record = built / "raw" / "places" / "riverton.yaml"
    record.write_text(record.read_text().replace("name: Riverton", "name: Riverton Town"))
    _rewrite_parquet(dist / "places.parquet", compression="zstd", write_statistics=False)  # its table changes
    assert run_kdata_here("build", cwd=built).returncode == 0
    assert (dist / "events.parquet").read_bytes() == kept
    reference = built.parent / "reference"
    shutil.copytree(built / "raw", reference / "raw")
    assert run_kdata_here("build", cwd=reference).returncode == 0
    fresh = snapshot(reference / "dist")
    now = snapshot(dist)
    assert {name for name in fresh if now[name] != fresh[name]} == {"events.parquet", "datapackage.json"}
    assert not (dist / "sources.parquet").is_symlink()
    assert run_kdata_here("verify", cwd=built).returncode == 0
    assert run_kdata_here("build", "--check", cwd=built).returncode == 0  # fresh: its tables are the build's


def test_invalid_data_leaves_dist_untouched(built: Path) -> None:
    """A build that fails validation writes nothing and names the problem."""
    before = snapshot(built / "dist")
    record = built / "raw" / "events" / "riverton-return-2020.yaml"
    record.write_text(record.read_text().replace("status: occurred", "status: happened"))
    result = run_kdata_here("build", cwd=built)
    assert result.returncode == 1
    assert "raw/events/riverton-return-2020.yaml:4:9: KD103 not-in-vocabulary: status:" in result.stdout
    assert snapshot(built / "dist") == before
    assert not [p for p in built.iterdir() if p.name.startswith(".dist-")]


def test_check_names_stale_missing_and_extra_files(built: Path) -> None:
    """build --check passes on a fresh build and names every stale file otherwise."""
    fresh = run_kdata_here("build", "--check", cwd=built)
    assert fresh.returncode == 0, fresh.stdout
    record = built / "raw" / "places" / "riverton.yaml"
    record.write_text(record.read_text().replace("name: Riverton", "name: Riverton Town"))
    (built / "schemas" / "events.schema.json").unlink()
    (built / "dist" / "notes.txt").write_text("stray")
    result = run_kdata_here("build", "--check", cwd=built)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "dist/places.csv differs from a fresh build" in lines
    assert "dist/places.parquet differs from a fresh build" in lines
    assert "dist/datapackage.json differs from a fresh build" in lines
    assert "schemas/events.schema.json is missing" in lines
    assert any("holds files that kdata did not write: notes.txt" in line for line in lines), lines
    assert "`kdata build` would refuse" in result.stderr and "move out" in result.stderr
    assert "dist/events.csv differs from a fresh build" not in lines


def _marker_without_releases(folder: Path) -> None:
    """Mark a folder kdata wrote as holding nothing but its marker (every other entry becomes a stray)."""
    marker = folder / ".kdata-made"
    marker.write_text("\n".join(marker.read_text().splitlines()[:2]) + "\n")


#: What a user may leave in dist/ or schemas/, each made by a function of the project folder. A build
#: refuses to replace a folder holding any of them; the check must say so, never "run kdata build".
STRAYS = {
    "top-level file": lambda p: (p / "dist" / "notes.txt").write_text("mine"),
    "hidden file": lambda p: (p / "dist" / ".notes").write_text("mine"),
    "hidden file in schemas": lambda p: (p / "schemas" / ".DS_Store").write_bytes(b"\0"),
    "file in a subfolder": lambda p: (p / "dist" / "extra").mkdir() or (p / "dist" / "extra" / "a.csv").write_text("x"),
    "empty subfolder": lambda p: (p / "dist" / "empty").mkdir(),
    "file in schemas": lambda p: (p / "schemas" / "mine.json").write_text("{}"),
    "no marker": lambda p: (p / "dist" / ".kdata-made").unlink(),
    "another kind": lambda p: (p / "schemas" / ".kdata-made").write_text("# kdata-made: site\n"),
    "a table the marker does not list": lambda p: _marker_without_releases(p / "dist"),
}


@pytest.mark.parametrize("stray", STRAYS)
def test_check_and_build_agree_on_strays(built: Path, stray: str) -> None:
    """Whatever a build refuses to replace, the check reports as such and tells the user to move it, not to build."""
    STRAYS[stray](built)
    check = run_kdata_here("build", "--check", cwd=built)
    assert check.returncode == 1, check.stdout
    assert "would refuse" in check.stderr and "move out what kdata did not write" in check.stderr
    assert "stale: run `kdata build`" not in check.stderr
    build = run_kdata_here("build", cwd=built)
    assert build.returncode == 2, build.stdout + build.stderr
    assert build.stderr.strip().removeprefix("Error: ") in check.stdout.splitlines()  # the same refusal, word for word


def test_check_sends_to_the_build_only_what_the_build_fixes(built: Path) -> None:
    """A file an earlier build wrote (listed in its marker) that a fresh build no longer makes: the build deletes it."""
    marker = built / "dist" / ".kdata-made"
    (built / "dist" / "old_table.csv").write_text("id\n")
    marker.write_text(marker.read_text() + "old_table.csv\n")
    check = run_kdata_here("build", "--check", cwd=built)
    assert check.returncode == 1 and "dist/old_table.csv is not produced by the build" in check.stdout.splitlines()
    assert "1 file(s) stale: run `kdata build`" in check.stderr and "would refuse" not in check.stderr
    assert run_kdata_here("build", cwd=built).returncode == 0
    assert not (built / "dist" / "old_table.csv").exists()
    assert run_kdata_here("build", "--check", cwd=built).returncode == 0


def test_verify_names_a_tampered_parquet_file(built: Path) -> None:
    """kdata verify checks bytes and sha256 of Parquet files too."""
    assert run_kdata_here("verify", cwd=built).returncode == 0
    target = built / "dist" / "figures.parquet"
    content = bytearray(target.read_bytes())
    content[100] ^= 0xFF
    target.write_bytes(bytes(content))
    result = run_kdata_here("verify", cwd=built)
    assert result.returncode == 1
    assert result.stdout.startswith("figures.parquet: sha256 is sha256:")


def test_verify_finds_rows_that_break_keys(built: Path) -> None:
    """A package whose files match their hashes but break a foreign key is reported."""
    dist = built / "dist"
    path = dist / "events.csv"
    path.write_text(path.read_text().replace(",riverton,", ",atlantis,"))
    descriptor = json.loads((dist / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        if resource["path"] == "events.csv":
            resource["bytes"] = path.stat().st_size
            resource["hash"] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    (dist / "datapackage.json").write_text(json.dumps(descriptor))
    result = run_kdata_here("verify", cwd=built)
    assert result.returncode == 1
    assert "events.csv and events.parquet do not hold the same rows" in result.stdout


def _duplicate_first_row(dist: Path, table: str) -> None:
    """Repeat a table's first row in its CSV and Parquet files, with hashes that match again."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_path, parquet_path = dist / f"{table}.csv", dist / f"{table}.parquet"
    lines = csv_path.read_text().splitlines(keepends=True)
    csv_path.write_text("".join([*lines, lines[1]]))
    rows = pq.read_table(parquet_path)
    pq.write_table(pa.concat_tables([rows, rows.slice(0, 1)]), parquet_path)
    descriptor = json.loads((dist / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        if resource["path"] in (csv_path.name, parquet_path.name):
            content = (dist / resource["path"]).read_bytes()
            resource["bytes"], resource["hash"] = len(content), "sha256:" + hashlib.sha256(content).hexdigest()
    (dist / "datapackage.json").write_text(json.dumps(descriptor))


def test_verify_finds_duplicate_primary_keys(built: Path) -> None:
    """A row repeated in both twins (hashes updated) breaks the primary key, of one column or of three."""
    dist = built / "dist"
    _duplicate_first_row(dist, "places")
    _duplicate_first_row(dist, "event_actors")
    result = run_kdata_here("verify", cwd=built)
    assert result.returncode == 1
    assert "places: primary key ['id'] is not unique" in result.stdout
    assert "event_actors: primary key ['event', 'actor', 'role'] is not unique" in result.stdout
    assert "citations" not in result.stdout


def test_info_and_conflicts_commands(built: Path) -> None:
    """info prints name, version, licence and rows; conflicts lists disagreements."""
    info = run_kdata_here("info", "dist", cwd=built)
    assert info.returncode == 0
    assert info.stdout.splitlines()[0] == "kdata-test 0.1.0 (CC-BY-4.0)"
    assert "  figures                 3 rows" in info.stdout  # names padded to the longest, disagreement_sides
    assert "  disagreement_sides      4 rows" in info.stdout
    conflicts = run_kdata_here("conflicts", "dist", "--format", "json", cwd=built)
    rows = json.loads(conflicts.stdout)
    assert [(r["topic"], r["aspect"], r["kind"]) for r in rows] == [
        ("riverton-returnees", "number", "number"),
        ("riverton-returnees", "wording", "wording"),
    ]
    number = [(s["value"], [c["claimant_name"] for c in s["claims"]]) for s in rows[0]["sides"]]
    assert number == [("about 1,200", ["Town Council"]), ("up to 1,500", ["Test Wire"])]


def test_usage_errors_exit_2(project: Path) -> None:
    """A missing folder or unknown command is a usage error, not a crash."""
    missing = run_kdata("validate", "nowhere", cwd=project)
    assert missing.returncode == 2 and "No raw data folder at 'nowhere'" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert run_kdata("frobnicate", cwd=project).returncode == 2


def test_python_m_kdata_matches_the_command(project: Path) -> None:
    """python -m kdata and the installed kdata script behave alike: both accept the good project."""
    script = Path(sys.executable).parent / "kdata"
    a = run_kdata("validate", "raw", cwd=project)
    b = subprocess.run([str(script), "validate", "raw"], cwd=project, capture_output=True, text=True)
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout)
    assert a.returncode == 0 and "raw is valid: 12 records in 6 tables" in a.stdout, a.stdout + a.stderr


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones and links too) with its content, or where a link points."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.parametrize(
    "dist",
    [
        "raw",
        ".",
        "",
        "raw/events",
        "..",
        "raw/new-dist",
        "notes",
        "notes.txt",
        "linked",
        "schemas",
    ],
)
def test_build_refuses_a_dist_it_did_not_make_and_changes_nothing(built: Path, dist: str) -> None:
    """`--dist` may name only a new or empty folder, or one an earlier build wrote; one line, nothing touched."""
    (built / "notes").mkdir()
    (built / "notes" / "keep.md").write_text("mine")
    (built / "notes.txt").write_text("mine")
    (built / "empty").mkdir()
    (built / "linked").symlink_to(built / "empty")
    before = _tree(built.parent)
    result = run_kdata_here("build", "--dist", dist, cwd=built)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert _tree(built.parent) == before


@pytest.mark.parametrize(
    "stray",
    ["kalbajar_data-0.1.0-py3-none-any.whl", ".DS_Store", "releases-notes/x.txt", "sub/deep/file.csv", "empty-dir/"],
)
def test_build_refuses_to_delete_files_it_did_not_write_in_its_own_dist(built: Path, stray: str) -> None:
    """A wheel that `python -m build` wrote into dist/, or any other stray: named, kept, nothing rebuilt."""
    path = built / "dist" / stray
    if stray.endswith("/"):
        path.mkdir(parents=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not kdata's")
    before = _tree(built)
    result = run_kdata_here("build", cwd=built)
    assert result.returncode == 2 and stray.rstrip("/") in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _tree(built) == before


def test_build_replaces_its_own_dist_an_empty_folder_and_keeps_releases(built: Path) -> None:
    """What a build may replace: its own earlier output (releases/ carried over), a new or an empty folder."""
    (built / "dist" / "releases").mkdir()
    (built / "dist" / "releases" / "SHA256SUMS").write_text("kept\n")
    assert run_kdata_here("build", cwd=built).returncode == 0
    assert (built / "dist" / "releases" / "SHA256SUMS").read_text() == "kept\n"
    made = (built / "dist" / ".kdata-made").read_text().splitlines()
    assert "datapackage.json" in made and "events.parquet" in made and "releases/SHA256SUMS" in made
    (built / "out").mkdir()
    assert run_kdata_here("build", "--dist", "out", "--schemas", "out-schemas", cwd=built).returncode == 0
    assert (built / "out" / "datapackage.json").is_file() and (built / "out-schemas" / ".kdata-made").is_file()
    assert run_kdata_here("build", "--dist", "new/deeper/dist", cwd=built).returncode == 0


def test_a_schemas_folder_with_other_files_stops_the_build_before_dist_changes(built: Path) -> None:
    (built / "schemas" / "mine.json").write_text("{}")
    before = _tree(built)
    result = run_kdata_here("build", cwd=built)
    assert result.returncode == 2 and "mine.json" in result.stderr
    assert _tree(built) == before


@pytest.mark.parametrize(
    ("command", "target"),
    [
        (("site", "dist"), "dist"),
        (("schemas", "dist"), "dist"),
        (("build", "--dist", "schemas", "--schemas", "s2"), "schemas"),
        (("build", "--dist", "site"), "site"),
        (("build", "--schemas", "site"), "site"),
        (("site", "schemas"), "schemas"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_a_folder_kdata_wrote_as_one_kind_is_never_replaced_by_another(
    built: Path, command: tuple[str, ...], target: str
) -> None:
    """The marker names the kind of folder: a site never replaces a package (and its releases/), nor the reverse."""
    (built / "dist" / "releases").mkdir()
    (built / "dist" / "releases" / "kalbajar-0.1.0.zip").write_bytes(b"a published archive")
    assert run_kdata_here("site", "site", "--package", "dist", cwd=built).returncode == 0
    assert run_kdata_here("build", "--dist", "dist", cwd=built).returncode == 0  # its own kind: replaced
    before = _tree(built)
    result = run_kdata_here(*command, cwd=built)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"'{target}' is a " in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _tree(built) == before


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder", "not-utf8"])
def test_docs_reads_only_a_regular_utf8_file(project: Path, kind: str) -> None:
    """`kdata docs FILE` on a FIFO (which hung), a symlink (which it replaced), a folder or bad bytes: one line."""
    target = project / "README.md"
    (project / "real.md").write_text("<!-- generated: error codes -->\n<!-- end: error codes -->\n")
    makers = {
        "fifo": lambda: os.mkfifo(target),
        "symlink": lambda: target.symlink_to(project / "real.md"),
        "folder": lambda: target.mkdir(),
        "not-utf8": lambda: target.write_bytes(b"\xff\xfe<!-- generated: error codes -->"),
    }
    makers[kind]()
    before = _tree(project)
    if kind == "fifo":  # a real process, so a read that blocks ends in the timeout, not in a hung test
        result = run_kdata("docs", "README.md", cwd=project, timeout=30)
    else:
        result = run_kdata_here("docs", "README.md", cwd=project)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "README.md" in result.stderr
    assert _tree(project) == before
