"""The incremental validate reports exactly what a full run reports, after random edits, renames and deletions.

Each trial starts from the test project and applies seeded random changes that reach every check across
records: ids changed (KD107) and duplicated (KD201), references pointed at missing or other records
(KD202), parents that close and open cycles (KD204), publication dates moved (KD205, KD206), quotes and
archived texts edited (KD301, KD303), files renamed, copied, deleted, restored and broken. After each
step the cached run (stat, or git as the source of what changed) and a run with no cache must agree.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import GOOD
from inprocess import run_kdata_here

#: The folder that holds the kdata under test, for child processes.
_HERE = str(Path(__import__("kdata").__file__).resolve().parent.parent)
ID = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b")


def _validate(project: Path, cache: Path, *flags: str) -> tuple[int, list[dict[str, object]]]:
    result = run_kdata_here(
        "validate", "raw", "--format", "json", *flags, cwd=project, env={"KDATA_CACHE_DIR": str(cache)}
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def _aged(*roots: Path) -> None:
    """Set back by an hour the mtime of each of ``roots`` and of everything under it: the cache keeps their
    stats at once (a file whose mtime is less than ``listing.RACY_NS`` old is read again by the next run)."""
    for root in roots:
        for path in [root, *root.rglob("*")]:
            st = path.lstat()
            if not path.is_symlink():
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 3600 * 10**9))


def _records(raw: Path) -> list[Path]:
    return sorted(raw.glob("*/*.yaml"))


def _ids(raw: Path) -> list[str]:
    return sorted({m.group(0) for p in _records(raw) for m in ID.finditer(p.read_text("utf-8", "replace"))})


def _retarget(rng: random.Random, raw: Path) -> None:
    """Replace one id named in a record with another id of the tree, or with one no record has."""
    path = rng.choice(_records(raw))
    text = path.read_text("utf-8", "replace")
    found = list(ID.finditer(text))
    if found:
        m = rng.choice(found)
        new = rng.choice([*_ids(raw), "no-such-record", "riverton-x"])
        path.write_text(text[: m.start()] + new + text[m.end() :], "utf-8")


def _parent(rng: random.Random, raw: Path) -> None:
    """Give an actor or place a parent of its table (cycles come and go), or none."""
    table = rng.choice(["actors", "places"])
    files = sorted((raw / table).glob("*.yaml"))
    if not files:
        return
    path = rng.choice(files)
    lines = [x for x in path.read_text("utf-8", "replace").splitlines() if not x.startswith("parent:")]
    choice = rng.choice([*(p.stem for p in files), "null"])
    path.write_text("\n".join([*lines, f"parent: {choice}"]) + "\n", "utf-8")


def _rename(rng: random.Random, raw: Path) -> None:
    path = rng.choice(_records(raw))
    stem = rng.choice([*(p.stem for p in _records(raw)), "renamed", "town-council", "riverton"])
    path.rename(path.with_name(f"{stem}.yaml"))


def _copy(rng: random.Random, raw: Path) -> None:
    path = rng.choice(_records(raw))
    target = path.with_name(f"copy-{rng.randint(1, 3)}.yaml")
    if target != path:
        shutil.copy(path, target)


def _delete(rng: random.Random, raw: Path) -> None:
    rng.choice([*_records(raw), *raw.glob("sources/*.txt")]).unlink()


def _restore(rng: random.Random, raw: Path) -> None:
    original = rng.choice(sorted(p for p in (GOOD / "raw").glob("*/*") if p.is_file()))
    shutil.copy(original, raw / original.parent.name / original.name)


def _text(rng: random.Random, raw: Path) -> None:
    """Edit an archived text; sometimes give its record the new sha256, so the quotes are checked against it."""
    texts = sorted(raw.glob("sources/*.txt"))
    if texts:
        text = rng.choice(texts)
        words = text.read_text("utf-8").split(" ")
        words[rng.randrange(len(words))] = rng.choice(["returned", "bridge", "1,300"])
        text.write_text(" ".join(words), "utf-8")
        record = text.with_suffix(".yaml")
        if rng.random() < 0.6 and record.exists():
            digest = hashlib.sha256(text.read_bytes()).hexdigest()
            record.write_text(re.sub(r"sha256: \w+", f"sha256: {digest}", record.read_text("utf-8")), "utf-8")


def _published(rng: random.Random, raw: Path) -> None:
    sources = sorted(raw.glob("sources/*.yaml"))
    if sources:
        path = rng.choice(sources)
        date = rng.choice(["2019", "2020-02-01", "2020-05-01", "2025"])
        path.write_text(re.sub(r"published: \S+", f"published: {date}", path.read_text("utf-8")), "utf-8")


def _quote(rng: random.Random, raw: Path) -> None:
    path = rng.choice(_records(raw))
    text = path.read_text("utf-8", "replace")
    path.write_text(text.replace("residents", rng.choice(["people", "residents"]), 1), "utf-8")


def _break(rng: random.Random, raw: Path) -> None:
    rng.choice(_records(raw)).write_text(rng.choice(["id: [unclosed\n", "just text\n", "id: x\nkind: 12\n"]))


def _stray(rng: random.Random, raw: Path) -> None:
    (raw / rng.choice(["events", "places"]) / "notes.md").write_text("a note\n")


def _touch_most(rng: random.Random, raw: Path) -> None:
    """Give most record files a new mtime (a checkout of another branch): the cache is filled again in bulk."""
    files = _records(raw)
    for path in rng.sample(files, max(1, len(files) * 4 // 5)):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))


OPS: list[Callable[[random.Random, Path], None]] = [
    _retarget,
    _retarget,
    _parent,
    _parent,
    _rename,
    _copy,
    _delete,
    _restore,
    _restore,
    _text,
    _published,
    _quote,
    _break,
    _stray,
    _touch_most,
]


def _mutate(rng: random.Random, raw: Path) -> None:
    for _ in range(rng.randint(1, 3)):
        if _records(raw):
            rng.choice(OPS)(rng, raw)


@pytest.mark.parametrize("seed", range(4))
def test_cached_runs_equal_full_runs_after_random_changes(project: Path, tmp_path: Path, seed: int) -> None:
    """Thirty random steps; after each, the incremental run and the run without cache report the same (and
    every fifth, a run that fills an empty cache)."""
    rng, cache, codes = random.Random(seed), tmp_path / "cache", set()
    for step in range(30):
        _mutate(rng, project / "raw")
        full = _validate(project, cache, "--no-cache")
        assert _validate(project, cache) == full, f"seed {seed}, step {step}"
        if step % 5 == 0:  # an empty cache, filled in bulk from the same tree
            assert _validate(project, tmp_path / f"empty-{step}") == full, f"seed {seed}, step {step}, empty"
        codes.update(str(issue["code"]) for issue in full[1])
    assert len(codes) >= 4, codes


@pytest.mark.skipif(not hasattr(os, "fork") or os.uname().sysname != "Linux", reason="the stats are split on Linux")
@pytest.mark.parametrize("seed", range(2))
def test_cached_runs_with_the_stats_split_between_two_processes_equal_full_runs(
    project: Path, tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing's second half stat-ed by a forked child (``statpass``; here from 2 files on, as from 10,000 in
    use): after random changes that move the split point across tables, the results equal a full run's."""
    from kdata.records import statpass

    taken: list[int] = []  # each time the child's answer is taken
    real = statpass._read
    monkeypatch.setenv("KDATA_JOBS", "2")
    monkeypatch.setattr(statpass, "MIN_FILES", 2)
    monkeypatch.setattr(statpass, "_read", lambda memory: taken.append(1) or real(memory))
    rng, cache = random.Random(100 + seed), tmp_path / "cache"
    for step in range(20):
        _mutate(rng, project / "raw")
        full = _validate(project, cache, "--no-cache")
        assert _validate(project, cache) == full, f"seed {seed}, step {step}"
    assert len(taken) >= 15, taken
    # And no file is read again for nothing: unchanged files are found unchanged on either side of the split.
    from kdata.records import incremental

    monkeypatch.chdir(project)
    monkeypatch.setenv("KDATA_CACHE_DIR", str(cache))
    records = _records(Path("raw"))
    _aged(Path("raw"))
    incremental.check_tree(Path("raw"))
    assert incremental.check_tree(Path("raw")).rechecked == 0
    for path in (records[0], records[-1]):  # one in this process's half, one in the child's
        path.write_bytes(path.read_bytes() + b"\n")
    assert incremental.check_tree(Path("raw")).rechecked == 2


def _git(project: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(project), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["git", *args], cwd=project, env=env, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(("seed", "lookups"), [(0, True), (1, True), (2, False)])
def test_git_as_the_source_of_changes_equals_full_runs(
    project: Path, tmp_path: Path, seed: int, lookups: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a real git repository: random edits, commits, checkouts of older commits and stashes; ``--git`` runs
    (and stat runs sharing their cache) report what a full run reports after every step. The files git names
    looked up one by one, or (as for many of them) found in one pass over the listing and the cache."""
    from kdata.records import incremental

    if not lookups:
        monkeypatch.setattr(incremental, "MAX_LOOKUPS", -1)
        monkeypatch.setattr(incremental, "LOOKUP_SHARE", 10**9)
    rng, cache = random.Random(100 + seed), tmp_path / "cache"
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "start")
    commits = [_git(project, "rev-parse", "HEAD").strip()]
    for step in range(30):
        action = rng.random()
        if action < 0.2:
            _git(project, "add", "-A")
            _git(project, "commit", "-qm", f"step {step}", "--allow-empty")
            commits.append(_git(project, "rev-parse", "HEAD").strip())
        elif action < 0.3:
            _git(project, "checkout", "-q", rng.choice(commits), "--", "raw")  # files of an older commit
        elif action < 0.35:
            _git(project, "stash", "-q", "--include-untracked")
        else:
            _mutate(rng, project / "raw")
        full = _validate(project, cache, "--no-cache")
        flags = ("--git",) if rng.random() < 0.8 else ()
        assert _validate(project, cache, *flags) == full, f"seed {seed}, step {step}, {flags}"


def test_a_text_deleted_then_restored_rechecks_the_quotes_citing_it(project: Path, tmp_path: Path) -> None:
    """No record changes while its text is away: the quotes edited meanwhile are checked when it comes back."""
    cache, raw = tmp_path / "cache", project / "raw"
    text = raw / "sources/test-wire-2020-05-01.txt"
    kept = text.read_bytes()
    steps: list[Callable[[], object]] = [
        text.unlink,
        lambda: (raw / "figures/riverton-bridge-length.yaml").write_text(
            (raw / "figures/riverton-bridge-length.yaml").read_text().replace("4 kilometres long", "5 kilometres long")
        ),
        lambda: text.write_bytes(kept),
    ]
    for step in steps:
        step()
        full = _validate(project, cache, "--no-cache")
        assert _validate(project, cache) == full
    assert {issue["code"] for issue in full[1]} == {"KD301"}


def test_a_file_rewritten_while_the_cache_is_filled_is_read_again_by_the_next_run(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache keeps each file's stat from before it was read: a write landing just after the read (here, made
    by the check itself) leaves a stat that differs, so the next run reads the file again and reports it."""
    from kdata.records import incremental, scan

    monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(project)
    target = sorted((project / "raw/events").glob("*.yaml"))[0]
    real = scan.check_file

    def written_during_the_read(table: str, path: str) -> object:
        found = real(table, path)
        if Path(path).name == target.name:
            target.write_text(target.read_text("utf-8").replace("id: ", "id: rewritten-", 1), "utf-8")
        return found

    monkeypatch.setattr(scan, "check_file", written_during_the_read)
    _aged(project / "raw")  # else every file of the new tree is read again by the next run (below)
    filled = incremental.check_tree(Path("raw"), jobs=1)
    monkeypatch.setattr(scan, "check_file", real)
    after = incremental.check_tree(Path("raw"), jobs=1)
    assert after.rechecked == 1
    assert not [i for i in filled.issues if i.code == "KD107"]
    assert [(i.file, i.code) for i in after.issues if i.code == "KD107"] == [(f"raw/events/{target.name}", "KD107")]
    assert after.issues == incremental.check_tree(Path("raw"), jobs=1).issues  # and it is cached as it now is


def test_a_file_changed_just_before_a_run_is_read_again_by_the_next_run(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stat taken less than ``RACY_NS`` after the file's mtime is not kept: a write in the same tick of the file's
    clock, after the read, would leave it as it was. So the next run reads that file (or package.yaml, or an
    archived text) again, until its mtime is that old."""
    from kdata.records import incremental, listing

    monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(project)
    packaged = []
    real_package_issues = incremental._package_issues
    monkeypatch.setattr(incremental, "_package_issues", lambda root: packaged.append(1) or real_package_issues(root))
    raw = Path("raw")
    _aged(raw)
    assert incremental.check_tree(raw, jobs=1).rechecked == len(_records(raw))  # filled
    packaged.clear()
    assert incremental.check_tree(raw, jobs=1).rechecked == 0 and packaged == []
    target, text = _records(raw)[3], next((raw / "sources").glob("*.txt"))
    for path in (target, raw / "package.yaml", text):
        path.write_bytes(path.read_bytes())  # the same bytes, a new stat
    stored_texts = f"SELECT count(*) FROM texts WHERE path = '{text}' AND mtime IS NULL"
    for _ in range(2):  # read again as long as the write is recent
        assert incremental.check_tree(raw, jobs=1).rechecked == 1 and len(packaged) == 1
        packaged.clear()
        with incremental.sqlite3.connect(incremental.cache_file(raw)) as db:
            assert db.execute(stored_texts).fetchone()[0] == 1  # the text's row: no stat
    time.sleep(listing.RACY_NS / 1e9)
    assert incremental.check_tree(raw, jobs=1).rechecked == 1 and len(packaged) == 1  # stored stat: ()
    packaged.clear()
    assert incremental.check_tree(raw, jobs=1).rechecked == 0 and packaged == []  # settled
    with incremental.sqlite3.connect(incremental.cache_file(raw)) as db:
        assert db.execute(stored_texts).fetchone()[0] == 0  # its stat kept
    assert _validate(project, tmp_path / "cache") == _validate(project, tmp_path / "cache", "--no-cache")
    text.write_bytes(text.read_bytes() + b" ")
    incremental.check_tree(raw, jobs=1)  # a text changed just now: kept without a stat
    text.unlink()  # then gone: the run sees it gone
    assert "KD302" in {i.code for i in incremental.check_tree(raw, jobs=1).issues}
    assert _validate(project, tmp_path / "cache") == _validate(project, tmp_path / "cache", "--no-cache")


def _add(folder: Path) -> None:
    shutil.copy(sorted(folder.glob("*.yaml"))[0], folder / "added.yaml")


def _replace_by_folder(folder: Path) -> None:
    path = sorted(folder.glob("*.yaml"))[0]
    path.unlink()
    path.mkdir()


#: Changes to a table folder's entries (each changes the folder's stat), and one to a file's content only.
FOLDER_CHANGES: dict[str, Callable[[Path], None]] = {
    "added": _add,
    "deleted": lambda folder: sorted(folder.glob("*.yaml"))[-1].unlink(),
    "renamed": lambda folder: sorted(folder.glob("*.yaml"))[0].rename(folder / "zz-renamed.yaml"),
    "stray file": lambda folder: (folder / "notes.txt").write_text("a note\n"),
    "symlink": lambda folder: (folder / "linked.yaml").symlink_to(sorted(folder.glob("*.yaml"))[0].name),
    "folder named .yaml": _replace_by_folder,
    "hidden file": lambda folder: (folder / ".hidden").write_text(""),
    "content only": lambda folder: sorted(folder.glob("*.yaml"))[0].write_text("id: [broken\n"),
}


def test_a_folder_whose_stat_is_unchanged_is_not_listed_again_and_any_change_to_its_entries_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table folder last listed at the same stat takes its names from the cache (``listing.Known``); adding,
    deleting, renaming or replacing an entry changes the folder's stat, so the next run lists it again."""
    from kdata.records import incremental

    projects = {}
    for name in FOLDER_CHANGES:  # one project each, all settled at once (a stat just taken is not kept)
        projects[name] = tmp_path / name.replace(" ", "-")
        shutil.copytree(GOOD / "raw", projects[name] / "raw")
    _aged(tmp_path)
    recalled: list[str] = []
    real = incremental._Folders.names

    def names(self: incremental._Folders, folder: str, key: tuple[int, ...]) -> list[str] | None:
        found = real(self, folder, key)
        recalled.extend([folder] if found is not None else [])
        return found

    monkeypatch.setattr(incremental._Folders, "names", names)
    rows_read: list[str] = []  # the folders whose stats were read a row a file
    real_rows = incremental._rows

    def rows(db: Any, folder: str, columns: str) -> Any:
        rows_read.append(folder)
        return real_rows(db, folder, columns)

    monkeypatch.setattr(incremental, "_rows", rows)
    for name, change in FOLDER_CHANGES.items():
        monkeypatch.chdir(projects[name])
        monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / f"cache-{name}"))
        incremental.check_tree(Path("raw"))  # fills the cache (the workers stat the files), then keeps the folders
        recalled.clear()
        rows_read.clear()
        assert incremental.check_tree(Path("raw")).rechecked == 0
        assert (
            "raw/events" in recalled and rows_read == []
        )  # names and stats from the values the fill kept and "raw/sources" not in recalled  # texts beside records: always listed
        change(projects[name] / "raw" / "events")
        if name != "content only":  # the folder's new stat kept at once: only its difference makes it listed again
            os.utime(projects[name] / "raw" / "events", ns=(0, time.time_ns() - 3600 * 10**9))
    for name in FOLDER_CHANGES:
        project, cache = projects[name], tmp_path / f"cache-{name}"
        monkeypatch.chdir(project)
        monkeypatch.setenv("KDATA_CACHE_DIR", str(cache))
        recalled.clear()
        rows_read.clear()
        found = incremental.check_tree(Path("raw"))
        assert ("raw/events" in recalled) == (name == "content only"), name
        assert "raw/events" not in rows_read, name  # its stats from the value kept: whole, or by name
        # Only the file added, renamed or rewritten is read: the others keep the stats the cache holds of them.
        assert found.rechecked == (name in ("added", "renamed", "content only")), name
        assert _validate(project, cache) == _validate(project, cache, "--no-cache"), name


def test_a_run_that_finds_nothing_changed_imports_neither_yaml_nor_pydantic(project: Path, tmp_path: Path) -> None:
    """The second run of an unchanged tree prints the stored issues without loading the models."""
    import sys

    (project / "raw/places/riverton.yaml").write_text("id: riverton\nkind: 12\n")  # an issue to print, too
    code = (
        "import sys, kdata.cli\n"
        "try:\n    kdata.cli.main(['validate', 'raw', '--format', 'json'], standalone_mode=True)\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('yaml', 'pydantic', 'kdata.records.models') if m in sys.modules), file=sys.stderr)"
    )
    env = {**os.environ, "KDATA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": _HERE}
    _aged(project / "raw")  # a file changed just before a run is read again by the next one
    runs = [
        subprocess.run([sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True) for _ in "ab"
    ]
    assert runs[0].stderr.strip() == "['kdata.records.models', 'pydantic', 'yaml']"
    assert runs[1].stderr.strip() == "[]"
    assert runs[0].stdout == runs[1].stdout and "KD102" in runs[1].stdout


def test_a_killed_run_never_leaves_a_cache_that_gives_wrong_results(project: Path, tmp_path: Path) -> None:
    """SIGKILL at random moments of cached runs that recheck changed files: the next run equals a full run."""
    import signal
    import sys
    import time

    if not hasattr(signal, "SIGKILL"):
        pytest.skip("no SIGKILL")
    rng, cache = random.Random(7), tmp_path / "cache"
    env = {**os.environ, "KDATA_CACHE_DIR": str(cache), "PYTHONPATH": _HERE}
    command = [sys.executable, "-m", "kdata", "validate", "raw"]
    # The kills are aimed within the life of a run on this machine: one run, unkilled, with a cache of its own.
    began = time.monotonic()
    subprocess.run(command, cwd=project, env={**env, "KDATA_CACHE_DIR": str(tmp_path / "timed")}, check=True)
    life, killed = time.monotonic() - began, 0
    for trial in range(8):
        _mutate(rng, project / "raw")
        child = subprocess.Popen(command, cwd=project, env=env)
        time.sleep(rng.uniform(0.05, life))
        child.send_signal(signal.SIGKILL)
        killed += child.wait() == -signal.SIGKILL  # not ended before the kill
        assert _validate(project, cache) == _validate(project, cache, "--no-cache"), f"trial {trial}"
    assert killed >= 4, f"{killed} of 8 runs killed before their end"


def test_a_cache_made_by_other_code_with_other_tables_is_made_again(project: Path, tmp_path: Path) -> None:
    """A cache whose fingerprint is another code's, with a table of another shape, is dropped and filled afresh."""
    import sqlite3

    cache = tmp_path / "cache"
    _validate(project, cache)
    (stored,) = (cache / "validate").glob("*.sqlite")
    db = sqlite3.connect(stored)
    db.execute("DROP TABLE files")
    db.execute("CREATE TABLE files(path TEXT, other INTEGER)")
    db.execute("CREATE TABLE leftover(x)")
    db.execute("UPDATE meta SET v = 'older code' WHERE k = 'fingerprint'")
    db.commit()
    db.close()
    (project / "raw/places/riverton.yaml").write_text("id: riverton\nkind: 12\n")
    assert _validate(project, cache) == _validate(project, cache, "--no-cache")
    db = sqlite3.connect(stored)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "leftover" not in tables and "stats" in tables


@pytest.mark.parametrize("seed", range(3))
def test_a_cache_damaged_inside_is_replaced_and_the_run_is_right(project: Path, tmp_path: Path, seed: int) -> None:
    """Bytes overwritten at random inside the SQLite file (pages that only reading shows are broken), or rows
    that disagree (a file's stat gone, its row kept): the run is a cold one on a new cache, never a traceback."""
    import sqlite3

    rng, cache = random.Random(seed), tmp_path / "cache"
    for trial in range(8):
        _mutate(rng, project / "raw")
        full = _validate(project, cache, "--no-cache")
        _validate(project, cache)  # fills or patches the cache
        (stored,) = (cache / "validate").glob("*.sqlite")
        if trial % 4 == 3:
            db = sqlite3.connect(stored)
            db.execute("DELETE FROM stats")  # the files' rows stay: a fill would insert them again
            db.commit()
            db.close()
        else:
            size = stored.stat().st_size
            with stored.open("r+b") as damaged:
                for _ in range(20):
                    damaged.seek(rng.randrange(size))
                    damaged.write(rng.randbytes(64))
        assert _validate(project, cache) == full, f"seed {seed}, trial {trial}"
        assert _validate(project, cache, "--git") == full, f"seed {seed}, trial {trial}, --git"
        assert _validate(project, cache) == full, f"seed {seed}, trial {trial}, after"


#: Each value the cache keeps with a checksum (``sealing``): where it is, and what makes the next run read it.
SEALED = {
    "a file's issues": ("SELECT rowid, blob FROM issues", "UPDATE issues SET blob = ? WHERE rowid = ?", None),
    "the package file's issues": (
        "SELECT rowid, v FROM meta WHERE k = 'package'",
        "UPDATE meta SET v = ? WHERE rowid = ?",
        None,
    ),
    "a folder's names and stats": (
        "SELECT rowid, v FROM folders WHERE path = 'raw/events'",
        "UPDATE folders SET v = ? WHERE rowid = ?",
        None,
    ),
    "a source's result": (
        "SELECT rowid, data FROM files WHERE tbl = 'sources'",
        "UPDATE files SET data = ? WHERE rowid = ?",
        "raw/sources/test-wire-2020-05-01.txt",  # its text rewritten: the source's checks across records run again
    ),
}


def test_a_byte_changed_inside_a_value_the_cache_keeps_is_damage_and_the_run_is_right(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed byte that still reads as a value (an issue's text, a date, a name) fails its checksum: the run is a
    cold one on a new cache, never the damaged value printed. Twelve bytes of each kind of value are tried, one at a
    time; a folder's value with fewer names than stats is damage too."""
    import sqlite3

    from kdata.records import incremental
    from kdata.records.sealing import sealed, unsealed

    (project / "raw/places/riverton.yaml").write_text("id: riverton\nkind: 12\n")  # issues to keep
    (project / "raw/package.yaml").write_text((project / "raw/package.yaml").read_text() + "unknown: 1\n")
    monkeypatch.chdir(project)
    _aged(project / "raw")
    raw, cache = Path("raw"), tmp_path / "cache"
    monkeypatch.setenv("KDATA_CACHE_DIR", str(cache))
    incremental.check_tree(raw)
    full = incremental.check_tree(raw).issues
    assert {i.code for i in full} >= {"KD102"} and len({i.file for i in full}) >= 2
    (stored,) = (cache / "validate").glob("*.sqlite")
    pristine = stored.read_bytes()
    rng = random.Random(5)
    for kind, (select, update, trigger) in SEALED.items():
        stored.write_bytes(pristine)  # the last kind's damage made a new cache, filled
        with sqlite3.connect(stored) as db:
            rowid, blob = db.execute(select).fetchone()
        for at in [0, 3, 4, len(blob) - 1, *rng.sample(range(5, len(blob) - 1), 8)]:  # checksum, value, last
            stored.write_bytes(pristine)
            with sqlite3.connect(stored) as db:
                flipped = bytearray(blob)
                flipped[at] ^= rng.randrange(1, 256)
                db.execute(update, (bytes(flipped), rowid))
            if trigger:
                Path(trigger).write_bytes(Path(trigger).read_bytes())
            found = incremental.check_tree(raw)
            assert found.issues == full, f"{kind}, byte {at}"
            assert found.rechecked == len(_records(raw)), f"{kind}, byte {at}: not a cold run"
    stored.write_bytes(pristine)
    with sqlite3.connect(stored) as db:  # a folder's value sealed afresh, with a name fewer than its stats
        (value,) = db.execute("SELECT v FROM folders WHERE path = 'raw/events'").fetchone()
        key, names, *stats = unsealed(value)
        shorter = sealed((key, names.rpartition(b"\0")[0], *stats))
        db.execute("UPDATE folders SET v = ? WHERE path = 'raw/events'", (shorter,))
    found = incremental.check_tree(raw)
    assert found.issues == full and found.rechecked == len(_records(raw))


def _cell_count_zeroed(db: Any, file: Path) -> None:
    """The cell count of the issues table's root page set to 0 (a flipped byte: its rows are lost, not broken)."""
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'issues'").fetchone()
    (size,) = db.execute("PRAGMA page_size").fetchone()
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with file.open("r+b") as damaged:
        damaged.seek((root - 1) * size + 3)
        damaged.write(b"\0\0")


#: Damage that reads as the cache's own data: issues or counts lost, changed or added behind its back.
BEHIND: dict[str, Callable[[Any, Path], None]] = {
    "one issues row deleted": lambda db, _: db.execute(
        "DELETE FROM issues WHERE rowid = (SELECT min(rowid) FROM issues)"
    ),
    "every issues row deleted": lambda db, _: db.execute("DELETE FROM issues"),
    "an issues row added": lambda db, _: db.execute(
        "INSERT INTO issues SELECT 'raw/events/' || path, blob FROM issues LIMIT 1"
    ),
    "two issues rows' values swapped": lambda db, _: db.execute(
        "UPDATE issues SET blob = (SELECT blob FROM issues AS o WHERE o.rowid != issues.rowid LIMIT 1)"
    ),
    "a count changed": lambda db, _: db.execute("UPDATE meta SET v = v - 1 WHERE k = 'count:events'"),
    "a count made text": lambda db, _: db.execute("UPDATE meta SET v = CAST(v AS TEXT) WHERE k = 'count:events'"),
    "a count made a blob": lambda db, _: db.execute("UPDATE meta SET v = CAST(v AS BLOB) WHERE k = 'count:events'"),
    "a count made NULL": lambda db, _: db.execute("UPDATE meta SET v = NULL WHERE k = 'count:events'"),
    "a count deleted": lambda db, _: db.execute("DELETE FROM meta WHERE k = 'count:places'"),
    "the summary deleted": lambda db, _: db.execute("DELETE FROM meta WHERE k = 'summary'"),
    "the summary and the issues deleted": lambda db, _: db.executescript(
        "DELETE FROM meta WHERE k = 'summary'; DELETE FROM issues"
    ),
    "the issues page's cell count zeroed": _cell_count_zeroed,
}


@pytest.mark.parametrize("name", sorted(BEHIND))
def test_issues_or_counts_changed_behind_the_caches_back_are_damage(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Rows lost, added or swapped, and counts changed, read as the cache's own data: each run checks them against
    the summary its last run sealed, so the run is a cold one with the right issues and counts, never "valid"."""
    import sqlite3

    from kdata.records import incremental

    (project / "raw/places/riverton.yaml").write_text("id: riverton\nkind: 12\n")  # issues in two files
    (project / "raw/actors/dup.yaml").write_text((project / "raw/actors").glob("*.yaml").__next__().read_text())
    monkeypatch.chdir(project)
    _aged(project / "raw")
    raw, cache = Path("raw"), tmp_path / "cache"
    monkeypatch.setenv("KDATA_CACHE_DIR", str(cache))
    incremental.check_tree(raw)
    full = incremental.check_tree(raw)
    assert len({i.file for i in full.issues}) >= 2 and full.rechecked == 0
    (stored,) = (cache / "validate").glob("*.sqlite")
    db = sqlite3.connect(stored)
    BEHIND[name](db, stored)
    db.commit()
    db.close()
    found = incremental.check_tree(raw)
    assert (found.issues, found.counts) == (full.issues, full.counts)
    assert found.rechecked == len(_records(raw)), "not a cold run"
    assert incremental.check_tree(raw).rechecked == 0  # the new cache is whole again
