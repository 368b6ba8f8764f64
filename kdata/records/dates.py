"""EDTF dates (levels 0 and 1, the parts a news source needs) and their precision.

A record states a date as the source does: ``1993-04-02`` (day), ``1993-04``
(month), ``1993`` (year), an interval ``2023-09-19/2023-09-20``, each end
optionally marked approximate ``~``, uncertain ``?`` or both ``%``, and an
interval open at one end, ``..`` (EDTF level 1): ``2025-08-21/..`` for a time to
come whose end the source does not give, ``../2020-04-02`` for one whose start it
does not give. The package publishes the text itself plus the first and last day
it covers (empty at an open end) and its precision, so a month-precision date is
never mistaken for its first day, nor an open end for a curator's year.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from kdata.records import vocab
from kdata.records.chars import visible

#: One end of a date (or a whole date): year, month and day if given (``y``, ``m``, ``d``), qualifier ``q``.
PART = re.compile(r"(?P<y>[0-9]{4})(?:-(?P<m>[0-9]{2})(?:-(?P<d>[0-9]{2}))?)?(?P<q>[~?%])?")


#: The years a date may name. Year 0 does not exist in Python's dates (the proleptic Gregorian calendar
#: starts at 1 AD); 9999 is the last year they hold, and the site's timeline draws each event's year up
#: to the first day of the next one, so the last year a date may name is 9998.
MIN_YEAR, MAX_YEAR = 1, 9998
#: Precision names, finest first (their meanings: ``vocab.DATE_PRECISIONS``); an interval takes its coarser end's precision.
PRECISIONS: tuple[str, ...] = tuple(vocab.DATE_PRECISIONS)


#: An interval's end that the source leaves open (EDTF level 1).
OPEN = ".."


class EdtfDate(NamedTuple):
    """A parsed EDTF date: the days it covers (None at an open end), how precise and how sure it is."""

    start: date | None
    end: date | None
    precision: str
    approximate: bool
    uncertain: bool


class _Part(NamedTuple):
    """One end of an interval, or a whole date: both days known."""

    start: date
    end: date
    precision: str
    approximate: bool
    uncertain: bool


def _part(text: str) -> _Part:
    match = PART.fullmatch(text)
    if not match:
        raise ValueError(f"'{visible(text)}' is not an EDTF date such as 1993, 1993-04, 1993-04-02 or 1993-04-02~")
    year, month, day, qual = match["y"], match["m"], match["d"], match["q"] or ""
    y = int(year)
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise ValueError(f"'{text}' has year {year}; years run from {MIN_YEAR:04d} to {MAX_YEAR} (there is no year 0)")
    if month is None:
        return _Part(date(y, 1, 1), date(y, 12, 31), "year", qual in "~%" and bool(qual), qual in "?%" and bool(qual))
    m = int(month)
    if not 1 <= m <= 12:
        raise ValueError(f"'{text}' has month {month}; months run from 01 to 12")
    last = calendar.monthrange(y, m)[1]
    if day is None:
        return _Part(date(y, m, 1), date(y, m, last), "month", qual in "~%" and bool(qual), qual in "?%" and bool(qual))
    d = int(day)
    if not 1 <= d <= last:
        raise ValueError(f"'{text}' does not exist: {calendar.month_name[m]} {y} has {last} days")
    when = date(y, m, d)
    return _Part(when, when, "day", qual in "~%" and bool(qual), qual in "?%" and bool(qual))


@lru_cache(maxsize=4096)  # records repeat dates; an EdtfDate is immutable, and errors are not cached
def parse_edtf(text: str) -> EdtfDate:
    """Parse an EDTF level 0/1 date or interval.

    Args:
        text: The date as written in a record, e.g. ``1992-05/1993-04`` or ``2025-08-21/..``.

    Returns:
        The first and last day covered (None at an open end), the precision and the qualifiers.

    Raises:
        ValueError: The text is not a supported EDTF date, or names a day that
            does not exist, or an interval that ends before it starts.
    """
    if text.count("/") > 1:
        raise ValueError(f"'{visible(text)}' has more than one '/'; an interval is START/END")
    if "/" not in text:
        return EdtfDate(*_part(text))
    ends = text.split("/")
    if ends == [OPEN, OPEN]:
        raise ValueError(f"the interval '{text}' is open at both ends; give the end the source states")
    first, last = (None if p == OPEN else _part(p) for p in ends)
    known = [p for p in (first, last) if p is not None]
    if first and last and last.end < first.start:
        raise ValueError(f"the interval '{text}' ends before it starts")
    return EdtfDate(
        first.start if first else None,
        last.end if last else None,
        max((p.precision for p in known), key=PRECISIONS.index),
        any(p.approximate for p in known),
        any(p.uncertain for p in known),
    )


def bounds(text: str) -> tuple[date, date]:
    """The first and last day a date without an open end covers.

    Raises:
        ValueError: The date is not EDTF, or is an interval open at one end.
    """
    parsed = parse_edtf(text)
    if parsed.start is None or parsed.end is None:
        raise ValueError(f"'{visible(text)}' is open at one end ('{OPEN}'); give the day, month or year")
    return parsed.start, parsed.end
