"""The quick path of ``yamlio.parse`` against the full one, on generated valid and invalid files.

The quick path reads plainly written files line by line, without positions; whatever it accepts,
the full path (libyaml, positions, every check) must read to the same values, of the same types,
without an issue, and a read document must end with the same issues and positions either way.
"""

from __future__ import annotations

import math
from typing import Any

from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdata.records import yamlio

FIELDS = ["id", "title", "a", "b", "_x", "k1", "no", "x", "date", "kind"]
KEYS = st.one_of(st.sampled_from(FIELDS), st.sampled_from(["true", "null", "Key", "a b", "a-b", "é", "-x", "1"]))
#: Scalars as written in a file: typed, quoted, broken, and holding characters libyaml or the policy treat apart.
SCALARS = [
    *("1", "-3", "+4", "1.5", "-.5", "1e3", "0755", "~", "null", "true", "False", "no", "nan", ".inf", "-.inf"),
    *("-", "- x", "--", "-x", "x:", "a: b", "a:b", "a :b", "a #b", "a#b", "#c", "a  b", "a # b"),
    *("'q'", "'it''s'", "'x", "''", "'a' b", '"q"', '""', '"a\\tb"', '"a\\"', '"x', '"a" b', "'\"'", '"\'"'),
    *("[1]", "{a: 1}", "a, b", "a [b] {c}", "&a x", "*a", "!t x", "!!str 5", "|", ">", "|-", "%x", "@x", "`x"),
    *(",x", "?x", ":x", "? x", "Q&A", "x*y", "a!b", "x|y", "x>y", "x%", "a@b", "a`b", "---", "...", "--- x"),
    *("9223372036854775807", "9223372036854775808", "-9223372036854775809", "1" * 33, "0." + "1" * 31, "1e309"),
    *("x\u00a0", "\u00a0x", "e\u0301", "é", "a\u200bb", "a\u2028b", "a\x85b", "\ufeffx", "x ", " x", "a\tb"),
    *("a\u0000b", "a\x7fb", "\U0001f600", "\ufffe", "a\\b", "http://x.org/a?b=1#c", "1993-04-02"),
]
WORDS = st.text(st.sampled_from(list("ab -:#'\"\\é\u0301\u00a0[]{},&*!|>%@`?.01~\t")), max_size=8)
#: Texts the quick path takes, mostly.
PLAIN = st.text(st.sampled_from(list("abcXYZ019 -./:'éßé")), min_size=1, max_size=12)
SAFE = st.one_of(PLAIN, PLAIN.map(lambda t: f'"{t}"'), PLAIN.map(repr), st.sampled_from(SCALARS[:15]))
ANY = st.one_of(st.sampled_from(SCALARS), WORDS, SAFE)


def _documents(keys: st.SearchStrategy[str], scalars: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Nested mappings and sequences of written keys and scalars, a mapping at the top."""
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3), st.dictionaries(keys, inner, min_size=1, max_size=3)
        ),
        max_leaves=10,
    )
    return st.dictionaries(keys, values, min_size=1, max_size=5)


ODD_DOCUMENTS = _documents(KEYS, ANY)
PLAIN_DOCUMENTS = _documents(st.sampled_from(FIELDS), SAFE)


def _render(value: Any, indent: int, draw: Any, lines: list[str], gaps: list[str], lead: str = "") -> None:
    """Write a mapping or sequence in block style at ``indent``, its first line after ``lead`` ('- ').

    ``gaps``: what may stand between a key's ':' or an item's '-' and its value.
    """
    step = draw(st.integers(1, 4))
    for n, (key, item) in enumerate(value.items() if isinstance(value, dict) else enumerate(value)):
        pad = lead if n == 0 and lead else " " * indent
        head = f"{pad}{key}:" if isinstance(value, dict) else f"{pad}-"
        if isinstance(item, str):
            lines.append(f"{head}{draw(st.sampled_from(gaps))}{item}")
        elif isinstance(value, list) and isinstance(item, dict) and draw(st.booleans()):
            _render(item, indent + 2, draw, lines, gaps, lead=" " * indent + "- ")  # '- key: value' on the dash's line
        else:
            lines.append(head)
            indentless = isinstance(value, dict) and isinstance(item, list) and draw(st.booleans())
            _render(item, indent if indentless else indent + step, draw, lines, gaps)


@st.composite
def files(draw: Any) -> str:
    """A record-like YAML file, plainly written, or with odd values and damaged: a line re-indented, moved, ..."""
    lines: list[str] = []
    damaged = draw(st.booleans())
    document = draw(ODD_DOCUMENTS if damaged else PLAIN_DOCUMENTS)
    _render(document, draw(st.sampled_from([0, 0, 0, 1])), draw, lines, [" ", "  ", ""] if damaged else [" ", "  "])
    if not damaged:
        return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["indent", "dedent", "move", "double", "blank", "comment", "scalar", "join"]))
        if kind == "indent":
            lines[at] = " " + lines[at]
        elif kind == "dedent" and lines[at].startswith(" "):
            lines[at] = lines[at][1:]
        elif kind == "move":
            lines.insert(draw(st.integers(0, len(lines))), lines.pop(at))
        elif kind == "double":
            lines.insert(at, lines[at])
        elif kind == "blank":
            lines.insert(at, draw(st.sampled_from(["", "  ", "# note", "  # note", "---", "..."])))
        elif kind == "scalar":
            lines.insert(at, " " * draw(st.integers(0, 4)) + draw(ANY))
        elif kind == "join" and at + 1 < len(lines):
            lines[at : at + 2] = [lines[at] + " " + lines[at + 1].lstrip()]
    end = draw(st.sampled_from(["\n", "\n", "", "\n\n", " \n"]))
    return draw(st.sampled_from(["\n", "\n", "\r\n", "\r"])).join(lines) + end


def _typed(value: Any) -> Any:
    """A value with the type of every part spelled out (1, 1.0 and True are equal in Python; nan is not nan)."""
    if isinstance(value, dict):
        return ("dict", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _same(text: str) -> bool:
    """Assert that both paths read ``text`` alike; return whether the quick path took it."""
    try:
        quick = yamlio._quick(text)
    except yamlio._Fallback:
        quick = None
    full = yamlio._positioned(text, "x.yaml")
    if quick is not None:
        assert full.issues == [] and _typed(quick) == _typed(full.data), text
    parsed = yamlio.parse(text, "x.yaml")
    assert _typed(parsed.data) == _typed(full.data) and parsed.issues == full.issues, text
    read, reference = yamlio._finish(parsed, "x.yaml"), yamlio._finish(full, "x.yaml")
    assert read.issues == reference.issues, text
    assert (read.pos, read.keypos) == (reference.pos, reference.keypos), text
    return quick is not None


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_quick_path_reads_generated_files_as_the_full_path(text: str) -> None:
    """Valid, odd and broken files: same data and types, same issues and positions."""
    _same(text)


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from(list("ab:- '\"#\n\t\r\\é\u0301\u00a0[]{}&*!|>~01.")), max_size=40))
def test_quick_path_reads_any_short_text_as_the_full_path(text: str) -> None:
    """Texts from the characters that matter to YAML's syntax, in any order."""
    _same(text)


def test_the_quick_path_takes_record_files() -> None:
    """Every record file of the project is read the quick way, and the same as the full way."""
    paths = sorted(p for p in REPO.glob("raw/*/*.yaml"))
    assert len(paths) > 100
    assert all(_same(path.read_text("utf-8")) for path in paths)


def test_a_generated_valid_file_takes_the_quick_path() -> None:
    """Every construct the quick path knows, together: mappings, sequences, indentless ones, scalars."""
    text = (
        "id: x\nn: -3\nf: 1.5\nt: true\nz: ~\nempty:\ns: 'it''s'\nd: \"a: b\"\nu: é http://x.org/a#b\n"
        "list:\n- a\n- b: 1\n  c:\n    - 2\n    - d: [x]\nnested:\n  deeper:\n    k: v\n\nlast:\n"
    )
    assert not _same(text)  # '[x]' inside a plain scalar: the full path
    assert _same(text.replace("[x]", "x"))
