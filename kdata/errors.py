"""The one exception family of kdata, and the Issue record every check reports.

Every kind of problem in a contributor's data has a stable code (``KD104``), a
short name (``unknown-field``) and a hint that says how to fix it. The table
``CODES`` is the single list of them; CONTRIBUTING.md documents it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple


class Code(NamedTuple):
    """One kind of data problem: stable code, short name and how to fix it."""

    code: str
    name: str
    hint: str


#: Every data problem kdata reports, by code. Codes are stable: never reuse one.
CODES: dict[str, Code] = {
    c.code: c
    for c in (
        # The file itself: encoding and YAML syntax (KD0xx).
        Code("KD001", "yaml-syntax", "Fix the YAML syntax at this position."),
        Code("KD002", "not-utf8", "Save the file as UTF-8 text."),
        Code("KD003", "duplicate-key", "Remove one of the two entries with this key."),
        Code("KD004", "anchor-or-alias", "Write the value out in full; anchors (&) and aliases (*) are not allowed."),
        Code("KD005", "tag", "Remove the tag (!...); values are typed by the schema."),
        Code("KD006", "not-a-mapping", "A record file holds one mapping of field: value at the top level."),
        Code("KD007", "empty-file", "Write the record's fields into the file, or delete it."),
        Code("KD008", "file-too-large", "Split the text; a record file may not exceed the size limit."),
        Code("KD009", "too-deep", "Flatten the structure; records nest only a few levels."),
        Code("KD010", "control-character", "Remove NUL and other control characters from the file."),
        Code("KD011", "not-a-file", "Replace the symlink or special file with a regular file inside raw/."),
        # One record against its model (KD1xx).
        Code("KD101", "missing-field", "Add the required field."),
        Code("KD102", "wrong-type", "Write a value of the expected type (numbers unquoted, text as text)."),
        Code("KD103", "not-in-vocabulary", "Use one of the allowed values listed in the message."),
        Code("KD104", "unknown-field", "Remove the field or correct its name."),
        Code(
            "KD105",
            "invalid-date",
            "Write an EDTF date: YYYY, YYYY-MM, YYYY-MM-DD, optionally with ~ or ?, or an interval A/B.",
        ),
        Code("KD106", "invalid-value", "Correct the value so that it meets the stated rule."),
        Code("KD107", "id-mismatch", "Make the id equal to the file name without .yaml (or rename the file)."),
        Code("KD108", "invalid-text", "Remove control, bidi or zero-width characters, or normalise the text to NFC."),
        Code("KD109", "inconsistent-figure", "Make qualifier, value, low and high agree (see the figure rules)."),
        # Across records (KD2xx).
        Code("KD201", "duplicate-id", "Give each record a unique id; ids are never reused."),
        Code("KD202", "dangling-reference", "Refer to an id that exists, or add the record it names."),
        Code("KD203", "misplaced-file", "Keep only table folders in raw/, and only <id>.yaml files in them."),
        Code("KD204", "reference-cycle", "Break the cycle: a parent may not be its own ancestor."),
        # Against the archived sources (KD3xx).
        Code("KD301", "quote-not-found", "Copy the quote verbatim from the archived source text."),
        Code("KD302", "archive-missing", "Archive the source text, or correct the source's sha256."),
    )
}


@dataclass(frozen=True, order=True)
class Issue:
    """One problem found in the data, located as precisely as the input allows.

    Args:
        file: Path of the file, relative to the project root where possible.
        line: 1-based line of the offending value (0 when the file has none).
        col: 1-based column of the offending value (0 when unknown).
        code: A key of ``CODES``.
        field: Dotted field path inside the record (``citations.0.quote``), or "".
        message: A full sentence: what was expected, what was found.
    """

    file: str
    line: int
    col: int
    code: str
    field: str = ""
    message: str = dataclasses.field(default="", compare=False)

    @property
    def name(self) -> str:
        """The short name of the issue's code (``unknown-field``)."""
        return CODES[self.code].name

    @property
    def hint(self) -> str:
        """How to fix this kind of issue."""
        return CODES[self.code].hint

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        what = f" {self.field}:" if self.field else ""
        return f"{where}: {self.code} {self.name}:{what} {self.message}"


class KdataError(Exception):
    """Root of every error kdata raises on purpose (user errors, not bugs)."""

    #: Exit status the command line uses for this error.
    exit_code = 1


class UsageError(KdataError):
    """The caller asked for something that does not exist or cannot be done."""

    exit_code = 2


class DataError(KdataError):
    """The data did not pass validation; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues)
        n = len(self.issues)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found in the data.")


class PackageError(KdataError):
    """A built data package is missing, stale or does not match its descriptor."""


class BuildError(KdataError):
    """The build could not write its output (permissions, disk full, ...)."""


class ReleaseError(KdataError):
    """A release cannot be made or checked: no changelog entry, too small a version bump, ..."""


class DownloadError(KdataError):
    """A released version could not be fetched: no base URL, offline, server down, unknown file."""


class IntegrityError(KdataError):
    """A downloaded or cached file does not match the registry (tampered, truncated or unsafe)."""
