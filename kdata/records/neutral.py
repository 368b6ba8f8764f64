"""Neutral wording: the fields written in our own words never use a loaded term outside quotation marks.

The sources are partisan; the dataset records who says what and never takes a side. A loaded
term ("occupation", "liberation", "genocide", …) may stand in our own text only inside
quotation marks, as the words of the speaker the sentence attributes them to. ``OUR_WORDS``
names the fields written in our words (a headline, a name, a quote or a date phrase is the
source's and is left alone); ``LOADED`` lists the terms, by the stem that catches their forms.
"""

from __future__ import annotations

import re

#: Stem -> why the term is loaded. A stem matches inside words ('occup' catches 'occupiers').
LOADED: dict[str, str] = {
    "occup": "one side's legal characterisation of control over territory",
    "liberat": "one side's characterisation of a change of control",
    "capitulat": "one side's name for a signed document",
    "surrender": "one side's name for a signed document",
    "aggress": "an accusation",
    "genocide": "a legal accusation",
    "ethnic cleansing": "a legal accusation",
    "terror": "an accusation ('terrorist', 'hydroterrorism')",
    "barbar": "a moral judgement",
    "treach": "an accusation",
    "betray": "an accusation",
    "junta": "a pejorative name",
    "separatis": "a pejorative name",
    "fake republic": "a pejorative name",
    "enemy": "one side's name for the other",
    "martyr": "one side's honorific for its dead",
    "heroi": "one side's praise",
    "glorious": "one side's praise",
    "sacred": "one side's praise",
    "victor": "one side's name for the outcome of a war",
    "illegal": "a legal judgement",
    "unlawful": "a legal judgement",
    "war crime": "a legal accusation",
    "plunder": "an accusation",
    "loot": "an accusation",
    "armenianiz": "an accusation about cultural heritage",
    "great return": "a government programme's own name (a proper name: quote it)",
}
_LOADED = re.compile("|".join(re.escape(stem) for stem in LOADED), re.IGNORECASE)
#: Quoted words: straight or typographic double quotation marks around them.
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')

#: Table -> the fields written in our own words. Ids and topics count: a reader sees and cites them.
OUR_WORDS: dict[str, tuple[str, ...]] = {
    "sources": ("note",),
    "actors": ("note",),
    "places": ("note",),
    "events": ("id", "title", "description", "topic"),
    "figures": ("id", "topic", "note"),
    "claims": ("id", "summary", "topic", "note"),
}


def loaded_term(text: str) -> str:
    """The first loaded term ``text`` uses outside quotation marks (the word it stands in), or ''."""
    unquoted = _QUOTED.sub('""', text).replace("-", " ").replace("_", " ")  # ids spell 'war crimes' war-crimes
    match = _LOADED.search(unquoted)
    if match is None:
        return ""
    start, end = match.start(), match.end()
    while start > 0 and unquoted[start - 1].isalpha():
        start -= 1
    while end < len(unquoted) and unquoted[end].isalpha():
        end += 1
    return unquoted[start:end]
