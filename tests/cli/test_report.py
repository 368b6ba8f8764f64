"""The exact output of ``kdata validate --format text|json|github`` on a fixed set of broken files.

``tests/data/formats/files`` is laid over a copy of the good project; each format's complete
output must equal the hand-checked file in ``tests/data/formats/expected``. The exact outputs come
from the real command in a subprocess; the other checks call the command in the test process.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, GOOD, run_kdata
from inprocess import run_kdata_here

from kdata.cli import main
from kdata.cli.report import github_annotation, text_line
from kdata.errors import Issue

FORMATS = DATA / "formats"
EXPECTED = FORMATS / "expected"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """The good project with the broken files of tests/data/formats laid over it."""
    project = tmp_path / "project"
    shutil.copytree(GOOD / "raw", project / "raw")
    shutil.copytree(FORMATS / "files", project, dirs_exist_ok=True)
    return project


def _expected(name: str) -> str:
    return (EXPECTED / name).read_text("utf-8")


@pytest.mark.parametrize(
    ("fmt", "stdout", "stderr"),
    [("text", "text.txt", None), ("json", "json.json", None), ("github", "github.txt", "github-stderr.txt")],
)
def test_exact_output(broken: Path, fmt: str, stdout: str, stderr: str | None) -> None:
    """Every issue of the run, sorted by file and line, then the count; nothing else."""
    result = run_kdata("validate", "raw", "--format", fmt, cwd=broken)
    assert result.returncode == 1, result.stderr
    assert result.stdout == _expected(stdout)
    assert result.stderr == (_expected(stderr) if stderr else "")


def test_text_is_the_default_and_plain_when_piped(broken: Path) -> None:
    """Without --format the output is the text format; piped, it holds no ANSI escapes."""
    result = run_kdata_here("validate", "raw", cwd=broken)
    assert result.stdout == _expected("text.txt")
    assert "\x1b[" not in result.stdout + result.stderr


def test_color_option_forces_ansi_when_piped(broken: Path) -> None:
    """--color colours the text even when piped; stripped of escapes it is the plain text."""
    result = run_kdata_here("validate", "raw", "--color", cwd=broken)
    assert "\x1b[1mraw/actors/test,wire.yaml:1:5\x1b[0m: \x1b[31mKD107 id-mismatch\x1b[0m" in result.stdout
    assert ANSI.sub("", result.stdout) == _expected("text.txt")


def test_terminal_colour_and_no_color(broken: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal (click's color=True) the text is coloured; --no-color turns it off."""
    monkeypatch.chdir(broken)
    runner = CliRunner()
    coloured = runner.invoke(main, ["validate", "raw"], color=True)
    assert coloured.exit_code == 1
    assert "\x1b[31mKD104 unknown-field\x1b[0m" in coloured.output
    plain = runner.invoke(main, ["validate", "raw", "--no-color"], color=True)
    assert "\x1b[" not in plain.output
    assert plain.output == _expected("text.txt")


def test_github_and_json_never_coloured(broken: Path) -> None:
    """Machine formats stay plain even with --color."""
    for fmt in ("json", "github"):
        result = run_kdata_here("validate", "raw", "--format", fmt, "--color", cwd=broken)
        assert "\x1b[" not in result.stdout


@pytest.mark.parametrize(
    ("fmt", "stdout"),
    [
        ("text", "raw is valid: 12 records in 6 tables, every quote found in its source's archived text.\n"),
        ("json", "[]\n"),
        ("github", "raw is valid: 12 records in 6 tables, every quote found in its source's archived text.\n"),
    ],
)
def test_valid_data(tmp_path: Path, fmt: str, stdout: str) -> None:
    """Valid data: exit 0, no annotation, an empty JSON list."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    result = run_kdata_here("validate", "raw", "--format", fmt, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, stdout, "")


def test_github_escaping() -> None:
    """GitHub's rules: data escapes %, CR and LF; properties also ':' and ','."""
    issue = Issue("raw/a:b,c%.yaml", 3, 0, "KD104", "x,y", "100% wrong:\r\nsee, here")
    assert github_annotation(issue) == (
        "::error file=raw/a%3Ab%2Cc%25.yaml,line=3,title=KD104 unknown-field (x%2Cy)"
        "::100%25 wrong:%0D%0Asee, here Remove the field or correct its name."
    )


def test_text_keeps_one_issue_a_line() -> None:
    """A line break inside a message is written as \\r or \\n in the text format."""
    issue = Issue("raw/events/x.yaml", 2, 7, "KD103", "kind", "found 'a\r\nb'.")
    line = ANSI.sub("", text_line(issue))
    assert line == (
        "raw/events/x.yaml:2:7: KD103 not-in-vocabulary: kind: found 'a\\r\\nb'. "
        "Use one of the allowed values listed in the message."
    )
