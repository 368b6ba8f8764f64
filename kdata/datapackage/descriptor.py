"""What a ``datapackage.json`` may hold before any command trusts it: its shape, its paths, its links.

``read.read_descriptor`` runs ``check_descriptor`` on every descriptor it reads, and every reader
(verify, info, conflicts, diff, site, release, the api) reads through it, so one check covers
every command. It refuses, naming the file and the place:

- a shape kdata does not write: not an object, no ``resources`` list, a resource without a name
  or path, a value of the wrong type (``SHAPE``, one table read by one walker);
- a resource path that could leave the package folder: absolute, a drive letter, a backslash,
  a ``..``, ``.`` or empty segment, a URL, a control character, or a symlink that resolves outside;
- a resource name that is not a plain name (names become file names: ``tables/<name>.html``);
- a link (licence, source, contributor, homepage) that is not an ``http(s)`` URL (``safety.web_url``).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kdata.datapackage.safety import printable, web_url

#: A resource name: lowercase letters, digits, ``-``, ``_`` and ``.``, starting with a letter or digit.
NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
#: Table Schema field types kdata writes.
FIELD_TYPES = ("string", "integer", "number", "boolean", "date")
_SCHEME_OR_DRIVE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

#: A check of one value: the problem in words ("must be ..."), or None.
Check = Callable[[Any], str | None]


def _count(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else "must be a whole number of at least 0"


def _name(value: Any) -> str | None:
    ok = isinstance(value, str) and NAME.fullmatch(value)
    return None if ok else "must be a name of lowercase letters, digits, '-', '_' and '.'"


def _link(value: Any) -> str | None:
    return None if web_url(value) else "must be an http:// or https:// URL"


def _field_type(value: Any) -> str | None:
    return None if value in FIELD_TYPES else f"must be one of {', '.join(FIELD_TYPES)}"


def path_problem(path: Any) -> str | None:
    """Why ``path`` is not a relative POSIX path inside a package folder (as written), or None."""
    if not isinstance(path, str) or not path:
        return "must be a non-empty text"
    if not path.isprintable():
        return "must not hold control or format characters"
    if "\\" in path:
        return "must use '/', not a backslash"
    if path.startswith("/"):
        return "must be relative, not absolute"
    if _SCHEME_OR_DRIVE.match(path):
        return "must be a path inside the package folder, not a URL or a drive"
    segments = path.split("/")
    if any(s in ("", ".", "..") for s in segments):
        return "must not hold an empty, '.' or '..' segment"
    return None


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a text"


def _texts(value: Any) -> str | None:
    return None if isinstance(value, list) and all(isinstance(s, str) for s in value) else "must be a list of texts"


_TEXT, _TEXTS = _text, _texts

#: A shape: key -> (check or nested shape, required). A list of one shape: a list of such objects.
Shape = dict[str, tuple[Any, bool]]
_SCHEMA: Shape = {
    "fields": (
        [
            {
                "name": (_TEXT, True),
                "type": (_field_type, True),
                "description": (_TEXT, False),
                "constraints": ({}, False),
            }
        ],
        True,
    ),
    "primaryKey": (_TEXTS, False),
    "foreignKeys": (
        [{"fields": (_TEXTS, True), "reference": ({"resource": (_TEXT, True), "fields": (_TEXTS, True)}, True)}],
        False,
    ),
    "missingValues": (_TEXTS, False),
}
_RESOURCE: Shape = {
    "name": (_name, True),
    "path": (path_problem, True),
    "format": (_TEXT, True),
    "bytes": (_count, False),  # Parquet resources declare none (write.UNCOUNTED); the hash covers them
    "hash": (_TEXT, True),
    "schema": (_SCHEMA, True),
    "kdata:rows": (_count, True),
    **{key: (_TEXT, False) for key in ("type", "mediatype", "encoding", "description", "title")},
}
#: The descriptor kdata writes, as far as any command relies on it.
SHAPE: Shape = {
    "name": (_TEXT, True),
    "version": (_TEXT, True),
    "title": (_TEXT, False),
    "description": (_TEXT, False),
    "created": (_TEXT, False),
    "homepage": (_link, False),
    "keywords": (_TEXTS, False),
    "licenses": ([{"name": (_TEXT, True), "path": (_link, False), "title": (_TEXT, False)}], False),
    "contributors": ([{"title": (_TEXT, True), "path": (_link, False), "email": (_TEXT, False)}], False),
    "sources": ([{"title": (_TEXT, True), "path": (_link, False), "email": (_TEXT, False)}], False),
    "resources": ([_RESOURCE], True),
}


def _walk(value: Any, shape: Any, where: str) -> str | None:
    """The first problem of ``value`` against ``shape``, as ``where: what``, or None."""
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} must be a list"
        for i, item in enumerate(value):
            if found := _walk(item, shape[0], f"{where}[{i}]"):
                return found
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where or 'the top level'} must be an object"
        for key, (inner, required) in shape.items():
            if key not in value:
                if required:
                    return f"{where + '.' if where else ''}{key} is missing"
                continue
            if found := _walk(value[key], inner, f"{where + '.' if where else ''}{key}"):
                return found
        return None
    problem = shape(value)
    return f"{where} {problem} (found {printable(repr(value)[:60])})" if problem else None


def check_descriptor(content: Any, folder: Path) -> str | None:
    """The first reason ``content`` (a parsed ``datapackage.json`` of ``folder``) cannot be trusted, or None.

    Beyond ``SHAPE``: resource names and paths are unique, no resource path resolves (through
    a symlink) to a place outside ``folder``, and a resource file that exists is a regular file
    (a FIFO would make every reader wait; a missing file is ``verify``'s to report).
    """
    if found := _walk(content, SHAPE, ""):
        return found
    seen: dict[str, set[str]] = {"name": set(), "path": set()}
    root = folder.resolve()
    for i, resource in enumerate(content["resources"]):
        for key, values in seen.items():
            if resource[key] in values:
                return f"resources[{i}].{key} '{resource[key]}' is declared twice"
            values.add(resource[key])
        if found := file_problem(i, resource["path"], folder, root):
            return found
    return None


def file_problem(index: int, path: str, folder: Path, root: Path) -> str | None:
    """Why the file of ``resources[index]`` (``path``, a checked ``path_problem``-free path) cannot be read, or None.

    It must not resolve (through a symlink) to a place outside ``folder`` (``root``: ``folder`` resolved),
    and, where it exists, be a regular file; a missing file is ``verify``'s to report.
    """
    try:
        inside = (folder / path).resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        inside = False
    if not inside:
        return f"resources[{index}].path '{printable(path)}' resolves to a place outside the package folder"
    try:
        mode = (folder / path).stat().st_mode
    except OSError:
        return None  # missing: verify names it, readers fail on it in one line
    if not stat.S_ISREG(mode):
        return f"resources[{index}].path '{printable(path)}' is not a regular file"
    return None
