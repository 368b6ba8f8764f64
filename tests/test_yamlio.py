"""Strict YAML reading: YAML 1.2 core typing only, and a fast path identical to the strict one."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA, REPO

from kdata import yamlio

#: Plain scalars and what they become (YAML 1.1 traps stay text).
TYPED = {
    "no": "no",
    "on": "on",
    "NO": "NO",
    "yes": "yes",
    "1:20": "1:20",
    "0755": "0755",
    "010": "010",
    "1993-04-02": "1993-04-02",
    "true": True,
    "false": False,
    "~": None,
    "null": None,
    "12": 12,
    "-3": -3,
    "1.5": 1.5,
    "1e3": 1000.0,
}

EDGE_CASES = [
    "true: 1\n",
    "null: 2\n",
    "no: 4\n",
    "a:\n  b:\n    c: [1]\n",
    "a: 1\n---\nb: 2\n",
    "? [a]\n: 1\n",
    "a: 'x'\n'a': 2\n",
    "a: |\n  x\n  y\nb: >\n  z\n",
    "x: 1\nx: 2\n",
    "a:\n" + "".join("  " * i + "- \n" for i in range(1, 30)),
    "a: b: c\n",
    "- 1\n- 2\n",
    "just text\n",
    "",
    "# only a comment\n",
    'a: "\\t"\n',
    "a: &x 1\nb: *x\n",
    "a: !!str 5\n",
]


@pytest.mark.parametrize(("text", "value"), TYPED.items())
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    """Only null, booleans and decimal numbers are typed; everything else is text."""
    doc = yamlio.parse(f"v: {text}\n", "t.yaml")
    assert doc.issues == []
    assert doc.data["v"] == value and type(doc.data["v"]) is type(value)


def test_quoted_scalars_stay_text() -> None:
    """A quoted number is text, so strict models refuse it where a count is wanted."""
    assert yamlio.parse('v: "12"\n', "t.yaml").data == {"v": "12"}


def _corpus() -> list[Path]:
    return sorted([*REPO.glob("raw/**/*.yaml"), *DATA.glob("**/*.yaml"), *DATA.glob("**/*.yml")])


def test_fast_path_equals_the_event_path_on_every_file() -> None:
    """Every YAML file of the project and the malformed corpus parses identically both ways."""
    compared = 0
    for path in _corpus():
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        fast, strict = yamlio.parse(text, "x"), yamlio.parse_events(text, "x")
        assert (fast.data, fast.pos, fast.keypos, fast.issues) == (
            strict.data,
            strict.pos,
            strict.keypos,
            strict.issues,
        ), path
        compared += 1
    assert compared > 300


@pytest.mark.parametrize("text", EDGE_CASES)
def test_fast_path_equals_the_event_path_on_edge_cases(text: str) -> None:
    """Odd keys, several documents, nesting, anchors and tags: both paths agree."""
    fast, strict = yamlio.parse(text, "x"), yamlio.parse_events(text, "x")
    assert (fast.data, fast.pos, fast.keypos, fast.issues) == (strict.data, strict.pos, strict.keypos, strict.issues)


def test_positions_point_at_values_and_keys() -> None:
    """Line and column are 1-based and point at the value; keys are kept apart."""
    doc = yamlio.parse("id: a\ncitations:\n  - quote: hello\n", "t.yaml")
    assert doc.pos[("id",)] == (1, 5)
    assert doc.pos[("citations", 0, "quote")] == (3, 12)
    assert doc.keypos[("citations", 0, "quote")] == (3, 5)
