"""kdata.datapackage.descriptor: a crafted or damaged datapackage.json is refused in one line by every command.

Each variant is a real package folder (the good test project, built once) whose descriptor was
replaced; every command that reads a package (verify, info, conflicts, diff, site) and the api
(load, metadata, package) must refuse it with one line naming the file, exit non-zero, and never
read or write outside the package folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import kdata
from kdata.datapackage.build import build
from kdata.datapackage.descriptor import path_problem
from kdata.datapackage.safety import href, web_url
from kdata.errors import KdataError
from tests.inprocess import run_kdata_here

GOOD_RAW = Path(__file__).resolve().parents[1] / "data" / "good" / "raw"

Edit = Callable[[dict[str, Any]], Any]


def _resource(key: str, value: Any, index: int = 0) -> Edit:
    def edit(d: dict[str, Any]) -> None:
        d["resources"][index][key] = value

    return edit


def _drop(key: str, index: int | None = 0) -> Edit:
    def edit(d: dict[str, Any]) -> None:
        (d if index is None else d["resources"][index]).pop(key)

    return edit


def _top(key: str, value: Any) -> Edit:
    def edit(d: dict[str, Any]) -> None:
        d[key] = value

    return edit


def _licence_path(value: str) -> Edit:
    def edit(d: dict[str, Any]) -> None:
        d["licenses"][0]["path"] = value

    return edit


def _source_path(value: str) -> Edit:
    def edit(d: dict[str, Any]) -> None:
        d["sources"][0]["path"] = value

    return edit


def _field_type(d: dict[str, Any]) -> None:
    d["resources"][0]["schema"]["fields"][0]["type"] = "blob"


def _duplicate_name(d: dict[str, Any]) -> None:
    d["resources"][1]["name"] = d["resources"][0]["name"]


def _read_hostname(d: dict[str, Any]) -> None:
    """A resource that points at /etc/hostname, with that file's true bytes and sha256."""
    import hashlib

    content = Path("/etc/hostname").read_bytes() if Path("/etc/hostname").is_file() else b""
    d["resources"][0].update(
        path="/etc/hostname", bytes=len(content), hash="sha256:" + hashlib.sha256(content).hexdigest()
    )


#: Descriptor variants: id -> the JSON text (bytes) or an edit of the good descriptor.
CONTENT: dict[str, bytes | Edit] = {
    "empty-list": b"[]",
    "empty-object": b"{}",
    "null": b"null",
    "string": b'"datapackage"',
    "number": b"42",
    "empty-file": b"",
    "truncated": b'{"name": "x", "resources": [',
    "not-utf8": b'{"name": "\xff\xfe"}',
    "nested-deep": b"[" * 200_000,
    "missing-resources": _drop("resources", None),
    "missing-version": _drop("version", None),
    "resources-a-string": _top("resources", "events.csv"),
    "resources-an-object": _top("resources", {"name": "events"}),
    "resource-a-number": _top("resources", [1]),
    "resource-without-name": _drop("name"),
    "resource-without-path": _drop("path"),
    "resource-without-schema": _drop("schema"),
    "name-a-number": _resource("name", 5),
    "name-escapes": _resource("name", "../../outside"),
    "name-with-slash": _resource("name", "a/b"),
    "path-absolute": _resource("path", "/etc/hostname"),
    "path-reads-hostname": _read_hostname,
    "path-parent": _resource("path", "../outside.csv"),
    "path-inner-parent": _resource("path", "sub/../../outside.csv"),
    "path-drive": _resource("path", "C:/data/events.csv"),
    "path-backslash": _resource("path", "sub\\events.csv"),
    "path-unc": _resource("path", "\\\\server\\share\\events.csv"),
    "path-url": _resource("path", "https://example.org/events.csv"),
    "path-file-url": _resource("path", "file:///etc/hostname"),
    "path-empty": _resource("path", ""),
    "path-empty-segment": _resource("path", "sub//events.csv"),
    "path-dot-segment": _resource("path", "./events.csv"),
    "path-escape-char": _resource("path", "events\x1b[2J.csv"),
    "path-newline": _resource("path", "events\n.csv"),
    "path-bidi": _resource("path", "events\u202ecsv.csv"),
    "path-a-list": _resource("path", ["events.csv"]),
    "bytes-a-string": _resource("bytes", "12"),
    "bytes-negative": _resource("bytes", -1),
    "bytes-a-bool": _resource("bytes", True),
    "bytes-a-float": _resource("bytes", 1.5),
    "hash-a-number": _resource("hash", 5),
    "rows-null": _resource("kdata:rows", None),
    "schema-a-string": _resource("schema", "fields"),
    "fields-not-a-list": _resource("schema", {"fields": {"name": "id"}}),
    "field-type-unknown": _field_type,
    "duplicate-name": _duplicate_name,
    "licence-javascript": _licence_path("javascript:alert(document.cookie)"),
    "licence-data": _licence_path("data:text/html,<script>alert(1)</script>"),
    "licence-vbscript": _licence_path("vbscript:msgbox(1)"),
    "licence-relative": _licence_path("LICENSE"),
    "licence-tab-in-scheme": _licence_path("java\tscript:alert(1)"),
    "source-file-url": _source_path("file:///etc/passwd"),
    "source-protocol-relative": _source_path("//evil.example/x"),
    "homepage-javascript": _top("homepage", "JavaScript:alert(1)"),
    "homepage-ftp": _top("homepage", "ftp://example.org/"),
    "licences-not-a-list": _top("licenses", {"name": "CC-BY-4.0"}),
}
#: Variants made on the file system rather than in the text.
KINDS = ("fifo", "directory", "huge", "symlink-outside", "symlink-folder-outside", "symlink-loop")
VARIANTS = [*CONTENT, *KINDS]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The good test project, built once for this module."""
    dist = tmp_path_factory.mktemp("descriptor") / "dist"
    build(GOOD_RAW, dist)
    return dist


_made: dict[str, Path] = {}


def crafted(variant: str, pristine: Path, where: Path) -> Path:
    """A copy of the good package whose descriptor (or a file) is the variant; made once per variant."""
    if variant in _made:
        return _made[variant]
    folder = Path(shutil.copytree(pristine, where / variant))
    path = folder / "datapackage.json"
    content = CONTENT.get(variant)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        descriptor = json.loads(path.read_text("utf-8"))
        content(descriptor)
        path.write_text(json.dumps(descriptor), "utf-8")
    elif variant == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif variant == "directory":
        path.unlink()
        path.mkdir()
    elif variant == "huge":
        with open(path, "r+b") as handle:
            handle.truncate(64 * 1024 * 1024)  # sparse: costs no disk
    elif variant == "symlink-outside":
        outside = where / "outside.csv"
        shutil.copy(folder / "events.csv", outside)
        (folder / "events.csv").unlink()
        (folder / "events.csv").symlink_to(outside)
    elif variant == "symlink-folder-outside":
        (where / "elsewhere").mkdir(exist_ok=True)
        shutil.copy(folder / "events.csv", where / "elsewhere" / "events.csv")
        (folder / "sub").symlink_to(where / "elsewhere")
        descriptor = json.loads(path.read_text("utf-8"))
        descriptor["resources"][0]["path"] = "sub/events.csv"
        path.write_text(json.dumps(descriptor), "utf-8")
    elif variant == "symlink-loop":
        (folder / "events.csv").unlink()
        (folder / "events.csv").symlink_to(folder / "events.csv")
    _made[variant] = folder
    return folder


@pytest.fixture(scope="module")
def workshop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crafted")


#: Command -> its arguments for a package folder (and a scratch folder for what it writes).
COMMANDS: dict[str, Callable[[Path, Path, Path], list[str | Path]]] = {
    "verify": lambda pkg, good, out: ["verify", pkg],
    "info": lambda pkg, good, out: ["info", pkg],
    "conflicts": lambda pkg, good, out: ["conflicts", pkg],
    "diff-old": lambda pkg, good, out: ["diff", pkg, good],
    "diff-new": lambda pkg, good, out: ["diff", good, pkg, "--format", "markdown"],
    "site": lambda pkg, good, out: ["site", out / "site", "--package", pkg],
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_a_crafted_descriptor_in_one_line(
    command: str, variant: str, pristine: Path, workshop: Path, tmp_path: Path
) -> None:
    folder = crafted(variant, pristine, workshop)
    result = run_kdata_here(*COMMANDS[command](folder, pristine, tmp_path), cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result
    assert result.stderr.startswith("Error: ") and "datapackage.json" in result.stderr
    assert "\x1b[2J" not in result.stdout + result.stderr and "\u202e" not in result.stdout + result.stderr
    assert not (tmp_path / "site").exists() or not any((tmp_path / "site").iterdir())


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_api_refuses_a_crafted_descriptor_with_a_kdata_error(variant: str, pristine: Path, workshop: Path) -> None:
    folder = crafted(variant, pristine, workshop)
    for call in (lambda: kdata.metadata(folder), lambda: kdata.load("events", folder), lambda: kdata.package(folder)):
        with pytest.raises(KdataError) as caught:
            call()
        assert "\n" not in str(caught.value)


def test_a_descriptor_error_names_the_file_and_the_place(pristine: Path, workshop: Path) -> None:
    result = run_kdata_here("info", crafted("path-parent", pristine, workshop), cwd=workshop)
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {workshop / 'path-parent' / 'datapackage.json'} is not a valid kdata descriptor: resources[0].path"
        " must not hold an empty, '.' or '..' segment (found '../outside.csv').\n"
    )
    result = run_kdata_here("verify", crafted("licence-javascript", pristine, workshop), cwd=workshop)
    assert "licenses[0].path must be an http:// or https:// URL" in result.stderr


def test_a_fresh_build_passes_every_check(pristine: Path, tmp_path: Path) -> None:
    for args in (["verify", pristine], ["info", pristine], ["conflicts", pristine], ["diff", pristine, pristine]):
        result = run_kdata_here(*args, cwd=tmp_path)
        assert result.returncode == 0, result


@pytest.mark.parametrize(
    "path",
    ["events.csv", "sub/events.csv", "a.b-c_d/e.parquet", "événements.csv", "..events.csv", "events..csv"],
)
def test_a_relative_path_inside_the_folder_is_accepted(path: str) -> None:
    assert path_problem(path) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://creativecommons.org/licenses/by/4.0/",
        "http://example.org",
        "HTTPS://EXAMPLE.ORG/a?b=c#d",
        "https://example.org/path_(1)",
    ],
)
def test_web_urls_are_links(url: str) -> None:
    assert web_url(url) == url and href(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.org/",
        "//evil.example/x",
        "/etc/passwd",
        "\\\\server\\share",
        "https://",
        "https:///path",
        "https://exa mple.org",
        "https://example.org/\x00",
        "https://example.org/\u202e",
        "mailto:a@example.org",
        "C:/Windows",
        5,
        None,
    ],
)
def test_other_urls_are_never_links(url: Any) -> None:
    assert web_url(url) is None
    assert href(url) == "#"


@pytest.mark.parametrize("link", ["index.html", "../events/riverton.html", "tables/events.html", "#motivation"])
def test_links_inside_the_site_are_kept(link: str) -> None:
    assert href(link) == link


def test_every_href_of_every_template_goes_through_the_link_policy() -> None:
    """A template link holding a value is ``href="{{ (...) | href }}"``; the others are constant."""
    import re

    templates = Path(kdata.__file__).parent / "site" / "templates"
    hrefs = [
        m for t in templates.glob("*.html") for m in re.findall(r'href="(\{\{.*?\}\}|[^"]*)"', t.read_text("utf-8"))
    ]
    assert hrefs
    for value in hrefs:
        assert "{{" not in value or re.fullmatch(r"\{\{ \(.*\) \| href \}\}", value), value
