"""Dates in words for the site, at the precision the sources give.

A record's EDTF date (``kdata.records.dates``) is read as a reader says it: ``1993-04-02`` is
"2 April 1993", ``1993-04`` is "April 1993", ``1993`` stays "1993". An interval reads as a range
that names what its ends share once ("19-20 September 2023" with an en dash, "2003 to 21 August 2025"), an open end
says the sources give none, and the qualifiers stay: ``~`` reads "about", ``?`` "possibly", ``%`` both.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from typing import TYPE_CHECKING

from kdata.records.dates import OPEN, PART

if TYPE_CHECKING:
    from markupsafe import Markup

#: Between the first and last day of a range within one month: an en dash.
_DASH = "\u2013"
#: An EDTF qualifier -> the words before the date it marks (approximate, uncertain, both).
_HEDGE = {"": "", "~": "about ", "?": "possibly ", "%": "possibly about "}


def _parts(text: str) -> tuple[str, str, str, str]:
    """One end of a date as (year, month name or '', day or '', qualifier)."""
    match = PART.fullmatch(text)
    if match is None:
        raise ValueError(f"'{text}' is not an EDTF date")
    month = calendar.month_name[int(match["m"])] if match["m"] else ""
    return match["y"], month, str(int(match["d"])) if match["d"] else "", match["q"] or ""


def _one(year: str, month: str, day: str, qualifier: str) -> str:
    return _HEDGE[qualifier] + " ".join(part for part in (day, month, year) if part)


def _same(text: str) -> str:
    return text


def reads(edtf: str, mark: Callable[[str], str] = _same) -> str:
    """An EDTF date (levels 0 and 1, as the records hold them) in words, e.g. ``2 April 1993``.

    Args:
        edtf: The date.
        mark: Applied to each date the words name (``2 April 1993``, ``possibly 21 August 2025``, both ends of
            ``19 September to 2 October 2023``), not to the words around them: the site keeps each on one line.

    Raises:
        ValueError: ``edtf`` is not such a date.
    """
    if "/" not in edtf:
        return mark(_one(*_parts(edtf)))
    first, last = edtf.split("/", 1)
    if first == OPEN:
        return f"until {mark(_one(*_parts(last)))} (the sources give no start)"
    if last == OPEN:
        return f"from {mark(_one(*_parts(first)))} (the sources give no end)"
    a, b = _parts(first), _parts(last)
    if a == b:
        return mark(_one(*a))
    if not a[3] and not b[3] and a[0] == b[0] and a[2] and b[2]:  # two days of one year: name the year once
        if a[1] == b[1]:
            return mark(f"{a[2]}{_DASH}{b[2]} {a[1]} {a[0]}")
        return f"{mark(f'{a[2]} {a[1]}')} to {mark(f'{b[2]} {b[1]} {a[0]}')}"
    return f"{mark(_one(*a))} to {mark(_one(*b))}"


#: Marks that cannot stand in a date's words: where the site's unbreakable spans begin and end (``reads_html``).
_OPEN, _CLOSE = "\x02", "\x03"


def reads_html(edtf: str) -> Markup:
    """``reads`` as HTML: each date in a ``<span class="nobr">`` (kept on one line), the words between free to wrap."""
    from markupsafe import Markup, escape

    text = str(escape(reads(edtf, mark=lambda date: f"{_OPEN}{date}{_CLOSE}")))
    return Markup(text.replace(_OPEN, '<span class="nobr">').replace(_CLOSE, "</span>"))


def iso_day(edtf: str) -> str:
    """The ISO day of a one-day date without qualifier (for ``<time datetime>``), else ''."""
    match = PART.fullmatch(edtf)
    return edtf if match is not None and match["d"] and not match["q"] else ""
