"""The front page's search: an index of events, claims, actors, places, figures and sources.

Why an index written by hand rather than a search library: the site must work from ``file://``,
where Chromium refuses ``fetch()`` of a local JSON file, so the index is a script
(``static/search-index.js``) loaded by a ``<script>`` tag, and the search runs in the page. The
Python ``lunr`` package builds lunr.js indexes but does not ship the lunr.js runtime the page
would need (its wheel holds no JavaScript), and the packages that do ship it are whole site
generators. The package has a few hundred records: a scan of each record's folded text for every
query word finds them in well under a millisecond, needs no stemmer (which would be
English-only where names are Azerbaijani, Armenian and Russian), and keeps the runtime to the
few lines of ``site.js``.

Folding makes search blind to case and diacritics: text is decomposed (NFKD), its marks
(categories M*) dropped, and the letters that do not decompose mapped by ``FOLD`` (Azerbaijani ``ə``, the
dotless i...). The index carries ``FOLD`` and the script folds the query by the same rules,
so both sides fold alike and the table is written once. Kəlbəcər and Kelbecer thus find each
other; Kalbajar, a transliteration rather than a spelling with marks, is found only where the
data gives it. Punctuation is a space on both sides (``"Kalbajar"`` finds Kalbajar, ``2020-11-10``
the words 2020 11 10), and a digit group separator (``DIGIT_GROUP``) is dropped first, so 60,000,
60.000 and 60000 find each other.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: Letters NFKD leaves whole, and what they fold to (lower case; the script lowers case first too).
FOLD: dict[str, str] = {
    "ə": "e",
    "\u0131": "i",  # dotless i
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ħ": "h",
    "ł": "l",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ŋ": "n",
}
#: The global the index script sets; site.js reads it.
GLOBAL = "kdataSearch"
#: Each kind of result: the table its records come from, and how a result names its kind.
KINDS: dict[str, str] = {
    "events": "event",
    "claims": "claim",
    "actors": "actor",
    "places": "place",
    "figures": "figure",
    "sources": "source",
}
_SPACE = re.compile(r"\s+")
#: A digit group separator: a comma, full stop or apostrophe between a digit and a group of exactly three
#: digits (1,000,000; 60.000; 10'000). The index carries the pattern and the script folds by it too.
DIGIT_GROUP = r"(?<=[0-9])[,.'\u2019](?=[0-9]{3}(?![0-9]))"
_DIGIT_GROUP = re.compile(DIGIT_GROUP)


def fold(text: str) -> str:
    """``text`` lower-cased, without diacritics and with ``FOLD`` applied, digit groups joined, every character
    but a letter or a digit (Unicode L*, N*: ``\\p{L}``, ``\\p{N}`` in the script) made a space, runs of space one."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))  # \p{M} in the script
    joined = _DIGIT_GROUP.sub("", "".join(FOLD.get(c, c) for c in bare))
    words = "".join(c if unicodedata.category(c)[0] in "LN" else " " for c in joined)
    return _SPACE.sub(" ", words).strip()


def _text(*values: object) -> str:
    return " ".join(str(v) for v in values if v not in (None, ""))


def entries(
    rows: Mapping[str, list[dict[str, Any]]],
    url: Callable[[str, str], str],
    describe: Mapping[str, Callable[[dict[str, Any]], tuple[str, str, str]]],
) -> list[list[str]]:
    """One entry per record of each table of ``KINDS``: ``[kind, title, detail, url, folded text]``.

    Args:
        rows: The package's rows by table.
        url: (table, id) -> the link of the record's page, relative to the front page.
        describe: Table -> a function giving a record's (title, detail line, further text to search).
    """
    found = []
    for table, kind in KINDS.items():
        for row in rows[table]:
            title, detail, more = describe[table](row)
            found.append([kind, title, detail, url(table, row["id"]), fold(_text(title, detail, more, row["id"]))])
    return found


def script(items: Iterable[list[str]]) -> str:
    """The index as a script that sets ``window.kdataSearch`` (the fold table and the entries).

    ``<`` is written as ``\\u003c``, so no text in the data can close a script element early.
    """
    data = {
        "fold": FOLD,
        "digitGroup": DIGIT_GROUP,
        "fields": ["kind", "title", "detail", "url", "text"],
        "entries": list(items),
    }
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f"/* Written by kdata site: the search index of the front page (see kdata/site/search.py). */\nwindow.{GLOBAL} = {body};\n"
