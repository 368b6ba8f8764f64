"""kdata.records.models: strict records (no type guessing, no unknown fields) and the figure rules."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kdata.records import models, vocab

CITATION = {"source": "test-wire-2020-05-01", "claimant": "town-council", "quote": "about 1,200 residents returned"}


def figure(**fields: Any) -> dict[str, Any]:
    """A valid figure record (qualifier exact, value 1200), with ``fields`` replaced (None removes one)."""
    record: dict[str, Any] = {
        "id": "riverton-returnees",
        "measure": "residents",
        "unit": "people",
        "qualifier": "exact",
        "value": 1200,
        "stated_as": "1,200",
        "citations": [CITATION],
    }
    record.update(fields)
    return {key: value for key, value in record.items() if value is not None}


def event(**fields: Any) -> dict[str, Any]:
    """A valid event record, with ``fields`` replaced."""
    record: dict[str, Any] = {
        "id": "riverton-bridge-opened",
        "title": "Bridge at Riverton opened",
        "kind": "opening",
        "status": "occurred",
        "date": "2020-05-01",
        "citations": [CITATION],
    }
    return {**record, **fields}


def errors(model: type[models.Record], data: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """The (type, location) of every error pydantic reports for ``data``."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [(e["type"], tuple(e["loc"])) for e in caught.value.errors()]


def test_the_valid_records_pass() -> None:
    """The baseline every other test breaks one rule of."""
    assert models.Figure.model_validate(figure()).value == 1200
    assert models.Event.model_validate(event()).citations[0].claimant == "town-council"


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("value", "1200", "int_type"),  # a quoted number is text, not a number
        ("value", 1200.0, "int_type"),
        ("value", True, "int_type"),  # a boolean is not a number either
        ("stated_as", 1200, "string_type"),
        ("citations", CITATION, "list_type"),
    ],
)
def test_types_are_strict(field: str, value: Any, kind: str) -> None:
    assert errors(models.Figure, figure(**{field: value})) == [(kind, (field,))]


def test_an_unquoted_date_stays_text_and_a_date_object_is_refused() -> None:
    """Dates are EDTF text; a ``datetime.date`` (what YAML 1.1 loaders make of 2020-05-01) is not accepted."""
    import datetime

    assert errors(models.Event, event(date=datetime.date(2020, 5, 1))) == [("string_type", ("date",))]


def test_unknown_fields_are_refused_at_every_level() -> None:
    data = event(summary="A bridge opened.", citations=[{**CITATION, "page": "4"}])
    assert sorted(errors(models.Event, data)) == [
        ("extra_forbidden", ("citations", 0, "page")),
        ("extra_forbidden", ("summary",)),
    ]


def test_records_are_immutable() -> None:
    record = models.Figure.model_validate(figure())
    with pytest.raises(ValidationError, match="frozen"):
        record.value = 5


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("kind", "riot", "kd_vocab"),
        ("status", "happened", "kd_vocab"),
        ("date", "1993-02-30", "kd_date"),
        ("date", "April 1993", "kd_date"),
        ("title", " Bridge opened", "kd_text"),  # leading space
        ("title", "=HYPERLINK(1)", "kd_text"),  # starts like a spreadsheet formula
        ("title", "Bridge\u200bopened", "kd_text"),  # zero-width space
        ("title", "Cafe\u0301 opened", "kd_text"),  # not NFC
        ("title", "", "kd_text"),
        ("id", "Riverton_Bridge", "string_pattern_mismatch"),
        ("id", "riverton--bridge", "string_pattern_mismatch"),
        ("citations", [], "too_short"),
    ],
)
def test_field_rules_name_the_broken_rule(field: str, value: Any, kind: str) -> None:
    assert errors(models.Event, event(**{field: value})) == [(kind, (field,))]


def test_vocabulary_errors_list_the_allowed_terms() -> None:
    with pytest.raises(ValidationError) as caught:
        models.Event.model_validate(event(status="happened"))
    assert caught.value.errors()[0]["msg"] == "Expected one of occurred, ongoing, planned; found 'happened'."


def test_only_web_urls_are_accepted() -> None:
    source = {
        "id": "s",
        "title": "T",
        "language": "en",
        "kind": "news_report",
        "sha256": "0" * 64,
    }
    assert models.Source.model_validate({**source, "url": "https://example.org/a?b=1"}).url
    for url in ("ftp://example.org/a", "javascript:alert(1)", "https://", "example.org", "https://exa mple.org"):
        assert errors(models.Source, {**source, "url": url}) == [("kd_url", ("url",))], url


@pytest.mark.parametrize(
    ("qualifier", "value", "low", "high"),
    [
        ("exact", 5, None, None),
        ("approximately", 5, None, None),
        ("approximately", 5, 4, 6),
        ("approximately", 5, 5, 6),  # value may equal a bound
        ("more_than", None, 5, None),
        ("at_least", None, 5, None),
        ("at_most", None, None, 5),
        ("less_than", None, None, 5),
        ("range", None, 5, 6),
        ("range", 5, 4, 6),
        ("exact", 0, None, None),
    ],
)
def test_figures_that_keep_the_hedge_rules_pass(
    qualifier: str, value: int | None, low: int | None, high: int | None
) -> None:
    record = models.Figure.model_validate(figure(qualifier=qualifier, value=value, low=low, high=high))
    assert (record.qualifier, record.value, record.low, record.high) == (qualifier, value, low, high)
    assert models.figure_problem(qualifier, value, low, high) == ""


@pytest.mark.parametrize(
    ("qualifier", "value", "low", "high", "problem"),
    [
        ("exact", None, None, None, "A figure qualified 'exact' needs value; it is empty."),
        ("exact", 5, 4, None, "A figure qualified 'exact' leaves low empty; found 4."),
        ("approximately", None, 4, 6, "A figure qualified 'approximately' needs value; it is empty."),
        ("more_than", 5, None, None, "A figure qualified 'more_than' leaves value empty; found 5."),
        ("at_least", None, None, 5, "A figure qualified 'at_least' needs low; it is empty."),
        ("at_most", None, 5, None, "A figure qualified 'at_most' leaves low empty; found 5."),
        ("less_than", None, None, None, "A figure qualified 'less_than' needs high; it is empty."),
        ("range", None, 5, None, "A figure qualified 'range' needs high; it is empty."),
        ("range", None, 6, 6, "low (6) must be less than high (6)."),
        ("range", None, 7, 6, "low (7) must be less than high (6)."),
        ("range", 3, 4, 6, "value (3) is below low (4)."),
        ("approximately", 7, None, 6, "value (7) is above high (6)."),
    ],
)
def test_figures_that_break_the_hedge_rules_are_refused(
    qualifier: str, value: int | None, low: int | None, high: int | None, problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        models.Figure.model_validate(figure(qualifier=qualifier, value=value, low=low, high=high))
    assert [(e["type"], e["msg"]) for e in caught.value.errors()] == [("kd_figure", problem)]
    assert models.figure_problem(qualifier, value, low, high) == problem


def test_every_qualifier_has_a_rule() -> None:
    """A qualifier added to the vocabulary without a rule would crash validation instead of checking it."""
    for qualifier in vocab.QUALIFIERS:
        assert isinstance(models.figure_problem(qualifier, None, None, None), str)


def test_negative_counts_are_refused() -> None:
    assert errors(models.Figure, figure(value=-1)) == [("greater_than_equal", ("value",))]
