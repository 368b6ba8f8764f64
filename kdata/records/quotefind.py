"""Find a passage in the archived texts: exactly, then approximately, then by likeness.

Three passes, each run only when the one before found nothing:

1. **exact**: the text as typed stands in the archived text, character for character.
2. **approximate**: it stands there once quote marks, dashes and whitespace are compared as quote
   verification compares them (:func:`kdata.records.anchors.normalise`, "…" for words left out)
   or, failing that, also ignoring case.
3. **fuzzy**: the sentence windows of the text (one to three consecutive sentences of a paragraph)
   most like it, scored by :class:`difflib.SequenceMatcher` on the normalised, lower-cased forms,
   each trimmed to the part that lines up with the text typed.

Every passage is returned as offsets into the text as archived, so what is printed is the
archived text itself: pasted as a ``quote``, it passes quote verification.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from difflib import Match, SequenceMatcher

from kdata.errors import UsageError
from kdata.records.anchors import ELLIPSIS, Archived, bounded, has_word, normalise

#: Lowest likeness (0 to 1) a fuzzy passage needs to be shown.
THRESHOLD = 0.6
#: Words a fuzzy passage's ends may stand from where the quote's words would put them.
SLACK = 3
#: Sentences a fuzzy window spans at most.
WINDOW = 3
#: Where a sentence ends: after . ! ? (and a closing quote mark or bracket) and before a space.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]* ")
#: Where a quote leaves words out: "…", or "..." typed for it.
_ELLIPSES = re.compile(re.escape(ELLIPSIS) + r"|\.\.\.")
_PUNCTUATION = re.compile(r"[^\w]+")
_WORD = re.compile(r"[^ ]+")
#: Punctuation left off the end of a fuzzy passage (the quote would rarely want it).
_TRAILING = ",;:"


@dataclass(frozen=True)
class Passage:
    """A passage of one archived text (offsets in code points of the text as archived, ``end`` exclusive)."""

    source: str
    start: int
    end: int
    paragraph: int
    text: str
    how: str  # "exact", "approximate" or "fuzzy"
    score: float = 1.0

    @property
    def quote(self) -> str:
        """The passage as a ``quote`` to paste: the archived text with each run of whitespace as one space."""
        return " ".join(self.text.split())


def _lower(text: str) -> str:
    """``text`` lower-cased character by character, so offsets stay those of ``text``."""
    return "".join(low if len(low := c.lower()) == 1 else c for c in text)


def _passage(source: str, archived: Archived, start: int, end: int, how: str, score: float = 1.0) -> Passage:
    return Passage(source, start, end, archived.paragraph(start), archived.text[start:end], how, score)


def _exact(quote: str, source: str, archived: Archived) -> Iterator[Passage]:
    text = archived.text
    at = text.find(quote) if quote else -1
    while at >= 0:
        if bounded(text, at, at + len(quote)):
            yield _passage(source, archived, at, at + len(quote), "exact")
        at = text.find(quote, at + 1)


def _approximate(quote: str, source: str, archived: Archived) -> Iterator[Passage]:
    anchor = archived.anchor(quote)
    if anchor is not None:
        yield _passage(source, archived, anchor.start, anchor.end, "approximate")
        return
    wanted = _lower(normalise(quote))
    for at in archived.occurrences(wanted, 0, _lower(archived.normal)):
        yield _passage(source, archived, *archived.span(at, at + len(wanted)), "approximate")


def _words(text: str) -> list[str]:
    """Words compared by the fuzzy pass: lower-cased, without punctuation ("60,000" and "60.000" alike)."""
    return [_PUNCTUATION.sub("", w) for w in _WORD.findall(_lower(text))]


def _spans(normal: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each word of a normalised text (words: runs without a space)."""
    return [(m.start(), m.end()) for m in _WORD.finditer(normal)]


def windows(archived: Archived) -> Iterator[tuple[int, int]]:
    """Word spans ``(first, last)`` (indices into ``_spans(normal)``) of one to ``WINDOW`` sentences of a paragraph."""
    normal = archived.normal
    word_starts = [start for start, _ in _spans(normal)]
    paragraphs = {bisect_left(word_starts, archived.normal_offset(start)) for start, _ in archived.paragraphs()}
    ends = {bisect_left(word_starts, m.end()) for m in _SENTENCE_END.finditer(normal)}
    breaks = sorted({0, *paragraphs, *ends, len(word_starts)})
    for i in range(len(breaks) - 1):
        for j in range(i + 1, min(i + WINDOW, len(breaks) - 1) + 1):
            if j > i + 1 and breaks[j - 1] in paragraphs:
                break  # a window never spans two paragraphs
            yield breaks[i], breaks[j]


def _fuzzy(quote: str, source: str, archived: Archived) -> Iterator[Passage]:
    wanted = _lower(normalise(quote))
    if not archived.normal or not wanted:
        return
    asked = _words(wanted)
    haystack = _lower(archived.normal)
    spans = _spans(haystack)
    words = [_PUNCTUATION.sub("", haystack[a:b]) for a, b in spans]
    matcher: SequenceMatcher[str] = SequenceMatcher(autojunk=False)
    matcher.set_seq2(asked)  # difflib caches facts about seq2: the words typed, compared with every window
    for first, last in windows(archived):
        matcher.set_seq1(words[first:last])
        # Enough words of the quote could stand in the window (quick_ratio bounds the matches from above).
        if matcher.quick_ratio() * (len(asked) + last - first) / 2 < THRESHOLD * len(asked):
            continue
        blocks = [b for b in matcher.get_matching_blocks() if b.size]
        if not blocks:
            continue
        low, high = _trim(words, asked, first, last, max(blocks, key=lambda b: b.size))
        start, end = spans[low][0], spans[high - 1][1]
        while end > start + 1 and haystack[end - 1] in _TRAILING:
            end -= 1
        score = SequenceMatcher(None, wanted, haystack[start:end], autojunk=False).ratio()
        if score >= THRESHOLD:
            yield _passage(source, archived, *archived.span(start, end), "fuzzy", score)


def _trim(words: list[str], asked: list[str], first: int, last: int, core: Match) -> tuple[int, int]:
    """The word span of window ``first:last`` that best covers the quote, around its longest matching block.

    Its ends are tried within ``SLACK`` words of where the quote's words left over on either side of
    ``core`` would reach; the best has the most words in common with the quote, less half a point for
    each word more or fewer than the quote has (ties: the nearest to where the quote's words reach). So a word the quote leaves out, adds or changes is
    passed over, and a common word ("the") matched far away does not stretch the passage.
    """
    n = len(asked)
    core_start, core_end = first + core.a, first + core.a + core.size
    before, after = core.b, n - core.b - core.size  # the quote's words on either side of the block
    low = max(first, core_start - before - SLACK)
    starts = range(low, max(low, min(core_start, core_start - before + SLACK)) + 1)
    high = min(last, core_end + after + SLACK)
    ends = range(min(high, max(core_end, core_end + after - SLACK)), high + 1)
    matcher: SequenceMatcher[str] = SequenceMatcher(None, b=asked, autojunk=False)

    def cover(bounds: tuple[int, int]) -> tuple[float, int]:
        matcher.set_seq1(words[bounds[0] : bounds[1]])
        common = sum(block.size for block in matcher.get_matching_blocks())
        shift = abs(bounds[0] - (core_start - before)) + abs(bounds[1] - (core_end + after))
        return common - abs(bounds[1] - bounds[0] - n) / 2, -shift  # ties: where the quote's words reach

    return max(((a, b) for a in starts for b in ends), key=cover)


#: The passes, in the order they are tried.
PASSES = (_exact, _approximate, _fuzzy)


def find(quote: str, texts: Mapping[str, Archived], limit: int = 5) -> list[Passage]:
    """The passages of ``texts`` that ``quote`` names, from the first pass that finds any.

    Every pass finds whole words only: a passage starts and ends at a word boundary of the text
    (:func:`kdata.records.anchors.bounded`). Passages that overlap are one: the best (or first) is kept.

    Args:
        quote: The text to look for, as typed.
        texts: Archived texts by source id.
        limit: Most passages returned (fuzzy ones best first, the others in source and text order).

    Returns:
        Up to ``limit`` passages, all of one pass (``how``); empty when no pass finds one.

    Raises:
        UsageError: ``quote`` holds no letter or digit (empty, whitespace or punctuation only).
    """
    quote = unicodedata.normalize("NFC", quote)  # as archived texts and records are
    if not has_word(quote):  # blank, or punctuation only ('…'): no word a quote could hold
        raise UsageError('Nothing to find: give the words to look for, e.g. kdata quote find "about 1,200 residents".')
    for search in PASSES:
        found = [p for source, archived in sorted(texts.items()) for p in search(quote, source, archived)]
        if found:
            return _apart(sorted(found, key=lambda p: (-p.score, p.source, p.start)))[:limit]
    return []


def _apart(passages: list[Passage]) -> list[Passage]:
    """``passages`` (best first) without any that overlaps one before it in the same text, or that would be
    pasted as the same citation (same source, paragraph and words: a word found twice in one paragraph)."""
    kept: list[Passage] = []
    for p in passages:
        if not any(
            k.source == p.source
            and ((k.start < p.end and p.start < k.end) or (k.paragraph, k.quote) == (p.paragraph, p.quote))
            for k in kept
        ):
            kept.append(p)
    return kept


def nearest(quote: str, source: str, archived: Archived) -> Passage | None:
    """The passage of one archived text most like ``quote`` (any pass), or None if none is like enough.

    A quote that leaves words out ("…", or "..." typed for it) is searched whole without them, then by
    its longest part, so a quote with a wrong part still shows where its other words stand.
    """
    if not quote.strip():
        return None
    parts = [p.strip() for p in _ELLIPSES.split(quote)]
    tries = [quote] if len(parts) == 1 else [quote, " ".join(filter(None, parts)), max(parts, key=len)]
    for attempt in tries:
        if not has_word(attempt):
            continue  # '…' alone: no words to look for
        found = find(attempt, {source: archived}, limit=1)
        if found:
            return found[0]
    return None
