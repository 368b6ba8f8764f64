"""The one exception family of kdata, and the Issue record every check reports.

Every kind of problem in a contributor's data has a stable code (``KD104``), a
short name (``unknown-field``) and a hint that says how to fix it. The table
``CODES`` is the single list of them; CONTRIBUTING.md documents it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import NamedTuple


class Code(NamedTuple):
    """One kind of data problem: stable code, short name, how to fix it and what it means."""

    code: str
    name: str
    hint: str
    meaning: str = ""


#: Every data problem kdata reports, by code. Codes are stable: never reuse one.
CODES: dict[str, Code] = {
    c.code: c
    for c in (
        # The file itself: encoding and YAML syntax (KD0xx).
        Code(
            "KD001",
            "yaml-syntax",
            "Fix the YAML syntax at this position.",
            "The file is not valid YAML; the parser stopped at this position.",
        ),
        Code("KD002", "not-utf8", "Save the file as UTF-8 text.", "The file's bytes are not UTF-8 text."),
        Code(
            "KD003",
            "duplicate-key",
            "Remove one of the two entries with this key.",
            "A mapping holds the same key twice; YAML would silently keep only one of them.",
        ),
        Code(
            "KD004",
            "anchor-or-alias",
            "Write the value out in full; anchors (&) and aliases (*) are not allowed.",
            "The file uses a YAML anchor (&) or alias (*).",
        ),
        Code(
            "KD005",
            "tag",
            "Remove the tag (!...); values are typed by the schema.",
            "A value carries a YAML tag such as !!str or !python/object.",
        ),
        Code(
            "KD006",
            "not-a-mapping",
            "A record file holds one mapping of field: value at the top level.",
            "The top level of the file is a list or a single value, not a record.",
        ),
        Code(
            "KD007",
            "empty-file",
            "Write the record's fields into the file, or delete it.",
            "The file holds no record: it is empty or holds only comments.",
        ),
        Code(
            "KD008",
            "file-too-large",
            "Split the text; a record file may not exceed the size limit.",
            "The file is larger than a record file may be.",
        ),
        Code(
            "KD009",
            "too-deep",
            "Flatten the structure; records nest only a few levels.",
            "Mappings and lists nest deeper than any record needs.",
        ),
        Code(
            "KD010",
            "control-character",
            "Remove the character the message names (shown as an escape, e.g. \\u200b); retype the text around it.",
            "The file holds a control character (NUL, DEL, C1), an invisible format or bidi control character, "
            "a Unicode line break editors may not show, a lone surrogate or a non-character.",
        ),
        Code(
            "KD011",
            "not-a-file",
            "Replace the symlink or special file with a regular file (or folder) inside raw/.",
            "A symlink, pipe, socket, device or folder stands where raw/, a table folder or a file belongs.",
        ),
        Code(
            "KD012",
            "unreadable-file",
            "Make the file readable (check its permissions), or run again if it was being moved.",
            "A file under raw/ could not be read: permission denied, or it vanished while raw/ was read.",
        ),
        Code(
            "KD013",
            "number-out-of-range",
            "Write a whole number within 64 bits, or put the value in quotes if it is text.",
            "An unquoted number no column can hold: a whole number beyond the signed 64-bit range, "
            "or a decimal number that overflows or is written with too many characters.",
        ),
        Code(
            "KD014",
            "too-many-issues",
            "Fix the issues shown, then validate again to see the rest.",
            "A file has more issues than are shown for one file; the rest were left out.",
        ),
        # One record against its model (KD1xx).
        Code(
            "KD101",
            "missing-field",
            "Add the required field.",
            "A required field is absent (or raw/package.yaml is missing).",
        ),
        Code(
            "KD102",
            "wrong-type",
            "Write a value of the expected type (numbers unquoted, text as text).",
            "A value has the wrong type: a quoted number, a number where text belongs, null in a required field.",
        ),
        Code(
            "KD103",
            "not-in-vocabulary",
            "Use one of the allowed values listed in the message.",
            "A value is not a term of its field's controlled vocabulary.",
        ),
        Code(
            "KD104",
            "unknown-field",
            "Remove the field or correct its name.",
            "The record has a field its table does not define, often a misspelling.",
        ),
        Code(
            "KD105",
            "invalid-date",
            "Write an EDTF date: YYYY, YYYY-MM, YYYY-MM-DD, optionally with ~ or ?, or an interval A/B.",
            "A date is not valid EDTF, or is impossible (month 13, 31 April, an interval that ends before it starts).",
        ),
        Code(
            "KD106",
            "invalid-value",
            "Correct the value so that it meets the stated rule.",
            "A value breaks a rule of its field: a pattern, a length, a minimum, a URL scheme.",
        ),
        Code(
            "KD107",
            "id-mismatch",
            "Make the id equal to the file name without .yaml (or rename the file).",
            "The record's id differs from its file name.",
        ),
        Code(
            "KD108",
            "invalid-text",
            "Remove control, bidi or zero-width characters, or normalise the text to NFC.",
            "A text is empty, has leading or trailing spaces or hidden characters, is not NFC, or starts like a spreadsheet formula.",
        ),
        Code(
            "KD109",
            "inconsistent-figure",
            "Make qualifier, value, low and high agree (see the figure rules).",
            "A figure's value, low and high do not fit its qualifier.",
        ),
        Code(
            "KD110",
            "claimant-mismatch",
            "Cite the claim's own claimant's words, or make the claimant the speaker the citations quote.",
            "A claim's citation names another claimant than the claim: its evidence must quote the claim's speaker.",
        ),
        Code(
            "KD111",
            "vague-date-unmarked",
            "Mark the date as its phrase hedges it: '?' for 'probably', '~' or an interval for 'about', the month or "
            "year for 'early April' (CONTRIBUTING.md, 'Vague time expressions').",
            "A date phrase hedges or approximates the date ('probably', 'about', 'early'), but the EDTF date does not "
            "show it.",
        ),
        Code(
            "KD112",
            "loaded-term",
            "Use neutral words in our own fields, or put the speaker's words in quotation marks (CONTRIBUTING.md, "
            "'Neutral wording').",
            "A field written in our own words (an id, title, description, summary, topic or note) uses a loaded term "
            "('occupation', 'liberation', 'genocide', …) outside quotation marks.",
        ),
        # Across records (KD2xx).
        Code(
            "KD201",
            "duplicate-id",
            "Give each record a unique id; ids are never reused.",
            "Two records of one table have the same id.",
        ),
        Code(
            "KD202",
            "dangling-reference",
            "Refer to an id that exists, or add the record it names.",
            "A field refers to an id that no record of the referenced table has.",
        ),
        Code(
            "KD203",
            "misplaced-file",
            "Keep only table folders in raw/ and only <id>.yaml files in them (in raw/sources/, also each record's "
            "archived text, a regular file <id>.txt).",
            "raw/ holds a file or folder that is not a table folder, package.yaml or an <id>.yaml record.",
        ),
        Code(
            "KD204",
            "reference-cycle",
            "Break the cycle: a parent may not be its own ancestor.",
            "Following parent links from a record leads back to that record.",
        ),
        Code(
            "KD205",
            "date-beyond-source",
            "End the date no later than the text gives: the source's year plus the span its phrase states; a time to "
            "come without an end runs from the statement and stays open ('2025-08-21/..') (CONTRIBUTING.md, 'Vague time expressions').",
            "A vague date ('in the near future', 'in seven months') ends in a year later than its citing source's "
            "publication year plus the span the phrase states: an end year the text does not give.",
        ),
        # Against the archived sources (KD3xx).
        Code(
            "KD206",
            "date-after-source",
            "Check the date against its sources: a claim is dated when it was made, an event that occurred when it "
            "began; both come before the report (CONTRIBUTING.md, 'Vague time expressions').",
            "A claim, or an event that occurred, starts after the publication of every source that reports it.",
        ),
        Code(
            "KD301",
            "quote-not-found",
            "Copy the quote verbatim from the archived source text.",
            "A quote is not in the archived text of its source (spaces, quote marks and dashes normalised).",
        ),
        Code(
            "KD302",
            "archive-missing",
            "Archive the document as raw/sources/<id>.txt beside its record, byte for byte.",
            "A source's archived text is missing: no raw/sources/<id>.txt beside the record (or, with --archive, "
            "no file of that folder has the sha256 the record gives).",
        ),
        Code(
            "KD303",
            "archive-mismatch",
            "Restore the archived text as it was archived, or, if the record names the wrong text, correct its sha256.",
            "A source's archived text has another sha256 than its record gives: the text was changed, or the record "
            "names another one.",
        ),
        Code(
            "KD304",
            "locator-mismatch",
            "Write 'paragraph N' with the paragraph the quote stands in (the message names it), counting blocks "
            "separated by blank lines.",
            "A citation's locator is not exactly 'paragraph N', or names another paragraph than the one its quote "
            "stands in.",
        ),
        Code(
            "KD305",
            "quote-span-too-long",
            "Quote a shorter passage, or cite the parts far apart in separate citations: an anchored span holds at "
            "most 2,000 code points.",
            'A quote\'s parts ("…" leaves words out) stand in the archived text, but from the first to the last they '
            "span more than 2,000 code points: the published anchor would carry more of the text than a quote may.",
        ),
        Code(
            "KD306",
            "archive-text-form",
            "Archive the document again with `kdata sources add` (UTF-8, NFC, LF line breaks, no BOM), or fix the "
            "file and its record's sha256.",
            "An archived text is not in the form every archived text has: Unicode NFC, LF line breaks only, no byte "
            "order mark, no control, invisible or bidi character (tab aside).",
        ),
        # A built package against the format that wrote it (KD4xx, ``kdata verify``).
        Code(
            "KD401",
            "package-format",
            "Rebuild the package with `kdata build`, or verify it with the kdata that wrote it.",
            "The descriptor names no format (every package after 0.1.0 does) or a format this kdata does not know.",
        ),
        Code(
            "KD402",
            "package-metadata",
            "Restore the package metadata as the build wrote it (raw/package.yaml: a licence, a contributor...).",
            "The descriptor's package metadata (licences, contributors, name, version, $schema) is not what the "
            "build writes.",
        ),
        Code(
            "KD403",
            "resource-metadata",
            "Rebuild the package; a resource's type, format, description and schema (categories included) come "
            "from the models.",
            "A resource's entry differs from what the kdata of its format writes for its table: a type other than "
            "table, a field's categories removed or changed, a description or constraint edited, a table missing.",
        ),
        Code(
            "KD404",
            "parquet-metadata",
            "Rebuild the package; each Parquet file carries the metadata the build writes.",
            "A Parquet file's schema metadata (field descriptions, package name, version and licence, pandas dtypes) "
            "differs from what the build writes for the descriptor's fields.",
        ),
        Code(
            "KD405",
            "stray-file",
            "Move the file out of the package folder (a package is its descriptor and the files it names).",
            "A file or folder in the package folder that the descriptor does not name (SHA256SUMS, kdata's marker "
            "and a checkout's releases/ aside): it would travel with the package without being part of it.",
        ),
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


#: The user information of a URL (``https://user:token@host``): everything between ``//`` and the
#: last ``@`` before the path, as ``urllib.parse.urlsplit`` reads it.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")
#: The query of a URL in a text (``?token=…`` of a signed link): up to a fragment or a space.
_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^?#\s]*)\?[^#\s]*")
#: What stands for the user information in a printed URL.
HIDDEN = "***"


def redact(text: str) -> str:
    """``text`` with the user name and password, and the query, of every URL in it replaced by ``***``.

    Credentials in a base URL (``https://user:token@host/releases/``, ``…?token=…``) are never printed:
    every message about a location goes through this (``KdataError`` applies it to its own message), and
    a message that shortens a URL redacts it first.
    """
    return _QUERY.sub(rf"\1?{HIDDEN}", _USERINFO.sub(rf"\1{HIDDEN}@", text))


class KdataError(Exception):
    """Root of every error kdata raises on purpose (user errors, not bugs).

    Its message never holds a URL's credentials (``redact``), whoever built it.
    """

    #: Exit status the command line uses for this error.
    exit_code = 1

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class UsageError(KdataError):
    """The caller asked for something that does not exist or cannot be done."""

    exit_code = 2


class DataError(KdataError):
    """The data did not pass validation; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues)
        n = len(self.issues)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} found in the data.")


class LockTimeout(KdataError):
    """Another kdata process held a folder's lock for longer than ``KDATA_LOCK_TIMEOUT`` seconds."""


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
