"""The values the validate cache gives back, each kept after a checksum of its bytes.

SQLite refuses a broken page, but a changed byte inside a stored value still reads as a value. Each value the
cache keeps as a blob (a file's result and its issues, the package file's issues, git's state, a folder's names and stats)
is marshalled after the CRC-32 of its bytes, and taken back only if they still match.
"""

from __future__ import annotations

import marshal
import zlib
from typing import Any


def sealed(value: Any) -> bytes:
    """``value`` marshalled, after the CRC-32 of those bytes."""
    data = marshal.dumps(value)
    return zlib.crc32(data).to_bytes(4, "little") + data


def unsealed(blob: bytes) -> Any:
    """The value ``sealed`` kept; ValueError (a damaged cache: ``incremental.DAMAGE``) if a byte of it changed."""
    data = blob[4:]
    if zlib.crc32(data).to_bytes(4, "little") != blob[:4]:
        raise ValueError("a value in the validate cache does not match its checksum")
    return marshal.loads(data)
