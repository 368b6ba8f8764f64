"""Check every citation against the archived text of its source, kept beside the source's record.

The archive lives in the repository: the text of ``raw/sources/<id>.yaml`` is
``raw/sources/<id>.txt``, byte for byte as archived, and the record's ``sha256`` is
the sha256 of those bytes. ``verify_quotes`` reads each text, checks its sha256,
anchors every quote in it (:mod:`kdata.records.anchors`) and checks each
``paragraph N`` locator against the anchor. An outside folder of texts, found by
sha256 whatever their names, may stand in for the texts beside the records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from kdata.errors import Issue, UsageError
from kdata.fs import sha256_bytes
from kdata.records.anchors import ELLIPSIS, SPAN_LIMIT, Anchor, Archived, form_problem, locator_problem
from kdata.records.chars import visible
from kdata.records.listing import TEXT_SUFFIX, display, orphan_texts
from kdata.records.quotefind import nearest
from kdata.records.scan import FileResult, check_file
from kdata.records.texts import SOURCES, read_text
from kdata.records.validate import RawData
from kdata.records.yamlio import MAX_ISSUES, Loc


def text_path(record_path: str) -> Path:
    """The archived text beside a source record: ``raw/sources/<id>.txt`` for ``raw/sources/<id>.yaml``."""
    return Path(record_path).with_suffix(TEXT_SUFFIX)


def _checked_text(path: Path, sha256: str) -> tuple[bytes | None, str, str]:
    """The bytes of the archived text beside a record if their sha256 is the record's; else None, a code, why."""
    raw, code, message = read_text(path)
    if raw is not None and sha256_bytes(raw) != sha256:
        actual = sha256_bytes(raw)
        return None, "KD303", f"The archived text {display(path)} has the sha256 {actual}; the record gives {sha256}."
    return raw, code, message


def archive_index(archive: Path) -> dict[str, Path]:
    """Map sha256 -> file for every regular file of an outside archive folder."""
    if not archive.is_dir():
        raise UsageError(f"No archive folder at '{archive}'. Pass the folder of archived source texts.")
    index = {}
    for path in sorted(archive.iterdir()):
        if path.is_file() and not path.is_symlink():
            index[sha256_bytes(path.read_bytes())] = path
    return index


def text_checked(record_path: str, sha256: str) -> tuple[str | None, str, str]:
    """The archived text beside a source record, decoded and checked (not prepared), or None with the code and
    sentence that say why."""
    return _decoded(*_checked_text(text_path(record_path), sha256), display(text_path(record_path)))


def _decoded(raw: bytes | None, code: str, message: str, where: str) -> tuple[str | None, str, str]:
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
    return text, "", ""


def _source_text(
    result: FileResult, index: dict[str, Path] | None, archive: Path | None
) -> tuple[str | None, str, str]:
    """The archived text of a source record (beside it, or in ``index``), or None with the code and sentence why."""
    sha256 = result.sha256 or ""
    if index is None:
        return _decoded(*_checked_text(text_path(result.path), sha256), display(text_path(result.path)))
    found = index.get(sha256)
    raw = found.read_bytes() if found is not None else None
    code, message = ("", "") if raw else ("KD302", f"No file in {archive} has the sha256 {sha256}.")
    return _decoded(raw, code, message, f"of sha256 {sha256}")


def _text_issues(
    data: RawData, index: dict[str, Path] | None, archive: Path | None
) -> tuple[dict[str, str], list[Issue]]:
    """The sha256 of every valid source record's archived text, by source id, and an issue for each one missing or wrong.

    Texts are read one at a time and none is kept: only the quotes still to anchor need them again.
    """
    valid: dict[str, str] = {}
    issues = []
    for (table, rid), result in data.results.items_of(SOURCES):
        if result.sha256 is None:
            continue
        text, code, message = _source_text(result, index, archive)
        if text is not None:
            valid[rid] = result.sha256
            continue
        line, col = data.where(table, rid, ("sha256",))
        issues.append(Issue(result.name, line, col, code, "sha256", message))
    if index is None:
        issues.extend(orphan_texts(data.root))
    return valid, issues


#: A quote's verdict: (code, the citation's field it concerns, message), or None when it gives no issue.
Verdict = tuple[str, str, str] | None


def _verdict(text: Archived, source: str, quote: str, locator: str | None) -> tuple[Anchor | None, Verdict]:
    """Anchor a quote in its source's text and check its locator (KD301 without its nearest passage, KD304, KD305)."""
    anchor = text.anchor(quote)
    if anchor is None:
        wide = text.anchor(quote, limit=None)
        if wide is not None:
            message = (
                f"The parts of the quote '{shorten(quote)}' stand in the archived text of source '{source}', "
                f"but span {wide.end - wide.start} code points (paragraphs {wide.paragraph} to "
                f"{text.paragraph(wide.end - 1)}); a quote leaving words out with {ELLIPSIS!r} may span {SPAN_LIMIT}."
            )
            return None, ("KD305", "quote", message)
        message = f"The quote '{shorten(quote)}' is not in the archived text of source '{source}'."
        if "..." in quote and "..." not in text.text:  # three full stops typed for the one character
            message += f" Leave words out with {ELLIPSIS!r} (U+2026), not '...'."
        return None, ("KD301", "quote", message)
    problem = locator_problem(locator, anchor)
    return anchor, (("KD304", "locator", problem) if problem else None)


def _nearest_note(quote: str, source: str, text: Archived) -> str:
    """What a KD301 message adds: the nearest passage of the text, if there is one."""
    near = nearest(quote, source, text)
    return f" Nearest passage (paragraph {near.paragraph}): '{shorten(near.quote, 100)}'." if near is not None else ""


#: A quote to check: (citation index, source id, quote, locator).
Quote = tuple[int, str, str, str | None]


def verify_quotes(data: RawData, archive: Path | None = None) -> list[Issue]:
    """Anchor every quote in its archived text and check its locator; every issue found, sorted.

    Source by source: each text is read and prepared once, its quotes anchored, and dropped, so
    memory holds one text at a time, whatever the number of sources. The quotes workers settled
    (``load_raw(..., settle=True)``) are not anchored again where the text is the one they were
    anchored in. Reports exactly what ``quote_issues`` reports, file by file.

    Args:
        data: What ``load_raw`` read, with the quotes kept (``quotes=True``).
        archive: An outside folder of texts found by sha256; by default each text beside its record.

    Returns:
        KD302 missing, KD303 sha256 mismatch, KD203 a text with no record, KD002, KD011, KD012 an
        unreadable one, KD306 a text of the wrong form; KD301 a quote not found, KD305 one spread too
        wide and KD304 a locator that contradicts its anchor.

    Raises:
        UsageError: ``archive`` is given and is not a folder.
    """
    index = archive_index(archive) if archive is not None else None
    valid, issues = _text_issues(data, index, archive)
    stale = any(source in valid and shas != {valid[source]} for source, shas in data.settled.items())
    files: list[tuple[tuple[str, str], FileResult, Sequence[Quote]]] = []
    by_source: dict[str, list[tuple[int, int]]] = {}
    # Only a stale text sends the settled files back to be read; else the records kept whole hold every quote.
    for key, result in data.results.items() if stale else data.results.kept():
        quotes: Sequence[Quote] = result.quotes
        if stale and result.settled:  # anchored in other bytes than the source's text now: read them again
            quotes = check_file(result.table, result.path).quotes
        checked = [at for at, quote in enumerate(quotes) if quote[1] in valid]
        if checked:
            for at in checked:
                by_source.setdefault(quotes[at][1], []).append((len(files), at))
            files.append((key, result, quotes))
    verdicts: dict[tuple[int, int], Verdict] = {}
    for source, places in by_source.items():
        text = _load(data, source, index)
        for n, at in places:
            _, _, quote, locator = files[n][2][at]
            found = _verdict(text, source, quote, locator)[1] if text is not None else ("", "", "")
            if found is not None:
                verdicts[(n, at)] = found
    notes: dict[str, list[tuple[int, int]]] = {}  # source -> the KD301 of each file that name its nearest passage
    for f, (_, _, quotes) in enumerate(files):
        searched = 0
        for at, (_, source, _, _) in enumerate(quotes):
            verdict = verdicts.get((f, at))
            if verdict is not None and verdict[0] == "KD301":
                searched += 1
                if searched <= MAX_ISSUES:
                    notes.setdefault(source, []).append((f, at))
    for source, places in notes.items():
        text = _load(data, source, index)
        for f, at in places:
            code, part, message = verdicts[(f, at)]  # type: ignore[misc]
            if text is not None:
                verdicts[(f, at)] = (code, part, message + _nearest_note(files[f][2][at][2], source, text))
    for (f, at), verdict in verdicts.items():
        (table, rid), result, quotes = files[f]
        code, part, message = verdict  # type: ignore[misc]
        if code:
            i = quotes[at][0]
            line, col = data.where(table, rid, ("citations", i, part))
            issues.append(Issue(result.name, line, col, code, f"citations.{i}.{part}", message))
    return sorted(issues)


def _load(data: RawData, source: str, index: dict[str, Path] | None) -> Archived | None:
    """The text of a valid source record prepared for anchoring (None if it went wrong since it was checked)."""
    result = data.results[(SOURCES, source)]
    text = _source_text(result, index, None)[0]
    return Archived(text) if text is not None else None


def quote_issues(
    name: str,
    quotes: Sequence[Quote],
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
        anchor, verdict = _verdict(text, source, quote, locator)
        if anchor is not None:
            found[i] = anchor
        if verdict is None:
            continue
        code, part, message = verdict
        if code == "KD301":
            searched += 1
            if searched <= MAX_ISSUES:
                message += _nearest_note(quote, source, text)
        line, col = where(("citations", i, part))
        issues.append(Issue(name, line, col, code, f"citations.{i}.{part}", message))
    return found, issues


def shorten(text: str, limit: int = 70) -> str:
    """``text`` on one line for a message: whitespace as single spaces, hidden characters escaped, cut at a word."""
    shown = visible(" ".join(text.split()))
    if len(shown) <= limit:
        return shown
    cut = shown[: limit - 3]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut) + "..."
