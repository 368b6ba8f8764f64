"""EDTF dates (levels 0 and 1, the parts a news source needs) and their precision.

A record states a date as the source does: ``1993-04-02`` (day), ``1993-04``
(month), ``1993`` (year), an interval ``2023-09-19/2023-09-20``, each end
optionally marked approximate ``~``, uncertain ``?`` or both ``%``. The package
publishes the text itself plus the first and last day it covers and its
precision, so a month-precision date is never mistaken for its first day.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from kdata.records import vocab
from kdata.records.chars import visible

_PART = re.compile(r"(?P<y>[0-9]{4})(?:-(?P<m>[0-9]{2})(?:-(?P<d>[0-9]{2}))?)?(?P<q>[~?%])?")

#: The years a date may name. Year 0 does not exist in Python's dates (the proleptic Gregorian calendar
#: starts at 1 AD); 9999 is the last year they hold, and the site's timeline draws each event's year up
#: to the first day of the next one, so the last year a date may name is 9998.
MIN_YEAR, MAX_YEAR = 1, 9998
#: Precision names, finest first (their meanings: ``vocab.DATE_PRECISIONS``); an interval takes its coarser end's precision.
PRECISIONS: tuple[str, ...] = tuple(vocab.DATE_PRECISIONS)


class EdtfDate(NamedTuple):
    """A parsed EDTF date: the days it covers, how precise and how sure it is."""

    start: date
    end: date
    precision: str
    approximate: bool
    uncertain: bool


def _part(text: str) -> EdtfDate:
    match = _PART.fullmatch(text)
    if not match:
        raise ValueError(f"'{visible(text)}' is not an EDTF date such as 1993, 1993-04, 1993-04-02 or 1993-04-02~")
    year, month, day, qual = match["y"], match["m"], match["d"], match["q"] or ""
    y = int(year)
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise ValueError(f"'{text}' has year {year}; years run from {MIN_YEAR:04d} to {MAX_YEAR} (there is no year 0)")
    if month is None:
        return EdtfDate(
            date(y, 1, 1), date(y, 12, 31), "year", qual in "~%" and bool(qual), qual in "?%" and bool(qual)
        )
    m = int(month)
    if not 1 <= m <= 12:
        raise ValueError(f"'{text}' has month {month}; months run from 01 to 12")
    last = calendar.monthrange(y, m)[1]
    if day is None:
        return EdtfDate(
            date(y, m, 1), date(y, m, last), "month", qual in "~%" and bool(qual), qual in "?%" and bool(qual)
        )
    d = int(day)
    if not 1 <= d <= last:
        raise ValueError(f"'{text}' does not exist: {calendar.month_name[m]} {y} has {last} days")
    when = date(y, m, d)
    return EdtfDate(when, when, "day", qual in "~%" and bool(qual), qual in "?%" and bool(qual))


@lru_cache(maxsize=4096)  # records repeat dates; an EdtfDate is immutable, and errors are not cached
def parse_edtf(text: str) -> EdtfDate:
    """Parse an EDTF level 0/1 date or interval.

    Args:
        text: The date as written in a record, e.g. ``1992-05/1993-04``.

    Returns:
        The first and last day covered, the precision and the qualifiers.

    Raises:
        ValueError: The text is not a supported EDTF date, or names a day that
            does not exist, or an interval that ends before it starts.
    """
    if text.count("/") > 1:
        raise ValueError(f"'{visible(text)}' has more than one '/'; an interval is START/END")
    if "/" not in text:
        return _part(text)
    first, last = (_part(p) for p in text.split("/"))
    if last.end < first.start:
        raise ValueError(f"the interval '{text}' ends before it starts")
    precision = max(first.precision, last.precision, key=PRECISIONS.index)
    return EdtfDate(
        first.start,
        last.end,
        precision,
        first.approximate or last.approximate,
        first.uncertain or last.uncertain,
    )
