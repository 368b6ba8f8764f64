"""kdata.fs: atomic writes, hashes, the cache folder, and whole-folder swaps that a dead writer cannot break."""

from __future__ import annotations

import errno
import hashlib
import os
import sys
from pathlib import Path

import pytest

from kdata import fs


def beside(target: Path) -> list[str]:
    """What lies beside ``target`` in its folder, the target itself left out."""
    return sorted(name for name in os.listdir(target.parent) if name != target.name)


def test_atomic_write_creates_and_replaces_the_file_and_leaves_nothing_beside(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    fs.atomic_write(path, b"first")
    fs.atomic_write(path, b"second, longer than the first")
    assert path.read_bytes() == b"second, longer than the first"
    assert beside(path) == []


def test_atomic_write_that_fails_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        fs.atomic_write(path, "text, not bytes")  # type: ignore[arg-type]  # the point: the write itself fails
    assert path.read_bytes() == b"old" and beside(path) == []
    folder = tmp_path / "dist"  # a non-empty folder cannot be replaced by a file: the last step fails
    (folder / "keep").mkdir(parents=True)
    with pytest.raises(OSError):
        fs.atomic_write(folder, b"new")
    assert (folder / "keep").is_dir() and beside(folder) == ["registry.json"]
    with pytest.raises(FileNotFoundError):
        fs.atomic_write(tmp_path / "missing" / "file", b"x")  # the folder is not created
    assert not (tmp_path / "missing").exists()


def test_sha256_file_hashes_the_whole_file_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    content = os.urandom((1 << 20) * 2 + 123)  # over two 1 MiB chunks
    path.write_bytes(content)
    assert fs.sha256_file(path) == hashlib.sha256(content).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert fs.sha256_file(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()


def test_cache_dir_is_kdata_cache_dir_else_the_users_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(fs.ENV_CACHE, str(tmp_path / "cache"))
    assert fs.cache_dir() == tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # where platformdirs puts it on Linux
    monkeypatch.setenv(fs.ENV_CACHE, "")  # set but empty counts as unset
    default = fs.cache_dir()
    monkeypatch.delenv(fs.ENV_CACHE)
    assert fs.cache_dir() == default and default.name == "kdata"
    if sys.platform.startswith("linux"):
        assert default == tmp_path / "xdg" / "kdata"


def test_write_error_says_what_went_wrong_in_words() -> None:
    assert fs.write_error(OSError(errno.ENOSPC, "No space left", "/dist/a.csv")) == "the disk is full (/dist/a.csv)"
    assert fs.write_error(OSError(errno.EROFS, "Read-only file system")) == "the file system is read-only"
    assert fs.write_error(OSError(errno.ENOENT, "No such file or directory", "x")) == "No such file or directory (x)"


def test_swap_in_replaces_a_folder_whole_and_leaves_only_its_lock(tmp_path: Path) -> None:
    target = tmp_path / "dist"
    first = fs.staging_dir(target)
    assert first.parent == tmp_path and first.name.startswith(".dist-new-") and list(first.iterdir()) == []
    (first / "a.csv").write_text("v1")
    fs.swap_in(first, target)  # the target did not exist
    assert (target / "a.csv").read_text() == "v1" and not first.exists()
    second = fs.staging_dir(target)
    assert second != first
    (second / "b.csv").write_text("v2")
    fs.swap_in(second, target)
    assert sorted(p.name for p in target.iterdir()) == ["b.csv"]  # nothing of the previous version is left
    assert beside(target) == [".dist.lock"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_on_linux_two_folders_are_exchanged_by_renameat2_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_exchange`` swaps two folders in one call, with no process started for it (``find_library`` ran ldconfig)."""
    import subprocess

    started: list[object] = []
    popen = subprocess.Popen

    class Counted(popen):  # type: ignore[type-arg,misc]
        def __init__(self, args: object, *rest: object, **options: object) -> None:
            started.append(args)
            super().__init__(args, *rest, **options)

    monkeypatch.setattr(subprocess, "Popen", Counted)
    fs._renameat2.cache_clear()  # looked up afresh, as by a new process
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "name.txt").write_text(folder.name)
    assert fs._exchange(a, b) is True and fs._exchange(b, a) is True and fs._exchange(a, b) is True
    assert (a / "name.txt").read_text() == "b" and (b / "name.txt").read_text() == "a"
    assert started == []
    with pytest.raises(FileNotFoundError):
        fs._exchange(a, tmp_path / "missing")  # an error of the call itself is raised, not taken for "no renameat2"


def test_a_swap_that_died_between_its_renames_is_undone_by_recover(tmp_path: Path) -> None:
    """``dist`` missing and ``.dist-old-X`` beside it: the previous version is put back; trash is deleted."""
    target = tmp_path / "dist"
    old = tmp_path / ".dist-old-0badc0de"
    old.mkdir()
    (old / "a.csv").write_text("previous")
    (tmp_path / ".dist-trash-12345678" / "x").mkdir(parents=True)
    (tmp_path / ".dist-new-87654321").mkdir()  # a dead writer's staging folder: only clear_staging removes it
    fs.recover(target)
    assert (target / "a.csv").read_text() == "previous"
    assert beside(target) == [".dist-new-87654321", ".dist.lock"]
    fs.clear_staging(target)
    assert beside(target) == [".dist.lock"]


def test_a_swap_that_died_after_its_second_rename_keeps_the_new_version(tmp_path: Path) -> None:
    target = tmp_path / "dist"
    (target / "new.csv").parent.mkdir()
    (target / "new.csv").write_text("new")
    (tmp_path / ".dist-old-0badc0de").mkdir()
    (tmp_path / ".dist-old-0badc0de" / "old.csv").write_text("old")
    fs.recover(target)
    assert [p.name for p in target.iterdir()] == ["new.csv"] and beside(target) == [".dist.lock"]


def test_recover_with_nothing_to_repair_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "dist"
    target.mkdir()
    fs.recover(target)
    fs.recover(tmp_path / "missing" / "dist")  # no parent folder: nothing to do either
    assert os.listdir(tmp_path) == ["dist"]


def test_read_whole_retries_a_failed_read_once_and_returns_the_second_answer(tmp_path: Path) -> None:
    target = tmp_path / "dist"
    target.mkdir()
    calls: list[int] = []

    def read(folder: Path) -> str:
        assert folder == target
        calls.append(1)
        if len(calls) == 1:
            raise FileNotFoundError("between two renames")
        return "whole"

    assert fs.read_whole(target, read) == "whole" and len(calls) == 2
    answers = iter([["a problem"], []])
    assert fs.read_whole(target, lambda folder: next(answers), suspect=bool) == []  # a doubtful answer is read again
    with pytest.raises(FileNotFoundError):
        fs.read_whole(target, lambda folder: (folder / "nothing").read_text())  # the second failure is final


def test_a_check_reads_the_previous_version_of_a_dead_swap_without_repairing_it(tmp_path: Path) -> None:
    """``repair=False`` (``kdata verify``): the dead swap's ``old`` folder is read where it lies and left there."""
    target = tmp_path / "dist"
    with fs.locked(target):  # a writer has locked here before: the lock file exists
        pass
    old = tmp_path / ".dist-old-0badc0de"
    old.mkdir()
    (old / "a.csv").write_text("previous")
    assert fs.read_whole(target, lambda folder: (folder / "a.csv").read_text(), repair=False) == "previous"
    assert not target.exists() and old.is_dir()  # nothing was changed
    assert fs.read_whole(target, lambda folder: (folder / "a.csv").read_text()) == "previous"
    assert target.is_dir() and not old.exists()  # a reader that repairs puts it back


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and Unix sockets are POSIX only")
@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink", "socket"])
def test_read_regular_refuses_what_is_not_a_regular_file(kind: str, tmp_path: Path) -> None:
    """A FIFO is refused at once (no wait for a writer), as are a folder, a symlink and a socket."""
    import socket

    path = tmp_path / "x"

    def bind(p: Path) -> None:
        here = os.getcwd()
        os.chdir(p.parent)
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.bind(p.name)
        finally:
            os.chdir(here)

    make = {"fifo": os.mkfifo, "folder": Path.mkdir, "symlink": lambda p: p.symlink_to(__file__), "socket": bind}
    make[kind](path)
    with pytest.raises(fs.NotRegularFile) as caught:
        fs.read_regular(path, 1000)
    assert (
        caught.value.kind
        == fs._FILE_KINDS[{"fifo": 0o010000, "folder": 0o040000, "symlink": 0o120000, "socket": 0o140000}[kind]]
    )


@pytest.mark.parametrize(
    "size", [0, 1, 4095, fs._READ_STEP - 1, fs._READ_STEP, fs._READ_STEP + 1, 3 * fs._READ_STEP + 7]
)
def test_read_regular_reads_files_of_every_size_whole(tmp_path: Path, size: int) -> None:
    """Reads are sized to the file, then go on a step at a time: every size reads whole, at and around the steps."""
    path = tmp_path / "x"
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    path.write_bytes(data)
    assert fs.read_regular(path, size) == data
    assert fs.read_regular(path, size + fs._READ_STEP) == data
    if size:
        with pytest.raises(fs.FileTooLarge):
            fs.read_regular(path, size - 1)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="no /proc")
def test_read_regular_reads_past_what_fstat_says(tmp_path: Path) -> None:
    """A file longer than its stat says (here /proc's, whose size is 0) is still read whole, and refused past the limit."""
    path = Path("/proc/self/cmdline")
    expected = path.read_bytes()
    assert path.stat().st_size == 0 and len(expected) > 10
    assert fs.read_regular(path, 1 << 20) == expected
    with pytest.raises(fs.FileTooLarge):
        fs.read_regular(path, len(expected) - 1)


def test_read_regular_reads_up_to_its_limit(tmp_path: Path) -> None:
    """A regular file is read whole up to the limit; one byte more is FileTooLarge; a missing file is OSError."""
    path = tmp_path / "x"
    path.write_bytes(b"12345")
    assert fs.read_regular(path, 5) == b"12345"
    with pytest.raises(fs.FileTooLarge):
        fs.read_regular(path, 4)
    with pytest.raises(FileNotFoundError):
        fs.read_regular(tmp_path / "missing", 5)
