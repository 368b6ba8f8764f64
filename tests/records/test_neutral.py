"""Neutral wording (KD112): our own fields use no loaded term outside quotation marks; the sources' words are free."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import GOOD

from kdata.records.neutral import LOADED, OUR_WORDS, loaded_term
from kdata.records.validate import load_raw

#: One record of the good project per table, and the line its field is written on (appended at the end).
RECORDS = {
    "sources": "test-wire-2020-05-01",
    "actors": "town-council",
    "places": "riverton",
    "events": "riverton-return-2020",
    "figures": "riverton-returnees-council",
    "claims": "town-council-says-residents-returned",
}


def _with(tmp_path: Path, table: str, field: str, value: str) -> list[tuple[str, str, int, str]]:
    """Validate the good project with one field of one record set to ``value``: (file, code, line, field) of each issue."""
    raw = Path(shutil.copytree(GOOD / "raw", tmp_path / "raw"))
    path = raw / table / f"{RECORDS[table]}.yaml"
    lines = path.read_text("utf-8").splitlines()
    if field != "id":
        lines = [line for line in lines if not line.startswith(f"{field}:")]
    if field == "id":  # an id is the file name: rename the file with it
        lines = [f"id: {value}" if line.startswith("id:") else line for line in lines]
        path.unlink()
        path = path.with_name(f"{value}.yaml")
    else:
        lines.append(f"{field}: '{value}'")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    issues = load_raw(raw).issues
    return [(Path(i.file).name, i.code, i.line, i.field) for i in issues if i.code == "KD112"]


@pytest.mark.parametrize("stem", list(LOADED))
def test_every_loaded_term_is_found_in_its_forms(stem: str) -> None:
    word = f"the {stem.upper()}ed area"  # any case, inside a longer word
    assert loaded_term(word).lower().startswith(stem.split()[0])
    assert loaded_term(f'a "{stem}" said the minister') == ""  # quoted: the speaker's word
    assert loaded_term(f"a “{stem}”, he said") == ""  # typographic quotation marks
    assert loaded_term(f'said "{stem}" and then {stem}') != ""  # once quoted, once not


@pytest.mark.parametrize(("table", "field"), [(t, f) for t, fields in OUR_WORDS.items() for f in fields if f != "id"])
def test_each_field_in_our_words_is_checked_at_its_line(tmp_path: Path, table: str, field: str) -> None:
    value = "riverton-liberation" if field == "topic" else "Residents returned after the liberation"
    found = _with(tmp_path, table, field, value)
    assert [(code, f) for _, code, _, f in found] == [("KD112", field)]
    assert found[0][2] > 1  # at the line of the value


@pytest.mark.parametrize("table", [t for t, fields in OUR_WORDS.items() if "id" in fields])
def test_an_id_is_our_words_too(tmp_path: Path, table: str) -> None:
    found = _with(tmp_path, table, "id", "riverton-occupation-ended")
    assert [(code, field) for _, code, _, field in found] == [("KD112", "id")]


@pytest.mark.parametrize(
    ("table", "field"),
    [("sources", "title"), ("actors", "name"), ("events", "date_phrase"), ("events", "term"), ("figures", "term")],
)
def test_the_sources_words_are_left_alone(tmp_path: Path, table: str, field: str) -> None:
    """A headline, a name, a date phrase or a verbatim term is the source's, not ours."""
    assert _with(tmp_path, table, field, "the liberation of Riverton") == []


def test_a_quoted_loaded_term_in_a_description_passes(tmp_path: Path) -> None:
    assert _with(tmp_path, "events", "description", 'The council calls it the "liberation" of Riverton.') == []
