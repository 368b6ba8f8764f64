"""kdata.records.issues: pydantic errors as Issues at the file's line and column, in kdata's words."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kdata.errors import Issue
from kdata.records import issues, models, yamlio

NAME = "raw/figures/riverton-returnees.yaml"
FIGURE = """\
id: riverton-returnees
measure: residents
unit: people
qualifier: exact
value: 1200
stated_as: about 1,200
citations:
  - source: test-wire-2020-05-01
    claimant: town-council
    quote: about 1,200 residents returned
"""


def check(text: str, model: type[models.Record] = models.Figure) -> list[Issue]:
    """The issues of one record file's text, as validation reports them."""
    doc = yamlio.parse(text, NAME)
    assert not doc.issues, doc.issues
    try:
        model.model_validate(doc.data)
    except ValidationError as exc:
        return issues.from_validation_error(exc, model, doc, NAME)
    return []


def where(found: list[Issue]) -> list[tuple[int, int, str, str]]:
    return [(i.line, i.col, i.code, i.field) for i in found]


def test_the_valid_figure_has_no_issue() -> None:
    assert check(FIGURE) == []


def test_a_quoted_number_points_at_the_value_and_says_to_unquote_it() -> None:
    found = check(FIGURE.replace("value: 1200", 'value: "1200"'))
    assert where(found) == [(5, 8, "KD102", "value")]
    assert (
        found[0].message == "Expected a whole number (unquoted), found the text '1200'. Write numbers without quotes."
    )
    assert str(found[0]) == f"{NAME}:5:8: KD102 wrong-type: value: {found[0].message}"
    zeros = check(FIGURE.replace("value: 1200", "value: 01200"))  # YAML 1.2: stays text, never octal
    assert zeros[0].message.endswith("Write the number without leading zeros.")


def test_a_number_where_text_belongs_suggests_quotes() -> None:
    found = check(FIGURE.replace("stated_as: about 1,200", "stated_as: 1200"))
    assert where(found) == [(6, 12, "KD102", "stated_as")]
    assert found[0].message == "Expected text, found the number 1200. Put it in quotes if it is meant as text: '1200'."


def test_an_unknown_field_points_at_its_key_and_suggests_the_close_name() -> None:
    found = check(FIGURE.replace("qualifier: exact", "qualifer: exact\nqualifier: exact"))
    assert where(found) == [(4, 1, "KD104", "qualifer")]
    assert found[0].message == "'qualifer' is not a known field. Did you mean 'qualifier'?"
    nested = check(FIGURE + "    page: 4\n")
    assert where(nested) == [(11, 5, "KD104", "citations.0.page")]
    assert nested[0].message == "'page' is not a known field. Known fields: source, claimant, quote, locator."


def test_a_missing_field_points_at_the_mapping_that_lacks_it() -> None:
    top = check(FIGURE.replace("unit: people\n", ""))
    assert [(i.code, i.field, i.message) for i in top] == [("KD101", "unit", "The required field 'unit' is missing.")]
    assert (top[0].line, top[0].col) == (1, 1)  # the record itself
    nested = check(FIGURE.replace("    quote: about 1,200 residents returned\n", ""))
    assert where(nested) == [(8, 5, "KD101", "citations.0.quote")]  # the citation's mapping


def test_vocabulary_date_text_pattern_and_length_errors_get_their_codes() -> None:
    text = (
        FIGURE.replace("measure: residents", "measure: residentz")
        .replace("id: riverton-returnees", "id: Riverton_Returnees")
        .replace("stated_as: about 1,200", "stated_as: ' about 1,200'")
        .replace("unit: people", "unit: people\nas_of: 2020-02-30")
    )
    found = {i.field: i for i in check(text)}
    assert {f: (i.line, i.code) for f, i in found.items()} == {
        "id": (1, "KD106"),
        "measure": (2, "KD103"),
        "as_of": (4, "KD105"),
        "stated_as": (7, "KD108"),
    }
    assert found["id"].message == (
        "Expected an id: lowercase letters and digits, in words joined by single hyphens; found the text 'Riverton_Returnees'."
    )
    assert found["measure"].message.startswith("Expected one of people_killed, people_injured,")
    assert found["measure"].message.endswith("; found 'residentz'.")
    assert found["as_of"].message == "'2020-02-30' does not exist: February 2020 has 29 days."
    empty = check(FIGURE.split("citations:")[0] + "citations: []\n")
    assert [(i.code, i.message) for i in empty] == [("KD106", "Expected at least 1 item(s); found 0.")]


def test_a_figure_that_breaks_its_hedge_rule_points_at_the_qualifier() -> None:
    found = check(FIGURE.replace("value: 1200", "value: 1200\nhigh: 1500"))
    assert where(found) == [(4, 1, "KD109", "")]
    assert found[0].message == "A figure qualified 'exact' leaves high empty; found 1500."
    assert "KD109 inconsistent-figure: A figure" in str(found[0])  # no field part for a whole-record rule


def test_every_error_of_a_file_is_reported_in_one_pass() -> None:
    text = FIGURE.replace("value: 1200", "value: -5").replace("unit: people", "unit: persons")
    text += "colour: red\n"
    assert sorted((i.code, i.field) for i in check(text)) == [
        ("KD103", "unit"),
        ("KD104", "colour"),
        ("KD106", "value"),
    ]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "nothing (null)"),
        (True, "true"),
        (False, "false"),
        (12, "the number 12"),
        (1.5, "the number 1.5"),
        ("abc", "the text 'abc'"),
        ("x" * 61, "the text '" + "x" * 57 + "...'"),
        ("x" * 60, "the text '" + "x" * 60 + "'"),
        ([1], "a list"),
        ({"a": 1}, "a mapping"),
    ],
)
def test_describe_names_a_yaml_value_in_words(value: Any, words: str) -> None:
    assert issues.describe(value) == words
