"""kdata where ``fcntl`` and ``renameat2`` do not exist (Windows, macOS), run here by taking both away.

Each test runs real kdata processes with a prelude (``PRELUDE``) that can:

- make ``import fcntl`` raise ImportError (``sys.modules["fcntl"] = None``), as on Windows: kdata
  must not need it, and filelock then locks with its own fallback (a marker file);
- refuse the ``renameat2`` exchange (``kdata.fs._exchange`` answers False), as on macOS and
  Windows: every swap of a folder takes the rename fallback, where the target is missing between
  two renames;
- hide libyaml (``sys.modules["yaml._yaml"] = None``), as where PyYAML was built without it;
- widen that window (after the first rename, hold it open until every concurrent reader has met it:
  has found the target missing and gone for the lock, which it gets once the swap is over);
- trace, and hold at a gate, each acquisition of the real lock (``kdata.fs.locked``), so a
  test can see a second build or download wait for the first.

Nothing under test is replaced: the builds, downloads, locks, swaps, repairs and reads are kdata's
own, on real files, with real processes and a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GOOD, snapshot
from releasing import released_project

from kdata.datapackage.build import build
from kdata.datapackage.verify import verify

PRELUDE = r"""
import json, os, sys, time
from contextlib import contextmanager
from pathlib import Path

if os.environ.get("T_NO_FCNTL"):
    sys.modules["fcntl"] = None  # `import fcntl` now raises ImportError, as on Windows
    try:
        import fcntl
    except ImportError:
        pass
    else:
        raise SystemExit("fcntl is still importable")

if os.environ.get("T_NO_LIBYAML"):
    sys.modules["yaml._yaml"] = None  # as where PyYAML was built without libyaml: no CSafeLoader
    import yaml
    assert not yaml.__with_libyaml__ and not hasattr(yaml, "CSafeLoader")

import kdata.fs as fs

if os.environ.get("T_NO_EXCHANGE"):
    def _refuse(a, b):  # as where renameat2 is missing: the swap takes the rename fallback
        if os.environ.get("T_REFUSED"):
            with open(os.environ["T_REFUSED"], "a") as log:
                log.write(f"{b}\n")
        return False

    fs._exchange = _refuse

if os.environ.get("T_MARK"):  # a reader: note each wait for the lock that began while the target was missing
    _held, _marks = fs._held, Path(os.environ["T_MARK"])

    def _mark(kind):
        with open(_marks / str(os.getpid()), "a") as log:
            log.write(f"{kind} {time.time()}\n")

    @contextmanager
    def _marked(target, path=None):  # the real lock; the marks only say when this process waited for it
        missing = not os.path.lexists(target)  # inside a swap's window: dist/ moved aside, the new one not yet in
        if missing:
            _mark("wants")
        with _held(target, path):
            if missing:
                _mark("got")
            yield

    fs._held = _marked

if os.environ.get("T_PAUSE"):
    _rename, _pause, _met = os.rename, float(os.environ["T_PAUSE"]), os.environ.get("T_MET")

    def _met_since(start):  # how many readers met the window opened at start (see T_MARK)
        found = 0
        for log in Path(_met).iterdir():
            marks = [line.split() for line in log.read_text().splitlines()]
            # a wait for the lock begun in this window, or one begun earlier and still waiting
            found += any(float(t) > start for _, t in marks) or bool(marks and marks[-1][0] == "wants")
        return found

    def _slow(a, b):  # widen the window between the first two renames, where the target is missing
        _rename(a, b)
        if "-old-" in os.path.basename(b):
            start = time.time()
            time.sleep(_pause)
            # T_MET: hold the window open until every reader (T_READERS) has met it: has found the
            # target missing and waits for the lock (that this process holds), whatever the load.
            deadline = start + 120
            while _met and _met_since(start) < int(os.environ["T_READERS"]):
                assert time.time() < deadline, "the readers did not meet the window within 120 s"
                for pid in os.environ["T_READER_PIDS"].split():  # a reader that failed never comes
                    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                    assert state not in "ZX", f"reader {pid} ended during a window"
                time.sleep(0.005)
            if os.environ.get("T_WINDOWS"):
                with open(os.environ["T_WINDOWS"], "a") as log:
                    log.write(f"{start} {time.time()}\n")

    os.rename = _slow

if os.environ.get("T_TRACE"):
    _locked, _trace, _gate = fs.locked, Path(os.environ["T_TRACE"]), os.environ.get("T_GATE")

    @contextmanager
    def _traced(target):  # the real lock, with marks when it is wanted and held, and an optional gate
        (_trace / f"wants-{os.getpid()}").touch()
        with _locked(target):
            (_trace / f"holds-{os.getpid()}").touch()
            while _gate and not os.path.exists(_gate):
                time.sleep(0.02)
            yield

    fs.locked = _traced
"""

#: The ``kdata`` command after the prelude.
CLI = "from kdata.cli import main\nmain(sys.argv[1:], prog_name='kdata')\n"

#: As on Windows: no fcntl, no renameat2.
PORTABLE = {"T_NO_FCNTL": "1", "T_NO_EXCHANGE": "1"}
#: The two lock implementations a process can get here: flock (Linux, macOS), and filelock's
#: marker-file fallback, which it uses where fcntl is missing.
LOCKS = {"flock": {}, "no-fcntl": {"T_NO_FCNTL": "1"}}

RECORD = Path("events/riverton-return-2020.yaml")
TITLES = (
    "title: Residents returned to Riverton",
    "title: Residents moved back to Riverton",
    "title: Residents came back to Riverton",
)

BUILDER = r"""
from kdata.datapackage.build import build
count, raws = int(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
# T_PROGRESS: a folder where each reader leaves the start time of its last read. Given, a builder
# waits for every reader (T_READERS of them) to have begun a read after each of its swaps, so each
# build is read whatever the machine's load (without it, a slow reader could miss one build).
progress, readers = os.environ.get("T_PROGRESS"), int(os.environ.get("T_READERS", "0"))


def read_since(moment):
    deadline = time.time() + 120
    while time.time() < deadline:
        begun = [float(f.read_text() or 0) for f in Path(progress).glob("*.last")]
        if len(begun) == readers and min(begun) > moment:
            return
        time.sleep(0.02)
    raise AssertionError("the readers did not read within 120 s")


# T_TURNS: a folder that counts the swaps done; given, builder T_ME of T_BUILDERS swaps only in its
# turn (swap k is builder k mod T_BUILDERS's), after the readers have read the swap before: the
# contents then follow each other in a known order, each read, whichever process gets the lock first.
turns, me, builders = os.environ.get("T_TURNS"), int(os.environ.get("T_ME", "0")), int(os.environ.get("T_BUILDERS", "1"))


def my_turn(swap):
    deadline = time.time() + 120
    while len(list(Path(turns).iterdir())) != swap:
        if time.time() > deadline:
            raise AssertionError(f"swap {swap} never came")
        time.sleep(0.02)


if progress:
    read_since(0)
for n in range(count):
    if turns:
        my_turn(n * builders + me)
    build(raws[n % len(raws)], Path("dist"))
    if progress:
        read_since(time.time())
    if turns:
        (Path(turns) / str(n * builders + me)).touch()
print("built", count, flush=True)
"""

READER = r"""
import kdata
from kdata.datapackage.verify import verify

mode, stop, refs = sys.argv[1], Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
dist = Path("dist")
tables = [kdata.load_table("events", package=r) for r in refs]
frames = [kdata.load("events", package=r) for r in refs]
descriptors = [kdata.metadata(r) for r in refs]


def which(found, wanted, what):
    for n, want in enumerate(wanted):
        if (found.equals(want) if hasattr(found, "equals") else found == want):
            return n
    raise AssertionError(f"{what} read from dist/ is neither build")


stats = {"reads": [], "seen": []}
n = 0
while not stop.exists() or n < 3:
    n += 1
    began = time.time()
    if n % 2:
        fs.recover(dist)  # the cleanup readers run first (every other turn: reads must cope without it)
    if mode == "load":
        seen = {which(kdata.load_table("events", package=dist), tables, "load_table"),
                which(kdata.load("events", package=dist), frames, "load"),
                which(kdata.metadata(dist), descriptors, "metadata")}
    else:
        problems = verify(dist)
        assert problems == [], problems
        seen = {which(kdata.metadata(dist), descriptors, "metadata")}
    stats["reads"].append([began, time.time()])
    stats["seen"] = sorted(set(stats["seen"]) | seen)
    if os.environ.get("T_PROGRESS"):  # the start of this read, for the builders (replaced whole)
        mark = Path(os.environ["T_PROGRESS"]) / mode
        mark.with_suffix(".tmp").write_text(repr(began))
        os.replace(mark.with_suffix(".tmp"), mark.with_suffix(".last"))
    time.sleep(0.2)  # the builders get the CPU meanwhile; each window waits for the next read
print(json.dumps(stats), flush=True)
"""


def command(*args: str | Path, code: str = CLI) -> list[str]:
    """``python -c PRELUDE+code ARGS``: by default the ``kdata`` command."""
    return [sys.executable, "-c", PRELUDE + code, *map(str, args)]


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("T_") and k != "KDATA_OFFLINE"}
    return {**env, **extra}


def run(*args: str | Path, cwd: Path, env: dict[str, str], code: str = CLI) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command(*args, code=code), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def start(*args: str | Path, cwd: Path, env: dict[str, str], code: str = CLI) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(*args, code=code), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str], timeout: float = 300) -> str:
    """Wait for a process; fail the test unless it exited 0 without a traceback; return its stdout."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0 and "Traceback" not in err, out + err
    return out


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear in {timeout} s"
        time.sleep(0.02)


def leftovers(folder: Path, name: str) -> list[str]:
    """Swap folders beside ``name`` (``.NAME-new-*``, ``-old-*``, ``-trash-*``)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}-"))


def raw_with_title(root: Path, title: str) -> Path:
    """A copy of the good test raw/ whose Riverton record has ``title``."""
    shutil.copytree(GOOD / "raw", root)
    record = root / RECORD
    record.write_text(record.read_text().replace(TITLES[0], title))
    return root


# -- (a) kdata build and a versioned load without fcntl and without renameat2 ----------------------


def test_build_without_fcntl_or_renameat2_gives_the_normal_bytes(built: Path, tmp_path: Path) -> None:
    """`kdata build` twice (the second swaps dist/ by renames) where `import fcntl` fails: same bytes as the normal build."""
    project = tmp_path / "portable"
    shutil.copytree(GOOD / "raw", project / "raw")
    refused = tmp_path / "refused.log"
    env = environ(**PORTABLE, T_REFUSED=str(refused))
    for _ in range(2):
        result = run("build", cwd=project, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert refused.read_text().splitlines() == ["schemas", "dist"]  # the second build swapped both by renames
    assert snapshot(project / "dist") == snapshot(built / "dist")
    assert snapshot(project / "schemas") == snapshot(built / "schemas")
    assert leftovers(project, "dist") == []
    result = run("verify", "dist", cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_and_build_without_libyaml_give_the_normal_output(built: Path, tmp_path: Path) -> None:
    """PyYAML without its C parser (no ``CSafeLoader``): validate and build run on PyYAML's own, same bytes."""
    project = tmp_path / "no-libyaml"
    shutil.copytree(GOOD / "raw", project / "raw")
    env = environ(T_NO_LIBYAML="1", KDATA_CACHE_DIR=str(tmp_path / "cache"))
    for args in (("validate",), ("build",)):
        result = run(*args, cwd=project, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot(project / "dist") == snapshot(built / "dist")
    record = project / "raw" / RECORD
    record.write_text(record.read_text() + "unknown_field: 1\n")
    result = run("validate", cwd=project, env=env)
    assert result.returncode == 1 and "KD104" in result.stdout, result.stdout + result.stderr


class _Counting(http.server.SimpleHTTPRequestHandler):
    hits: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.hits.append(self.path)
        super().do_GET()


@dataclass(frozen=True)
class Release:
    """Version 0.1.0 released, registered and served over HTTP; ``hits`` lists the paths requested."""

    registry: Path
    url: str
    file: str
    hits: list[str]

    def env(self, cache: Path, **extra: str) -> dict[str, str]:
        return environ(
            KDATA_REGISTRY=str(self.registry), KDATA_BASE_URL=f"{self.url}/", KDATA_CACHE_DIR=str(cache), **extra
        )


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    root = tmp_path_factory.mktemp("portable-release")
    _, registry = released_project(root, root / "www")
    entry = json.loads(registry.read_text())["releases"]["0.1.0"]
    handler = type("Handler", (_Counting,), {"hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root / "www")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Release(registry, f"http://127.0.0.1:{server.server_address[1]}", entry["file"], handler.hits)
    finally:
        server.shutdown()
        server.server_close()


LOAD = r"""
import hashlib, kdata
frame = kdata.load("events", version="0.1.0")
digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
print(kdata.metadata(version="0.1.0")["version"], len(frame), digest)
"""


def _normal_load(release: Release, cache: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What ``LOAD`` prints on the normal path, run in this process (fcntl and renameat2 both here): the reference."""
    for key, value in release.env(cache).items():
        if key.startswith("KDATA_"):
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("KDATA_OFFLINE", raising=False)
    out = io.StringIO()
    with redirect_stdout(out):
        exec(LOAD, {})
    return out.getvalue()


def test_versioned_load_without_fcntl_or_renameat2(
    release: Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kdata.load(version=...)` and `kdata download --refresh` where `import fcntl` fails and renameat2 is refused.

    The load fetches over HTTP into a fresh cache and gives what the normal path gives, byte for
    byte; a damaged cached copy is then replaced by the rename fallback, again byte-identical.
    """
    normal, portable, refused = tmp_path / "normal", tmp_path / "portable", tmp_path / "refused.log"
    expected = _normal_load(release, normal, monkeypatch)
    env = release.env(portable, **PORTABLE, T_REFUSED=str(refused))
    result = run(cwd=tmp_path, env=env, code=LOAD)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected and result.stdout.startswith("0.1.0 ")
    assert snapshot(portable / "0.1.0") == snapshot(normal / "0.1.0")
    assert (portable / release.file).read_bytes() == (normal / release.file).read_bytes()

    csv = portable / "0.1.0" / "events.csv"
    csv.write_text(csv.read_text() + "x\n")
    stale = run("download", "0.1.0", cwd=tmp_path, env=env)
    assert stale.returncode == 1 and "no longer matches the registry" in stale.stderr, stale.stderr
    fresh = run("download", "0.1.0", "--refresh", cwd=tmp_path, env=env)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.strip().splitlines()[-1] == str(portable / "0.1.0")
    assert refused.read_text().count("\n") == 1  # the refresh swapped the folder by renames
    assert snapshot(portable / "0.1.0") == snapshot(normal / "0.1.0")
    assert leftovers(portable, "0.1.0") == [] and verify(portable / "0.1.0") == []


# -- (b) the rename fallback with concurrent readers -------------------------------------------------


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[Path]]:
    """Two raw/ folders (titles A and B) and their packages, built once in this process: (raws, dists)."""
    root = tmp_path_factory.mktemp("two-builds")
    raws = [raw_with_title(root / f"raw-{k}", title) for k, title in zip("ab", TITLES[:2], strict=True)]
    for raw in raws:
        build(raw, root / f"ref-{raw.name}" / "dist")
    return raws, [root / f"ref-{raw.name}" / "dist" for raw in raws]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_rename_swaps_with_concurrent_readers(
    tmp_path: Path, lock: str, two_builds: tuple[list[Path], list[Path]]
) -> None:
    """Two builders rebuild dist/ 4 times in turn, A and B, by renames; two readers read meanwhile.

    One reader loads (``load_table``, ``load``, ``metadata``), the other runs ``verify``; both run
    ``fs.recover`` every other turn, as readers do. Each swap holds dist/ missing until both
    readers have met it (found it missing and gone for the lock), and each builder waits after
    each swap for both readers to read again. Every read must equal one whole build, no process
    may fail, every window must have been met by every reader, the readers must have seen both
    builds, and the final dist/ must be one build, verified, with nothing left beside it.
    """
    project = tmp_path / "project"
    raws, refs = two_builds  # each content built once on its own, to compare every read with
    env = environ(**LOCKS[lock], T_NO_EXCHANGE="1")
    shutil.copytree(refs[0], project / "dist")  # the first dist/ (build A): no swap yet, nor a process of its own

    stop, windows, progress, met = tmp_path / "stop", tmp_path / "windows.log", tmp_path / "progress", tmp_path / "met"
    progress.mkdir()
    met.mkdir()
    env = {**env, "T_PROGRESS": str(progress), "T_READERS": "2"}
    readers = [
        start(mode, stop, *refs, cwd=project, env={**env, "T_MARK": str(met)}, code=READER)
        for mode in ("load", "verify")
    ]
    builder_env = {**env, "T_PAUSE": "0.01", "T_MET": str(met), "T_WINDOWS": str(windows)}
    builder_env["T_READER_PIDS"] = " ".join(str(r.pid) for r in readers)
    turns = tmp_path / "turns"  # A, B, A, B: a, b, b, a, each read before the next swap
    turns.mkdir()
    builder_env = {**builder_env, "T_TURNS": str(turns), "T_BUILDERS": "2"}
    builders = [
        start(2, *order, cwd=project, env={**builder_env, "T_ME": str(me)}, code=BUILDER)
        for me, order in enumerate((raws, raws[::-1]))
    ]
    try:
        outputs = [finish(b) for b in builders]
    finally:
        stop.touch()
    stats = [json.loads(finish(r).strip().splitlines()[-1]) for r in readers]
    assert outputs == ["built 2\n", "built 2\n"]
    gaps = [[float(t) for t in line.split()] for line in windows.read_text().splitlines()]
    assert len(gaps) == 4  # all 4 swaps went by renames
    waits = []  # each reader's waits for the lock that began with dist/ missing: [wanted, got]
    for reader in readers:
        marks = [line.split() for line in (met / str(reader.pid)).read_text().splitlines()]
        assert [kind for kind, _ in marks] == ["wants", "got"] * (len(marks) // 2), marks
        waits.append([(float(marks[n][1]), float(marks[n + 1][1])) for n in range(0, len(marks), 2)])
    for gap_start, gap_end in gaps:  # each reader waited for the lock across each window, dist/ missing
        assert all(any(w < gap_end and gap_start < g for w, g in mine) for mine in waits), (gaps, waits)
    caught = [sum(a < gap_end and gap_start < b for a, b in s["reads"] for gap_start, gap_end in gaps) for s in stats]
    print(lock, "reads", [len(s["reads"]) for s in stats], "reads across a missing dist/", caught)
    assert all(len(s["reads"]) >= 3 for s in stats)
    assert all(c >= len(gaps) for c in caught), caught  # those reads went on across the window, and succeeded
    assert set().union(*(s["seen"] for s in stats)) == {0, 1}, stats
    assert snapshot(project / "dist") in [snapshot(ref) for ref in refs]
    assert leftovers(project, "dist") == []
    assert verify(project / "dist") == []


# -- (c) two builds, two downloads: they take turns through the lock ---------------------------------


def _second_waits(first: subprocess.Popen[str], second: subprocess.Popen[str], trace: Path) -> None:
    """While ``first`` holds the lock at the gate, ``second`` wants it and does not get it (for 0.3 s: a lock that
    let it through would do so within milliseconds of its asking)."""
    wait_for(trace / f"wants-{second.pid}", second)
    time.sleep(0.3)
    assert second.poll() is None, second.communicate()
    assert not (trace / f"holds-{second.pid}").exists()
    assert first.poll() is None


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_two_builds_take_turns(tmp_path: Path, lock: str) -> None:
    """A second `kdata build` waits while a first one holds the lock (held at a gate before its swap)."""
    project, trace, gate = tmp_path / "project", tmp_path / "trace", tmp_path / "gate"
    trace.mkdir()
    raws = [raw_with_title(project / f"raw-{k}", title) for k, title in zip("abc", TITLES, strict=True)]
    env = environ(**LOCKS[lock], T_NO_EXCHANGE="1", T_TRACE=str(trace))
    build(raws[0], project / "dist")  # the dist/ to replace (in this process)
    before = snapshot(project / "dist")
    first = start("build", "--raw", raws[1], cwd=project, env={**env, "T_GATE": str(gate)})
    try:
        wait_for(trace / f"holds-{first.pid}", first)
        second = start("build", "--raw", raws[2], cwd=project, env=env)
        _second_waits(first, second, trace)
        assert snapshot(project / "dist") == before
        beside = leftovers(project, "dist")
        assert [name for name in beside if "-scratch-" not in name] == []  # the second stages only with the lock
        assert len(beside) == 2  # each build's rows in its own scratch folder: neither swept the other's
    finally:
        gate.touch()
    finish(first)
    finish(second)
    build(raws[2], tmp_path / "ref")
    assert snapshot(project / "dist") == snapshot(tmp_path / "ref")  # raw-c: the second build swapped last
    assert leftovers(project, "dist") == []
    assert verify(project / "dist") == []


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_two_downloads_take_turns(release: Release, tmp_path: Path, lock: str) -> None:
    """A second `kdata download` waits for the first, then finds its copy: the archive is fetched once."""
    cache, trace, gate = tmp_path / "cache", tmp_path / "trace", tmp_path / "gate"
    trace.mkdir()
    env = release.env(cache, **LOCKS[lock], T_NO_EXCHANGE="1", T_TRACE=str(trace))
    hits = len(release.hits)
    first = start("download", "0.1.0", cwd=tmp_path, env={**env, "T_GATE": str(gate)})
    try:
        wait_for(trace / f"holds-{first.pid}", first)
        second = start("download", "0.1.0", cwd=tmp_path, env=env)
        _second_waits(first, second, trace)
        assert not (cache / "0.1.0").exists() and release.hits[hits:] == []
    finally:
        gate.touch()
    outputs = [finish(first), finish(second)]
    assert {out.strip().splitlines()[-1] for out in outputs} == {str(cache / "0.1.0")}
    assert release.hits[hits:] == [f"/{release.file}"]  # one download; the second process found it
    assert verify(cache / "0.1.0") == [] and leftovers(cache, "0.1.0") == []


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_a_build_that_waits_too_long_for_the_lock_stops_with_one_line(tmp_path: Path, lock: str) -> None:
    """``KDATA_LOCK_TIMEOUT`` bounds the wait: the second build names the folder and the lock file, and changes nothing."""
    project, trace, gate = tmp_path / "project", tmp_path / "trace", tmp_path / "gate"
    trace.mkdir()
    raws = [raw_with_title(project / f"raw-{k}", title) for k, title in zip("ab", TITLES[:2], strict=True)]
    env = environ(**LOCKS[lock], T_TRACE=str(trace))
    build(raws[0], project / "dist")  # the dist/ to replace (in this process)
    before = snapshot(project / "dist")
    first = start("build", "--raw", raws[0], cwd=project, env={**env, "T_GATE": str(gate)})
    try:
        wait_for(trace / f"holds-{first.pid}", first)
        began = time.monotonic()
        second = run("build", "--raw", raws[1], cwd=project, env={**env, "KDATA_LOCK_TIMEOUT": "1"})
        waited = time.monotonic() - began
    finally:
        gate.touch()
    finish(first)
    assert second.returncode == 1 and waited < 30, (waited, second.stderr)
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "over 1 s" in lines[0] and "dist" in lines[0] and "KDATA_LOCK_TIMEOUT" in lines[0]
    assert snapshot(project / "dist") == before and leftovers(project, "dist") == []


def test_builds_alternate_between_the_system_lock_and_the_marker_lock(tmp_path: Path) -> None:
    """The file a system lock leaves behind is never taken for a held marker lock (that build waited forever)."""
    project = tmp_path / "project"
    raw = raw_with_title(project / "raw", TITLES[1])
    for kind in ("flock", "no-fcntl", "flock"):  # both ways: system lock -> marker lock -> system lock
        result = run("build", "--raw", raw, cwd=project, env=environ(**LOCKS[kind], KDATA_LOCK_TIMEOUT="20"))
        assert result.returncode == 0, (kind, result.stdout + result.stderr)
    assert verify(project / "dist") == []
