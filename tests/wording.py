"""Loaded terms that our own fields must not use outside quotation marks (editorial policy)."""

from __future__ import annotations

import re

#: Loaded or partisan terms that may appear only inside quotes (and verbatim terms).
LOADED = re.compile(
    r"occup|liberat|hydroterror|ethnic cleansing|capitulat|surrender|treach|betray|junta|martyr|aggress|genocide|"
    r"terror|barbar|victor|enemy|fake republic|separatis|heroi|glorious|sacred",
    re.IGNORECASE,
)
#: A quotation inside our own text: the source's words, attributed in the sentence around it.
QUOTED = re.compile(r'"[^"]*"')
