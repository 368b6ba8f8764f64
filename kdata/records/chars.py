"""The one character policy of every text kdata reads from raw/, and how messages show characters.

A record file, and every text value in it (field values, URLs, raw/package.yaml's strings),
may not hold a character a reader cannot see or that changes how text around it reads:

- control characters: C0 (tab, line feed and carriage return aside, where the context allows
  them), DEL and C1;
- every format character (Unicode category ``Cf``: zero-width spaces and joiners, the soft
  hyphen, the byte-order mark inside text, tag characters, ...) and every bidi control (the
  embeddings, overrides and isolates: reordering text is the "Trojan Source" attack);
- the line and paragraph separators U+2028 and U+2029, which YAML counts as line breaks and
  editors may not;
- lone surrogates and non-characters (U+FDD0..U+FDEF, and U+xFFFE, U+xFFFF of every plane).

The classes come from ``unicodedata``, not from a hand-written list, so they follow the Unicode
version of the running Python. A text value must also be in NFC. Messages never quote such a
character raw: ``visible`` writes it as an escape (``\\u200b``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

#: Bidi classes of the explicit embedding, override and isolate controls (all ``Cf`` today; listed
#: so that a future Unicode version moving one elsewhere cannot let it through).
_BIDI_CONTROLS = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})


def _noncharacter(ch: str) -> bool:
    cp = ord(ch)
    return 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE


#: Each class of forbidden character: what it is called in messages, and how it is recognised.
CLASSES: dict[str, Callable[[str], bool]] = {
    "a control character": lambda ch: unicodedata.category(ch) == "Cc",
    "a bidi control": lambda ch: unicodedata.bidirectional(ch) in _BIDI_CONTROLS,
    "an invisible format character": lambda ch: unicodedata.category(ch) == "Cf",
    "a line or paragraph separator editors may not show": lambda ch: unicodedata.category(ch) in ("Zl", "Zp"),
    "a lone surrogate": lambda ch: unicodedata.category(ch) == "Cs",
    "a non-character": _noncharacter,
}

#: Characters a whole file may hold besides the policy's: tab, and the line breaks.
FILE_ALLOWED = "\t\n\r"
#: Characters a text value may hold besides the policy's: the line feed of multi-line text.
TEXT_ALLOWED = "\n"

_ASCII_CONTROLS = re.compile("[\x00-\x1f\x7f]")
#: How ``visible`` writes the characters Python escapes by name.
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


@lru_cache(maxsize=8)
def _ascii_controls(allowed: str) -> re.Pattern[str]:
    """The ASCII control characters but ``allowed``, as a pattern."""
    return re.compile("[" + "".join(escape(chr(c)) for c in (*range(0x20), 0x7F) if chr(c) not in allowed) + "]")


@lru_cache(maxsize=8192)
def kind(ch: str) -> str:
    """The class of a forbidden character (``"a bidi control"``), or "" for an allowed one."""
    return next((name for name, test in CLASSES.items() if test(ch)), "")


def escape(ch: str) -> str:
    """One character as a Python escape: ``\\t``, ``\\x85``, ``\\u200b``, ``\\U000e0001``."""
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    cp = ord(ch)
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def describe(ch: str) -> str:
    """A forbidden character named for a message: ``U+200B ZERO WIDTH SPACE (\\u200b)``."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}{' ' + name if name else ''} ({escape(ch)})"


def visible(text: str) -> str:
    """``text`` with every forbidden character, tab, line break and backslash written as an escape."""
    if text.isascii() and not _ASCII_CONTROLS.search(text) and "\\" not in text:
        return text
    return "".join(escape(ch) if ch in _SHORT_ESCAPES or kind(ch) else ch for ch in text)


def first_forbidden(text: str, allowed: str) -> int | None:
    """Index of the first character of ``text`` the policy forbids (``allowed`` aside), or None."""
    if text.isascii():  # the common case: only the ASCII controls can be wrong
        match = _ascii_controls(allowed).search(text)
        return match.start() if match else None
    bad = [ch for ch in set(text) if ch not in allowed and kind(ch)]
    return min(text.index(ch) for ch in bad) if bad else None


def problem(text: str, allowed: str) -> tuple[int, str] | None:
    """Where ``text`` breaks the policy and what it holds there, e.g. (4, "U+200B ... , an invisible ...")."""
    index = first_forbidden(text, allowed)
    if index is None:
        return None
    ch = text[index]
    return index, f"{describe(ch)}, {kind(ch)}"


def text_problem(value: str) -> str:
    """What is wrong with the characters of a text value, as a sentence, or "" if nothing."""
    found = problem(value, TEXT_ALLOWED)
    if found:
        return f"The text holds {found[1]}, at character {found[0] + 1}; remove it."
    if not unicodedata.is_normalized("NFC", value):
        return "The text is not in Unicode NFC form; normalise it (e.g. compose accents)."
    return ""
