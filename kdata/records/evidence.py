"""Check every citation against the archived text of its source, kept beside the source's record.

The archive lives in the repository: the text of ``raw/sources/<id>.yaml`` is
``raw/sources/<id>.txt``, byte for byte as archived, and the record's ``sha256`` is
the sha256 of those bytes. ``verify_quotes`` reads each text, checks its sha256,
anchors every quote in it (:mod:`kdata.records.anchors`) and checks each
``paragraph N`` locator against the anchor. An outside folder of texts, found by
sha256 whatever their names, may stand in for the texts beside the records.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from kdata import fs
from kdata.errors import Issue, UsageError
from kdata.fs import sha256_bytes
from kdata.records import models
from kdata.records.anchors import ELLIPSIS, SPAN_LIMIT, Anchor, Archived, form_problem, locator_problem
from kdata.records.chars import visible
from kdata.records.listing import TEXT_SUFFIX, display, orphan_texts
from kdata.records.quotefind import nearest
from kdata.records.validate import RawData
from kdata.records.yamlio import MAX_ISSUES, Loc

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


#: Most code points of archived text a process keeps prepared for anchoring (``TextsBeside``), about 4 bytes each.
PREPARED_LIMIT = 16 << 20


class _Prepared:
    """Archived texts prepared for anchoring, most recently used first, keyed by their bytes.

    Shared by every chunk a process turns into rows, so a text cited all over the tree is prepared
    once per process, not once per chunk. Keyed by the bytes read, so a text that changed on disk is
    never served from an earlier preparation. Written by hand: ``functools.lru_cache`` bounds the
    number of entries, and a text's size (up to ``TEXT_LIMIT``) is what has to be bounded.
    """

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self.texts: OrderedDict[bytes, Archived] = OrderedDict()

    def get(self, raw: bytes) -> Archived:
        found = self.texts.get(raw)
        if found is not None:
            self.texts.move_to_end(raw)
            return found
        found = Archived(raw.decode("utf-8", errors="replace"))
        self.texts[raw] = found
        self.size += len(found.text)
        while self.size > self.limit and len(self.texts) > 1:
            self.size -= len(self.texts.popitem(last=False)[1].text)
        return found


_PREPARED = _Prepared(PREPARED_LIMIT)


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
            self._texts[source] = _PREPARED.get(raw) if raw is not None else None
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


def text_state(record_path: str, sha256: str) -> tuple[Archived | None, str, str]:
    """The archived text beside a source record ready for anchoring, or None with the code and sentence that say why."""
    raw, code, message = _checked_text(text_path(record_path), sha256)
    return _prepared(raw, code, message, display(text_path(record_path)))


def _prepared(raw: bytes | None, code: str, message: str, where: str) -> tuple[Archived | None, str, str]:
    """An archived text's bytes decoded and checked for their form (KD002, KD306), or the problem passed on."""
    if raw is None:
        return None, code, message
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "KD002", "The archived text is not UTF-8; archive the document as UTF-8 text."
    wrong = form_problem(text)
    if wrong:
        return None, "KD306", f"The archived text {where} {wrong}; its quotes are not checked until it is fixed."
    return Archived(text), "", ""


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
            text, code, message = _prepared(raw, code, message, f"of sha256 {result.sha256}")
        else:
            text, code, message = text_state(result.path, result.sha256)
        if text is not None:
            texts[rid] = text
            continue
        line, col = data.where(table, rid, ("sha256",))
        issues.append(Issue(result.name, line, col, code, "sha256", message))
    if index is None:
        issues.extend(orphan_texts(data.root))
    return texts, issues


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
    for (table, rid), result in sorted(data.results.items()):
        if result.quotes:
            where = partial(data.where, table, rid)
            anchored, problems = quote_issues(result.name, result.quotes, texts.get, where)
            found.update(((table, rid, i), anchor) for i, anchor in anchored.items())
            issues.extend(problems)
    return found, sorted(issues)


def quote_issues(
    name: str,
    quotes: Sequence[tuple[int, str, str, str | None]],
    text_of: Callable[[str], Archived | None],
    where: Callable[[Loc], tuple[int, int]],
) -> tuple[dict[int, Anchor], list[Issue]]:
    """Anchor the quotes of one record file (``name``) and check their locators.

    Args:
        name: The file as messages name it.
        quotes: (citation index, source id, quote, locator) of each citation.
        text_of: The prepared archived text of a source id, or None if it is missing or wrong (reported there).
        where: Line and column of a value of the record.

    Returns:
        The anchor of each citation found, by citation index, and the issues (KD301, KD304, KD305).
    """
    found: dict[int, Anchor] = {}
    issues: list[Issue] = []
    searched = 0  # quotes not found: the nearest passage is searched for the first few
    for i, source, quote, locator in quotes:
        text = text_of(source)
        if text is None:
            continue  # the source is missing, invalid or its text is: reported there
        anchor = text.anchor(quote)
        field = f"citations.{i}"
        if anchor is None:
            line, col = where(("citations", i, "quote"))
            wide = text.anchor(quote, limit=None)
            if wide is not None:
                message = (
                    f"The parts of the quote '{shorten(quote)}' stand in the archived text of source '{source}', "
                    f"but span {wide.end - wide.start} code points (paragraphs {wide.paragraph} to "
                    f"{text.paragraph(wide.end - 1)}); a quote leaving words out with {ELLIPSIS!r} may span {SPAN_LIMIT}."
                )
                issues.append(Issue(name, line, col, "KD305", f"{field}.quote", message))
                continue
            message = f"The quote '{shorten(quote)}' is not in the archived text of source '{source}'."
            if "..." in quote and "..." not in text.text:  # three full stops typed for the one character
                message += f" Leave words out with {ELLIPSIS!r} (U+2026), not '...'."
            searched += 1
            near = nearest(quote, source, text) if searched <= MAX_ISSUES else None
            if near is not None:
                message += f" Nearest passage (paragraph {near.paragraph}): '{shorten(near.quote, 100)}'."
            issues.append(Issue(name, line, col, "KD301", f"{field}.quote", message))
            continue
        found[i] = anchor
        problem = locator_problem(locator, anchor)
        if problem:
            line, col = where(("citations", i, "locator"))
            issues.append(Issue(name, line, col, "KD304", f"{field}.locator", problem))
    return found, issues


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
