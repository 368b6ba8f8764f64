"""LICENSE-DATA.md's promise for the data package and the release archives: no archived text, anchors and hashes only."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

from archived import texts_carried
from conftest import REPO
from inprocess import run_kdata_here

from kdata.release.archive import archive_bytes


def _members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_release_archive_of_a_fresh_build_carries_no_archived_text(tmp_path: Path) -> None:
    """The repository's records built afresh, then archived for release: citations with anchors, no text."""
    shutil.copytree(REPO / "raw", tmp_path / "raw")
    result = run_kdata_here("build", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert texts_carried({p.name: p.read_bytes() for p in (tmp_path / "dist").iterdir() if p.is_file()}) == []
    name, content = archive_bytes(tmp_path / "dist")
    members = _members(content)
    assert texts_carried(members) == []
    citations = next(v for k, v in members.items() if k.endswith("/citations.csv")).decode("utf-8")
    header = citations.splitlines()[0].split(",")
    assert {"anchor_start", "anchor_end", "anchor_exact", "anchor_prefix", "anchor_suffix"} <= set(header)
    sources = next(v for k, v in members.items() if k.endswith("/sources.csv")).decode("utf-8")
    for text in sorted((REPO / "raw" / "sources").glob("*.txt")):
        from kdata.fs import sha256_file

        assert sha256_file(text) in sources  # each text is named by its sha256, so a holder can match it
    assert name.endswith(".zip")


def test_published_release_archives_carry_no_archived_text() -> None:
    """Every release archive in dist/releases/ (the ones published) carries no archived text either."""
    archives = sorted((REPO / "dist" / "releases").glob("*.zip"))
    assert archives
    for path in archives:
        assert texts_carried(_members(path.read_bytes())) == [], path.name


def test_the_check_sees_a_text_that_rides_along(tmp_path: Path) -> None:
    """A release built from a dist/ where an archived text was dropped is caught, under its name or another."""
    text = REPO / "raw" / "sources" / "newsaz-2025-08-21-kalbajar-speech.txt"
    assert texts_carried({f"kalbajar/{text.name}": text.read_bytes()}) != []
    assert texts_carried({"kalbajar/notes.md": b"# notes\n\n" + text.read_bytes()}) != []
    assert texts_carried({"kalbajar/copy.bin": text.read_bytes()}) != []
