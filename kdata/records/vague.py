"""One rule for vague time expressions: the date keeps the vagueness of the source's words.

A record's ``date_phrase`` holds the source's own words for its date, hedges kept. ``VAGUE``
is the one lookup table of the words that make a date vague, each with what it asks of the
EDTF date; ``date_problem`` checks one record (KD111), and ``horizon`` with ``bound_problem``
check across records that a date the words leave open does not end in a year the source
cannot have given (KD205): later than the year the citing source was published plus the span
the phrase itself states ("next year", "seven to eight months").

What no check can know stays with the curator (CONTRIBUTING.md, "Vague time expressions"): a date that
"followed" another event, or an interval's start.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import NamedTuple

from kdata.records.dates import OPEN, EdtfDate, bounds, parse_edtf


class Vagueness(NamedTuple):
    """What a kind of vague wording asks of the EDTF date, in words, and the test of a parsed date."""

    asks: str
    meaning: str


#: Kind of vagueness -> what it asks of the date.
KINDS: dict[str, Vagueness] = {
    "uncertain": Vagueness(
        "mark the date uncertain: '?' (or '%')",
        "The speaker hedges whether or when it happens.",
    ),
    "approximate": Vagueness(
        "mark the date approximate: '~' (or '%'), or give an interval",
        "The speaker gives the time roughly.",
    ),
    "part": Vagueness(
        "give the month or year the words name (not a day), an interval, or mark it approximate: '~'",
        "The speaker names part of a month or year.",
    ),
    "open": Vagueness(
        "stay open at its end ('..'), or end no later than the year its source was published (the words give no end year)",
        "The speaker names a time to come without an end.",
    ),
}

#: The one lookup table: words (lowercase, matched as whole words) -> the kind of vagueness they carry.
VAGUE: dict[str, str] = {
    "probably": "uncertain",
    "possibly": "uncertain",
    "perhaps": "uncertain",
    "presumably": "uncertain",
    "likely": "uncertain",
    "expected": "uncertain",
    "expects": "uncertain",
    "planned to": "uncertain",
    "plans to": "uncertain",
    "intended to": "uncertain",
    "hope": "uncertain",
    "hopes": "uncertain",
    "about": "approximate",
    "around": "approximate",
    "approximately": "approximate",
    "roughly": "approximate",
    "nearly": "approximate",
    "almost": "approximate",
    "circa": "approximate",
    "recently": "approximate",
    "for many years": "approximate",
    "early": "part",
    "late": "part",
    "mid": "part",
    "beginning of": "part",
    "end of": "part",
    "in the near future": "open",
    "in the next few years": "open",
    "in the coming years": "open",
    "in the future": "open",
    "soon": "open",
    "sooner or later": "open",
    "eventually": "open",
    "in the coming months": "open",
    "some day": "open",
}

_WORDS = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(VAGUE, key=len, reverse=True)) + r")\b", re.I)

#: Numbers a phrase may spell out, for the span it states ("seven to eight months").
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_NUMBER = r"(\d{1,3}|" + "|".join(_NUMBERS) + r")"
_SPAN = re.compile(rf"\b{_NUMBER}(?:\s*(?:to|or|-|\u2013)\s*{_NUMBER})?\s+(year|month)s?\b", re.I)
#: Phrases that state a span without a number: (how many, of which unit).
_NAMED_SPANS = {"next year": (1, "year"), "following year": (1, "year"), "next month": (1, "month")}
_NAMED = re.compile(r"\b(" + "|".join(_NAMED_SPANS) + r")\b", re.I)
#: A span the phrase states: how many years or months.
Span = tuple[int, str]


def kinds_of(phrase: str) -> dict[str, str]:
    """The kinds of vagueness a phrase carries, each with the first word that carries it."""
    found: dict[str, str] = {}
    for match in _WORDS.finditer(phrase):
        found.setdefault(VAGUE[match[1].lower()], match[1])
    return found


def _keeps(kind: str, date: EdtfDate, text: str) -> bool:
    interval = "/" in text
    if kind == "uncertain":  # each end the text gives carries the hedge ('2026-03?/2026-04?')
        return all(end.endswith(("?", "%")) for end in text.split("/") if end != OPEN)
    if kind == "approximate":
        return date.approximate or interval
    if kind == "part":
        return date.approximate or interval or date.precision != "day"
    return True  # "open": what it asks is checked against the source's year (bound_problem)


def date_problem(phrase: str | None, text: str) -> str:
    """Say how a date fails the vagueness of its phrase (see ``VAGUE``), or '' if it keeps it."""
    if not phrase:
        return ""
    date = parse_edtf(text)
    for kind, word in kinds_of(phrase).items():
        if not _keeps(kind, date, text):
            return f"The date phrase says '{word}', but the date '{text}' does not show it: {KINDS[kind].asks}."
    return ""


def stated_spans(phrase: str) -> tuple[Span, ...] | None:
    """The spans a phrase states ('seven to eight months' -> (8, 'month'); 'next year' -> (1, 'year')), a span of
    nothing if it names a time to come without one ('in the near future' -> (0, 'year')), or None if it states
    neither (then there is nothing to bound)."""
    spans = [_NAMED_SPANS[m[1].lower()] for m in _NAMED.finditer(phrase)]
    for m in _SPAN.finditer(phrase):
        high = max(int(n) if n.isdigit() else _NUMBERS[n.lower()] for n in (m[1], m[2]) if n)
        spans.append((high, m[3].lower()))
    if not spans and "open" in kinds_of(phrase):
        spans.append((0, "year"))
    return tuple(spans) or None


def horizon(phrase: str | None, text: str) -> tuple[str, tuple[Span, ...]] | None:
    """(last day the date covers, the spans its phrase states) for a date its phrase bounds; None if it does not.

    A date open at its end ('2025-08-21/..') invents no end, so its phrase has nothing to bound.
    """
    spans = stated_spans(phrase) if phrase else None
    end = parse_edtf(text).end
    return None if spans is None or end is None else (end.isoformat(), spans)


def _latest(published: date, span: Span) -> date:
    """The last day a span from a publication date reaches: to the end of that month, or of that year."""
    count, unit = span
    if unit == "year":
        return date(published.year + count, 12, 31)
    months = published.month - 1 + count
    year, month = published.year + months // 12, months % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def bound_problem(end: str, spans: tuple[Span, ...], published: str) -> str:
    """Say why a date ends later than its source's publication plus its phrase's spans allow, or ''."""
    when = bounds(published)[1]  # a publication date is never open (``models.Source.published``)
    latest = max(_latest(when, span) for span in spans)
    if date.fromisoformat(end) <= latest:
        return ""
    stated = [f"{n} {unit}(s)" for n, unit in spans if n]
    adds = f"adds {' or '.join(stated)}" if stated else "gives no end"
    return (
        f"The date runs to {end}, but its source was published on {when.isoformat()} and the phrase {adds}: "
        f"the text gives nothing after {latest.isoformat()}."
    )
