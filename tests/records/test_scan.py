"""The validation cache never hides an error: cached runs report exactly what cold runs report."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from inprocess import run_kdata_here


def _validate(project: Path, cache: Path, *flags: str) -> tuple[int, list[dict[str, object]]]:
    """``kdata validate --format json`` with its cache in ``cache``, run in this process.

    Each run reads the cache files from disk and writes them back, as a new process would: nothing
    is kept in memory between runs (``ScanCache`` is made anew by every ``load_raw``).
    """
    env = {"KDATA_CACHE_DIR": str(cache)}
    result = run_kdata_here("validate", "raw", "--format", "json", *flags, cwd=project, env=env)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def _same_size_same_mtime(path: Path) -> None:
    """Change a file's content but keep its size and modification time (only ctime moves)."""
    before = path.stat()
    text = path.read_text()
    path.write_text(text.replace("kind: city", "kind: town"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns


STEPS: list[tuple[str, Callable[[Path], None]]] = [
    ("nothing changed", lambda raw: None),
    (
        "a value made invalid",
        lambda raw: _edit(raw / "events/riverton-return-2020.yaml", "status: occurred", "status: happened"),
    ),
    (
        "fixed again",
        lambda raw: _edit(raw / "events/riverton-return-2020.yaml", "status: happened", "status: occurred"),
    ),
    ("a file renamed", lambda raw: (raw / "places/riverton-bridge.yaml").rename(raw / "places/old-bridge.yaml")),
    ("renamed back", lambda raw: (raw / "places/old-bridge.yaml").rename(raw / "places/riverton-bridge.yaml")),
    ("a referenced file deleted", lambda raw: (raw / "actors/town-council.yaml").unlink()),
    (
        "a quote changed",
        lambda raw: _edit(raw / "figures/riverton-bridge-length.yaml", "4 kilometres long", "5 kilometres long"),
    ),
    ("same size and mtime", lambda raw: _same_size_same_mtime(raw / "places/riverton.yaml")),
    (
        "a new broken file",
        lambda raw: (raw / "places/new-place.yaml").write_text("id: new-place\nname: New\nkind: hamlet\n"),
    ),
]


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_cached_runs_match_cold_runs_after_every_change(project: Path, cache: Path) -> None:
    """After edits, renames, deletions and stealthy edits, cached and cold runs agree exactly."""
    errors_seen = set()
    for step, change in STEPS:
        change(project / "raw")
        cached = _validate(project, cache)
        cold = _validate(project, cache, "--no-cache")
        assert cached == cold, step
        errors_seen.update(issue["code"] for issue in cold[1])
    assert {"KD103", "KD107", "KD202", "KD301"} <= errors_seen


def test_archived_text_changed_between_runs_is_rechecked(project: Path, cache: Path) -> None:
    """The archived texts are never cached: a text tampered with after a cached run is reported by the next one."""
    assert _validate(project, cache)[0] == 0
    _edit(project / "raw/sources/test-wire-2020-05-01.txt", "1,200", "1,300")
    cached = _validate(project, cache)
    assert cached == _validate(project, cache, "--no-cache")
    assert [issue["code"] for issue in cached[1]] == ["KD303"]


def _stored(cache: Path) -> dict[str, Path]:
    """The cache files by kind: 'sqlite' (the database of file checks and the state across records)."""
    return {p.name.split(".", 1)[1]: p for p in (cache / "validate").glob("*.sqlite")}


def test_the_cache_holds_every_file_and_lives_outside_raw(project: Path, cache: Path) -> None:
    """One SQLite cache outside raw/, with an entry per record file and the code fingerprint."""
    import sqlite3

    raw = project / "raw"
    before = {p: p.stat().st_mtime_ns for p in raw.rglob("*")}
    assert _validate(project, cache)[0] == 0
    assert {p: p.stat().st_mtime_ns for p in raw.rglob("*")} == before
    stored = _stored(cache)
    assert sorted(stored) == ["sqlite"]
    db = sqlite3.connect(stored["sqlite"])
    (count,) = db.execute("SELECT count(*) FROM files").fetchone()
    (fingerprint,) = db.execute("SELECT v FROM meta WHERE k = 'fingerprint'").fetchone()
    db.close()
    assert count == len(list((project / "raw").glob("*/*.yaml")))
    assert len(fingerprint) == 64


def test_a_corrupt_cache_is_ignored(project: Path, cache: Path) -> None:
    """A damaged cache file only means a cold run."""
    _validate(project, cache)
    for stored in (cache / "validate").iterdir():
        stored.write_bytes(b"\x00garbage")
    _edit(project / "raw/places/riverton.yaml", "kind: city", "kind: metropolis")
    assert _validate(project, cache) == _validate(project, cache, "--no-cache")
    shutil.rmtree(cache)
    assert _validate(project, cache)[0] == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX only")
@pytest.mark.parametrize("special", ["fifo", "folder", "symlink"])
def test_a_cache_file_that_is_not_a_regular_file_is_ignored(project: Path, cache: Path, special: str) -> None:
    """A FIFO (which would block a plain read forever), a folder or a symlink where a cache file was: a cold run."""
    from conftest import run_kdata

    _validate(project, cache)
    for stored in _stored(cache).values():
        stored.unlink()
        make = {
            "fifo": os.mkfifo,
            "folder": Path.mkdir,
            "symlink": lambda p: p.symlink_to(project / "raw" / "package.yaml"),
        }
        make[special](stored)
    env = {"KDATA_CACHE_DIR": str(cache)}
    if special == "fifo":  # a real process, so a read that blocks ends in the timeout, not in a hung test
        result = run_kdata("validate", "raw", cwd=project, env=env, timeout=60)
    else:
        result = run_kdata_here("validate", "raw", cwd=project, env=env)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr


def test_a_file_that_vanishes_between_listing_and_reading_is_one_issue(
    project: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """raw/ is listed, then a record file is deleted before it is read: one KD012, cold and cached alike."""
    from kdata.records import listing, scan

    monkeypatch.setenv("KDATA_CACHE_DIR", str(cache))
    raw = project / "raw"
    files = listing.record_files(raw, [])
    gone = raw / "places" / "riverton.yaml"
    store = scan.ScanCache(raw)
    gone.unlink()
    for results in ([r for chunk in scan.scan(files, 1, "nothing") for r in chunk.results], store.scan(files, 1)):
        (vanished,) = [r for r in results if r.path == str(gone)]
        assert [(i.code, i.line) for i in vanished.issues] == [("KD012", 0)]
        assert "vanished" in vanished.issues[0].message


#: Names a file may have on POSIX (Windows refuses control characters in file names).
_POSIX_NAME = pytest.mark.skipif(sys.platform == "win32", reason="Windows file names cannot hold control characters")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("line\nbreak", marks=_POSIX_NAME),
        "zero\u200bwidth",
        "bidi\u202eyaml.txt",
        pytest.param("tab\there", marks=_POSIX_NAME),
    ],
)
def test_file_names_are_shown_visibly_on_one_line(project: Path, cache: Path, name: str) -> None:
    """A record file whose name holds a line break or an invisible character: every issue stays one line, escaped."""
    from kdata.records.chars import visible

    (project / "raw" / "places" / f"{name}.yaml").write_bytes((project / "raw/places/riverton.yaml").read_bytes())
    result = run_kdata_here("validate", "raw", cwd=project, env={"KDATA_CACHE_DIR": str(cache)})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"raw/places/{visible(name)}.yaml:1:5: KD107" in result.stdout
    assert name not in result.stdout and all(line.startswith("raw/") for line in result.stdout.splitlines()[:-1])
