"""kdata.fs.scratch: a killed process's scratch folder is deleted by the next one; a live one's never is.

Holders are real processes (``python -c``) that make a scratch folder beside a target, put files
in it and wait; they are then SIGKILLed, SIGTERMed or paused, and another real process (or this
one) makes its own scratch folder beside the same target, which sweeps the dead ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kdata import fs

#: Makes a scratch folder beside argv[1], fills it as argv[2] says, prints its path, then waits for stdin to close.
HOLDER = r"""
import os, sys
from pathlib import Path
from kdata import fs

with fs.scratch(Path(sys.argv[1])) as folder:
    state = sys.argv[2]
    if state in ("files", "nested", "unlocked"):
        (folder / "rows-1.arrow").write_bytes(b"x" * 4096)
        (folder / "rows-1.csv").write_text("id\n1\n")
    if state == "nested":
        (folder / "dist" / "data").mkdir(parents=True)
        (folder / "dist" / "data" / "events.csv").write_text("id\n1\n")
    if state == "unlocked":  # as a deletion of the folder killed after its first file: the lock file gone
        os.unlink(folder / fs._SCRATCH_HOLD[True])
    print(folder, flush=True)
    sys.stdin.read()
"""

STATES = ["empty", "files", "nested", "unlocked"]


@contextmanager
def holder(target: Path, state: str = "files") -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A real process holding a scratch folder beside ``target``; ended (killed) on leaving."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target), state], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line, "the holder died before it made its folder"
        yield proc, Path(line)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def scratch_folders(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}-scratch-"))


def sweep_in_another_process(target: Path) -> None:
    """The next command: a fresh process that makes (and deletes) its own scratch folder beside ``target``."""
    code = "import sys; from pathlib import Path; from kdata import fs\nwith fs.scratch(Path(sys.argv[1])): pass"
    subprocess.run([sys.executable, "-c", code, str(target)], check=True)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_the_next_scratch_deletes_a_killed_processs_folder(tmp_path: Path, state: str, how: signal.Signals) -> None:
    """SIGKILL (no clean-up) and SIGTERM (Python's default: none either) leave the folder; the next process deletes it."""
    target = tmp_path / "dist"
    with holder(target, state) as (proc, folder):
        assert folder.parent == tmp_path and folder.is_dir()
        proc.send_signal(how)
        assert proc.wait() == -how
    assert folder.is_dir(), "nothing cleaned up after the kill: the case the sweep exists for"
    sweep_in_another_process(target)
    assert scratch_folders(target) == []
    assert sorted(os.listdir(tmp_path)) == [".dist.scratch.lock"]  # the lock that orders sweeps, as .dist.lock stays


@pytest.mark.parametrize("state", STATES[:3])
def test_a_live_processs_folder_is_never_deleted(tmp_path: Path, state: str) -> None:
    """Running, or paused (SIGSTOP) for as long as the sweeps take: its folder and files stay; then it cleans up itself."""
    target = tmp_path / "dist"
    with holder(target, state) as (proc, folder):
        before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
        sweep_in_another_process(target)
        fs.clear_scratch(target)  # in this process too: a lock of another process is never taken over
        with fs.scratch(target) as mine:
            assert mine != folder and folder.is_dir()
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            sweep_in_another_process(target)
            fs.clear_scratch(target)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == before
        assert proc.stdin is not None
        proc.stdin.close()  # let it leave its ``with``: it deletes its own folder
        assert proc.wait(timeout=30) == 0
    assert scratch_folders(target) == []


def test_a_scratch_folder_is_deleted_on_leaving_also_after_an_error(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "dist"  # a missing parent is made, as a build makes dist's
    with fs.scratch(target) as folder:
        (folder / "file").write_text("x")
        assert folder.parent == target.parent and folder.name.startswith(".dist-scratch-")
    assert scratch_folders(target) == []
    with pytest.raises(ZeroDivisionError), fs.scratch(target) as folder:
        (folder / "file").write_text("x")
        1 / 0  # noqa: B018  # the point: an error inside
    assert scratch_folders(target) == []


def test_the_sweep_leaves_what_kdata_did_not_make_there(tmp_path: Path) -> None:
    """Only folders are swept: a file or symlink that happens to bear the name stays."""
    target = tmp_path / "dist"
    (tmp_path / ".dist-scratch-file").write_text("mine")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / ".dist-scratch-link").symlink_to(tmp_path / "elsewhere")
    with fs.scratch(target):
        pass
    assert scratch_folders(target) == [".dist-scratch-file", ".dist-scratch-link"]
    assert (tmp_path / "elsewhere").is_dir()


#: Makes, fills, checks and leaves scratch folders beside argv[1] for argv[2] seconds; exits 1 if one lost a file.
CHURN = r"""
import os, sys, time
from pathlib import Path
from kdata import fs

target, end = Path(sys.argv[1]), time.monotonic() + float(sys.argv[2])
rounds = 0
while time.monotonic() < end:
    with fs.scratch(target) as folder:
        (folder / "mine").write_text(str(os.getpid()))
        time.sleep(0.002)
        if (folder / "mine").read_text() != str(os.getpid()):
            sys.exit(1)
    rounds += 1
print(rounds)
"""


def test_processes_making_and_sweeping_at_once_never_delete_each_others_folders(tmp_path: Path) -> None:
    """Six processes make, use and sweep scratch folders beside one target for two seconds, while others are killed."""
    target = tmp_path / "dist"
    churn = [
        subprocess.Popen([sys.executable, "-c", CHURN, str(target), "2"], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    for _ in range(3):  # dead folders appear meanwhile, for the churn to sweep
        with holder(target) as (proc, _):
            proc.kill()
    results = [(proc.wait(timeout=60), proc.communicate()[0]) for proc in churn]
    assert all(code == 0 for code, _ in results), results
    assert sum(int(out) for _, out in results) > 6
    sweep_in_another_process(target)
    assert scratch_folders(target) == []


def test_cache_scratch_lives_in_the_cache_not_the_system_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(fs.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with fs.cache_scratch() as folder:
        assert folder.parent == tmp_path / "cache"
    assert os.listdir(tmp_path / "tmp") == []
    assert os.listdir(tmp_path / "cache") == [".tmp.scratch.lock"]
