"""Strict YAML reading with positions.

PyYAML's loaders guess types the YAML 1.1 way (``no`` is False, ``0755`` is 493,
``1:20`` is 80, dates become ``datetime.date``), accept duplicate keys and expand
aliases without limit. We therefore build the document ourselves from libyaml's
event stream (``CSafeLoader``'s C parser: fast and without recursion), which lets
us refuse anchors, aliases, tags and duplicate keys, keep every value's line and
column, and type plain scalars by the YAML 1.2 core schema only: null, true/false,
decimal integers and floats. Everything else, dates included, stays a string for
the pydantic models to type. A number no column can hold (beyond 64 bits, or a float
that overflows) stays its text, marked ``Unrepresentable``, and ``read`` refuses it
(KD013), as it refuses any string value against the character policy of
``kdata.records.chars`` (KD108) after the file's own text passed it (KD010).

Most record files are written plainly (field: value lines, lists of them, one-line texts):
``_quick`` reads those line by line, with a few C-level string scans over the whole text,
and keeps no positions; a document then finds its positions only if an issue needs them,
by parsing its text again the full way. Anything the quick path does not know (and every
file with a problem) is read the full way from the start, so issues and positions are the
same either way (a property test compares the two paths on generated files).

What a contributor reads does not depend on the installed PyYAML or libyaml:
libyaml's problem texts are reworded through one table (``_YAML_PROBLEMS``), and
nesting is limited by kdata (``MAX_DEPTH``) far below libyaml's own limit, so the
same file gives the same issue, at the same place, under every supported version.
"""

from __future__ import annotations

import errno
import math
import os
import re
from typing import Any

import yaml

from kdata.errors import Issue
from kdata.fs import FileTooLarge, NotRegularFile, read_regular
from kdata.records import chars

#: A path into a document: mapping keys and sequence indices.
Loc = tuple[str | int, ...]

#: Largest record file accepted, in bytes.
MAX_BYTES = 256 * 1024
#: Deepest nesting of mappings and sequences accepted. The deepest record nests 4 levels (package.yaml:
#: contributors, a contributor, its roles); 16 leaves room for new fields and sits far below libyaml's own
#: limit (1000 levels in the libyaml of PyYAML 6.0.4, none in 6.0.1 to 6.0.3), so that kdata, not the
#: parser, refuses every too-deep file, with the same issue under every version (see ``parse_events`` for
#: files deeper than libyaml's limit). Both parsing paths stop at this depth.
MAX_DEPTH = 16
#: At most this many issues are reported for one file (``capped`` says how many more were left out).
MAX_ISSUES = 20
#: Integers a record may hold: those of a signed 64-bit column (Parquet int64, and the CSV readers').
INT_RANGE = (-(2**63), 2**63 - 1)
#: Longest unquoted number that is typed as a float; a longer one only ever meant false precision.
MAX_FLOAT_CHARS = 32

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# Floats need a point or an exponent, and no leading zeros: "0755" stays text, never octal or 755.0.
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)")
#: The first characters of every number and special float above: a text starting otherwise stays text.
_NUMBER_START = frozenset("+-.0123456789")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Document:
    """A parsed record file: its data, where each value and key sits, and its issues.

    A document read by the quick path (``_quick``) finds its positions only when they are first
    asked for (an issue to place), by parsing its text again the full way: most files never need them.
    """

    __slots__ = ("_keypos", "_pos", "_text", "clean", "data", "issues")

    def __init__(
        self,
        data: Any = None,
        pos: dict[Loc, tuple[int, int]] | None = None,
        keypos: dict[Loc, tuple[int, int]] | None = None,
        issues: list[Issue] | None = None,
    ) -> None:
        self.data = data
        self._pos = {} if pos is None else pos
        self._keypos = {} if keypos is None else keypos
        self.issues: list[Issue] = [] if issues is None else issues
        self._text: str | None = None  # the text whose positions are still to be found
        self.clean = False  # whether every value is known to pass ``_check_values`` already

    def _locate(self) -> None:
        text, self._text = self._text, None
        if text is not None:
            full = _positioned(text, "")
            self._pos, self._keypos = full._pos, full._keypos

    @property
    def pos(self) -> dict[Loc, tuple[int, int]]:
        """Line and column of each value, by location."""
        if self._text is not None:
            self._locate()
        return self._pos

    @property
    def keypos(self) -> dict[Loc, tuple[int, int]]:
        """Line and column of each mapping key, by the location of its value."""
        if self._text is not None:
            self._locate()
        return self._keypos


def field_path(loc: Loc) -> str:
    """A location as the dotted field path issues name (``citations.0.quote``), invisible characters escaped."""
    return chars.visible(".".join(map(str, loc)))


class Unrepresentable(str):
    """An unquoted number no column can hold (beyond 64 bits, or a float that overflows): ``read`` refuses it.

    Kept as its text, never turned into a number: Python refuses ``int()`` of more than 4300 digits.
    """


def plain_scalar(text: str) -> Any:
    """Type an unquoted scalar by the YAML 1.2 core schema; anything else stays text."""
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if text[0] not in _NUMBER_START:  # not empty: "" is null
        return text
    if _INT.fullmatch(text):
        number = int(text) if len(text) <= 20 else None  # 20 characters: a sign and the 19 digits of 2**63
        return number if number is not None and INT_RANGE[0] <= number <= INT_RANGE[1] else Unrepresentable(text)
    if _FLOAT.fullmatch(text):
        real = float(text) if len(text) <= MAX_FLOAT_CHARS else math.inf
        return real if math.isfinite(real) else Unrepresentable(text)
    return _SPECIAL_FLOAT.get(text.lower(), text)


def _mark(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``, counting CR, LF and CRLF as line breaks (as libyaml does)."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1


def _decode(raw: bytes, name: str, doc: Document) -> str | None:
    """UTF-8 text of a file (a byte-order mark is accepted), or None with an issue."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(raw[: exc.start].decode("utf-8"), exc.start)
        doc.issues.append(
            Issue(
                name,
                line,
                col,
                "KD002",
                "",
                f"The file is not valid UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded.",
            )
        )
        return None
    found = chars.problem(text, chars.FILE_ALLOWED)  # the one character policy, over every character
    if found:
        line, col = _position(text, found[0])
        doc.issues.append(Issue(name, line, col, "KD010", "", f"The file holds {found[1]}; remove it."))
        return None
    return text


class _Builder:
    """Turns libyaml events into plain Python values, refusing what we do not allow."""

    def __init__(self, name: str, doc: Document) -> None:
        self.name = name
        self.doc = doc
        # Each frame: [container, its location, pending (key, mark) of a mapping or None].
        self.stack: list[list[Any]] = []
        self.documents = 0

    def issue(self, mark: Any, code: str, loc: Loc, message: str) -> None:
        line, col = _mark(mark)
        self.doc.issues.append(Issue(self.name, line, col, code, field_path(loc), message))

    def _refuse_decorations(self, event: Any, loc: Loc) -> None:
        if getattr(event, "anchor", None) is not None:
            self.issue(
                event.start_mark, "KD004", loc, f"Anchors are not allowed, found '&{chars.visible(event.anchor)}'."
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and not (isinstance(event, yaml.ScalarEvent) and event.implicit[0]):
            self.issue(event.start_mark, "KD005", loc, f"Tags are not allowed, found '{chars.visible(tag)}'.")

    def _place(self, value: Any, event: Any) -> Loc | None:
        """Attach a finished value to its parent; return its location (None for a key)."""
        if not self.stack:
            self.doc.data = value
            self.doc.pos[()] = _mark(event.start_mark)
            return ()
        frame = self.stack[-1]
        container: Any = frame[0]
        loc: Loc = frame[1]
        if isinstance(container, list):
            sub = loc + (len(container),)
            container.append(value)
            self.doc.pos[sub] = _mark(event.start_mark)
            return sub
        if frame[2] is None:  # this value is a key
            if type(value) is not str:
                self.issue(event.start_mark, "KD001", loc, "A mapping key must be plain text.")
                value = repr(value) if type(value) is not Unrepresentable else f"'{value[:20]}...'"
            frame[2] = (value, event.start_mark)
            return None
        key, key_mark = frame[2]
        frame[2] = None
        sub = loc + (key,)
        if key in container:
            self.issue(
                key_mark,
                "KD003",
                sub,
                f"The key '{chars.visible(key)}' appears twice in the same mapping (first on line {self.doc.keypos[sub][0]}).",
            )
        else:
            container[key] = value
            self.doc.keypos[sub] = _mark(key_mark)
            self.doc.pos[sub] = _mark(event.start_mark)
        return sub

    def _next_loc(self) -> Loc:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        loc: Loc = frame[1]
        if isinstance(frame[0], list):
            return loc + (len(frame[0]),)
        return loc + ((frame[2][0],) if frame[2] else ())

    def feed(self, event: Any) -> bool:
        """Consume one event; return False to stop reading the file."""
        kind = type(event)
        if kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                self.issue(
                    event.start_mark, "KD001", (), "A record file holds one YAML document; found a second '---'."
                )
                return False
            return True
        if kind is yaml.ScalarEvent:
            loc = self._next_loc()
            self._refuse_decorations(event, loc)
            value = plain_scalar(event.value) if not event.style and event.implicit[0] else event.value
            self._place(value, event)
            return True
        if kind is yaml.AliasEvent:
            loc = self._next_loc()
            self.issue(
                event.start_mark, "KD004", loc, f"Aliases are not allowed, found '*{chars.visible(event.anchor)}'."
            )
            self._place(None, event)
            return True
        if kind in (yaml.MappingStartEvent, yaml.SequenceStartEvent):
            loc = self._next_loc()
            self._refuse_decorations(event, loc)
            if len(self.stack) >= MAX_DEPTH:
                self.issue(event.start_mark, "KD009", loc, f"Values nest more than {MAX_DEPTH} levels deep.")
                return False
            container: Any = {} if kind is yaml.MappingStartEvent else []
            if self.stack and not isinstance(self.stack[-1][0], list) and self.stack[-1][2] is None:
                self.issue(event.start_mark, "KD001", loc, "A mapping key must be plain text.")
                return False
            placed = self._place(container, event)
            self.stack.append([container, placed if placed is not None else loc, None])
            return True
        if kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
            self.stack.pop()
        return True


_DEFAULT_TAGS = {
    yaml.ScalarNode: "tag:yaml.org,2002:str",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}


#: libyaml's C parser where PyYAML was built with it; else PyYAML's own parser, in Python: the same
#: events, slower. Its composer recurses once per level, so without libyaml the fast path is skipped.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LIBYAML = _LOADER is not yaml.SafeLoader


class _PlainLoader(_LOADER):  # type: ignore[misc]
    """libyaml's C composer with no implicit resolvers: scalars stay text until we type them."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class attribute

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """Every node gets its kind's default tag: typing is ours (and tagged files never come here)."""
        return _DEFAULT_TAGS[kind]


class _Fallback(Exception):
    """The fast path met something only the strict event path reports exactly."""


#: Characters that may start an anchor, alias, tag or flow collection: files holding any take the event path.
_EVENT_PATH_ONLY = re.compile(r"[&*!\[\]{}]")
#: A line's indentation and leading block indicators ('- ', '? ', ': ') this long or longer. Without flow
#: brackets a block collection starts at most that far in, and nests at most about twice as many levels
#: deep (a nested block collection is indented more, a list under a key at most once at the same column).
#: libyaml's C composer recurses once per level and, without the limit of newer libyaml, overflows the C
#: stack: a 200 KB line '- - - ...' crashes PyYAML 6.0.1. Files with such a line take the event path,
#: whose stacks live on the heap and which stops at MAX_DEPTH.
_LONG_LEAD = re.compile(r"[ \t?:-]{256}")
_LONG_LEAD_AFTER_BREAK = re.compile(r"\n[ \t?:-]{256}")
#: Keys the fast path takes as they are (field names); anything else goes to the event path.
_PLAIN_KEY = re.compile(r"[a-z_][a-z0-9_]*")


def _walk(node: Any, loc: Loc, doc: Document, depth: int) -> Any:
    """Turn a composed node into plain values, recording positions; raise _Fallback on anything unusual."""
    doc.pos[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if type(node) is yaml.ScalarNode:
        return plain_scalar(node.value) if not node.style else node.value
    if depth >= MAX_DEPTH:
        raise _Fallback
    if type(node) is yaml.SequenceNode:
        return [_walk(item, loc + (i,), doc, depth + 1) for i, item in enumerate(node.value)]
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if (
            type(key_node) is not yaml.ScalarNode
            or key_node.style
            or not _PLAIN_KEY.fullmatch(key)
            or key in _BOOL
            or key in _NULL
        ):
            raise _Fallback  # keys other than plain words: let the event path word any issue
        if key in out:
            raise _Fallback  # duplicate key
        sub = loc + (key,)
        doc.keypos[sub] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        out[key] = _walk(value_node, sub, doc, depth + 1)
    return out


def _compose(text: str) -> Document:
    """Fast path: libyaml composes the whole document in C, we walk the nodes once.

    Only for text without anchors, aliases, tags or flow collections (checked by
    the caller), and only when nothing is wrong: any problem raises _Fallback
    (or a YAML error) and the event path reparses the text to report it exactly.
    Both paths give the same Document for the same text (a test checks this).
    """
    loader = _PlainLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    doc = Document()
    if node is not None:
        doc.data = _walk(node, (), doc, 0)
    return doc


#: One line of a file the quick path reads: indentation, then 'key:', 'key: value', '- key:',
#: '- key: value', '- value' or nothing. Keys are field names; what a value may be is ``_quick_value``'s.
_QUICK_LINES = re.compile(r"^( *)(- )?(?:([a-z_][a-z0-9_]*):(?: +(.*))?|(.*))$", re.MULTILINE)
#: Characters that send a file to the full path: tab, CR, what libyaml refuses or counts as a line break.
_QUICK_REFUSED = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
#: Characters that cannot start a plain scalar the quick path takes (a minus may, before a digit).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@` ")
_DIGITS = frozenset("0123456789")
#: Containers the quick path nests at most (well below ``MAX_DEPTH``; deeper files take the full path).
_QUICK_DEPTH = 8


def _quick_value(text: str) -> Any:
    """A one-line scalar as libyaml reads it: plain, single-quoted, or double-quoted without escapes.

    Raises _Fallback for anything else: a plain scalar holding ': ' or ending in ':' (libyaml's
    errors), a quoted text not closed on its line, an escape, a number no column can hold.
    """
    first = text[:1]
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise _Fallback
        return inner
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Fallback
        return inner.replace("''", "'")
    if (
        not first
        or (first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] in _DIGITS))
        or ": " in text
        or text[-1] == ":"
    ):
        raise _Fallback
    value = plain_scalar(text)
    if type(value) is Unrepresentable:
        raise _Fallback  # the full path reports it, at its place
    return value


def _quick(text: str) -> dict[str, Any] | None:
    """The data of a plainly written record file, found line by line without positions, or None.

    Takes only block mappings of field names, block sequences and one-line scalars, each read
    exactly as libyaml reads it; anything else (flow collections, multi-line or escaped texts,
    comments, anchors, tags, odd keys or indentation, tabs, CR line breaks, duplicate keys, any
    syntax error) returns None or raises _Fallback, and the file is read the full way, which
    reports any problem exactly. A test checks on generated files that whatever this accepts,
    the full path reads to the same data without an issue.
    """
    if " #" in text or " \n" in text or text.endswith(" ") or _QUICK_REFUSED.search(text):
        return None  # comments, trailing spaces, characters the lines below do not expect
    root: dict[str, Any] = {}
    # Each frame: [indent, container, is a mapping]; ``pending``: a key whose value is on the lines below.
    stack: list[list[Any]] = [[0, root, True]]
    top = stack[0]
    pending: str | None = None
    seen = False
    for indent, dash, key, value, item in _QUICK_LINES.findall(text):
        if not key:
            if not item:
                if dash:
                    return None  # '- ' and nothing
                continue  # a blank line
            if not dash:
                return None  # a scalar alone on its line: at the top, or continuing a text
        n = len(indent)
        seen = True
        if pending is not None:
            if n > top[0] or (n == top[0] and dash):
                if len(stack) >= _QUICK_DEPTH:
                    return None
                child: Any = [] if dash else {}
                top[1][pending] = child
                top = [n, child, not dash]
                stack.append(top)
            else:
                top[1][pending] = None
            pending = None
        while n < top[0]:
            stack.pop()
            top = stack[-1]
        if n != top[0]:
            return None
        if not top[2] and not dash:  # a sequence at its parent key's indentation ends here
            stack.pop()
            top = stack[-1]
            if top[0] != n or not top[2]:
                return None
        if dash:
            if top[2]:
                return None
            if not key:
                top[1].append(_quick_value(item))
                continue
            if len(stack) >= _QUICK_DEPTH:
                return None
            child = {}
            top[1].append(child)
            top = [n + 2, child, True]
            stack.append(top)
        container = top[1]
        if key in container or key in _BOOL or key in _NULL:
            return None
        if value:
            container[key] = _quick_value(value)
        else:
            pending = key
    if pending is not None:
        top[1][pending] = None
    return root if seen else None


def _clean_values(data: Any) -> bool:
    """Whether no text value breaks the character policy (``_check_values`` would find nothing)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if type(value) is dict:
            stack.extend(value.values())
        elif type(value) is list:
            stack.extend(value)
        elif type(value) is str and chars.text_problem(value):
            return False
    return True


def _long_lead(text: str) -> bool:
    """Whether a line of ``text`` could start a block collection nested hundreds of levels deep."""
    if "\r" in text:  # CR or CRLF line breaks: libyaml counts a lone CR as a line break too
        text = text.replace("\r", "\n")
    return _LONG_LEAD.match(text) is not None or _LONG_LEAD_AFTER_BREAK.search(text) is not None


def parse(text: str, name: str) -> Document:
    """Parse YAML text strictly; problems become issues named after ``name``."""
    try:
        data = _quick(text)
    except _Fallback:
        data = None
    if data is None:
        return _positioned(text, name)
    doc = Document(data)
    doc._text = text
    doc.clean = text.isascii() or _clean_values(data)
    return doc


def _positioned(text: str, name: str) -> Document:
    """Parse YAML text strictly, recording every position: libyaml's composer, or its events."""
    if _LIBYAML and not _EVENT_PATH_ONLY.search(text) and not _long_lead(text):
        try:
            return _compose(text)
        except (_Fallback, yaml.YAMLError):
            pass
    return parse_events(text, name)


def _read_events(text: str, builder: _Builder) -> yaml.YAMLError | None:
    """Feed libyaml's events to ``builder`` until it stops; return the error that ended them early, if any."""
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if not builder.feed(event) or len(builder.doc.issues) >= MAX_ISSUES:
                break
    except yaml.YAMLError as exc:
        return exc
    return None


def _offset(text: str, line: int, col: int) -> int:
    """Index in ``text`` of the 1-based ``line`` and ``col`` (line breaks counted as ``_position`` does)."""
    start = 0
    for n, match in enumerate(_LINE_BREAK.finditer(text), start=2):
        if n > line:
            break
        start = match.end()
    return start + col - 1


def parse_events(text: str, name: str) -> Document:
    """Parse YAML text strictly from libyaml's events: the reference path that words every issue."""
    doc = Document()
    error = _read_events(text, _Builder(name, doc))
    if error is None:
        return doc
    # libyaml reports every error with a mark; an error without one is reported at line 0.
    mark = (error.problem_mark or error.context_mark) if isinstance(error, yaml.MarkedYAMLError) else None
    line, col = _mark(mark) if mark else (0, 0)
    if mark is not None:
        # libyaml scans ahead of the events it hands over (a whole line of flow brackets, say), so it can
        # fail, past its own nesting limit for one, before the event nested deeper than MAX_DEPTH reaches
        # the builder; a libyaml without that limit hands the event over and the builder stops there.
        # The text before the failure is read again on its own: if it already nests too deep, that is the
        # file's issue, the same under every libyaml.
        before = Document()
        _read_events(text[: _offset(text, line, col)], _Builder(name, before))
        if any(issue.code == "KD009" for issue in before.issues):
            return before
    doc.issues.append(Issue(name, line, col, "KD001", "", f"The YAML cannot be parsed: {_problem(error)}."))
    return doc


#: kdata's words for libyaml's problems, by libyaml's text. libyaml's texts name tokens and parser
#: states ("mapping values are not allowed in this context (while scanning ...)"), not what to fix, and
#: belong to libyaml; these say what is wrong in a record file. A problem not listed keeps libyaml's
#: words, with its context. A test makes each listed problem happen, so a reworded libyaml shows up.
_YAML_PROBLEMS: dict[str, str] = {
    "mapping values are not allowed in this context": (
        "a ':' stands where no 'field: value' may start; check this line's indentation, "
        "or put a value that holds ': ' in quotes"
    ),
    "found a tab character that violates indentation": "a tab indents this line; indent with spaces only",
    "found a tab character where an indentation space is expected": (
        "a tab indents this line; indent with spaces only"
    ),
    "found character that cannot start any token": (
        "this character cannot start a value (a tab used for indentation, or '@' or '`' first in a value); "
        "indent with spaces and put such a value in quotes"
    ),
    "found unexpected end of stream": "the file ends inside a quoted text; add the closing quote",
    "did not find expected '-' indicator": (
        "a line inside a list does not start with '- ' at the indentation of the items before it"
    ),
    "did not find expected key": (
        "a line inside a mapping is not a 'field: value' at the indentation of the fields before it"
    ),
    "could not find expected ':'": "a field name is not followed by ':' (or a quoted text is not closed on its line)",
    "block sequence entries are not allowed in this context": (
        "a '- ' list item stands where no list may start; start the list on the line after its field name"
    ),
    "did not find expected ',' or ']'": "a '[' list is not closed by ']', or its items are not separated by ','",
    "did not find expected ',' or '}'": "a '{' mapping is not closed by '}', or its pairs are not separated by ','",
    "found unknown escape character": (
        "a double-quoted text holds an unknown escape sequence (a '\\' before a letter YAML does not know); "
        "use single quotes, or write '\\\\' for a backslash"
    ),
    "found unexpected document indicator": "a line starting with '---' or '...' inside a quoted text ends the document",
}


def _problem(error: yaml.YAMLError) -> str:
    """What libyaml found wrong, in kdata's words where it has them (without the final full stop)."""
    problem, context = (error.problem, error.context) if isinstance(error, yaml.MarkedYAMLError) else (None, None)
    problem = (problem or str(error)).rstrip(".")
    if problem in _YAML_PROBLEMS:
        return _YAML_PROBLEMS[problem]
    return chars.visible(problem + (f" ({context})" if context else ""))  # libyaml's words may quote a character


#: Why a file or folder could not be read, in words, by errno; other errors keep the system's words.
READ_ERRORS: dict[int, str] = {
    errno.ENOENT: "it vanished while raw/ was read (moved or deleted meanwhile); run the command again",
    errno.EACCES: "permission was denied; make it readable",
    errno.EPERM: "the operation was not permitted; make it readable",
    errno.EIO: "the disk reported an input/output error",
}


def _bytes(path: str | os.PathLike[str], name: str) -> bytes | Issue:
    """A file's bytes, or the issue that says why it cannot be read (never an exception)."""
    try:
        return read_regular(path, MAX_BYTES)
    except FileTooLarge as exc:
        return Issue(name, 0, 0, "KD008", "", f"The file has {exc.size} bytes; the limit is {MAX_BYTES}.")
    except NotRegularFile as exc:
        message = f"The file is {exc.kind}, not a regular file; put a regular file here."
        return Issue(name, 0, 0, "KD011", "", message)
    except OSError as exc:
        why = READ_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
        return Issue(name, 0, 0, "KD012", "", f"The file cannot be read: {why}.")


def read(path: str | os.PathLike[str], name: str) -> Document:
    """Read and parse one record file; ``name`` is how issues refer to it.

    Only a regular file is read (never through a symlink, never waiting on a pipe); any file
    that cannot be read is one issue, never an exception.
    """
    doc = Document()
    raw = _bytes(path, name)
    if isinstance(raw, Issue):
        doc.issues.append(raw)
        return doc
    text = _decode(raw, name, doc)
    if text is None:
        return doc
    return _finish(parse(text, name), name)


def _finish(doc: Document, name: str) -> Document:
    """A parsed file's document with the issues of its whole: no record, not a mapping, values, too many."""
    if not doc.issues and doc.data is None:
        doc.issues.append(Issue(name, 1, 1, "KD007", "", "The file holds no record."))
    elif not doc.issues and not isinstance(doc.data, dict):
        found = type(doc.data).__name__.replace("str", "text").replace("list", "a list")
        doc.issues.append(
            Issue(name, 1, 1, "KD006", "", f"Expected a mapping of field: value at the top level, found {found}.")
        )
    elif not doc.issues and not doc.clean:
        _check_values(doc, name)
    if len(doc.issues) >= MAX_ISSUES:  # the parser and the value checks stop there: say so
        last = max(doc.issues)
        message = f"Reading stopped after {MAX_ISSUES} issues; more may follow."
        doc.issues.append(Issue(name, last.line, last.col, "KD014", "", message))
    return doc


def _check_values(doc: Document, name: str) -> None:
    """Refuse every value no field can take: numbers beyond 64 bits, text against the character policy.

    One pass over every scalar of the document, whatever the field (URLs and package.yaml's strings
    included): what the file's text cannot show, an escape in a double-quoted text can still make.
    """
    stack: list[tuple[Loc, Any]] = [((), doc.data)]
    while stack and len(doc.issues) < MAX_ISSUES:
        loc, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((loc + (key,), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((loc + (i,), item) for i, item in reversed(list(enumerate(value))))
        elif type(value) is Unrepresentable:
            line, col = doc.pos.get(loc, (0, 0))
            shown = value if len(value) <= 24 else f"{value[:20]}... ({len(value)} characters)"
            low, high = INT_RANGE
            message = (
                f"The number {shown} cannot be stored: whole numbers run from {low} to {high}, and other "
                f"numbers need at most {MAX_FLOAT_CHARS} characters and a finite value. Put it in quotes if it is text."
            )
            doc.issues.append(Issue(name, line, col, "KD013", field_path(loc), message))
        elif isinstance(value, str):
            problem = chars.text_problem(value)
            if problem:
                line, col = doc.pos.get(loc, (0, 0))
                doc.issues.append(Issue(name, line, col, "KD108", field_path(loc), problem))


def capped(issues: list[Issue], name: str) -> list[Issue]:
    """The first ``MAX_ISSUES`` of one file's issues, and a last one saying how many more were left out."""
    if len(issues) <= MAX_ISSUES:
        return issues
    ordered = sorted(issues)
    first_left_out = ordered[MAX_ISSUES]
    more = len(ordered) - MAX_ISSUES
    counted = "1 more issue of this file was" if more == 1 else f"{more} more issues of this file were"
    message = f"{counted} left out, from here on (at most {MAX_ISSUES} are shown a file)."
    return [*ordered[:MAX_ISSUES], Issue(name, first_left_out.line, first_left_out.col, "KD014", "", message)]
