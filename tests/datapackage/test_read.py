"""kdata.datapackage.read: where a built package is, and its descriptor read or refused in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kdata.datapackage import read
from kdata.errors import DownloadError, PackageError, UsageError


def package(folder: Path, content: str = '{"name": "kdata-test", "version": "0.1.0", "resources": []}') -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datapackage.json").write_text(content, "utf-8")
    return folder


def test_read_descriptor_returns_the_json_object(tmp_path: Path) -> None:
    content = {"name": "kdata-test", "version": "0.1.0", "title": "Kəlbəcər", "resources": []}
    folder = package(tmp_path / "dist", json.dumps(content, ensure_ascii=False))
    assert read.read_descriptor(folder) == content


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "No such file or directory"),
        ('{"name": "kdata-test",', "Expecting"),  # truncated JSON
        (b"\xff\xfe{}", "codec can't decode"),  # not UTF-8
        ("[1, 2]", "holds no data package descriptor (a JSON object)"),
        ('"datapackage"', "holds no data package descriptor (a JSON object)"),
    ],
)
def test_read_descriptor_names_the_file_and_why_it_cannot_be_read(
    tmp_path: Path, content: str | bytes | None, says: str
) -> None:
    folder = tmp_path / "dist"
    folder.mkdir()
    if isinstance(content, bytes):
        (folder / "datapackage.json").write_bytes(content)
    elif content is not None:
        (folder / "datapackage.json").write_text(content)
    with pytest.raises(PackageError) as caught:
        read.read_descriptor(folder)
    message = str(caught.value)
    assert str(folder / "datapackage.json") in message and says in message


def test_read_descriptor_raises_the_callers_error_with_its_hint(tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as caught:
        read.read_descriptor(tmp_path, DownloadError, " Download the version again.")
    assert str(caught.value).startswith(f"Cannot read {tmp_path / 'datapackage.json'}: ")
    assert str(caught.value).endswith(". Download the version again.")
    package(tmp_path, "[]")
    with pytest.raises(UsageError, match=r"\(a JSON object\)\. Pass a folder\.$"):
        read.read_descriptor(tmp_path, UsageError, " Pass a folder.")


def test_package_folder_takes_a_folder_or_its_descriptor(tmp_path: Path) -> None:
    folder = package(tmp_path / "dist")
    assert read.package_folder(folder) == folder
    assert read.package_folder(str(folder)) == folder
    assert read.package_folder(folder / "datapackage.json") == folder


def test_package_folder_refuses_a_folder_without_a_descriptor(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for where in (tmp_path / "empty", tmp_path / "missing", tmp_path / "missing" / "datapackage.json"):
        with pytest.raises(UsageError) as caught:
            read.package_folder(where)
        folder = where.parent if where.name == "datapackage.json" else where
        assert str(caught.value) == f"No datapackage.json in '{folder}'. Pass a built package folder, e.g. dist."


def test_bundled_dir_is_the_first_candidate_holding_a_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed wheel's kdata/_data wins over a checkout's dist/; a folder without a descriptor is skipped."""
    wheel, checkout = tmp_path / "kdata" / "_data", tmp_path / "dist"
    monkeypatch.setattr(read, "_CANDIDATES", (wheel, checkout))
    with pytest.raises(PackageError, match=r"No built data package found\. In a source checkout, run `kdata build`"):
        read.bundled_dir()
    wheel.mkdir(parents=True)  # a folder alone is not a package
    package(checkout)
    assert read.bundled_dir() == checkout
    package(wheel)
    assert read.bundled_dir() == wheel


def test_bundled_dir_waits_out_a_rebuild_between_its_two_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dist/ missing with its previous version beside it (a swap that died half-way) is put back, then found."""
    checkout = tmp_path / "dist"
    package(tmp_path / ".dist-old-0badc0de")
    monkeypatch.setattr(read, "_CANDIDATES", (tmp_path / "kdata" / "_data", checkout))
    assert read.bundled_dir() == checkout
    assert (checkout / "datapackage.json").is_file() and not (tmp_path / ".dist-old-0badc0de").exists()
