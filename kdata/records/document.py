"""Read a document to archive: its text as it will be stored, and only what it states about itself.

A ``.txt`` file is stored as it is, with three changes only: its line breaks become ``\\n``
(CRLF and CR alike, so the sha256 does not depend on the system that saved it), a leading
UTF-8 byte order mark is dropped, and the text is put in Unicode NFC (an accent typed as a
letter and a combining mark becomes the one composed character). Its paragraphs are its own
blank-line separated blocks. A ``.txt`` states no title (its first line may be a dateline): the
title is the curator's to fill, or to give with ``--title``.

An ``.html`` page saved from a browser has its main text extracted by trafilatura (the
optional extra ``kalbajar-data[curate]``; imported only here): navigation, menus, footers and
comments are left out, and each block it returns (a heading, a paragraph, a list item) becomes
one paragraph, the paragraphs separated by one blank line, the text in NFC and ending with one
line break. The stated metadata come from the page's own markup, read with the standard library
(trafilatura's own metadata are not used: it guesses dates from the text and URLs from links):

========================  =========================================================
field                     taken from
========================  =========================================================
``title``                 the first ``<h1>``, else ``<title>``
``url``                   ``<link rel="canonical">``, else ``<meta property="og:url">`` (http or https only)
``published``             ``<meta property="article:published_time">``, ``<meta name="date">``,
                          ``<meta name="dc.date.issued">`` or ``<meta itemprop="datePublished">``:
                          its date part (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)
``author``                ``<meta name="author">``
``publisher``             ``<meta property="og:site_name">``
``language``              ``<html lang>``, its primary subtag (``en`` of ``en-US``)
========================  =========================================================

The ``saved from url`` comment a browser writes into a saved page is the browser's note, not
the document's: it is ignored, as is anything else not listed here. Each value goes through the
character policy of records (:mod:`kdata.records.chars`): it is put in NFC, and a value that
still holds a hidden or control character is left out, with a note saying so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from kdata.errors import UsageError
from kdata.records.chars import text_problem

#: Largest document read (a saved news page with its scripts can run to a few MB).
DOCUMENT_LIMIT = 32 << 20
#: Suffixes read as plain text and as HTML.
TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm", ".xhtml")

_DATE = re.compile(r"(\d{4})(-\d{2})?(-\d{2})?")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
#: (attribute, value) of a <meta> tag -> the field its content gives; earlier rows win.
_META: dict[tuple[str, str], str] = {
    ("property", "og:url"): "url",
    ("property", "article:published_time"): "published",
    ("name", "date"): "published",
    ("name", "dc.date.issued"): "published",
    ("itemprop", "datepublished"): "published",
    ("name", "author"): "author",
    ("property", "og:site_name"): "publisher",
}


@dataclass
class Document:
    """A document ready to archive: the text to store and the metadata it states (absent ones None)."""

    text: str
    title: str | None = None
    stated: dict[str, str] = field(default_factory=dict)  # url, published, author, publisher, language
    dropped: list[str] = field(default_factory=list)  # one note for each stated value left out, and why

    def __post_init__(self) -> None:
        """Put the text in NFC and the stated values through the character policy of records."""
        self.text = unicodedata.normalize("NFC", self.text)
        values = {"title": self.title or "", **self.stated}
        kept = {}
        for key, value in values.items():
            value = unicodedata.normalize("NFC", " ".join(value.split()))
            wrong = text_problem(value) if value else ""
            if wrong:
                self.dropped.append(f"{key} left out: it {wrong.removeprefix('The text ').split(';')[0]}.")
            elif value:
                kept[key] = value
        self.title = kept.pop("title", None)
        self.stated = kept


class _Markup(HTMLParser):
    """Collects the stated metadata of a page: the tags in the table above, first occurrence wins."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self._in: str | None = None  # "title" or "h1" while inside one
        self._texts: dict[str, list[str]] = {"title": [], "h1": []}
        self.title = self.h1 = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "html" and values.get("lang"):
            primary = values["lang"].split("-")[0].lower()
            if _LANGUAGE.fullmatch(primary):
                self.found.setdefault("language", primary)
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split() and values.get("href"):
            self.found.setdefault("canonical", values["href"])
        elif tag == "meta" and values.get("content"):
            for attribute in ("property", "name", "itemprop"):
                key = _META.get((attribute, values.get(attribute, "").lower()))
                if key:
                    self.found.setdefault(key, values["content"])
        elif tag in self._texts and not getattr(self, tag):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            setattr(self, tag, " ".join("".join(self._texts[tag]).split()))
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._texts[self._in].append(data)


def _stated(markup: _Markup) -> dict[str, str]:
    """The metadata a page states, each checked for the shape its field needs (others left out)."""
    found = dict(markup.found)
    url = found.pop("canonical", None) or found.get("url")
    found.pop("url", None)
    if url and re.match(r"https?://[^\s/]+", url):
        found["url"] = url
    date = _DATE.match(found.pop("published", ""))
    if date:
        found["published"] = "".join(g for g in date.groups() if g)
    return {key: " ".join(value.split()) for key, value in found.items() if value.strip()}


def _decode_html(raw: bytes, path: Path) -> str:
    """The text of a page: UTF-8, else the charset its <meta> declares."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(raw[:4096])
    try:
        return raw.decode(declared.group(1).decode("ascii") if declared else "utf-8")
    except (LookupError, UnicodeDecodeError):
        raise UsageError(
            f"{path} is neither UTF-8 nor in a charset its <meta> declares; save the page as UTF-8."
        ) from None


def _extract(html: str, path: Path) -> str:
    """The main text of a page, one paragraph per block, blank lines between them."""
    try:
        import trafilatura
    except ImportError:
        raise UsageError(
            "Reading an .html page needs trafilatura: pip install 'kalbajar-data[curate]', or `make curate` in a clone "
            "(or archive a .txt)."
        ) from None
    extracted = trafilatura.extract(html, output_format="txt", include_comments=False, include_tables=True)
    blocks = [" ".join(line.split()) for line in (extracted or "").splitlines()]
    blocks = [b for b in blocks if b]
    if not blocks:
        raise UsageError(f"{path} holds no main text that trafilatura could find; save the text as a .txt instead.")
    return "\n\n".join(blocks) + "\n"


def from_html(raw: bytes, path: Path) -> Document:
    """A saved page: its main text and the metadata its markup states."""
    html = _decode_html(raw, path)
    markup = _Markup()
    markup.feed(html)
    markup.close()
    return Document(_extract(html, path), markup.h1 or markup.title or None, _stated(markup))


def from_text(raw: bytes, path: Path) -> Document:
    """A plain text file: stored with \\n line breaks, no byte order mark, in NFC; it states nothing about itself."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    return Document(text.replace("\r\n", "\n").replace("\r", "\n"))


#: Suffix -> the reader of that kind of file.
READERS = {**dict.fromkeys(TEXT_SUFFIXES, from_text), **dict.fromkeys(HTML_SUFFIXES, from_html)}


def read_document(path: Path) -> Document:
    """Read the document at ``path`` (``.txt`` or ``.html``) as it will be archived.

    Raises:
        UsageError: Another suffix; not a regular readable file; not UTF-8 (text) or no charset (HTML);
            no text at all; trafilatura missing or finding no main text.
    """
    from kdata import fs

    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise UsageError(f"{path} is neither a .txt file nor an .html page; save the document as one of them.")
    try:
        raw = fs.read_regular(path, DOCUMENT_LIMIT)
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist.") from None
    except (OSError, fs.FileTooLarge) as exc:
        raise UsageError(f"{path} cannot be read: {exc}.") from None
    document = reader(raw, path)
    if not document.text.strip():
        raise UsageError(f"{path} holds no text to archive.")
    return document
