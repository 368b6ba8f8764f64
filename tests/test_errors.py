"""kdata.errors: stable error codes, the Issue record, and one exception family with its exit codes."""

from __future__ import annotations

import re

import pytest

from kdata import errors
from kdata.errors import CODES, Issue

#: The codes published so far and their names. Codes are stable: a code is never renumbered, renamed or
#: reused for another kind of problem. Add new codes here; never change a line.
PUBLISHED = {
    "KD001": "yaml-syntax",
    "KD002": "not-utf8",
    "KD003": "duplicate-key",
    "KD004": "anchor-or-alias",
    "KD005": "tag",
    "KD006": "not-a-mapping",
    "KD007": "empty-file",
    "KD008": "file-too-large",
    "KD009": "too-deep",
    "KD010": "control-character",
    "KD011": "not-a-file",
    "KD101": "missing-field",
    "KD102": "wrong-type",
    "KD103": "not-in-vocabulary",
    "KD104": "unknown-field",
    "KD105": "invalid-date",
    "KD106": "invalid-value",
    "KD107": "id-mismatch",
    "KD108": "invalid-text",
    "KD109": "inconsistent-figure",
    "KD201": "duplicate-id",
    "KD202": "dangling-reference",
    "KD203": "misplaced-file",
    "KD204": "reference-cycle",
    "KD301": "quote-not-found",
    "KD302": "archive-missing",
}


def test_published_codes_keep_their_names() -> None:
    assert {code: CODES[code].name for code in PUBLISHED if code in CODES} == PUBLISHED
    assert set(PUBLISHED) <= set(CODES), "a published code was removed"


def test_every_code_is_kdnnn_keyed_by_itself_with_a_unique_kebab_case_name() -> None:
    for key, code in CODES.items():
        assert re.fullmatch(r"KD[0-9]{3}", key) and code.code == key
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", code.name), code
    names = [code.name for code in CODES.values()]
    assert len(names) == len(set(names))


def test_codes_are_grouped_by_stage_in_order() -> None:
    """KD0xx the file, KD1xx one record, KD2xx across records, KD3xx the archived sources, KD4xx a built
    package against its format; listed in order."""
    assert list(CODES) == sorted(CODES)
    assert {key[2] for key in CODES} <= {"0", "1", "2", "3", "4"}


def test_every_code_says_how_to_fix_it_and_what_it_means_in_sentences() -> None:
    for code in CODES.values():
        for text in (code.hint, code.meaning):
            assert text[:1].isupper() or text.startswith("raw/"), code  # a sentence, or one that starts with a path
            assert text.endswith("."), code
            assert text == text.strip()


def test_an_issue_prints_as_file_line_col_code_name_field_and_message() -> None:
    issue = Issue("raw/figures/x.yaml", 5, 8, "KD102", "value", "Expected a whole number (unquoted), found '12'.")
    assert (issue.name, issue.hint) == ("wrong-type", CODES["KD102"].hint)
    assert (
        str(issue) == "raw/figures/x.yaml:5:8: KD102 wrong-type: value: Expected a whole number (unquoted), found '12'."
    )
    whole = Issue("raw/figures/x.yaml", 4, 1, "KD109", message="low (5) must be less than high (5).")
    assert str(whole) == "raw/figures/x.yaml:4:1: KD109 inconsistent-figure: low (5) must be less than high (5)."
    with pytest.raises(KeyError):
        _ = Issue("x.yaml", 1, 1, "KD999").name


def test_issues_sort_by_place_and_compare_without_their_message() -> None:
    issues = [
        Issue("raw/b.yaml", 1, 1, "KD101"),
        Issue("raw/a.yaml", 10, 1, "KD104"),
        Issue("raw/a.yaml", 2, 5, "KD102"),
        Issue("raw/a.yaml", 2, 3, "KD103"),
    ]
    assert [(i.file, i.line, i.col) for i in sorted(issues)] == [
        ("raw/a.yaml", 2, 3),
        ("raw/a.yaml", 2, 5),
        ("raw/a.yaml", 10, 1),
        ("raw/b.yaml", 1, 1),
    ]
    assert Issue("a", 1, 1, "KD101", "id", "one wording") == Issue("a", 1, 1, "KD101", "id", "another wording")


def test_every_error_is_a_kdata_error_with_its_exit_code() -> None:
    """Usage errors exit 2 (as click's own do); everything else kdata raises on purpose exits 1."""
    exit_codes = {
        errors.KdataError: 1,
        errors.UsageError: 2,
        errors.DataError: 1,
        errors.PackageError: 1,
        errors.BuildError: 1,
        errors.ReleaseError: 1,
        errors.DownloadError: 1,
        errors.IntegrityError: 1,
        errors.LockTimeout: 1,
    }
    found = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == errors.__name__
    }
    assert found == set(exit_codes)
    for cls, status in exit_codes.items():
        assert issubclass(cls, errors.KdataError) and cls.exit_code == status, cls


def test_a_data_error_holds_its_issues_sorted_and_counts_them() -> None:
    later, earlier = Issue("raw/b.yaml", 1, 1, "KD101"), Issue("raw/a.yaml", 3, 1, "KD104")
    error = errors.DataError([later, earlier])
    assert error.issues == [earlier, later]
    assert str(error) == "2 problems found in the data."
    assert str(errors.DataError([earlier])) == "1 problem found in the data."
