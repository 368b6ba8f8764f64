"""``kdata new KIND ID``: a scaffold with every field, which validates once filled in."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from inprocess import run_kdata_here

from kdata.records import models

#: A valid value for each placeholder, by table, as a contributor would fill it in.
FILL: dict[str, dict[str, str]] = {
    "sources": {
        "title": '"[Second report on Riverton]"',
        "language": "en",
        "kind": "news_report",
        "sha256": "74d4b99aa99bab4fec90a504587f3b9deaabc8feff26c8870d87093c527ec0c0",
    },
    "actors": {"name": "Riverton Mayor", "kind": "person"},
    "places": {"name": "Riverton Square", "kind": "city"},
    "events": {"title": "A bridge was opened", "kind": "opening", "status": "occurred", "date": "2020-04"},
    "figures": {"measure": "length", "unit": "kilometres", "qualifier": "exact", "stated_as": "4 kilometres"},
    "claims": {
        "claimant": "test-wire",
        "kind": "assertion",
        "date": "2020-05-01",
        "summary": "Test Wire says the bridge at Riverton is 4 kilometres long.",
    },
}
#: The fields of a citation, which events, figures and claims share.
CITATION = {"source": "test-wire-2020-05-01", "claimant": "test-wire", "quote": "4 kilometres long"}
#: Optional lines to uncomment: a figure qualified 'exact' needs its value.
UNCOMMENT: dict[str, dict[str, str]] = {"figures": {"value": "4"}}

PLACEHOLDER = re.compile(r"^(?P<lead> *(?:- )?)(?P<key>[a-z0-9_]+):  # ", re.MULTILINE)


def _fill(text: str, table: str) -> str:
    """The scaffold with every placeholder of FILL filled in, as a contributor would."""
    values = FILL[table] | (CITATION if table in ("events", "figures", "claims") else {})

    def one(match: re.Match[str]) -> str:
        key = match["key"]
        return f"{match['lead']}{key}: {values[key]}  # " if key in values else match[0]

    text = PLACEHOLDER.sub(one, text)
    for key, value in UNCOMMENT.get(table, {}).items():
        text = re.sub(rf"^# {key}:  # ", f"{key}: {value}  # ", text, flags=re.MULTILINE)
    return text


def _schema(table: str) -> dict[str, Any]:
    return models.RECORD_TABLES[table].model_json_schema()


@pytest.mark.parametrize("table", list(models.RECORD_TABLES))
def test_scaffold_validates_once_filled(project: Path, table: str) -> None:
    """The scaffold names every field; unfilled, each placeholder is an error; filled, it validates."""
    result = run_kdata_here("new", table, f"new-{table}", cwd=project)
    assert result.returncode == 0, result.stderr
    path = project / "raw" / table / f"new-{table}.yaml"
    assert result.stdout == f"Wrote raw/{table}/new-{table}.yaml: fill the empty fields, then run `kdata validate`.\n"
    text = path.read_text("utf-8")
    lines = text.splitlines()
    assert lines[0] == f"# yaml-language-server: $schema=../../schemas/{table}.schema.json"
    assert (REPO / "schemas" / f"{table}.schema.json").is_file()
    assert f"id: new-{table}  # Stable identifier, equal to the file name." in lines

    schema = _schema(table)
    required = set(schema["required"])
    for name, prop in schema["properties"].items():
        prefix = "" if name in required else "# "
        line = next((x for x in lines if x.startswith(f"{prefix}{name}:")), None)
        assert line is not None, f"{name} missing from the scaffold (expected '{prefix}{name}:')"
        assert f"  # {prop['description']}" in line, line

    unfilled = run_kdata_here("validate", "raw", "--format", "json", cwd=project)
    issues = json.loads(unfilled.stdout)
    assert unfilled.returncode == 1
    assert {i["file"] for i in issues} == {f"raw/{table}/new-{table}.yaml"}
    assert {i["code"] for i in issues} == {"KD102"}, issues  # "Expected text, found nothing (null)."
    placeholders = {m["key"] for m in PLACEHOLDER.finditer(text)} - {"citations"}
    assert {i["field"].rsplit(".", 1)[-1] for i in issues} == placeholders

    path.write_text(_fill(text, table), "utf-8")
    if table == "sources":  # a source needs its archived text beside it: the good one, whose sha256 _fill writes
        shutil.copyfile(project / "raw/sources/test-wire-2020-05-01.txt", path.with_suffix(".txt"))
    filled = run_kdata_here("validate", "raw", cwd=project)
    assert filled.returncode == 0, filled.stdout + filled.stderr
    assert "is valid: 13 records" in filled.stdout


def test_singular_kind_and_raw_option(tmp_path: Path) -> None:
    """KIND may be singular and any case; --raw writes into another raw/ folder."""
    (tmp_path / "data").mkdir()
    result = run_kdata_here("new", "Figure", "x-1", "--raw", "data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        (tmp_path / "data" / "figures" / "x-1.yaml")
        .read_text("utf-8")
        .startswith("# yaml-language-server: $schema=../../schemas/figures.schema.json\n")
    )


def test_refuses_an_existing_id(project: Path) -> None:
    """An id already used is refused with exit 2, and the file is left as it was."""
    path = project / "raw" / "events" / "riverton-return-2020.yaml"
    before = path.read_bytes()
    result = run_kdata_here("new", "event", "riverton-return-2020", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "Error: raw/events/riverton-return-2020.yaml already exists: the id 'riverton-return-2020' is taken, "
        "and ids are never reused. Edit that file, or choose another id.\n"
    )
    assert path.read_bytes() == before


@pytest.mark.parametrize("bad", ["Bad-Id", "under_score", "-lead", "trail-", "two--hyphens", "x" * 101, "dots.yaml"])
def test_refuses_an_invalid_id(project: Path, bad: str) -> None:
    """An id the models would refuse is refused before anything is written."""
    result = run_kdata_here("new", "place", "--", bad, cwd=project)
    assert result.returncode == 2
    assert f"'{bad}' is not a valid id. Expected lowercase words of a-z and 0-9 joined by single hyphens" in (
        result.stderr
    )
    assert sorted(p.name for p in (project / "raw" / "places").iterdir()) == ["riverton-bridge.yaml", "riverton.yaml"]


def test_refuses_an_unknown_kind_or_missing_raw(tmp_path: Path) -> None:
    """An unknown KIND is a usage error; so is a raw/ folder that does not exist."""
    unknown = run_kdata_here("new", "thing", "x", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "Invalid value for 'KIND': 'thing' is not one of" in unknown.stderr
    missing = run_kdata_here("new", "event", "x", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "Error: No raw data folder at 'raw'. Run kdata new from the project root, or pass --raw.\n"


def test_editor_settings_map_every_schema_to_its_records() -> None:
    """.vscode/settings.json gives each table's files, and package.yaml, their JSON Schema."""
    settings = json.loads((REPO / ".vscode" / "settings.json").read_text("utf-8"))
    expected = {f"./schemas/{table}.schema.json": [f"raw/{table}/*.yaml"] for table in models.RECORD_TABLES}
    expected["./schemas/package.schema.json"] = ["raw/package.yaml"]
    assert settings["yaml.schemas"] == expected
    for schema in expected:
        assert (REPO / schema).is_file(), schema


@pytest.mark.parametrize("shape", ["raw is a symlink", "table folder is a symlink", "table folder is a file"])
def test_new_refuses_to_write_through_a_symlink_or_into_a_file(shape: str, tmp_path: Path) -> None:
    """``kdata new`` writes only into real folders inside raw/: one line, exit 2, nothing written elsewhere."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "places").mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    raw = project / "raw"
    if shape == "raw is a symlink":
        raw.symlink_to(elsewhere)
    else:
        raw.mkdir()
        places = raw / "places"
        places.symlink_to(elsewhere / "places") if shape == "table folder is a symlink" else places.write_text("")
    result = run_kdata_here("new", "place", "new-square", cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "kdata writes records only into real folders inside raw/" in result.stderr
    assert list(elsewhere.rglob("*.yaml")) == []
