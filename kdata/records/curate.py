"""Curators' tools on the archive in raw/sources/: add a document, show a text, read the texts.

``add_source`` archives a document (:mod:`kdata.records.document` says how its text is made)
as ``raw/sources/<id>.txt`` and writes ``raw/sources/<id>.yaml`` holding its sha256 and only
what the document states about itself; the fields it does not state stay empty (required
ones) or commented out (optional ones) for the curator, as ``kdata new`` leaves them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from kdata import fs
from kdata.errors import UsageError
from kdata.records.anchors import Archived, form_problem
from kdata.records.document import Document, read_document
from kdata.records.texts import TEXT_LIMIT

#: The table of archived documents, and the suffixes of its two files.
SOURCES = "sources"
TEXT, RECORD = ".txt", ".yaml"
#: Longest default id, in characters (ids may have 100); cut at a hyphen.
DEFAULT_ID_LENGTH = 50
_SHA256_LINE = re.compile(r"^sha256:\s*['\"]?([0-9a-f]{64})", re.MULTILINE)
_NOT_ID = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Added:
    """What ``add_source`` wrote."""

    id: str
    record: Path
    text: Path
    sha256: str
    stated: tuple[str, ...]  # the fields filled from the document
    dropped: tuple[str, ...] = ()  # one note for each value the document states that was left out


def default_id(document: Document) -> str | None:
    """An id from the document's date (if stated) and title: ``2022-11-25-azerbaijan-marks-second``; None if no title."""
    words = _title(document)
    if not words:
        return None
    ascii_title = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    slug = _NOT_ID.sub("-", ascii_title.lower()).strip("-")
    date = document.stated.get("published", "")
    slug = "-".join(p for p in (date, slug) if p) or "source"
    while len(slug) > DEFAULT_ID_LENGTH and "-" in slug:
        slug = slug.rsplit("-", 1)[0]
    return slug[:DEFAULT_ID_LENGTH].strip("-")


def _scalar(value: str) -> str:
    """A YAML scalar that reads back as the string ``value`` (single-quoted)."""
    return "'" + value.replace("'", "''") + "'"


def _title(document: Document) -> str | None:
    """The title as a record may hold it: one line, no leading formula character, at most 2000 characters."""
    title = document.title
    if not title:
        return None
    return title if title[0] not in "=+-@" else None


def render_record(record_id: str, document: Document, sha256: str, origin: str) -> str:
    """The YAML of a source record: its id, sha256 and what the document states; every other field to fill."""
    from kdata.records.scaffold import render_values

    values = {"id": record_id, "sha256": sha256}
    title = _title(document)
    if title is not None:
        values["title"] = _scalar(title[:2000])
    values |= {key: _scalar(value) for key, value in sorted(document.stated.items())}
    header = [
        f"# Written by `kdata sources add {origin}`: the fields filled are what the document states about itself.",
        "# Check the title (the headline as printed, or a neutral description in [brackets]), fill the empty",
        "# fields, uncomment the optional ones the document states and delete the rest; then `kdata validate`.",
    ]
    return render_values(SOURCES, values, header)


def archived_by(folder: Path, sha256: str) -> Path | None:
    """The record of ``folder`` whose text, or whose ``sha256``, is ``sha256``; None if no record has it."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        try:
            if path.suffix == RECORD and sha256 in _SHA256_LINE.findall(path.read_text("utf-8", errors="replace")):
                return path
            if path.suffix == TEXT and fs.sha256_bytes(fs.read_regular(path, TEXT_LIMIT)) == sha256:
                return path.with_suffix(RECORD)
        except (OSError, fs.FileTooLarge):
            continue  # an unreadable file is validate's to report
    return None


def _sources_folder(raw: Path) -> Path:
    """raw/sources/, refused if raw/ is missing or either is a symlink or not a folder."""
    if not raw.is_dir():
        raise UsageError(f"No raw data folder at '{raw}'. Run kdata from the project root, or pass --raw.")
    folder = raw / SOURCES
    for path in (raw, folder):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            what = "a symlink" if path.is_symlink() else "not a folder"
            raise UsageError(f"'{path}' is {what}; kdata writes the archive only into real folders inside raw/.")
    return folder


def add_source(path: Path, raw: Path = Path("raw"), record_id: str | None = None, title: str | None = None) -> Added:
    """Archive the document at ``path`` as ``raw/sources/<id>.txt`` and write its record ``<id>.yaml``.

    Args:
        path: A ``.txt`` file or an ``.html`` page saved from a browser.
        raw: The raw/ folder.
        record_id: The new source's id; by default made from the document's date and title.
        title: The title to write, for a document that states none (a ``.txt``) or states another.

    Returns:
        The id, both paths, the sha256 and the fields filled from the document.

    Raises:
        UsageError: The document cannot be read, its text breaks the rule of archived texts (a control
            or hidden character), it is archived already (the message names its record), it has no title
            and no id is given, the id is invalid or taken, or a file cannot be written. Nothing is
            left half-written.
    """
    from kdata.records.scaffold import check_id

    folder = _sources_folder(raw)
    document = read_document(path)
    if title is not None:
        given = Document(document.text, title, document.stated)
        if given.title is None or _title(given) is None:  # the policy, or a spreadsheet formula's first character
            why = given.dropped[0].split(": ", 1)[1] if given.dropped else "it is empty."
            if given.title:
                why = f"it starts with '{given.title[0]}', which spreadsheets run as a formula."
            raise UsageError(f"--title is no title a record may hold: {why}")
        given.dropped[:0] = [note for note in document.dropped if not note.startswith("title ")]
        document = given
    wrong = form_problem(document.text)
    if wrong:
        raise UsageError(f"The text of {path} {wrong}; remove it from the document and add it again.")
    content = document.text.encode("utf-8")
    if len(content) > TEXT_LIMIT:
        raise UsageError(f"{path} holds {len(content)} bytes of text; an archived text may hold {TEXT_LIMIT}.")
    sha256 = fs.sha256_bytes(content)
    twin = archived_by(folder, sha256)
    if twin is not None:
        raise UsageError(f"{path} is archived already: {twin} has the same text (sha256 {sha256}). Cite that source.")
    record_id = record_id or default_id(document)
    if record_id is None:
        raise UsageError(
            f"{path} states no title to make an id from; pass --id (e.g. --id 2024-09-18-publisher-topic) or --title."
        )
    check_id(record_id)
    text_file, record_file = folder / f"{record_id}{TEXT}", folder / f"{record_id}{RECORD}"
    taken = [p for p in (record_file, text_file) if p.exists() or p.is_symlink()]
    if taken:
        raise UsageError(
            f"{taken[0]} already exists: the id '{record_id}' is taken, and ids are never reused. Pass another --id."
        )
    record = render_record(record_id, document, sha256, path.name)
    written: list[Path] = []
    try:
        folder.mkdir(exist_ok=True)
        for target, data in ((text_file, content), (record_file, record.encode("utf-8"))):
            fs.create_new(target, data)  # whole or not at all, never over a file
            written.append(target)
    except OSError as exc:
        for target in written:  # a command replaces only what it made: undo the half of a pair
            target.unlink(missing_ok=True)
        if isinstance(exc, FileExistsError):
            raise UsageError(f"{exc.filename} appeared while kdata wrote beside it; run the command again.") from None
        raise UsageError(f"{folder} cannot be written: {fs.write_error(exc)}.") from None
    stated = {*document.stated, *(["title"] if _title(document) and title is None else [])}
    return Added(record_id, record_file, text_file, sha256, tuple(sorted(stated)), tuple(document.dropped))


def archived_texts(raw: Path = Path("raw"), only: str | None = None) -> dict[str, Archived]:
    """The archived texts of raw/sources/ by source id (each ``<id>.txt`` beside an ``<id>.yaml``).

    Args:
        raw: The raw/ folder.
        only: One source id to read instead of all.

    Raises:
        UsageError: No raw/sources/ folder, or ``only`` is not an id or names no archived text.
    """
    from kdata.records.scaffold import check_id

    folder = raw / SOURCES
    if not folder.is_dir():
        raise UsageError(f"No archive at '{folder}'. Run kdata from the project root, or pass --raw.")
    if only is not None:
        check_id(only)  # an id names a file of the archive, never a path
    ids = (
        [only]
        if only is not None
        else sorted(p.stem for p in folder.glob(f"*{TEXT}") if p.with_suffix(RECORD).exists())
    )
    texts = {}
    for rid in ids:
        file = folder / f"{rid}{TEXT}"
        try:
            texts[rid] = Archived(fs.read_regular(file, TEXT_LIMIT).decode("utf-8", errors="replace"))
        except FileNotFoundError:
            if only is not None:
                known = ", ".join(sorted(p.stem for p in folder.glob(f"*{TEXT}"))) or "none"
                raise UsageError(f"No archived text {file} for the source '{rid}'. Archived: {known}.") from None
        except (OSError, fs.FileTooLarge) as exc:
            raise UsageError(f"{file} cannot be read: {exc}.") from None
    return texts


def numbered(archived: Archived) -> list[tuple[int, str]]:
    """Each paragraph of an archived text with its number (from 1), as ``kdata validate`` counts them."""
    return [(n, archived.text[start:end]) for n, (start, end) in enumerate(archived.paragraphs(), 1) if end > start]
