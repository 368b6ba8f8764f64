"""What text from a package may become: a line on a terminal, a link.

Two policies, each written once and used wherever package data leaves kdata:

- ``printable``: every string a command prints passes through it, so data can never send an
  escape sequence, move the cursor, reorder a line (bidi controls) or hide text (zero-width
  characters) on the reader's terminal;
- ``web_url``: every URL that becomes a link (in the descriptor, the site, a citation) must be an
  ``http`` or ``https`` URL; ``javascript:``, ``data:``, ``file:`` and every other scheme are refused.
"""

from __future__ import annotations

import re
import unicodedata

#: Unicode categories shown escaped on a terminal: controls (C0, DEL, C1), format characters
#: (bidi controls, zero-width space and joiners, soft hyphen), line and paragraph separators, surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
#: The schemes a link may have.
WEB_SCHEMES = ("http", "https")
_WEB_URL = re.compile(r"https?://[^\s/?#\\]+[^\s]*", re.IGNORECASE)
#: A scheme (``javascript:``) or a drive (``C:``) at the start of a URL.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
#: What a link whose URL the policy refuses points at instead: nowhere.
NOWHERE = "#"


def _escape(char: str) -> str:
    """``\\uXXXX`` (a surrogate pair beyond the BMP): valid in a JSON string too, so JSON output stays JSON."""
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe for a terminal: control, format and separator characters written as ``\\uXXXX``.

    A line break is escaped too, so one datum stays on one line; apply ``printable_lines`` to
    output whose lines kdata itself made. The function is idempotent.

    Args:
        text: Any text, possibly from the data.

    Returns:
        The text with every character of ``_HIDDEN`` categories escaped, e.g. U+202E as ``\\u202e``.
    """
    if text.isprintable():  # every escaped character is non-printable: the common case costs one scan
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _HIDDEN else c for c in text)


def printable_lines(text: str) -> str:
    """Output made of lines: each line made ``printable``, the line breaks between them kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


def web_url(text: object) -> str | None:
    """``text`` if it is an ``http`` or ``https`` URL with a host and no space or control character, else None.

    The one URL policy of kdata: the descriptor check refuses any other link, the site's
    templates link only through it, citations name only such URLs.
    """
    if not isinstance(text, str) or not _WEB_URL.fullmatch(text) or not text.isprintable():
        return None
    return text


def href(url: object) -> str:
    """The one URL policy of every link the site writes: ``url`` itself if it is an ``http(s)``
    URL (``web_url``) or a relative link inside the site (no scheme, not rooted, no backslash,
    no space or control character), else ``NOWHERE``.

    Jinja2's autoescaping keeps a URL from breaking out of its attribute, not ``javascript:`` or
    ``data:`` URLs from running: this does.
    """
    if web_url(url):
        return str(url)
    if not isinstance(url, str) or not url.isprintable() or any(c.isspace() for c in url):
        return NOWHERE
    if _SCHEME.match(url) or url.startswith(("/", "\\")) or "\\" in url:
        return NOWHERE
    return url
