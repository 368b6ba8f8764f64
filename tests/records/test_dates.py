"""kdata.records.dates: EDTF dates at the precision the source gives, their days, qualifiers and refusals."""

from __future__ import annotations

from datetime import date

import pytest

from kdata.records.dates import OPEN, PRECISIONS, EdtfDate, bounds, parse_edtf


@pytest.mark.parametrize(
    ("text", "start", "end", "precision"),
    [
        ("1993-04-02", date(1993, 4, 2), date(1993, 4, 2), "day"),
        ("1993-04", date(1993, 4, 1), date(1993, 4, 30), "month"),
        ("1993-12", date(1993, 12, 1), date(1993, 12, 31), "month"),
        ("1992-02", date(1992, 2, 1), date(1992, 2, 29), "month"),  # a leap year's February
        ("1993-02", date(1993, 2, 1), date(1993, 2, 28), "month"),
        ("1993", date(1993, 1, 1), date(1993, 12, 31), "year"),
    ],
)
def test_a_date_covers_every_day_of_its_precision(text: str, start: date, end: date, precision: str) -> None:
    """A month is never read as its first day: it covers the whole month, a year the whole year."""
    assert parse_edtf(text) == EdtfDate(start, end, precision, approximate=False, uncertain=False)


@pytest.mark.parametrize(
    ("suffix", "approximate", "uncertain"),
    [("", False, False), ("~", True, False), ("?", False, True), ("%", True, True)],
)
@pytest.mark.parametrize("text", ["1993", "1993-04", "1993-04-02"])
def test_qualifiers_mark_approximate_and_uncertain_at_every_precision(
    text: str, suffix: str, approximate: bool, uncertain: bool
) -> None:
    """``~`` is approximate, ``?`` uncertain, ``%`` both; the days covered stay those of the plain date."""
    plain, qualified = parse_edtf(text), parse_edtf(text + suffix)
    assert (qualified.approximate, qualified.uncertain) == (approximate, uncertain)
    assert (qualified.start, qualified.end, qualified.precision) == (plain.start, plain.end, plain.precision)


def test_an_interval_runs_from_its_first_day_to_its_last_at_the_coarser_precision() -> None:
    interval = parse_edtf("1992-05/1993-04-02")
    assert (interval.start, interval.end) == (date(1992, 5, 1), date(1993, 4, 2))
    assert interval.precision == "month"  # the coarser end: the start is a month
    assert parse_edtf("2023-09-19/2023-09-20").precision == "day"
    assert parse_edtf("1993-04-02/1994").precision == "year"
    assert parse_edtf("1993-04-02/1994").end == date(1994, 12, 31)
    single = parse_edtf("1993-04-02/1993-04-02")  # a one-day interval is allowed
    assert single.start == single.end == date(1993, 4, 2)


@pytest.mark.parametrize(
    ("text", "approximate", "uncertain"),
    [
        ("1992~/1993", True, False),
        ("1992/1993?", False, True),
        ("1992~/1993?", True, True),
        ("1992%/1993", True, True),
    ],
)
def test_an_interval_is_approximate_or_uncertain_when_either_end_is(
    text: str, approximate: bool, uncertain: bool
) -> None:
    parsed = parse_edtf(text)
    assert (parsed.approximate, parsed.uncertain) == (approximate, uncertain)
    assert (parsed.start, parsed.end) == (date(1992, 1, 1), date(1993, 12, 31))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1993-13", "'1993-13' has month 13; months run from 01 to 12"),
        ("1993-00", "'1993-00' has month 00; months run from 01 to 12"),
        ("1993-02-29", "'1993-02-29' does not exist: February 1993 has 28 days"),
        ("1993-04-31", "'1993-04-31' does not exist: April 1993 has 30 days"),
        ("1993-04-00", "'1993-04-00' does not exist: April 1993 has 30 days"),
        ("1993/1992", "the interval '1993/1992' ends before it starts"),
        ("1993-04-02/1993-04-01", "the interval '1993-04-02/1993-04-01' ends before it starts"),
        ("1992/1993/1994", "'1992/1993/1994' has more than one '/'; an interval is START/END"),
    ],
)
def test_impossible_dates_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_edtf(text)
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    "text",
    [
        "",
        "93",  # two-digit year
        "1993-4",  # month without its leading zero
        "1993-04-2",
        "1993-04-02T10:00",  # a time is not a date
        "02.04.1993",
        "April 1993",
        " 1993",  # spaces around the date
        "1993 ",
        "-1993",
        "1993~?",  # one qualifier only: both is '%'
        "1993/",  # an unknown end ('1993/') is not supported: an open one is '1993/..'
        "1993/..~",  # '..' takes no qualifier
        "\uff11\uff19\uff19\uff13",  # full-width digits are not ASCII digits
    ],
)
def test_text_that_is_not_edtf_is_refused_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match="is not an EDTF date such as 1993, 1993-04, 1993-04-02"):
        parse_edtf(text)


def test_precisions_are_listed_finest_first() -> None:
    """The interval rule (take the coarser end) relies on this order."""
    assert PRECISIONS == ("day", "month", "year")
    assert parse_edtf("1993/1993-04-02").precision == parse_edtf("1993-04-02/1993").precision == "year"


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("0000", True),
        ("0000-01-01", True),
        ("0000~", True),
        ("0000/1993", True),
        ("1993/0000", True),
        ("9999", True),
        ("9999-12-31", True),
        ("1993/9999-12", True),
        ("0001", False),
        ("0001-01-01", False),
        ("9998-12-31", False),
        ("0001/9998", False),
    ],
)
def test_years_outside_0001_to_9998_are_refused(text: str, refused: bool) -> None:
    """Year 0 does not exist, and 9999 is past what the site's timeline draws (it runs to the next year's start)."""
    if refused:
        with pytest.raises(ValueError, match="years run from 0001 to 9998"):
            parse_edtf(text)
    else:
        assert parse_edtf(text).start.year >= 1


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "approximate", "uncertain"),
    [
        ("2025-08-21/..", date(2025, 8, 21), None, "day", False, False),
        ("2025/..", date(2025, 1, 1), None, "year", False, False),
        ("2025-08~/..", date(2025, 8, 1), None, "month", True, False),
        ("../2020-04-02", None, date(2020, 4, 2), "day", False, False),
        ("../1993?", None, date(1993, 12, 31), "year", False, True),
        ("../2024-09%", None, date(2024, 9, 30), "month", True, True),
    ],
)
def test_an_interval_open_at_one_end_covers_no_invented_day(
    text: str, start: date | None, end: date | None, precision: str, approximate: bool, uncertain: bool
) -> None:
    """EDTF level 1 '..': the open end is None (published as an empty cell), the known end keeps its precision."""
    assert parse_edtf(text) == EdtfDate(start, end, precision, approximate, uncertain)
    with pytest.raises(ValueError, match=f"is open at one end \\('{OPEN}'\\)"):
        bounds(text)


@pytest.mark.parametrize("text", ["../..", "../../..", "..//2020"])
def test_an_interval_open_at_both_ends_or_malformed_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_edtf(text)


def test_bounds_of_a_closed_date_are_its_first_and_last_day() -> None:
    assert bounds("1993-04") == (date(1993, 4, 1), date(1993, 4, 30))
    assert bounds("1992~/1993-04-02") == (date(1992, 1, 1), date(1993, 4, 2))
