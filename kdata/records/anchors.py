"""Anchor a quote in the archived text of its source: where it stands, and in which paragraph.

An anchor follows the W3C Web Annotation selectors: a ``TextPositionSelector``
(``start``, ``end``) and a ``TextQuoteSelector`` (``exact``, ``prefix``, ``suffix``).
Offsets count Unicode code points of the text as archived (the file decoded as
UTF-8, nothing normalised, a line break is one code point), from 0, ``end``
exclusive: ``text[start:end]`` in Python is ``exact``.

A quote is found after normalising both sides the same way (typographic quote marks
and dashes as their plain twins, every run of whitespace as one space), so ``exact``
is the archived text itself, which may differ from the quote in those characters
only. A quote that leaves words out writes "…" (U+2026) where they were: each part
is found in order, and ``parts`` gives the offsets of each.

A quote (and each part of one) starts and ends at a word boundary of the text: where its
first or last character is a letter or digit, the archived character beside it is not one,
so "about 15" is not found in "about 150" nor "p to 60" in "up to 60". An anchor spans at
most ``SPAN_LIMIT`` code points of the text, the length of a quote, however much "…"
leaves out: the published ``exact`` never carries more than a quote's worth of the text.

An archived text is UTF-8 in Unicode NFC, its line breaks LF only, with no byte order mark
and no character the character policy forbids (tab and LF aside): ``form_problem`` says
what breaks that rule, which ``kdata validate`` reports (KD306) and ``kdata sources add``
applies.

A paragraph is a block of non-blank lines; blank lines (empty or only whitespace)
separate paragraphs, which are numbered from 1 in the order of the text. The
paragraph of an anchor is the one its first character stands in.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from operator import add

from kdata.records.chars import escape, problem, visible

#: Where a quote leaves words out.
ELLIPSIS = "\u2026"
#: Code points of context kept on each side (``prefix``, ``suffix``), as W3C suggests: enough to tell repeats apart.
CONTEXT = 32

# Typographic variants that quote verification treats as their plain twins.
TYPOGRAPHIC = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032`"}
    | {c: '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033"}
    | {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
)
_SPACE = re.compile(r"\s+")
_TYPOGRAPHIC_CHAR = re.compile("[" + re.escape("".join(map(chr, TYPOGRAPHIC))) + "]")
_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")
_LEADING_BLANK = re.compile(r"(?:[^\S\n]*\n)*")
_LOCATOR = re.compile(r"paragraph ([1-9][0-9]*)")
#: Most code points an anchor spans: the longest quote (``models.Text``), whatever "…" leaves out.
SPAN_LIMIT = 2000
#: Characters an archived text may hold that the character policy otherwise forbids.
TEXT_ALLOWED = "\t\n"


def _plus_one(n: int) -> int:
    return n + 1


def has_word(text: str) -> bool:
    """Whether ``text`` holds a word a reader could find: a letter or a digit ('…' or ',' alone do not)."""
    return any(c.isalnum() for c in text)


def _wordy(c: str) -> bool:
    """A character that belongs to a word: a letter, a digit or a combining mark."""
    return c.isalnum() or unicodedata.category(c).startswith("M")


#: Characters that join the digit groups of one number ("60.000", "70,000", "1 200"): no word boundary between.
_DIGIT_JOINERS = ".,\u00a0\u202f'\u2019"


def _joined(text: str, left: int) -> bool:
    """Whether ``text[left]`` and ``text[left + 1]`` belong to one word, or to one number across a group separator."""
    a, b = text[left], text[left + 1]
    if _wordy(a) and _wordy(b):
        return True
    if a.isdigit() and b in _DIGIT_JOINERS:  # '60|.000': the number runs on
        return left + 2 < len(text) and text[left + 2].isdigit()
    return b.isdigit() and a in _DIGIT_JOINERS and left > 0 and text[left - 1].isdigit()  # '60.|000'


def bounded(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (non-empty) starts and ends at a word boundary of ``text`` (a number is one word)."""
    if start > 0 and _joined(text, start - 1):
        return False
    return not (end < len(text) and _joined(text, end - 1))


def form_problem(text: str) -> str:
    """What breaks the rule of an archived text (NFC, LF line breaks, no BOM, no forbidden character), or ''."""
    if text.startswith("\ufeff"):
        return "begins with a byte order mark (U+FEFF)"
    if "\r" in text:
        at = text.index("\r")
        return f"holds a carriage return (CR) at line {text.count(chr(10), 0, at) + 1}; line breaks are LF only"
    found = problem(text, TEXT_ALLOWED)
    if found:
        return f"holds {found[1]}, at line {text.count(chr(10), 0, found[0]) + 1}"
    if not unicodedata.is_normalized("NFC", text):
        return "is not in Unicode NFC form"
    return ""


def normalise(text: str) -> str:
    """Text as quote verification compares it: plain quotes and dashes, single spaces."""
    return _SPACE.sub(" ", text.translate(TYPOGRAPHIC)).strip()


@dataclass(frozen=True)
class Anchor:
    """Where a quote stands in its archived text (offsets in code points, ``end`` exclusive)."""

    start: int
    end: int
    parts: tuple[tuple[int, int], ...]
    exact: str
    prefix: str
    suffix: str
    paragraph: int

    @property
    def locator(self) -> str:
        """The locator this anchor gives, e.g. ``paragraph 4``."""
        return f"paragraph {self.paragraph}"

    def parts_text(self) -> str:
        """The parts as published: ``start-end`` pairs separated by spaces."""
        return " ".join(f"{start}-{end}" for start, end in self.parts)


class Archived:
    """One archived text, prepared for anchoring: its normalised form and paragraph starts.

    The normalised form joins the text's words with single spaces (one trailing space where the
    text ends in whitespace). Where each of its characters stands in the text is kept per word,
    not per character: a word's offset in each form and its length (4 bytes each), so preparing
    a text costs a few passes in C, not a Python step per character, and its map takes about
    2 bytes a character (the archive's longest text, 26,736 characters: 55 KB), half a map per character.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        first = len(text) - len(text.lstrip())
        words = text.split()  # runs of str.isspace(), as ``_SPACE`` matches them
        normal = " ".join(words) + (" " if words and text[-1].isspace() else "")
        self.normal = normal.translate(TYPOGRAPHIC) if _TYPOGRAPHIC_CHAR.search(normal) else normal
        self._lengths: array[int] = array("I", map(len, words))
        runs = map(len, _SPACE.findall(text, first))
        #: Where word j starts in the normalised form, and in the text.
        self._normal_starts: array[int] = array("I", accumulate(map(_plus_one, self._lengths), initial=0))
        self._text_starts: array[int] = array("I", accumulate(map(add, self._lengths, runs), initial=first))
        start = _LEADING_BLANK.match(text).end()  # type: ignore[union-attr]  # always matches
        body = text[start:]
        self._starts = [start] + [m.end() + start for m in _BLANK_LINES.finditer(body) if m.end() < len(body)]

    def dump(self) -> bytes:
        """The text and its preparation as bytes ``restored`` reads back (marshal: plain values only)."""
        import marshal

        arrays = (self._lengths, self._normal_starts, self._text_starts)
        return marshal.dumps((self.text, self.normal, *(a.tobytes() for a in arrays), self._starts))

    @classmethod
    def restored(cls, dumped: bytes) -> Archived:
        """The text prepared, from what ``dump`` made of it (nothing is checked: trusted bytes)."""
        import marshal

        found = cls.__new__(cls)
        found.text, found.normal, lengths, normal_starts, text_starts, found._starts = marshal.loads(dumped)
        found._lengths, found._normal_starts, found._text_starts = (
            array("I", lengths),
            array("I", normal_starts),
            array("I", text_starts),
        )
        return found

    def _at(self, k: int) -> int:
        """The offset in the text of character ``k`` of the normalised form (a space: its run's first character)."""
        j = bisect_right(self._normal_starts, k) - 1
        return self._text_starts[j] + min(k - self._normal_starts[j], self._lengths[j])

    def paragraph(self, offset: int) -> int:
        """The paragraph (from 1) the character at ``offset`` stands in."""
        return max(bisect_right(self._starts, offset), 1)

    def paragraphs(self) -> list[tuple[int, int]]:
        """The ``(start, end)`` offsets of each paragraph, in order, without the blank lines between them."""
        ends = [*self._starts[1:], len(self.text)]
        return [
            (start, start + len(self.text[start:end].rstrip())) for start, end in zip(self._starts, ends, strict=True)
        ]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The offsets in the archived text of ``normal[start:end]`` (a non-empty span of the normalised form)."""
        return self._at(start), self._at(end - 1) + 1

    def normal_offset(self, offset: int) -> int:
        """The offset in the normalised form of the first character kept at or after ``offset`` of the text."""
        return bisect_left(range(len(self.normal)), offset, key=self._at)

    def occurrences(self, piece: str, after: int = 0, haystack: str | None = None) -> Iterator[int]:
        """Where a normalised ``piece`` stands in ``haystack`` (default: the normalised text) at or after ``after``,
        at word boundaries, in order."""
        haystack = self.normal if haystack is None else haystack
        at = haystack.find(piece, after) if piece else -1
        while at >= 0:
            if bounded(haystack, at, at + len(piece)):
                yield at
            at = haystack.find(piece, at + 1)

    def _place(self, pieces: list[str], limit: int | None) -> list[tuple[int, int]] | None:
        """The normalised spans of ``pieces`` in order, the first as early as lets the rest fit in ``limit``."""
        for at in self.occurrences(pieces[0]):
            spans = [(at, at + len(pieces[0]))]
            for piece in pieces[1:]:  # the earliest place of each later part leaves the most room for the next
                after = next(self.occurrences(piece, spans[-1][1]), None)
                if after is None:
                    return None  # a later first part leaves less room still
                spans.append((after, after + len(piece)))
            start, end = self.span(spans[0][0], spans[-1][1])
            if limit is None or end - start <= limit:
                return spans
        return None

    def anchor(self, quote: str, limit: int | None = SPAN_LIMIT) -> Anchor | None:
        """The anchor of ``quote``, or None if it (or one of its parts, in order) is not in the text.

        Args:
            quote: The quote as cited; "…" leaves words out.
            limit: Most code points the anchor may span (None: any, to tell "too long" from "not there").
        """
        whole = normalise(quote)
        if not has_word(whole):
            return None
        tries = [[whole]]
        if ELLIPSIS in whole:
            pieces = [p.strip() for p in whole.split(ELLIPSIS)]
            if all(pieces[1:-1]):  # two ellipses in a row leave nothing between them
                tries.append([p for p in pieces if p])
        for pieces in tries:
            wordless = not all(map(has_word, pieces))  # a part of punctuation only ('… .')
            spans = self._place(pieces, limit) if pieces and not wordless else None
            if spans:
                return self._anchor([self.span(a, b) for a, b in spans])
        return None

    def _anchor(self, parts: list[tuple[int, int]]) -> Anchor:
        start, end = parts[0][0], parts[-1][1]
        text = self.text
        return Anchor(
            start=start,
            end=end,
            parts=tuple(parts),
            exact=text[start:end],
            prefix=text[max(start - CONTEXT, 0) : start],
            suffix=text[end : end + CONTEXT],
            paragraph=self.paragraph(start),
        )


def locator_problem(locator: str | None, anchor: Anchor) -> str:
    """Say how a locator breaks its rule, or '' if it is absent or the ``paragraph N`` the anchor gives.

    A locator, when given, is exactly ``paragraph N`` (N from 1), and N is the paragraph of the anchor.
    """
    if locator is None:
        return ""
    match = _LOCATOR.fullmatch(locator)
    if match is None:
        # A locator is ASCII: any other character (a no-break space looks like a space) is shown as its escape.
        shown = "".join(c if c.isascii() else escape(c) for c in visible(locator))
        return (
            f"The locator '{shown}' is not of the form 'paragraph N'; write '{anchor.locator}', "
            "the paragraph the quote stands in."
        )
    if int(match.group(1)) == anchor.paragraph:
        return ""
    return f"The locator says '{locator}', but the quote stands in paragraph {anchor.paragraph} of the archived text."
