"""Check every citation against the archived text of its source, kept beside the source's record.

The archive lives in the repository: the text of ``raw/sources/<id>.yaml`` is
``raw/sources/<id>.txt``, byte for byte as archived, and the record's ``sha256`` is
the sha256 of those bytes. ``verify_quotes`` reads each text, checks its sha256,
anchors every quote in it (:mod:`kdata.records.anchors`) and checks each
``paragraph N`` locator against the anchor. An outside folder of texts, found by
sha256 whatever their names, may stand in for the texts beside the records.
"""

from __future__ import annotations

import os
from pathlib import Path

from kdata import fs
from kdata.errors import Issue, UsageError
from kdata.fs import sha256_bytes
from kdata.records import models
from kdata.records.anchors import ELLIPSIS, SPAN_LIMIT, Anchor, Archived, form_problem, locator_problem
from kdata.records.chars import visible
from kdata.records.listing import TEXT_SUFFIX, display
from kdata.records.quotefind import nearest
from kdata.records.validate import RawData
from kdata.records.yamlio import MAX_ISSUES

#: Largest archived text read (the archive's are 3 to 27 KB).
TEXT_LIMIT = 16 << 20
#: The table of archived documents.
SOURCES = models.table_of(models.Source)


def text_path(record_path: str) -> Path:
    """The archived text beside a source record: ``raw/sources/<id>.txt`` for ``raw/sources/<id>.yaml``."""
    return Path(record_path).with_suffix(TEXT_SUFFIX)


def _read_text(path: Path) -> tuple[bytes | None, str, str]:
    """The bytes of an archived text, or None with the code and sentence that say why not."""
    try:
        return fs.read_regular(path, TEXT_LIMIT), "", ""
    except fs.NotRegularFile:
        return (
            None,
            "KD011",
            f"The archived text {display(path)} must be a regular file, not a symlink, folder or special file.",
        )
    except FileNotFoundError:
        return None, "KD302", f"The archived text {display(path)} is missing; archive the document there."
    except (OSError, fs.FileTooLarge) as exc:
        return None, "KD012", f"The archived text {display(path)} cannot be read: {exc}."


def _checked_text(path: Path, sha256: str) -> tuple[bytes | None, str, str]:
    """The bytes of the archived text beside a record if their sha256 is the record's; else None, a code, why."""
    raw, code, message = _read_text(path)
    if raw is not None and sha256_bytes(raw) != sha256:
        actual = sha256_bytes(raw)
        return None, "KD303", f"The archived text {display(path)} has the sha256 {actual}; the record gives {sha256}."
    return raw, code, message


class TextsBeside:
    """The archived texts of a raw/sources/ folder by source id, each read once, for anchoring quotes.

    Used where records become rows (possibly in a worker process); sha256 and every quote not found
    are reported by ``verify_quotes``, which the build runs too, so a quote without an anchor never
    reaches a written package.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._texts: dict[str, Archived | None] = {}

    def anchor(self, source: str, quote: str) -> Anchor | None:
        """The anchor of ``quote`` in the text of ``source``, or None if either is missing."""
        if source not in self._texts:
            raw = _read_text(self.folder / f"{source}{TEXT_SUFFIX}")[0]
            self._texts[source] = Archived(raw.decode("utf-8", errors="replace")) if raw is not None else None
        text = self._texts[source]
        return text.anchor(quote) if text is not None else None


def archive_index(archive: Path) -> dict[str, bytes]:
    """Map sha256 -> bytes for every regular file of an outside archive folder."""
    if not archive.is_dir():
        raise UsageError(f"No archive folder at '{archive}'. Pass the folder of archived source texts.")
    index = {}
    for path in sorted(archive.iterdir()):
        if path.is_file() and not path.is_symlink():
            raw = path.read_bytes()
            index[sha256_bytes(raw)] = raw
    return index


def archived_texts(data: RawData, archive: Path | None = None) -> tuple[dict[str, Archived], list[Issue]]:
    """The archived text of every valid source record, by source id, and an issue for each one missing or wrong.

    Args:
        data: What ``load_raw`` read.
        archive: An outside folder of texts found by sha256; by default each text beside its record.

    Returns:
        The texts ready for anchoring, and the issues (KD302 missing, KD303 sha256 mismatch, KD203 a text
        with no record, KD002, KD011, KD012 an unreadable one).

    Raises:
        UsageError: ``archive`` is given and is not a folder.
    """
    index = archive_index(archive) if archive is not None else None
    texts: dict[str, Archived] = {}
    issues = []
    for (table, rid), result in sorted(data.results.items()):
        if table != SOURCES or result.sha256 is None:
            continue
        if index is not None:
            raw = index.get(result.sha256)
            code, message = ("", "") if raw else ("KD302", f"No file in {archive} has the sha256 {result.sha256}.")
        else:
            raw, code, message = _checked_text(text_path(result.path), result.sha256)
        if raw is not None:
            try:
                text = raw.decode("utf-8")
                wrong = form_problem(text)
                if not wrong:
                    texts[rid] = Archived(text)
                    continue
                where = display(text_path(result.path)) if index is None else f"of sha256 {result.sha256}"
                code, message = (
                    "KD306",
                    f"The archived text {where} {wrong}; its quotes are not checked until it is fixed.",
                )
            except UnicodeDecodeError:
                code, message = "KD002", "The archived text is not UTF-8; archive the document as UTF-8 text."
        line, col = data.where(table, rid, ("sha256",))
        issues.append(Issue(result.name, line, col, code, "sha256", message))
    if index is None:
        issues.extend(_orphans(data))
    return texts, issues


def _orphans(data: RawData) -> list[Issue]:
    """A KD203 issue for each archived text in raw/sources/ with no record file beside it."""
    folder = data.root / SOURCES
    if not folder.is_dir():
        return []
    names = set(os.listdir(folder))
    out = []
    for entry in sorted(names):
        stem, suffix = os.path.splitext(entry)
        regular = os.path.isfile(folder / entry) and not os.path.islink(folder / entry)
        if suffix == TEXT_SUFFIX and f"{stem}.yaml" not in names and not entry.startswith(".") and regular:
            message = (
                f"'{visible(entry)}' is the archived text of no source record; add {visible(stem)}.yaml beside it."
            )
            out.append(Issue(display(folder / entry), 0, 0, "KD203", "", message))
    return out


def anchors(data: RawData, archive: Path | None = None) -> tuple[dict[tuple[str, str, int], Anchor], list[Issue]]:
    """Anchor every quote in its archived text, and check its locator.

    Args:
        data: What ``load_raw`` read, with the quotes kept (``quotes=True``).
        archive: An outside folder of texts found by sha256; by default each text beside its record.

    Returns:
        The anchor of each citation by (table, record id, citation index), and every issue found, sorted:
        those of ``archived_texts``, KD301 for a quote not found and KD304 for a locator that contradicts its anchor.
    """
    texts, issues = archived_texts(data, archive)
    found: dict[tuple[str, str, int], Anchor] = {}
    searched: dict[str, int] = {}  # quotes not found, by file: the nearest passage is searched for the first few
    for (table, rid), result in sorted(data.results.items()):
        for i, source, quote, locator in result.quotes:
            text = texts.get(source)
            if text is None:
                continue  # the source is missing, invalid or its text is: reported there
            anchor = text.anchor(quote)
            field = f"citations.{i}"
            if anchor is None:
                line, col = data.where(table, rid, ("citations", i, "quote"))
                wide = text.anchor(quote, limit=None)
                if wide is not None:
                    message = (
                        f"The parts of the quote '{shorten(quote)}' stand in the archived text of source '{source}', "
                        f"but span {wide.end - wide.start} code points (paragraphs {wide.paragraph} to "
                        f"{text.paragraph(wide.end - 1)}); a quote leaving words out with {ELLIPSIS!r} may span {SPAN_LIMIT}."
                    )
                    issues.append(Issue(result.name, line, col, "KD305", f"{field}.quote", message))
                    continue
                message = f"The quote '{shorten(quote)}' is not in the archived text of source '{source}'."
                if "..." in quote and "..." not in text.text:  # three full stops typed for the one character
                    message += f" Leave words out with {ELLIPSIS!r} (U+2026), not '...'."
                searched[result.name] = searched.get(result.name, 0) + 1
                near = nearest(quote, source, text) if searched[result.name] <= MAX_ISSUES else None
                if near is not None:
                    message += f" Nearest passage (paragraph {near.paragraph}): '{shorten(near.quote, 100)}'."
                issues.append(Issue(result.name, line, col, "KD301", f"{field}.quote", message))
                continue
            found[(table, rid, i)] = anchor
            problem = locator_problem(locator, anchor)
            if problem:
                line, col = data.where(table, rid, ("citations", i, "locator"))
                issues.append(Issue(result.name, line, col, "KD304", f"{field}.locator", problem))
    return found, sorted(issues)


def shorten(text: str, limit: int = 70) -> str:
    """``text`` on one line for a message: whitespace as single spaces, hidden characters escaped, cut at a word."""
    shown = visible(" ".join(text.split()))
    if len(shown) <= limit:
        return shown
    cut = shown[: limit - 3]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut) + "..."


def verify_quotes(data: RawData, archive: Path | None = None) -> list[Issue]:
    """Every issue of the archived texts and of the quotes anchored in them (see ``anchors``), sorted."""
    return anchors(data, archive)[1]
