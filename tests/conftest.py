"""Shared fixtures: a real raw/ tree on disk and the real ``kdata`` command."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
GOOD = DATA / "good"
#: The archived sources the real dataset cites (beside the checkout, as in CI).
SHARED_SOURCES = REPO.parent / "shared" / "sources"
#: Debian's Chromium; KDATA_CHROMIUM names another build (the GitHub workflow uses Playwright's own).
CHROMIUM = Path(os.environ.get("KDATA_CHROMIUM", "/usr/bin/chromium"))
#: Where the browser tests leave their screenshots (CI keeps the folder as an artifact).
ARTIFACTS = Path(os.environ.get("KDATA_TEST_ARTIFACTS", REPO / "test-artifacts"))
#: Flags that keep Chromium from reaching the network on its own (updates, sync, field trials).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
#: Set to 1 where every test must run (.ci/run, the workflow's Linux job): a skipped test fails the run.
REQUIRE_ALL = "KDATA_REQUIRE_ALL"

_skips: Counter[str] = Counter()

#: A folder in memory (Linux's tmpfs) for the run's temporary files, where the system has one with room to spare.
RAM_FOLDER = Path("/dev/shm")
#: The suite needs about 450 MB there at its peak (measured); below this much free memory it keeps the system's default.
RAM_FOLDER_MIN_FREE = 4 << 30


def pytest_configure(config: pytest.Config) -> None:
    """Put the run's temporary files (``tmp_path``, ``tempfile``, every process the tests start) in memory.

    The suite creates and deletes many small files. On a disk file system each new file costs a search for a free
    inode, and on ext4 without a journal (this project's CI machines) that search skips every inode freed in the
    last seconds (a run of the whole suite: 211 s, system time 81 s; in memory 186 s and 45 s).

    Only where ``TMPDIR`` and ``--basetemp`` are unset (either one chooses the folder), only in the first process
    (xdist's workers inherit ``TMPDIR``), and only where ``RAM_FOLDER`` is a writable folder with
    ``RAM_FOLDER_MIN_FREE`` bytes free. Each run gets a folder of its own (``_ram_run``); memory is not freed by a
    reboot's worth of time, so a run that passed removes its folder at its end, and each run first removes the folders
    of runs that are no longer running (killed, or failed: a failed run's folders stay until the next run).
    """
    _require_all()  # a word it does not know stops the run before any test
    if hasattr(config, "workerinput") or "TMPDIR" in os.environ or config.option.basetemp or not ram_folder_has_room():
        return
    run = _ram_run(RAM_FOLDER / f"kdata-tests-{os.getuid()}")
    if run is not None:
        config.stash[_RAM_RUN] = run
        os.environ["TMPDIR"] = str(run)
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again


def ram_folder_has_room() -> bool:
    """Whether ``RAM_FOLDER`` is a writable folder with ``RAM_FOLDER_MIN_FREE`` bytes free."""
    try:
        free = os.statvfs(RAM_FOLDER)
    except (OSError, AttributeError):  # no such folder; no statvfs (Windows)
        return False
    return free.f_bavail * free.f_frsize >= RAM_FOLDER_MIN_FREE and os.access(RAM_FOLDER, os.W_OK | os.X_OK)


_RAM_RUN = pytest.StashKey[Path]()
_PASSED = pytest.StashKey[bool]()


def _ram_run(root: Path) -> Path | None:
    """A new folder ``root/run-PID`` for this run, after removing those of runs whose process is gone.

    None where ``root`` is not a folder of this user's alone (``RAM_FOLDER`` is shared by every user).
    """
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        info = root.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    for old in root.glob("run-*"):
        pid = old.name.removeprefix("run-")
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    run = root / f"run-{os.getpid()}"
    shutil.rmtree(run, ignore_errors=True)  # a dead run's, whose process number this one was given
    run.mkdir(mode=0o700)
    return run


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process has that number now
        return True
    return True


def pytest_unconfigure(config: pytest.Config) -> None:
    """A run that passed removes its folder in memory (a failed one keeps it, with its failed tests' folders)."""
    run = config.stash.get(_RAM_RUN, None)
    if run is not None and config.stash.get(_PASSED, False):
        shutil.rmtree(run, ignore_errors=True)


#: Modules whose tests share a fixture made once per test process that costs seconds: every test of the site
#: modules (Chromium, the site of dist/) and the benchmark run. Each group goes to one worker as one unit (see
#: ``pytest_xdist_make_scheduler``), which makes it once, instead of each worker making its own.
SHARED_ONCE = {
    "tests/site/test_pages.py": "site",
    "tests/site/test_front.py": "site",
    "tests/site/test_render.py": "site",
    "tests/release/test_cite.py": "site",
    "tests/project/test_benchmarks.py": "benchmark-run",
}

#: Modules each run whole by one worker (one unit each): their module-scoped set-ups cost a second or more (a built
#: and installed wheel, a released project served over HTTP, a fork server), made once instead of once per worker;
#: and the download modules, whose tests mostly wait for a server or a deadline: on one worker, the other worker's
#: processes use the CPU meanwhile, where both workers used to wait on them at the same time.
ONE_WORKER = (
    "tests/reliability/test_portable.py",
    "tests/reliability/test_kills.py",
    "tests/reliability/test_faults.py",
    "tests/project/test_release_workflow.py",
    "tests/test_download_hostile.py",
    "tests/test_download_retries.py",
    "tests/project/test_wheel.py",
    "tests/release/test_archive.py",
    "tests/release/test_local_releases.py",
    "tests/test_download.py",
    "tests/test_download_secrets.py",
    "tests/release/test_diff.py",
)


#: The units of ``SHARED_ONCE`` and ``ONE_WORKER`` in the order they are handed out: longest first (seconds of one
#: worker in a whole run: site 55, portable 49, kills 38, benchmark-run 35, faults 20, the rest 15 or less).
FIRST = (
    "site",
    *ONE_WORKER[:2],
    "benchmark-run",
    *ONE_WORKER[2:],
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/reliability/ (kills, faults, concurrency) carries the ``reliability`` marker.

    The units of ``FIRST`` run first, longest first, then every other test: the long units, started early, end
    while the two workers still share the short tests, instead of leaving one worker alone with one at the end.
    """
    folder = REPO / "tests" / "reliability"
    for item in items:
        if item.path.is_relative_to(folder):
            item.add_marker(pytest.mark.reliability)
    # Stable: the order within each part stays.
    items.sort(key=lambda item: _rank(item.nodeid))


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _group(nodeid: str) -> str | None:
    return SHARED_ONCE.get(_module(nodeid))


def _unit(nodeid: str) -> str:
    """The xdist unit of a test: its ``SHARED_ONCE`` group, its ``ONE_WORKER`` module, or itself."""
    module = _module(nodeid)
    return _group(nodeid) or (module if module in ONE_WORKER else nodeid)


def _rank(nodeid: str) -> int:
    """A unit's place in ``FIRST``; every other test after them."""
    unit = _unit(nodeid)
    return FIRST.index(unit) if unit in FIRST else len(FIRST)


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[object]:
    """Collect with bytecode writing on, whatever PYTHONDONTWRITEBYTECODE says, and restore it after.

    pytest rewrites the asserts of every test module it imports (about 3.5 s of CPU for this suite, in each xdist
    worker) and caches the result in ``__pycache__`` only where bytecode may be written; it reads that cache in
    any case. Where PYTHONDONTWRITEBYTECODE is set (as on CI machines, and here) every run and every worker
    rewrote every module again. The tests themselves, and every process they start, run as the environment says.
    """
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        return (yield)
    finally:
        sys.dont_write_bytecode = saved


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's load balancing, each test a unit of its own, except the ``SHARED_ONCE`` groups and the ``ONE_WORKER``
    modules: one unit each, handed out in the order of ``pytest_collection_modifyitems`` (not reordered by size).

    (``--dist loadgroup`` with ``xdist_group`` markers would do this, but xdist 3.8 marks a group by changing
    ``item._nodeid``, which pytest 9 no longer reads.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class SharedOnce(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    config.option.loadscopereorder = False  # by default xdist hands out the units with the most tests first
    return SharedOnce(config, log)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count skips by reason (also on the xdist controller, which sees every worker's reports)."""
    if report.skipped and isinstance(report.longrepr, tuple):
        _skips[str(report.longrepr[2]).removeprefix("Skipped: ")] += 1


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Count a whole module skipped at collection (``pytest.importorskip`` at its top) as one skip too."""
    if report.skipped and isinstance(report.longrepr, tuple):
        _skips[f"{report.nodeid or report.fspath}: " + str(report.longrepr[2]).removeprefix("Skipped: ")] += 1


def _require_all() -> bool:
    """Whether ``KDATA_REQUIRE_ALL`` is on: the on/off words of kdata's own switches (``KDATA_OFFLINE``)."""
    from kdata.settings import SWITCH_WORDS

    raw = os.environ.get(REQUIRE_ALL, "").strip()
    if raw and raw.lower() not in SWITCH_WORDS:
        words = "/".join(SWITCH_WORDS)
        raise pytest.UsageError(f"{REQUIRE_ALL}={raw!r} is not allowed: use one of {words}, or leave it unset")
    return bool(raw) and SWITCH_WORDS[raw.lower()]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under ``KDATA_REQUIRE_ALL=1`` a skip is a failure: CI must never pass a test it did not run."""
    if _skips and _require_all() and not hasattr(session.config, "workerinput"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    session.config.stash[_PASSED] = session.exitstatus == 0


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line: how many tests skipped and why (and, under KDATA_REQUIRE_ALL, that this fails the run)."""
    if not _skips:
        return
    reasons = "; ".join(f"{count} x {reason}" for reason, count in sorted(_skips.items()))
    if _require_all():
        terminalreporter.write_line(f"FAILED: {sum(_skips.values())} skipped where all must run: {reasons}", red=True)
    else:
        terminalreporter.write_line(f"{sum(_skips.values())} skipped: {reasons}", yellow=True)


def run_kdata(
    *args: str | Path,
    cwd: Path,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``kdata`` command (``python -m kdata``) in a subprocess, with variables added to its environment."""
    return subprocess.run(
        [sys.executable, "-m", "kdata", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        preexec_fn=preexec_fn,
    )


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder (hidden ones too), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep every cache (validation results, downloads) of the test run out of the user's cache folder."""
    os.environ.setdefault("KDATA_CACHE_DIR", str(tmp_path_factory.mktemp("kdata-cache")))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the small, valid test project: raw/, with the archived text it cites in raw/sources/."""
    shutil.copytree(GOOD / "raw", tmp_path / "raw")
    return tmp_path


@pytest.fixture(scope="session")
def _built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test project built once per test process by the real command (a build costs a Python start)."""
    root = tmp_path_factory.mktemp("built-once")
    shutil.copytree(GOOD / "raw", root / "raw")
    result = run_kdata("build", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def built(project: Path, _built_once: Path) -> Path:
    """The test project with dist/ and schemas/ as the real command builds them (copies of one build)."""
    for folder in ("dist", "schemas"):
        shutil.copytree(_built_once / folder, project / folder, symlinks=True)
    return project


def without_root_file_access() -> None:
    """In the child process: drop the capabilities that let root read any file (DAC override and read search).

    Root ignores file permissions only through these two capabilities; removed from the bounding
    set before ``exec``, the new process is root that obeys permissions like any user.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH (linux/capability.h)
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) was refused")


@pytest.fixture(scope="session")
def dist_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of the repository's built package (dist/), written once per test process; tests only read it."""
    from kdata.site.render import build_site

    out = tmp_path_factory.mktemp("dist-site") / "site"
    build_site(out, REPO / "dist")
    return out


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Chromium from Debian's package, driven by Playwright, launched once per test process.

    Skips, saying why, without Chromium or Playwright (in CI, under KDATA_REQUIRE_ALL, a skip fails the run).
    """
    missing = ""
    if not CHROMIUM.is_file():
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = missing or "playwright is not installed (make test installs it)"
    if missing:
        pytest.skip(f"browser tests need Chromium: {missing}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: The window a browser test starts with (px); a test that needs another width sets it on its page.
WINDOW = {"width": 1280, "height": 900}


class Watched:
    """A browser page whose requests, console errors, page errors and dialogs are recorded.

    One page per test process is shared by the browser tests (a new context costs about a second of CPU, a new
    page half of one, a navigation a quarter): each test navigates where it needs to and ``check`` runs after it.
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.loaded = False  # whether any request was seen on this page since it opened
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def check(self) -> None:
        """No request left file://, the console showed no error and no dialog opened (since the last check)."""
        requests, errors, dialogs = self.requests[:], self.errors[:], self.dialogs[:]
        self.loaded = self.loaded or bool(requests)
        del self.requests[:], self.errors[:], self.dialogs[:]
        assert self.loaded and all(url.startswith("file://") for url in requests), requests
        assert errors == [] and dialogs == [], (errors, dialogs)


@pytest.fixture(scope="session")
def _tabs(chromium: Any) -> dict[bool, Watched]:
    """The test process's two browser pages: with JavaScript (True) and without (False), each in a context of its
    own (JavaScript is a setting of the context)."""
    return {
        js: Watched(chromium.new_context(java_script_enabled=js, viewport=WINDOW).new_page()) for js in (True, False)
    }


def _tab(tabs: dict[bool, Watched], js: bool) -> Iterator[Watched]:
    watched = tabs[js]
    if watched.page.viewport_size != WINDOW:
        watched.page.set_viewport_size(WINDOW)
    del watched.requests[:], watched.errors[:], watched.dialogs[:]  # a failed test's leftovers are its own
    yield watched
    watched.check()


@pytest.fixture
def tab(_tabs: dict[bool, Watched]) -> Iterator[Watched]:
    """The test process's browser page (JavaScript on, 1280 x 900 px), checked after the test (``Watched.check``)."""
    yield from _tab(_tabs, True)


@pytest.fixture
def plain_tab(_tabs: dict[bool, Watched]) -> Iterator[Watched]:
    """The test process's browser page with JavaScript off (1280 x 900 px), checked after the test."""
    yield from _tab(_tabs, False)
