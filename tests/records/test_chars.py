"""The one character policy (``kdata.records.chars``), over every code point of each forbidden class.

Each class is generated from ``unicodedata`` here as the policy generates it there, so a test
fails if the policy's table misses a class: every C0 and C1 control and DEL, every format
character (``Cf``), every bidi control, both Unicode separators, every non-character, and lone
surrogates. Each character is refused twice: written into a record file (KD010, at its own line
and column) and made by an escape inside a double-quoted value (KD108, naming the field); the
message names it as an escape, never as the raw character.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest

from kdata.records import chars, yamlio

#: Every code point, once (the generated classes are cut from it).
_ALL = [chr(cp) for cp in range(sys.maxunicode + 1)]
#: Each forbidden class, generated: name -> its characters.
CLASSES: dict[str, list[str]] = {
    "control": [ch for ch in _ALL[:0xA0] if unicodedata.category(ch) == "Cc"],
    "format": [ch for ch in _ALL if unicodedata.category(ch) == "Cf"],
    "bidi": [
        ch
        for ch in _ALL
        if unicodedata.bidirectional(ch) in {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
    ],
    "separator": ["\u2028", "\u2029"],
    "noncharacter": [chr(cp) for cp in range(0xFDD0, 0xFDF0)]
    + [chr(plane + low) for plane in range(0, 0x110000, 0x10000) for low in (0xFFFE, 0xFFFF)],
    "surrogate": [chr(cp) for cp in range(0xD800, 0xE000, 0x7F)] + ["\udfff"],
}
#: Every forbidden character a file can hold (surrogates cannot be UTF-8), tab and line breaks aside.
IN_FILES = sorted({ch for name, found in CLASSES.items() if name != "surrogate" for ch in found} - set("\t\n\r"))
#: Every forbidden character an escape can make in a value, the line feed of multi-line text aside.
IN_VALUES = sorted({ch for found in CLASSES.values() for ch in found} - {"\n"})
#: Characters the policy allows: letters, marks, spaces and symbols that look unusual but show.
ALLOWED = ["a", "é", "\u0301", "\u00a0", "\u3000", "\ufe0f", "\U0001f600", "\ue000", "ə", "ğ", "\u0430", "\n"]


def _id(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def test_every_class_is_generated() -> None:
    """The generated classes are not empty: 65 controls, about 170 format characters, 66 non-characters."""
    assert len(CLASSES["control"]) == 65
    assert len(CLASSES["format"]) > 150
    assert len(CLASSES["noncharacter"]) == 66
    assert set(CLASSES["bidi"]) <= set(CLASSES["format"]) and len(CLASSES["bidi"]) == 9


@pytest.mark.parametrize("ch", IN_VALUES, ids=_id)
def test_policy_names_the_character(ch: str) -> None:
    """Each forbidden character is found where it stands, and named by code point and escape."""
    index, what = chars.problem(f"ab{ch}cd", chars.TEXT_ALLOWED) or (None, "")
    assert index == 2
    assert f"U+{ord(ch):04X}" in what and chars.escape(ch) in what
    assert chars.first_forbidden(chars.visible(f"ab{ch}cd"), "") is None  # shown, it holds none


@pytest.mark.parametrize("ch", ALLOWED, ids=_id)
def test_allowed_characters_pass(ch: str) -> None:
    """Letters, combining marks, spaces, emoji and private use are text; the line feed is allowed in text."""
    assert chars.problem(f"x{ch}y", chars.TEXT_ALLOWED) is None


@pytest.mark.parametrize("ch", IN_FILES, ids=_id)
def test_file_holding_the_character_is_refused_at_its_place(ch: str, tmp_path: Path) -> None:
    """A record file holding the character gives one KD010 at its line and column, naming it as an escape."""
    path = tmp_path / "x.yaml"
    path.write_bytes(f"id: x\ntitle: ab{ch}c\n".encode("utf-8", "surrogatepass"))
    doc = yamlio.read(path, "x.yaml")
    assert [(i.line, i.col, i.code) for i in doc.issues] == [(2, 10, "KD010")]
    message = str(doc.issues[0])
    assert chars.escape(ch) in message and ch not in message


@pytest.mark.parametrize("ch", [ch for ch in IN_VALUES if not "\ud800" <= ch <= "\udfff"], ids=_id)
def test_escaped_character_in_any_value_is_refused(ch: str, tmp_path: Path) -> None:
    """An escape in a double-quoted value that makes the character: KD108 on that field, whatever it is."""
    escape = (
        f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}"
    )
    path = tmp_path / "x.yaml"
    path.write_text(f'id: x\nlinks:\n  - url: "https://a.example/{escape}"\n', "utf-8")
    doc = yamlio.read(path, "x.yaml")
    assert [(i.line, i.col, i.code, i.field) for i in doc.issues] == [(3, 10, "KD108", "links.0.url")]
    message = str(doc.issues[0])
    assert chars.escape(ch) in message and ch not in message


@pytest.mark.parametrize("ch", CLASSES["surrogate"], ids=_id)
def test_lone_surrogate_in_a_value_is_refused(ch: str) -> None:
    """A lone surrogate (which PyYAML's own parser makes of an escape such as \\ud800) breaks the policy."""
    assert (
        chars.text_problem(f"a{ch}")
        == f"The text holds {chars.describe(ch)}, a lone surrogate, at character 2; remove it."
    )


def test_not_nfc_is_refused_in_any_value(tmp_path: Path) -> None:
    """A value not in NFC, here a URL with a combining accent, is KD108."""
    path = tmp_path / "x.yaml"
    path.write_text("id: x\nurl: https://a.example/cafe\u0301\n", "utf-8")
    assert [(i.line, i.col, i.code, i.field) for i in yamlio.read(path, "x.yaml").issues] == [(2, 6, "KD108", "url")]
