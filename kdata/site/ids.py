"""Ids in our own text as links: a note or description that names a record or topic by its id links to its page.

Only kdata's own prose passes through ``link_ids`` (notes, descriptions): the sources' words never do, and
neither do the quotations inside a note (text between double quotes, straight or curly), which are the
sources' words too. A token is linked only where it is a whole id (lowercase words joined by single
hyphens, bounded by neither a letter, a digit nor a hyphen) that names a page. The text is escaped
(markupsafe) piece by piece and the link's address passes the site's one URL policy (``safety.href``),
so no text can become markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from kdata.datapackage.safety import href

if TYPE_CHECKING:
    from markupsafe import Markup

#: A whole id in running text: not part of a longer word, a number or a hyphenated compound.
ID_TOKEN = re.compile(r"(?<![A-Za-z0-9-])[a-z0-9]+(?:-[a-z0-9]+)*(?![A-Za-z0-9]|-[A-Za-z0-9])")
#: A quotation inside our text: the sources' words, left as they are.
QUOTATION = re.compile(r'"[^"]*"|\u201c[^\u201d]*\u201d')


def link_ids(text: str, root: str, page_of: Callable[[str], str | None]) -> Markup:
    """``text`` as HTML with each id outside quotations linked to its page.

    Args:
        text: kdata's own prose (a note, a description).
        root: The way from the page to the site's top (``""`` or ``"../"``).
        page_of: An id -> the path of its page from the site's top, or None where it has none.
    """
    from markupsafe import Markup, escape

    out: list[str] = []

    def prose(part: str) -> None:
        at = 0
        for match in ID_TOKEN.finditer(part):
            path = page_of(match[0])
            if path is None:
                continue
            out.append(escape(part[at : match.start()]))
            out.append(Markup('<a class="id" href="{}">{}</a>').format(href(root + path), match[0]))
            at = match.end()
        out.append(escape(part[at:]))

    at = 0
    for quote in QUOTATION.finditer(text):
        prose(text[at : quote.start()])
        out.append(escape(quote[0]))
        at = quote.end()
    prose(text[at:])
    return Markup("").join(out)
