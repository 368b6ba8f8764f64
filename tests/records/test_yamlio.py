"""Strict YAML reading: YAML 1.2 core typing only, and a fast path identical to the strict one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import DATA, REPO

from kdata.records import yamlio

#: Plain scalars and what they become (YAML 1.1 traps stay text).
TYPED = {
    "no": "no",
    "on": "on",
    "NO": "NO",
    "yes": "yes",
    "1:20": "1:20",
    "0755": "0755",
    "010": "010",
    "1993-04-02": "1993-04-02",
    "true": True,
    "false": False,
    "~": None,
    "null": None,
    "12": 12,
    "-3": -3,
    "1.5": 1.5,
    "1e3": 1000.0,
}

EDGE_CASES = [
    "true: 1\n",
    "null: 2\n",
    "no: 4\n",
    "a:\n  b:\n    c: [1]\n",
    "a: 1\n---\nb: 2\n",
    "? [a]\n: 1\n",
    "a: 'x'\n'a': 2\n",
    "a: |\n  x\n  y\nb: >\n  z\n",
    "x: 1\nx: 2\n",
    "a:\n" + "".join("  " * i + "- \n" for i in range(1, 30)),
    "a: b: c\n",
    "- 1\n- 2\n",
    "just text\n",
    "",
    "# only a comment\n",
    'a: "\\t"\n',
    "a: &x 1\nb: *x\n",
    "a: !!str 5\n",
]


@pytest.mark.parametrize(("text", "value"), TYPED.items())
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    """Only null, booleans and decimal numbers are typed; everything else is text."""
    doc = yamlio.parse(f"v: {text}\n", "t.yaml")
    assert doc.issues == []
    assert doc.data["v"] == value and type(doc.data["v"]) is type(value)


def test_quoted_scalars_stay_text() -> None:
    """A quoted number is text, so strict models refuse it where a count is wanted."""
    assert yamlio.parse('v: "12"\n', "t.yaml").data == {"v": "12"}


def _corpus() -> list[Path]:
    return sorted([*REPO.glob("raw/**/*.yaml"), *DATA.glob("**/*.yaml"), *DATA.glob("**/*.yml")])


def test_fast_path_equals_the_event_path_on_every_file() -> None:
    """Every YAML file of the project and the malformed corpus parses identically both ways."""
    compared = 0
    for path in _corpus():
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        fast, strict = yamlio.parse(text, "x"), yamlio.parse_events(text, "x")
        assert (fast.data, fast.pos, fast.keypos, fast.issues) == (
            strict.data,
            strict.pos,
            strict.keypos,
            strict.issues,
        ), path
        compared += 1
    assert compared > 300


@pytest.mark.parametrize("text", EDGE_CASES)
def test_fast_path_equals_the_event_path_on_edge_cases(text: str) -> None:
    """Odd keys, several documents, nesting, anchors and tags: both paths agree."""
    fast, strict = yamlio.parse(text, "x"), yamlio.parse_events(text, "x")
    assert (fast.data, fast.pos, fast.keypos, fast.issues) == (strict.data, strict.pos, strict.keypos, strict.issues)


def test_positions_point_at_values_and_keys() -> None:
    """Line and column are 1-based and point at the value; keys are kept apart."""
    doc = yamlio.parse("id: a\ncitations:\n  - quote: hello\n", "t.yaml")
    assert doc.pos[("id",)] == (1, 5)
    assert doc.pos[("citations", 0, "quote")] == (3, 12)
    assert doc.keypos[("citations", 0, "quote")] == (3, 5)


#: Nested collections ``depth`` levels deep (the top mapping counts as one), in each shape YAML has.
SHAPES = {
    "block mappings": lambda depth: (
        "".join(f"{'  ' * i}k{i}:\n" for i in range(depth - 1)) + "  " * (depth - 1) + "k: x\n"
    ),
    "block sequences": lambda depth: (
        "a:\n" + "".join(f"{'  ' * i}-\n" for i in range(1, depth - 1)) + "  " * (depth - 1) + "- x\n"
    ),
    "compact sequences": lambda depth: "a:\n" + "- " * (depth - 1) + "x\n",
    "flow sequences": lambda depth: "a: " + "[" * (depth - 1) + "x" + "]" * (depth - 1) + "\n",
    "flow mappings": lambda depth: "a: " + "{b: " * (depth - 1) + "x" + "}" * (depth - 1) + "\n",
}
BLOCK = ("block mappings", "block sequences", "compact sequences")


@pytest.mark.parametrize("shape", SHAPES)
def test_both_paths_enforce_the_depth_limit_identically(shape: str) -> None:
    """MAX_DEPTH levels are accepted and one more is refused, with the same Document on both paths."""
    ok, deep = SHAPES[shape](yamlio.MAX_DEPTH), SHAPES[shape](yamlio.MAX_DEPTH + 1)
    fast, strict = yamlio.parse(ok, "x"), yamlio.parse_events(ok, "x")
    assert fast.issues == [] and (fast.data, fast.pos, fast.keypos) == (strict.data, strict.pos, strict.keypos)
    fast, strict = yamlio.parse(deep, "x"), yamlio.parse_events(deep, "x")
    assert [issue.code for issue in fast.issues] == ["KD009"] and fast.issues == strict.issues
    assert f"more than {yamlio.MAX_DEPTH} levels" in fast.issues[0].message
    if shape in BLOCK:  # the fast path itself: it composes the limit's depth and hands deeper files on
        assert yamlio._compose(ok).data == yamlio.parse_events(ok, "x").data
        with pytest.raises(yamlio._Fallback):
            yamlio._compose(deep)


@pytest.mark.parametrize(
    ("shape", "depth"),
    [("flow sequences", 5000), ("flow mappings", 5000), ("compact sequences", 100_000), ("block mappings", 300)],
)
def test_nesting_beyond_libyaml_limit_is_kdatas_issue(shape: str, depth: int) -> None:
    """Far past libyaml's own limit (1000 levels in newer libyaml, none in older), kdata's KD009 at the same place.

    A one-line '- - - ...' 100,000 levels deep overflowed the C stack of PyYAML 6.0.1's composer
    (the fast path); it must take the event path, whatever libyaml does.
    """
    text = SHAPES[shape](depth)
    assert yamlio.parse(text, "x").issues == yamlio.parse(SHAPES[shape](yamlio.MAX_DEPTH + 1), "x").issues
    assert yamlio.parse_events(text, "x").issues == yamlio.parse(text, "x").issues


def test_record_files_take_the_fast_path() -> None:
    """The guard against deep block nesting lets every real record file through to the C composer."""
    paths = sorted(REPO.glob("raw/**/*.yaml"))
    assert paths and not any(yamlio._long_lead(p.read_text("utf-8")) for p in paths)
    assert yamlio._long_lead("a:\n" + "- " * 200 + "x\n") and yamlio._long_lead("a:\r" + " " * 300 + "b: 1\r")


#: A text that makes libyaml report each problem kdata rewords.
PROBLEMS = {
    "mapping values are not allowed in this context": "a: b: c\n",
    "found a tab character that violates indentation": "a:\n  b: x\n\tc: y\n",
    "found a tab character where an indentation space is expected": "a: |\n  x\n\ty\n",
    "found character that cannot start any token": "a: @x\n",
    "found unexpected end of stream": 'a: "x\n',
    "did not find expected '-' indicator": "a:\n  - b: 1\n   c: 2\n",
    "did not find expected key": "a:\n  b: 1\n c: 2\n",
    "could not find expected ':'": "a: 1\nb\n",
    "block sequence entries are not allowed in this context": "a: - b\n",
    "did not find expected ',' or ']'": "a: [x, y\nb: 1\n",
    "did not find expected ',' or '}'": "a: {x: 1\nb: 2\n",
    "found unknown escape character": 'a: "\\q"\n',
    "found unexpected document indicator": 'a: "x\n---\n"\n',
}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_libyaml_problems_are_reworded(problem: str) -> None:
    """libyaml still says exactly this, and kdata says it in its own words (and at libyaml's place)."""
    text = PROBLEMS[problem]
    with pytest.raises(yaml.MarkedYAMLError) as info:
        list(yaml.parse(text, Loader=yaml.CSafeLoader))
    assert info.value.problem == problem
    (issue,) = yamlio.parse(text, "t.yaml").issues
    assert issue.message == f"The YAML cannot be parsed: {yamlio._YAML_PROBLEMS[problem]}."
    mark = info.value.problem_mark
    assert mark is not None and (issue.line, issue.col) == (mark.line + 1, mark.column + 1)


def test_every_reworded_problem_is_tested() -> None:
    """The table of kdata's words and the texts that trigger them list the same problems."""
    assert set(PROBLEMS) == set(yamlio._YAML_PROBLEMS)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="file permissions of this kind are POSIX only")
@pytest.mark.parametrize(
    ("target", "line"),
    [
        ("raw/places/riverton.yaml", "raw/places/riverton.yaml:0:0: KD012 unreadable-file: The file cannot be read"),
        ("raw/places", "raw/places:0:0: KD012 unreadable-file: The folder cannot be read"),
        ("raw/package.yaml", "raw/package.yaml:0:0: KD012 unreadable-file: The file cannot be read"),
    ],
)
def test_a_file_or_folder_without_read_permission_is_one_issue(project: Path, target: str, line: str) -> None:
    """``kdata validate`` on a record file, table folder or package.yaml it may not read: a KD012 line, exit 1.

    As root, chmod does not bind: the real command then runs as root without the capabilities
    that bypass permissions (skipped only where the system refuses to drop them).
    """
    from conftest import run_kdata, without_root_file_access
    from inprocess import run_kdata_here

    record = project / target
    mode = record.stat().st_mode
    record.chmod(0)
    try:
        if os.geteuid() != 0:
            result = run_kdata_here("validate", "raw", "--no-cache", cwd=project)
        else:
            try:
                result = run_kdata("validate", "raw", "--no-cache", cwd=project, preexec_fn=without_root_file_access)
            except (OSError, subprocess.SubprocessError) as exc:
                pytest.skip(f"running as root, and root's file access cannot be dropped here: {exc}")
    finally:
        record.chmod(mode)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert f"{line}: permission was denied; make it readable." in result.stdout, result.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX only")
@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink", "missing"])
def test_read_refuses_anything_but_a_regular_file(kind: str, tmp_path: Path) -> None:
    """``read`` gives one issue for a FIFO (without waiting for a writer), a folder, a symlink or a missing file."""
    path = tmp_path / "x.yaml"
    make = {
        "fifo": os.mkfifo,
        "folder": Path.mkdir,
        "symlink": lambda p: p.symlink_to(DATA / "good" / "raw" / "package.yaml"),
        "missing": lambda p: None,
    }
    make[kind](path)
    codes = {"fifo": "KD011", "folder": "KD011", "symlink": "KD011", "missing": "KD012"}
    assert [(i.code, i.line, i.col) for i in yamlio.read(path, "x.yaml").issues] == [(codes[kind], 0, 0)]


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("9223372036854775807", False),
        ("-9223372036854775808", False),
        ("9223372036854775808", True),
        ("-9223372036854775809", True),
        ("1" * 4301, True),  # beyond Python's int() limit for text: kept as text, never converted
        ("1" * 100_000, True),
        ("1.5", False),
        ("1e308", False),
        ("1e309", True),
        ("-1e999", True),
        ("0." + "1" * 31, True),
    ],
)
def test_numbers_no_column_can_hold_are_refused(text: str, refused: bool, tmp_path: Path) -> None:
    """Unquoted integers outside 64 bits and floats that overflow or run long: KD013 on their field."""
    path = tmp_path / "x.yaml"
    path.write_text(f"id: x\nnested:\n  - value: {text}\n", "utf-8")
    issues = yamlio.read(path, "x.yaml").issues
    assert [(i.line, i.col, i.code, i.field) for i in issues] == (
        [(3, 12, "KD013", "nested.0.value")] if refused else []
    )
