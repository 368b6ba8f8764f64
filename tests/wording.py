"""Loaded terms that our own fields must not use outside quotation marks (editorial policy).

The terms are kdata's own (``kdata.records.neutral.LOADED``, which validate enforces); the tests
read the site's pages and the published tables for them with the same list.
"""

from __future__ import annotations

import re

from kdata.records.neutral import LOADED as STEMS

LOADED = re.compile("|".join(re.escape(stem) for stem in STEMS), re.IGNORECASE)
#: A quotation inside our own text: the source's words, attributed in the sentence around it.
QUOTED = re.compile(r'"[^"]*"|“[^”]*”')
