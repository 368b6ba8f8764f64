"""SIGKILL during ``kdata build``: dist/ is always the old build or the new one, complete and valid.

Builds are forked from a *zygote*: a process that has imported kdata and its libraries once (no
build run, no thread started) and forks one child per build; each child runs the real ``kdata
build`` command (``kdata.cli.main``) in its own process. The suite kills at deterministic points:
an unkilled build lists its steps on dist/ and the folders beside it (folders made, files
written, renames, ``renameat2``, deletions), then one build per step SIGKILLs itself just before
that step, so every state the file system passes through is hit, with both swap methods
(``renameat2`` and the two-rename fallback of systems without it). A cold ``python -m kdata
build`` is also killed as soon as each phase's files appear.

After each kill the real ``kdata verify`` must find one whole, valid build and change nothing
(it repairs no swap); dist/ is then recovered as the next build does first (``fs.recover``) and
must be byte-identical to the build before the kill or to the new one.

``kill_cycles`` kills at random moments instead, aimed by timing unkilled builds, every fourth
build pausing itself (SIGSTOP) inside the swap; ``benchmarks/stress.py`` runs it 1,000 times.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import run_kdata, snapshot
from inprocess import run_kdata_here

from kdata.fs import clear_scratch, clear_staging, recover

RECORD = Path("raw/events/riverton-return-2020.yaml")
TITLES = ("title: Residents returned to Riverton", "title: Residents moved back to Riverton")

ZYGOTE = r"""
import os, sys
import kdata.datapackage.build, kdata.cli, kdata.fs, kdata.datapackage.write, kdata.records.validate, kdata.datapackage.verify
import kdata.site.render
import pandas, pyarrow, pyarrow.parquet  # imported once; nothing runs, so no thread exists at fork time
import builtins, io, json, pathlib, shutil, signal, tempfile


def _steps(project, kill_at):
    # Number each step a build takes on dist/ and the folders beside it; SIGKILL itself just before
    # step kill_at. A step is a call that changes the file system under dist or .dist-*: a folder
    # made, a file opened for writing, a rename or replace, renameat2, a tree deleted (and that
    # deletion stopped after its first file). Each step taken is appended to <project>.steps.
    trace = open(project + ".steps", "a")
    taken = [0]

    def ours(path):
        try:
            rel = os.path.relpath(os.path.abspath(os.fsdecode(path)), project)
        except (TypeError, ValueError):
            return False
        first = rel.split(os.sep)[0]
        return first == "dist" or first.startswith(".dist-")

    def step(kind, *paths):
        if not any(ours(p) for p in paths):
            return
        if taken[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # as a SIGKILL from outside: nothing is cleaned up
        taken[0] += 1
        shown = " ".join(os.path.relpath(os.path.abspath(os.fsdecode(p)), project) for p in paths)
        trace.write(f"{kind} {shown}\n")
        trace.flush()

    def wrap(owner, name, kind, count):
        real = getattr(owner, name)

        def stepped(*args, **kwargs):
            step(kind, *args[:count])
            return real(*args, **kwargs)

        setattr(owner, name, stepped)

    real_open, real_rmtree = builtins.open, shutil.rmtree

    def open_(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wxa+"):
            step("write", file)
        return real_open(file, mode, *args, **kwargs)

    def rmtree(path, *args, **kwargs):
        step("rmtree", path)
        files = sorted(os.path.join(r, f) for r, _, names in os.walk(path) for f in names) if ours(path) else []
        if files:
            os.unlink(files[0])
            step("rmtree-begun", path)  # a deletion killed half-way
        return real_rmtree(path, *args, **kwargs)

    _open_with(open_)
    shutil.rmtree = rmtree
    wrap(os, "mkdir", "mkdir", 1)
    wrap(os, "rename", "rename", 2)
    wrap(os, "replace", "replace", 2)
    wrap(kdata.fs, "_exchange", "exchange", 2)


def _die_on(pattern, count, how):
    # Send this process the signal ``how`` just before it opens for writing the ``count``-th file whose
    # path matches ``pattern`` (fnmatch): the earlier ones are written, as a kill mid-way leaves them.
    import fnmatch
    seen = [0]
    real_open = builtins.open

    def open_(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wxa+"):
            if fnmatch.fnmatch(os.path.abspath(os.fsdecode(file)), pattern):
                seen[0] += 1
                if seen[0] == count:
                    os.kill(os.getpid(), how)  # as from outside: Python's default action, no clean-up
        return real_open(file, mode, *args, **kwargs)

    _open_with(open_)


def _open_with(open_):
    builtins.open = io.open = open_  # io.open: what Path.open and write_bytes call
    accessor = getattr(pathlib, "_NormalAccessor", None)  # Python 3.10: Path.open calls the io.open it bound
    if accessor is not None and "open" in vars(accessor):
        accessor.open = staticmethod(open_)


print("ready", flush=True)
while True:
    line = sys.stdin.readline()
    if not line:
        break
    request = json.loads(line)
    if "wait" in request:
        print(os.waitpid(request["wait"], 0)[1], flush=True)
        continue
    pid = os.fork()
    if pid == 0:
        try:
            project, mode, kill_at = request["cwd"], request["mode"], request.get("kill_at")
            os.chdir(project)
            os.environ.update(request.get("env", {}))
            tempfile.tempdir = None  # TMPDIR as given to this build
            log = request.get("log")  # where its stdout and stderr go (LOG.out, LOG.err), else nowhere
            for fd, name in ((1, "out"), (2, "err")):
                os.dup2(os.open(f"{log}.{name}" if log else os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            if mode.startswith("renames"):
                kdata.fs._exchange = lambda a, b: False  # as on a system without renameat2
            if kill_at is not None:  # kill this build just before its step number kill_at (-1: kill none, list them)
                _steps(project, kill_at)
            if request.get("die_on"):
                _die_on(*request["die_on"])
            if mode.endswith("-stop"):  # pause in the middle of the swap, for the test to kill it there
                rename, exchange = os.rename, kdata.fs._exchange

                def paused_rename(a, b):
                    rename(a, b)
                    if ".dist-old-" in str(b):  # dist/ moved aside, the new one not yet in place
                        os.kill(os.getpid(), signal.SIGSTOP)

                def paused_exchange(a, b):
                    done = exchange(a, b)
                    if os.path.basename(str(b)) == "dist":  # not the build's earlier swap of schemas/
                        os.kill(os.getpid(), signal.SIGSTOP)  # exchanged; the old content not yet deleted
                    return done

                if mode.startswith("renames"):
                    os.rename = paused_rename
                else:
                    kdata.fs._exchange = paused_exchange
            kdata.cli.main(request.get("argv", ["build"]), prog_name="kdata")
        except SystemExit as exc:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        except BaseException:
            import traceback
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(70)  # never back into the loop above: a child only ever runs its command
        os._exit(0)
    print(pid, flush=True)
"""


class Zygote:
    """A warm Python process that forks one real ``kdata`` command (by default ``kdata build``) per request."""

    def __init__(self, tmpdir: Path | None = None) -> None:
        """``tmpdir``: the system temporary folder of the builds (``TMPDIR``), to see what they leave there."""
        self.env = {"TMPDIR": str(tmpdir)} if tmpdir else {}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._read() == "ready"

    def _read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def _send(self, request: dict[str, object]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def start(
        self,
        project: Path,
        mode: str,
        kill_at: int | None = None,
        *,
        argv: tuple[str, ...] = ("build",),
        env: dict[str, str] | None = None,
        die_on: tuple[str, int, int] | None = None,
        log: Path | None = None,
    ) -> int:
        """Fork ``kdata ARGV`` in ``project``; return its pid.

        ``kill_at``: the build numbers its steps (``<project>.steps``) and SIGKILLs itself just before
        that one (-1: none). ``env``: variables added to its environment. ``die_on``: (pattern, n,
        signal): it sends itself the signal just before it opens the n-th file matching the pattern
        for writing. ``log``: its stdout and stderr go to ``LOG.out`` and ``LOG.err``.
        """
        request = {"cwd": str(project), "mode": mode, "kill_at": kill_at, "argv": list(argv), "die_on": die_on}
        request["log"] = str(log) if log else None
        self._send({**request, "env": {**self.env, **(env or {})}})
        return int(self._read())

    def wait(self, pid: int) -> int:
        """Reap a command; return its wait status."""
        self._send({"wait": pid})
        return int(self._read())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    """One warm Python for the module's forked commands (each request names its own ``TMPDIR``)."""
    forks = Zygote()
    try:
        yield forks
    finally:
        forks.close()


def set_title(project: Path, title: str) -> None:
    record = project / RECORD
    record.write_text(record.read_text().replace(TITLES[0], title).replace(TITLES[1], title))


def _leftovers(project: Path, kind: str) -> list[Path]:
    return sorted(project.glob(f".dist-{kind}-*"))


@dataclass
class Phases:
    """Seconds after fork: when the staging folder appeared, when dist/ was swapped, when the build ended."""

    stage: float
    swap: float
    end: float


def calibrate(zygote: Zygote, project: Path, mode: str, runs: int = 3) -> Phases:
    """Watch unkilled builds and time their phases (median of ``runs``)."""
    found: list[Phases] = []
    for n in range(runs):
        set_title(project, TITLES[n % 2])
        inode = (project / "dist").stat().st_ino
        start = time.monotonic()
        pid = zygote.start(project, mode)
        stage = swap = None
        while time.monotonic() - start < 20:
            now = time.monotonic() - start
            if stage is None and _leftovers(project, "new"):
                stage = now
            try:
                changed = (project / "dist").stat().st_ino != inode
            except FileNotFoundError:
                changed = True  # between the two renames
            if changed and swap is None:
                swap = now
                break
            time.sleep(0.0005)  # a busy loop would slow the build it times, and kills would come late
        status = zygote.wait(pid)
        end = time.monotonic() - start
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        assert swap is not None
        found.append(Phases(stage if stage is not None else swap, swap, end))
    found.sort(key=lambda p: p.swap)
    return found[len(found) // 2]


def _wait_stopped(pid: int, timeout: float = 30) -> None:
    """Wait until a process has stopped itself (state T), or has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("T", "t", "Z"):
            return
        time.sleep(0.002)
    raise AssertionError(f"build {pid} did not reach the swap in {timeout} s")


def delay(rng: random.Random, phases: Phases, n: int, shift: float) -> float:
    """A kill moment: spread over the whole build (slot 0), the staging writes (1) or after the swap (3).

    ``shift`` corrects the measured phases by what recent kills hit (see ``kill_cycles``).
    """
    slot = n % 4
    if slot == 0:
        return rng.uniform(0, phases.end)
    stage, swap = phases.stage + shift, phases.swap + shift
    if slot == 1:
        return max(rng.uniform(stage - 0.005, swap), 0)
    return max(rng.uniform(swap, swap + (phases.end - phases.swap) / 2), 0)


#: Where a kill aimed before the swap landed too late.
_LATE = {"after-swap", "finished"}


def classify(project: Path, old: dict[str, str], new: dict[str, str]) -> str:
    """Where the kill landed, read from what it left behind (before any recovery)."""
    dist = project / "dist"
    if not dist.exists():
        return "swap"  # between the two renames: only .dist-old-* holds the package
    now = snapshot(dist)
    if now == old and not _leftovers(project, "new"):
        return "before-staging" if old != new else "unchanged"
    if now == old:
        return "staging"
    if now == new and (_leftovers(project, "new") or _leftovers(project, "old")):
        return "swap"  # swapped; the previous content not yet deleted
    if now == new:
        return "after-swap"
    return "mixed"  # never acceptable


@dataclass
class KillStats:
    """What a run of kill cycles saw."""

    kills: int = 0
    finished: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    cli_verified: int = 0
    frictionless_validated: int = 0


def _listing(project: Path) -> list[str]:
    """The project folder's entries, without the lock file: filelock 3.x deletes it on release, 4.x leaves it."""
    return sorted(p.name for p in project.iterdir() if not p.name.endswith("lock"))


def check_dist(project: Path, allowed: list[dict[str, str]], cli: bool, frictionless: bool, stats: KillStats) -> None:
    """Verify (read-only), recover as the next build does, then demand a complete, valid dist/ of one build."""
    if cli:
        before = _listing(project)
        result = run_kdata_here("verify", cwd=project)  # the command's own function; the build it checks is dead
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
        assert _listing(project) == before  # a check repairs nothing
        stats.cli_verified += 1
    recover(project / "dist")  # what the next build does first
    assert snapshot(project / "dist") in allowed  # byte-identical to a complete build that verified
    assert not _leftovers(project, "old")
    if frictionless:
        import frictionless as fl

        report = fl.validate(str(project / "dist" / "datapackage.json"))
        assert report.valid, report.flatten(["type", "note"])[:20]
        stats.frictionless_validated += 1


def kill_cycles(
    project: Path,
    kills: int,
    mode: str,
    seed: int,
    cli_every: int = 10,
    frictionless_every: int = 50,
    cover: dict[str, int] | None = None,
    most: int = 0,
) -> KillStats:
    """Kill forked ``kdata build`` processes until ``kills`` of them died by SIGKILL.

    Args:
        project: A built project (raw/ and dist/).
        kills: How many builds must be killed (builds that finish first do not count).
        mode: ``exchange`` (renameat2) or ``renames`` (the two-rename fallback).
        seed: Seed of the kill moments.
        cli_every: Check every n-th kill with the real ``kdata verify`` command.
        frictionless_every: Check every n-th kill with the real ``frictionless validate``.
        cover: How many kills must land in each of these phases: past ``kills``, killing goes on
            until they have (random moments land in the narrow phases by chance), up to ``most``.
        most: The most kills made to cover the phases.
    """
    rng = random.Random(seed)
    zygote = Zygote()
    stats = KillStats()
    most = max(kills, most)

    def enough() -> bool:
        covered = all(stats.phases[phase] >= count for phase, count in (cover or {}).items())
        return stats.kills >= kills and (covered or stats.kills >= most)

    try:
        contents = []
        for title in TITLES:
            set_title(project, title)
            pid = zygote.start(project, mode)
            assert zygote.wait(pid) == 0
            contents.append(snapshot(project / "dist"))
        assert contents[0] != contents[1]
        # Timings drift with the machine's load (tests run in parallel): watch an unkilled build
        # every ten cycles and aim with the median of the last five.
        recent = [calibrate(zygote, project, mode)]
        shift = 0.0  # seconds added to the measured phases, learnt from where the kills land
        n = 0
        while not enough():
            n += 1
            assert n < 3 * most + 50, f"too few builds were still running when killed: {stats}, {recent}"
            if n % 10 == 0:
                recent = [*recent[-4:], calibrate(zygote, project, mode, runs=1)]
            phases = sorted(recent, key=lambda p: p.swap)[len(recent) // 2]
            old = snapshot(project / "dist")
            target = 1 if old == contents[0] else 0
            set_title(project, TITLES[target])
            start = time.monotonic()
            if n % 4 == 2:  # the swap: the child pauses itself inside it, then dies there
                pid = zygote.start(project, f"{mode}-stop")
                _wait_stopped(pid)
            else:
                pid = zygote.start(project, mode)
                time.sleep(max(delay(rng, phases, n, shift) - (time.monotonic() - start), 0))
            os.kill(pid, signal.SIGKILL)
            status = zygote.wait(pid)
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                stats.kills += 1
                landed = classify(project, old, contents[target])
            else:
                assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
                stats.finished += 1
                landed = "finished"
            if landed != "finished":
                stats.phases[landed] += 1
            # Aim the staging slot before the swap and the last slot after the staging began.
            slot = n % 4
            if slot in (1, 3) and landed == "before-staging":
                shift += 0.0015
            elif slot == 1 and landed in _LATE:
                shift -= 0.0015
            check_dist(
                project,
                [old, contents[target]],
                cli=n % cli_every == 0,
                frictionless=n % frictionless_every == 0,
                stats=stats,
            )
        assert stats.phases["mixed"] == 0
    finally:
        zygote.close()
    result = run_kdata("build", cwd=project)  # a later build clears every leftover
    assert result.returncode == 0, result.stdout + result.stderr
    assert not _leftovers(project, "new") and not _leftovers(project, "old") and not _leftovers(project, "scratch")
    return stats


def _shape(step: str) -> str:
    """A step with the random part of its names masked (``.dist-new-1a2b3c4d`` -> ``.dist-new-X``).

    The spilled rows' files name the process that wrote them (``events-4242-0.csv`` -> ``events-PID-0.csv``).
    """
    step = re.sub(r"-(new|old|trash|scratch)-[0-9a-f]{8}", r"-\1-X", step)
    return re.sub(r"-\d+-(\d+\.(?:arrow|csv|ends))\b", r"-PID-\1", re.sub(r"\.[0-9a-f]{8}\.tmp\b", ".X.tmp", step))


def kill_points(steps: list[str]) -> list[int]:
    """Every step but the file writes (alike for dist/): of the writes into each folder, the first, a middle one and the last.

    The folders written: the scratch folder of the rows (``.dist-scratch-X``) and the staging folder (``.dist-new-X``).
    """
    sampled = set()
    for folder in ("write .dist-scratch-", "write .dist-new-"):
        writes = [n for n, step in enumerate(steps) if step.startswith(folder)]
        sampled |= {writes[0], writes[len(writes) // 2], writes[-1]} if writes else set()
    others = {n for n, step in enumerate(steps) if not step.startswith(("write .dist-scratch-", "write .dist-new-"))}
    return sorted(sampled | others)


#: The steps that must be among those of a build over an existing dist/, by swap method: the swap itself.
SWAP_STEPS = {
    "exchange": ["exchange .dist-new-X dist"],
    "renames": ["rename dist .dist-old-X", "rename .dist-new-X dist", "rename .dist-old-X .dist-trash-X"],
}


#: The packages frictionless found valid, by content (``snapshot``): each is validated once per test process.
_VALID: set[frozenset[tuple[str, str]]] = set()


def frictionless_valid(dist: Path) -> dict[str, str]:
    """Validate ``dist`` with the real ``frictionless`` unless a byte-identical package was; return its snapshot.

    frictionless takes seconds for the small test package: a test that demands every dist/ after
    a kill be byte-identical to one of a few complete builds validates each of those once.
    """
    content = snapshot(dist)
    key = frozenset(content.items())
    if key not in _VALID:
        import frictionless as fl

        report = fl.validate(str(dist / "datapackage.json"))
        assert report.valid, report.flatten(["type", "note"])[:20]
        _VALID.add(key)
    return content


#: By swap method: the fewest kills, the phases they must land in, the fewest that find the rows' scratch folder.
PHASES = {"exchange": (8, {"before-staging", "staging", "swap"}, 5), "renames": (4, {"swap", "after-swap"}, 2)}


@pytest.mark.parametrize("mode", ["exchange", "renames"])
def test_sigkill_before_every_step_of_a_build_leaves_old_or_new_dist(
    built: Path, mode: str, tmp_path: Path, zygote: Zygote
) -> None:
    """A build is SIGKILLed just before each of its steps on dist/ in turn; dist/ is always one whole build.

    An unkilled build first lists its steps on dist/ and the folders beside it (folders made,
    files written, renames, ``renameat2``, deletions, a deletion stopped after its first file).
    Then one forked build per step (writes into the staging folder sampled: first, middle, last)
    kills itself just before that step, so every moment where the file system differs is hit,
    each exactly once: before staging, while staging, inside the swap, after it. The other run
    forces the two-rename fallback of systems without ``renameat2``: up to its swap, its build takes
    the very steps of the first (checked), so its kills start at the swap.

    After each kill, the real ``kdata verify`` (in this process) finds one whole, valid build and
    changes nothing; dist/ is recovered as the next build does first, and must then be
    byte-identical to the build before the kill or to the new one: to one of the two complete
    builds, which frictionless validates (once each: a byte-identical copy is as valid). The kills
    once came at random moments (24 to 60 per method, aimed by timing unkilled builds, over 30 s
    each); ``benchmarks/stress.py`` still runs 1,000 of those.
    """
    project = built
    trace = Path(f"{project}.steps")
    tmpdir = tmp_path / "system-tmp"  # the builds' system temporary folder: they must leave nothing there
    tmpdir.mkdir()
    env = {"TMPDIR": str(tmpdir)}
    stats = KillStats()
    scratch_left = 0  # kills that left the rows' scratch folder beside dist/
    contents = []
    for title in TITLES:  # the second build, over the first one's dist/, is the one every kill repeats
        set_title(project, title)
        trace.unlink(missing_ok=True)
        assert zygote.wait(zygote.start(project, mode, kill_at=-1, env=env)) == 0
        contents.append(frictionless_valid(project / "dist"))
    assert contents[0] != contents[1]
    steps = [_shape(step) for step in trace.read_text().splitlines()]
    points = kill_points(steps)
    swap = steps.index(SWAP_STEPS["exchange"][0])  # the swap begins with renameat2 (refused where it is missing)
    if mode == "renames":  # up to that call, its build takes the steps of one with renameat2, which that run kills at
        set_title(project, TITLES[0])
        trace.unlink(missing_ok=True)
        assert zygote.wait(zygote.start(project, "exchange", kill_at=-1, env=env)) == 0
        assert snapshot(project / "dist") == contents[0]
        listed = [_shape(step) for step in trace.read_text().splitlines()]
        assert listed[: swap + 1] == steps[: swap + 1], (listed, steps)
        points = [point for point in points if point > swap]
    for n, point in enumerate(points):
        old = snapshot(project / "dist")
        assert old in contents  # so every dist/ accepted below is one of the two validated builds
        target = 1 if old == contents[0] else 0
        set_title(project, TITLES[target])
        trace.unlink(missing_ok=True)
        status = zygote.wait(zygote.start(project, mode, kill_at=point, env=env))
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (point, steps[point], status)
        taken = [_shape(step) for step in trace.read_text().splitlines()] if trace.exists() else []
        assert taken == steps[:point], (point, taken[-3:], steps[point])  # killed where aimed, not elsewhere
        stats.kills += 1
        stats.phases[classify(project, old, contents[target])] += 1
        check_dist(project, [old, contents[target]], cli=True, frictionless=False, stats=stats)
        scratch_left += bool(_leftovers(project, "scratch"))
        if n < len(points) - 1:
            clear_staging(project / "dist")  # as the next build does, so that its steps are those listed
            clear_scratch(project / "dist")  # the killed build's rows: its lock died with it
            assert not _leftovers(project, "scratch"), steps[point]
    print(f"{mode}: {len(steps)} steps, {stats}, scratch left {scratch_left}")
    for swap in SWAP_STEPS[mode]:
        assert swap in steps, (swap, steps)  # the hooks saw the swap, so kills landed inside it
    assert stats.phases["mixed"] == 0
    assert stats.kills == len(points) >= PHASES[mode][0]
    assert PHASES[mode][1] <= set(stats.phases), stats.phases
    assert stats.cli_verified == stats.kills
    assert scratch_left >= PHASES[mode][2], (scratch_left, steps)  # kills while the rows were spilled or deleted
    result = run_kdata_here("build", cwd=project)  # a later build clears every leftover of the last kill
    assert result.returncode == 0, result.stdout + result.stderr
    assert not _leftovers(project, "new") and not _leftovers(project, "old") and not _leftovers(project, "scratch")
    assert os.listdir(tmpdir) == []  # nothing went to the system temporary folder


#: What a cold build's phases leave beside dist/, watched to kill the build there: a file written into
#: the staging folder, then the staging folder's marker (written last, just before the swap).
WATCH = {
    "rows": lambda project: any(project.glob(".dist-scratch-*/*.csv")),  # the rows spilled, before any staging
    "staging": lambda project: any(project.glob(".dist-new-*/*")),
    "staged": lambda project: any(project.glob(".dist-new-*/.kdata-made")),
}


def test_sigkill_of_cold_cli_builds(built: Path) -> None:
    """Whole ``python -m kdata build`` processes, SIGKILLed as soon as a phase's files appear; ``kdata verify`` then passes.

    The kills once came at random moments (4 to 16 cold builds); watching the files puts each one
    in its phase: while the staging folder is written, and once it is complete (the swap next).
    """
    versions = []
    for title in TITLES:
        set_title(built, title)
        assert run_kdata_here("build", cwd=built).returncode == 0
        versions.append(snapshot(built / "dist"))
    landed = []
    for phase, seen in WATCH.items():
        for _ in range(4):  # a build may outrun the watch under load: try again
            old = snapshot(built / "dist")
            target = 1 - versions.index(old)
            set_title(built, TITLES[target])
            proc = subprocess.Popen(
                [sys.executable, "-m", "kdata", "build"],
                cwd=built,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while proc.poll() is None and not seen(built):
                time.sleep(0.0002)
            proc.send_signal(signal.SIGKILL)
            killed = proc.wait() == -signal.SIGKILL
            where = classify(built, old, versions[target]) if killed else "finished"
            before = _listing(built)
            result = run_kdata_here("verify", cwd=built)  # one whole build, whatever the kill left
            assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
            assert _listing(built) == before  # a check repairs nothing
            recover(built / "dist")  # what the next build does first
            assert snapshot(built / "dist") in versions
            if killed:
                landed.append((phase, where))
                break
        else:
            raise AssertionError(f"no cold build was still running at phase {phase}")
    assert [phase for phase, _ in landed] == list(WATCH) and all(where != "mixed" for _, where in landed), landed
    assert run_kdata_here("build", cwd=built).returncode == 0  # the next build deletes what the last kill left
    assert not _leftovers(built, "new") and not _leftovers(built, "old") and not _leftovers(built, "scratch")


#: Where a killed command's scratch folder is, by command, and what shows it in use (rows spilled, a package written).
SCRATCH = {
    "build": lambda project, cache: list(project.glob(".dist-scratch-*/*.csv")),
    "check": lambda project, cache: list(cache.glob(".tmp-scratch-*/dist/*.csv")),
}
#: The same files as patterns: a forked command dies as it is about to write the second of them.
IN_USE = {"build": "*/.dist-scratch-*/*.csv", "check": "*/.tmp-scratch-*/dist/*.csv"}


def _died_of(status: int, how: int) -> bool:
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == how


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_build_leaves_nothing_once_the_next_one_ran(
    built: Path, tmp_path_factory: pytest.TempPathFactory, command: str, how: int, zygote: Zygote
) -> None:
    """``kdata build`` (rows spilled beside dist/) or ``build --check`` (a package in the cache), killed mid-way.

    SIGTERM does what SIGKILL does here: Python's default action ends the process at once, with no
    clean-up. The command (a process forked from a warm Python) gets the signal once it has
    written a first file into its scratch folder. That folder stays; the next run of the same
    command deletes it, and nothing of either is in the system temporary folder (``TMPDIR``), nor
    beside dist/.
    """
    tmpdir, cache = tmp_path_factory.mktemp("system-tmp"), tmp_path_factory.mktemp("cache")
    env = {"TMPDIR": str(tmpdir), "KDATA_CACHE_DIR": str(cache)}
    argv = ("build", "--check") if command == "check" else ("build",)
    set_title(built, TITLES[1])
    before = sorted(os.listdir(built))
    status = zygote.wait(zygote.start(built, "exchange", argv=argv, env=env, die_on=(IN_USE[command], 2, how)))
    assert _died_of(status, how), status
    left = SCRATCH[command](built, cache)
    assert left, "the killed command left its scratch folder (nothing cleaned up after it)"
    log = tmp_path_factory.mktemp("log") / "next"
    status = zygote.wait(zygote.start(built, "exchange", argv=argv, env=env, log=log))
    output = Path(f"{log}.out").read_text() + Path(f"{log}.err").read_text()
    assert os.WEXITSTATUS(status) == (1 if command == "check" else 0), output  # check: the title changed
    assert "Traceback" not in output, output
    assert not any(path.exists() for path in left)
    assert not _leftovers(built, "scratch") and not _leftovers(built, "new") and not list(cache.glob(".tmp-scratch-*"))
    assert os.listdir(tmpdir) == []
    if command == "check":
        assert sorted(os.listdir(built)) == before  # a check writes nothing in the project, not even a lock file


def test_builds_at_once_into_one_dist_keep_each_others_rows_and_sweep_the_dead(
    built: Path, tmp_path_factory: pytest.TempPathFactory, zygote: Zygote
) -> None:
    """Four ``kdata build`` processes at once, while killed ones leave scratch folders: each keeps its own rows.

    A build sweeps the scratch folders of dead builds before it makes its own; it must never take
    a running build's for a dead one (its rows would vanish under it and it would fail). The
    builds are forked from one warm Python, one right after the other, so that they meet.
    """
    tmpdir, logs = tmp_path_factory.mktemp("system-tmp"), tmp_path_factory.mktemp("logs")
    env = {"TMPDIR": str(tmpdir)}
    set_title(built, TITLES[1])
    assert run_kdata_here("build", cwd=built).returncode == 0
    expected = snapshot(built / "dist")
    for round_ in range(3):
        dead = zygote.start(built, "exchange", env=env, die_on=(IN_USE["build"], 2, signal.SIGKILL))
        assert _died_of(zygote.wait(dead), signal.SIGKILL)
        assert _leftovers(built, "scratch"), "the killed build left its rows for the others to sweep"
        runs = [zygote.start(built, "exchange", env=env, log=logs / f"{round_}-{n}") for n in range(4)]
        for n, run in enumerate(runs):
            status = zygote.wait(run)
            output = (logs / f"{round_}-{n}.out").read_text() + (logs / f"{round_}-{n}.err").read_text()
            assert status == 0 and "Traceback" not in output, output
        assert snapshot(built / "dist") == expected
        assert not _leftovers(built, "scratch") and not _leftovers(built, "new") and not _leftovers(built, "old")
    assert os.listdir(tmpdir) == []


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_site_leaves_nothing_once_the_next_one_ran(
    built: Path, tmp_path_factory: pytest.TempPathFactory, how: int, zygote: Zygote
) -> None:
    """``kdata site`` renders without the site's lock, inside a scratch folder beside it; killed mid-render, it stays.

    Its staging folder once lay bare beside the site (``.public-new-X``), where no later command
    could tell a dead render's from a running one's: each kill left one for good. The next render
    now deletes it, and nothing goes to the system temporary folder. The render (forked from a
    warm Python) gets the signal once it has written its first page.
    """
    tmpdir = tmp_path_factory.mktemp("system-tmp")
    env = {"TMPDIR": str(tmpdir)}
    argv = ("site", "public", "--package", "dist")
    pages = lambda: list(built.glob(".public-scratch-*/site/*.html"))  # noqa: E731  # as SCRATCH's
    status = zygote.wait(
        zygote.start(built, "exchange", argv=argv, env=env, die_on=("*/.public-scratch-*/site/*.html", 2, how))
    )
    assert _died_of(status, how), status
    assert pages(), "the killed render left its scratch folder"
    log = tmp_path_factory.mktemp("log") / "next"
    status = zygote.wait(zygote.start(built, "exchange", argv=argv, env=env, log=log))
    output = Path(f"{log}.out").read_text() + Path(f"{log}.err").read_text()
    assert status == 0 and "Traceback" not in output, output
    assert (built / "public" / "index.html").is_file()
    assert sorted(p.name for p in built.glob(".public*")) == [".public.lock", ".public.scratch.lock"]
    assert os.listdir(tmpdir) == []
