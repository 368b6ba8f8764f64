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

A paragraph is a block of non-blank lines; blank lines (empty or only whitespace)
separate paragraphs, which are numbered from 1 in the order of the text. The
paragraph of an anchor is the one its first character stands in.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

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
_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")
_LOCATOR = re.compile(r"paragraph (\d+)")


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
    """One archived text, prepared for anchoring: its normalised form and paragraph starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        chars: list[str] = []
        self._where: list[int] = []  # offset in ``text`` of each character of the normalised form
        for i, c in enumerate(text):
            if c.isspace():
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    self._where.append(i)
                continue
            chars.append(c.translate(TYPOGRAPHIC))
            self._where.append(i)
        self.normal = "".join(chars)
        body = text.lstrip()
        first = len(text) - len(body)
        self._starts = [first] + [m.end() + first for m in _BLANK_LINES.finditer(body)]

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
        return self._where[start], self._where[end - 1] + 1

    def normal_offset(self, offset: int) -> int:
        """The offset in the normalised form of the first character kept at or after ``offset`` of the text."""
        return bisect_left(self._where, offset)

    def _find(self, part: str, after: int) -> int | None:
        """Where a normalised part first stands in the normalised text, at or after ``after``."""
        at = self.normal.find(part, after) if part else -1
        return None if at < 0 else at

    def anchor(self, quote: str) -> Anchor | None:
        """The anchor of ``quote``, or None if it (or one of its parts, in order) is not in the text."""
        whole = normalise(quote)
        pieces = [whole] if self._find(whole, 0) is not None else [p.strip() for p in whole.split(ELLIPSIS)]
        if len(pieces) > 1 and not all(pieces[1:-1]):
            return None  # two ellipses in a row leave nothing between them
        parts: list[tuple[int, int]] = []
        after = 0
        for piece in filter(None, pieces):
            at = self._find(piece, after)
            if at is None:
                return None
            after = at + len(piece)
            parts.append(self.span(at, after))
        if not parts:
            return None
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
    """Say how a ``paragraph N`` locator contradicts the anchor, or '' if it agrees (or is of another form)."""
    if locator is None:
        return ""
    match = _LOCATOR.fullmatch(locator)
    if match is None or int(match.group(1)) == anchor.paragraph:
        return ""
    return f"The locator says '{locator}', but the quote stands in paragraph {anchor.paragraph} of the archived text."
