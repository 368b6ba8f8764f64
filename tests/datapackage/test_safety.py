"""kdata.datapackage.safety: data never reaches a terminal as control characters, nor a Markdown or BibTeX reader as markup.

The hostile values go into real built packages (both files of a table, rehashed as a careful
forger would) and come out through the real commands: diff (text, Markdown, changelog), verify,
info, conflicts; and into ``kdata cite``'s BibTeX.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kdata.datapackage.build import build
from kdata.datapackage.safety import printable, printable_lines
from kdata.release.cite import bibtex, bibtex_text
from kdata.release.diff_format import md
from tests.datapackage.test_verify import rehash
from tests.inprocess import run_kdata_here

GOOD_RAW = Path(__file__).resolve().parents[1] / "data" / "good" / "raw"

#: Characters a terminal must never receive from the data: (character, how it is shown).
HIDDEN = [
    ("\x1b", "\\u001b"),  # ESC: colours, cursor moves, OSC 52 clipboard writes
    ("\x07", "\\u0007"),  # BEL
    ("\x00", "\\u0000"),
    ("\r", "\\u000d"),  # overwrites the line
    ("\n", "\\u000a"),  # fakes a line
    ("\x7f", "\\u007f"),
    ("\x9b", "\\u009b"),  # C1 CSI
    ("\u200b", "\\u200b"),  # zero-width space
    ("\u200d", "\\u200d"),
    ("\u202e", "\\u202e"),  # right-to-left override
    ("\u2066", "\\u2066"),  # left-to-right isolate
    ("\u2028", "\\u2028"),  # line separator
    ("\ufeff", "\\ufeff"),
    ("\U000e0041", "\\udb40\\udc41"),  # tag character
]


@pytest.mark.parametrize(("char", "shown"), HIDDEN)
def test_printable_escapes_controls_and_format_characters(char: str, shown: str) -> None:
    assert printable(f"a{char}b") == f"a{shown}b"
    assert printable(printable(f"a{char}b")) == f"a{shown}b"  # idempotent
    assert json.loads(f'"{printable(char)}"') == char  # the escape is a JSON escape too


@pytest.mark.parametrize(
    "text",
    [
        "Kəlbəcər",
        "\u041a\u0430\u0440\u0430\u0431\u0430\u0445",
        "كلبجر",
        "a\\b",
        "tab-free text",
        "emoji 🙂",
        "\u00a0nbsp",
    ],
)
def test_printable_keeps_ordinary_text(text: str) -> None:
    assert printable(text) == text


def test_printable_lines_keeps_the_lines_kdata_made() -> None:
    assert printable_lines("one\x1b[2J\ntwo\u202e") == "one\\u001b[2J\ntwo\\u202e"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("safety") / "dist"
    build(GOOD_RAW, dist)
    return dist


def poison(folder: Path, table: str, column: str, value: str) -> None:
    """Put ``value`` into the first row's ``column`` of both files of ``table``, then rehash."""
    import csv
    import io

    parquet = pq.read_table(folder / f"{table}.parquet")
    index = parquet.schema.get_field_index(column)
    cells = parquet.column(column).to_pylist()
    cells[0] = value
    parquet = parquet.set_column(index, parquet.schema.field(index), pa.array(cells, pa.string()))
    pq.write_table(parquet, folder / f"{table}.parquet")
    with open(folder / f"{table}.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (folder / f"{table}.csv").write_text(out.getvalue(), "utf-8")
    rehash(folder)


#: Values that try to break out of their place in an output format.
HOSTILE = [
    "</details><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "a | b | c",
    "`code` and ``more``",
    "line one\nline two",
    "line one\r\n| forged | row |",
    "**bold** _it_ [link](javascript:alert(1))",
    "@everyone #1 ~~struck~~",
    "&lt;already escaped&gt; &amp;",
    "\x1b[31mred\x1b[0m \x1b]52;c;ZXZpbA==\x07",
    "evil\u202etxt.exe \u200bhidden",
]


@pytest.fixture(scope="module")
def changed(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One copy of the package per hostile value, that value written as the first event's title."""
    where = tmp_path_factory.mktemp("hostile")
    out = {}
    for i, value in enumerate(HOSTILE):
        folder = Path(shutil.copytree(pristine, where / str(i)))
        poison(folder, "events", "title", value)
        out[value] = folder
    return out


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_diff_shows_a_hostile_value_as_text(value: str, changed: dict[str, Path], pristine: Path) -> None:
    result = run_kdata_here("diff", pristine, changed[value], "--format", "markdown", cwd=pristine.parent)
    assert result.returncode == 0, result
    out = result.stdout
    assert out.count("<details>") == out.count("</details>") == 1
    assert not re.search(r"<(?!/?(code|details|summary|br)>)", out)  # no tag but ours
    assert "`" not in out and "\x1b" not in out and "\u202e" not in out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert all(line.count("|") == 6 for line in table)  # every row keeps its five cells
    changed_line = next(line for line in out.splitlines() if line.startswith("- changed"))
    bare = re.sub(r"&#\d+;|</?code>|<br>", "", changed_line)
    assert not re.search(r"[*_\[\]@#~|<>`\\]", bare), changed_line


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("fmt", ["text", "changelog", "json"])
def test_terminal_formats_of_diff_carry_no_control_character(
    value: str, fmt: str, changed: dict[str, Path], pristine: Path
) -> None:
    result = run_kdata_here("diff", pristine, changed[value], "--format", fmt, cwd=pristine.parent)
    assert result.returncode == 0, result
    assert not any(c in result.stdout for c, _ in HIDDEN if c != "\n")
    if fmt == "json":
        json.loads(result.stdout)
    if fmt == "text":  # one changed row, one line
        assert sum(line.startswith("  ~ ") for line in result.stdout.splitlines()) == 1


def test_verify_info_and_conflicts_print_no_control_character(pristine: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(pristine, tmp_path / "dist"))
    poison(folder, "citations", "claimant", "town\x1b[2J\u202ehall")  # a dangling reference, shown by verify
    poison(folder, "disagreement_sides", "value", "4\x1b[31m\u200b")
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text("utf-8"))
    descriptor["title"] = "Kalbajar\x1b]0;pwned\x07\u202e"
    path.write_text(json.dumps(descriptor), "utf-8")
    outputs = {}
    for command in ("verify", "info", "conflicts"):
        result = run_kdata_here(command, folder, cwd=tmp_path)
        outputs[command] = result.stdout + result.stderr
        assert not any(c in outputs[command] for c, _ in HIDDEN if c != "\n"), (command, outputs[command])
    assert "town\\u001b[2J\\u202ehall" in outputs["verify"]
    assert "Kalbajar\\u001b]0;pwned\\u0007\\u202e" in outputs["info"]
    assert "4\\u001b[31m\\u200b" in outputs["conflicts"]
    result = run_kdata_here("conflicts", folder, "--format", "json", cwd=tmp_path)
    values = [side["value"] for d in json.loads(result.stdout) for side in d["sides"]]
    assert "4\x1b[31m\u200b" in values  # JSON escapes decode to the data


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("R&D", r"R\&D"),
        ("100%", r"100\%"),
        ("#1", r"\#1"),
        ("snake_case", r"snake\_case"),
        ("{braces}", r"\{braces\}"),
        ("$x$", r"\$x\$"),
        ("a~b", r"a\textasciitilde{}b"),
        ("x^2", r"x\textasciicircum{}2"),
        ("back\\slash", r"back\textbackslash{}slash"),
        ("two\nlines", "two lines"),
        ("}, title = {forged", r"\}, title = \{forged"),
    ],
)
def test_bibtex_escapes_every_latex_special_character(text: str, written: str) -> None:
    assert bibtex_text(text) == written
    entry = bibtex(
        {
            "key": "kalbajar_0_1_0",
            "authors": text,
            "title": text,
            "version": "0.1.0",
            "year": "2026",
            "license": text,
            "file": "",
            "sha256": "",
            "url": "https://example.org/a b{c}",
        }
    )
    unescaped = entry.replace("\\{", "").replace("\\}", "")
    assert unescaped.count("{") == unescaped.count("}")
    assert entry.count(" = {") == 6 and "url = {https://example.org/a%20b%7Bc%7D}" in entry


@pytest.mark.parametrize("value", HOSTILE)
def test_md_leaves_no_markup(value: str) -> None:
    assert not re.search(r"[<>|`*_\[\]@#~\\\n\r]", re.sub(r"&#\d+;|<br>", "", md(value)))


@pytest.mark.parametrize("name", ["evil\nfield", "x|y", "</details>", "a\x1b[2Jb", "rtl\u202ename"])
def test_field_names_from_a_descriptor_keep_their_line_and_cell(name: str) -> None:
    from kdata.release import diff_format
    from kdata.release.diff import PackageDiff, TableDiff

    table = TableDiff("events", ["id"], fields_added=[name], changed=[((name,), {name: (name, None)})])
    diff = PackageDiff("0.1.0", "0.2.0", tables={"events": table}, reasons=[("minor", "events: 1 field(s) added")])
    text = diff_format.text(diff).splitlines()
    assert len(text) == 6 and not any(c in "".join(text) for c, _ in HIDDEN)
    markdown = diff_format.markdown(diff)
    assert [line.count("|") for line in markdown.splitlines() if line.startswith("|")] == [6, 6, 6]
    assert markdown.count("</details>") == 1 and "\x1b" not in markdown and "\u202e" not in markdown
