"""How ``kdata validate`` prints the issues it found: text, JSON or GitHub annotations.

Every format prints every issue of one run, in kdata's order (file, line,
column, code, field), so a contributor fixes everything in one pass:

- ``text``: one ``file:line:col: CODE name: field: message hint`` line per issue
  and a closing count; coloured on a terminal (or with ``--color``), plain
  when piped. A whole-file issue has line and column 0.
- ``json``: a list of objects with ``file``, ``line``, ``column``, ``field``,
  ``code``, ``name``, ``message`` and ``hint``; ``[]`` when the data is valid.
- ``github``: one ``::error`` workflow command per issue, which GitHub shows
  on the pull request's diff; the count goes to stderr so stdout holds only
  annotations. A whole-file issue is annotated without ``line`` and ``col``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import click

from kdata.errors import Issue

#: The output formats of ``kdata validate --format``.
FORMATS = ("text", "json", "github")

# GitHub's escaping of workflow commands: the message ("data") escapes %, CR
# and LF; property values escape ":" and "," besides.
_DATA_ESCAPES = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A"})
_PROPERTY_ESCAPES = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A", ":": "%3A", ",": "%2C"})
# The text format keeps one issue a line.
_LINE_ESCAPES = str.maketrans({"\r": "\\r", "\n": "\\n"})


def github_annotation(issue: Issue) -> str:
    """One GitHub ``::error`` workflow command for an issue, escaped as the runner expects.

    Args:
        issue: The issue to annotate.

    Returns:
        ``::error file=…,line=…,col=…,title=…::message hint``; ``line`` and ``col``
        are left out when the issue has none (0), so GitHub annotates the file.
    """
    props = {"file": issue.file}
    if issue.line:  # 0 is the whole file: GitHub then annotates the file, not a line
        props["line"] = str(issue.line)
        if issue.col:
            props["col"] = str(issue.col)
    props["title"] = f"{issue.code} {issue.name}" + (f" ({issue.field})" if issue.field else "")
    joined = ",".join(f"{key}={value.translate(_PROPERTY_ESCAPES)}" for key, value in props.items())
    return f"::error {joined}::{f'{issue.message} {issue.hint}'.translate(_DATA_ESCAPES)}"


def text_line(issue: Issue) -> str:
    """One line of the text format, with ANSI styles that click drops when not on a terminal.

    Line breaks inside a file name or message are written as ``\\n`` and ``\\r``, so
    each issue stays on one line for grep and for editors' problem matchers.
    """
    where = click.style(f"{issue.file.translate(_LINE_ESCAPES)}:{issue.line}:{issue.col}", bold=True)
    code = click.style(f"{issue.code} {issue.name}", fg="red")
    field = f" {issue.field}:" if issue.field else ""
    message = issue.message.translate(_LINE_ESCAPES)
    return f"{where}: {code}:{field} {message} {click.style(issue.hint, dim=True)}"


def json_rows(issues: list[Issue]) -> str:
    """The issues as a JSON list, one object per issue, in the order given."""
    rows = [
        {
            "file": i.file,
            "line": i.line,
            "column": i.col,
            "field": i.field,
            "code": i.code,
            "name": i.name,
            "message": i.message,
            "hint": i.hint,
        }
        for i in issues
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def summary(issues: list[Issue]) -> str:
    """The closing count: ``3 problems in 2 files.``"""
    n, files = len(issues), len({i.file for i in issues})
    return f"{n} problem{'s' * (n != 1)} in {files} file{'s' * (files != 1)}."


def _text(issues: list[Issue]) -> None:
    for issue in issues:
        click.echo(text_line(issue))
    if issues:
        click.echo(click.style(summary(issues), fg="red", bold=True))


def _json(issues: list[Issue]) -> None:
    click.echo(json_rows(issues))


def _github(issues: list[Issue]) -> None:
    for issue in issues:
        click.echo(github_annotation(issue))
    if issues:
        click.echo(summary(issues), err=True)


#: Format name -> the function that prints issues in it.
_PRINTERS: dict[str, Callable[[list[Issue]], None]] = {"text": _text, "json": _json, "github": _github}


def report(issues: list[Issue], fmt: str = "text") -> None:
    """Print issues in one of the formats of ``kdata validate --format``.

    Args:
        issues: The issues to print, already in the order wanted.
        fmt: One of ``FORMATS``.
    """
    _PRINTERS[fmt](issues)
