"""A corpus of malformed contributions, each run through ``kdata validate``.

Every folder under ``tests/data/malformed/`` is one case, laid over a fresh copy of
``tests/data/good``, and validated twice (JSON, then text) by the command's own function in the
test process (``inprocess.run_kdata_here``); the first case of each category in
``categories.json`` has its first run (JSON) through the real ``kdata`` command in a subprocess
instead, so each kind of hostile input is also parsed by a whole process (exit status, no
traceback, no crash). The second run reads the validation cache the first one wrote, so a second
process would parse nothing new.
The files of a case:

- ``files/``: files that replace or join those of the good project (same relative paths);
- ``remove.txt`` (optional): paths to delete, one a line;
- ``move.txt`` (optional): ``path -> new path`` lines, renamed before the symlinks are made;
- ``symlink.txt`` (optional): ``link -> target`` lines; each link is created at run time,
  ``target`` written into it verbatim (git holds symlinks poorly);
- ``special.txt`` (optional): ``path -> fifo``, ``socket`` or ``folder`` lines: a named pipe, a
  Unix socket or an empty folder made at that path at run time (git holds none of them);
- ``args.txt`` (optional): extra command-line arguments, one a line;
- ``timeout.txt`` (optional): seconds each run may take (the default is generous);
- ``expected.json``: every issue expected, as ``file``, ``line``, ``column``, ``code`` and
  ``field``, in kdata's order;
- ``message.txt`` (optional): substrings the text output must contain, one a line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, GOOD, run_kdata
from inprocess import run_kdata_here

from kdata.records import issues, models

MALFORMED = DATA / "malformed"
CASES = sorted(p for p in MALFORMED.iterdir() if p.is_dir())
KEYS = ("file", "line", "column", "code", "field")
CATEGORIES: dict[str, list[str]] = json.loads((MALFORMED / "categories.json").read_text("utf-8"))
#: The cases run by the real ``kdata`` command in a subprocess: the first of each category.
REAL_CLI = {names[0] for names in CATEGORIES.values()}


def _lines(path: Path) -> list[str]:
    """The non-empty lines of an optional case file (none if it does not exist)."""
    if not path.is_file():
        return []
    return [line for line in path.read_text("utf-8").splitlines() if line.strip()]


def _expected(case: Path) -> list[dict[str, Any]]:
    """The issues a case expects, reduced to the compared keys."""
    rows = json.loads((case / "expected.json").read_text("utf-8"))
    return [{key: row[key] for key in KEYS} for row in rows]


def _project(case: Path, tmp_path: Path) -> Path:
    """A copy of the good project with the case's files, removals and symlinks applied."""
    project = tmp_path / "project"
    shutil.copytree(GOOD, project, symlinks=True)
    if (case / "files").is_dir():
        shutil.copytree(case / "files", project, dirs_exist_ok=True)
    for rel in _lines(case / "remove.txt"):
        (project / rel).unlink()
    for line in _lines(case / "move.txt"):
        source, destination = (part.strip() for part in line.split("->"))
        (project / source).rename(project / destination)
    for line in _lines(case / "symlink.txt"):
        link, target = (part.strip() for part in line.split("->"))
        os.symlink(target, project / link)
    for line in _lines(case / "special.txt"):
        path, kind = (part.strip() for part in line.split("->"))
        if kind != "folder" and not hasattr(os, "mkfifo"):
            pytest.skip("named pipes and Unix sockets are POSIX only")
        SPECIAL[kind](project / path)
    return project


def _socket(path: Path) -> None:
    """A Unix socket file at ``path``, bound by its short relative name (socket paths are short)."""
    import socket

    here = os.getcwd()
    os.chdir(path.parent)
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(path.name)  # the socket file stays after the socket is closed
    finally:
        os.chdir(here)


#: How each kind of special file of ``special.txt`` is made.
SPECIAL: dict[str, Any] = {"fifo": getattr(os, "mkfifo", None), "socket": _socket, "folder": Path.mkdir}


def _validate(case: Path, project: Path, *args: str, real: bool = False) -> subprocess.CompletedProcess[str]:
    """``kdata validate raw ARGS`` in ``project``: a real process if ``real`` and the case is in REAL_CLI, else in this one."""
    timeout = float(_lines(case / "timeout.txt")[0]) if (case / "timeout.txt").is_file() else 120.0
    start = time.monotonic()
    if real and case.name in REAL_CLI:
        result = run_kdata("validate", "raw", *args, cwd=project, timeout=timeout)
    else:
        result = run_kdata_here("validate", "raw", *args, cwd=project)
    assert time.monotonic() - start < timeout, f"the run took longer than {timeout} s"
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_case(case: Path, tmp_path: Path) -> None:
    """The case fails validation with exactly the expected issues, in JSON and text."""
    project = _project(case, tmp_path)
    args = _lines(case / "args.txt")
    expected = _expected(case)

    result = _validate(case, project, *args, "--format", "json", real=True)  # the first run parses the case
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    found = [{key: row[key] for key in KEYS} for row in json.loads(result.stdout)]
    assert found == expected

    text = _validate(case, project, *args)
    assert "Traceback" not in text.stdout + text.stderr, text.stderr
    assert text.returncode == 1, text.stdout + text.stderr
    for row in expected:
        assert f"{row['file']}:{row['line']}:{row['column']}" in text.stdout
    for message in _lines(case / "message.txt"):
        assert message in text.stdout


#: Cases where PyYAML's Python parser and libyaml disagree on the YAML itself: the same file and code, another place.
PARSERS_DIFFER = {
    "bom-with-crlf-and-tab": "the Python parser refuses the tab after 'note:' (line 4) that libyaml accepts",
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_case_without_libyaml(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML built without libyaml (no ``CSafeLoader``): the same issues, from PyYAML's own parser, in this process."""
    import yaml

    from kdata.records import yamlio

    monkeypatch.setattr(yamlio, "_LOADER", yaml.SafeLoader)  # what yamlio picks where CSafeLoader is missing
    monkeypatch.setattr(yamlio, "_LIBYAML", False)
    monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "cache"))  # no result cached by the libyaml runs
    project = _project(case, tmp_path)
    result = run_kdata_here("validate", "raw", *_lines(case / "args.txt"), "--format", "json", cwd=project)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    found = [{key: row[key] for key in KEYS} for row in json.loads(result.stdout)]
    if case.name in PARSERS_DIFFER:
        where = ("file", "code", "field")
        found, expected = ([{k: row[k] for k in where} for row in rows] for rows in (found, _expected(case)))
        assert found == expected, PARSERS_DIFFER[case.name]
    else:
        assert found == _expected(case)


def test_corpus_is_broad() -> None:
    """The corpus holds at least 30 cases covering at least 15 distinct codes."""
    assert len(CASES) >= 30
    codes = {row["code"] for case in CASES for row in _expected(case)}
    assert len(codes) >= 15, sorted(codes)
    assert all(_expected(case) for case in CASES), "every case expects at least one issue"


def test_every_category_has_three_cases() -> None:
    """categories.json sorts every case into a kind of hostile input; each kind has at least three cases."""
    listed = [name for names in CATEGORIES.values() for name in names]
    assert sorted(listed) == sorted(c.name for c in CASES), "every case is in exactly one category"
    assert len(CATEGORIES) >= 20
    assert {name: len(names) for name, names in CATEGORIES.items() if len(names) < 3} == {}
    assert len(REAL_CLI) == len(CATEGORIES)  # one real process per category


def _patterns(schema: Any) -> list[str]:
    """Every ``pattern`` of a JSON Schema."""
    if isinstance(schema, dict):
        found = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
        return found + [p for value in schema.values() for p in _patterns(value)]
    if isinstance(schema, list):
        return [p for value in schema for p in _patterns(value)]
    return []


def test_every_pattern_of_the_models_is_worded_by_kdata() -> None:
    """A value that misses a pattern is explained in words, never by pydantic's regular expression."""
    models_ = [*models.RECORD_TABLES.values(), models.PackageInfo]
    patterns = {p for model in models_ for p in _patterns(model.model_json_schema())}
    assert patterns and patterns <= set(issues._PATTERNS), patterns - set(issues._PATTERNS)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """A record saved with a UTF-8 byte-order mark is valid, as without it."""
    project = tmp_path / "project"
    shutil.copytree(GOOD, project)
    record = project / "raw" / "events" / "riverton-return-2020.yaml"
    record.write_bytes(b"\xef\xbb\xbf" + record.read_bytes())
    result = run_kdata_here("validate", "raw", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout


#: The categories of hostile input that once passed validation or crashed it, and so could reach the build.
BUILD_CATEGORIES = ("special-files", "symlinks", "numbers-out-of-range", "character-policy-everywhere", "issue-limit")
BUILD_CASES = [MALFORMED / name for category in BUILD_CATEGORIES for name in CATEGORIES[category]]


@pytest.mark.parametrize("case", BUILD_CASES, ids=[c.name for c in BUILD_CASES])
def test_malformed_case_fails_the_build_with_the_same_issues(case: Path, tmp_path: Path) -> None:
    """``kdata build`` refuses the case with the issues ``kdata validate`` reports: exit 1, no traceback, no dist/."""
    project = _project(case, tmp_path)
    result = run_kdata_here("build", cwd=project, env={"KDATA_CACHE_DIR": str(tmp_path / "cache")})
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    for row in _expected(case):
        assert f"{row['file']}:{row['line']}:{row['column']}: {row['code']}" in result.stdout + result.stderr
    assert not (project / "dist").exists()
