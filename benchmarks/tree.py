"""Run one command and measure its whole process tree: wall and CPU seconds, peak RSS and PSS, the machine's load.

How each figure is measured (Linux only):

- wall: ``time.perf_counter`` from just before the fork to the return of ``os.wait4``;
- CPU: user + sys from the rusage ``os.wait4`` returns. It counts the process and every
  descendant that was waited for (a pool's workers are joined, so they count); a descendant
  left running or never reaped would be missed (kdata leaves none);
- memory: a thread samples the tree every ``INTERVAL`` seconds. Each sample walks
  ``/proc/<pid>/task/<tid>/children`` from the command's pid down (every thread's children, since a
  pool may fork from a helper thread), reads ``Rss`` and ``Pss`` from each process's
  ``/proc/<pid>/smaps_rollup`` and sums them; the peaks are the largest sums seen. RSS counts a
  page shared by several processes once per process (a forked worker's inherited pages too), PSS
  divides it among them, so the tree's PSS is what the tree costs the machine. Limits: a peak
  shorter than the interval, or a process that lives less than one, can be missed, so the figures
  are a lower bound (the kernel's own ``ru_maxrss``, the largest single process, is kept beside
  them as a check); reading smaps_rollup of a large process takes a few milliseconds, so the
  interval stretches a little under load;
- a time limit (``measure(..., limit=SECONDS)``): at the limit every process of the tree is stopped
  (SIGSTOP, repeated until no new one appears, so that none forks or is re-parented away) then
  killed (SIGKILL); the run is marked ``cut`` and its wall and CPU seconds are lower bounds (the CPU
  of descendants killed before their parent waited for them is not counted);
- the machine: ``os.getloadavg()`` before and after, and the CPU time the whole machine spent
  busy during the run (``/proc/stat``: user, nice, system, irq, softirq, steal) less the tree's
  own CPU and this process's (the sampler's): what other processes took, in cores on average over the run.

Usage: python benchmarks/tree.py COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

#: Seconds between two memory samples of the tree.
INTERVAL = 0.02
#: Average cores other processes may use during a run before it is called busy (a warning, not a failure).
BUSY_CORES = 0.25
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """What one command cost: seconds, memory of its process tree (MB), and the machine around it."""

    wall: float
    cpu: float
    rss_mb: float  # peak of the tree's summed RSS
    pss_mb: float  # peak of the tree's summed PSS
    maxrss_mb: float  # the kernel's peak RSS of the largest single process (rusage), a check on the sampling
    processes: int  # most processes seen in the tree at once
    samples: int
    others: float  # average cores used by other processes during the run
    load_before: float  # 1-minute load average
    load_after: float
    cut: bool = False  # stopped at the time limit: wall and CPU are lower bounds

    def as_dict(self) -> dict[str, float | bool]:
        """The figures as a flat dict."""
        return {k: v if isinstance(v, bool) else float(v) for k, v in asdict(self).items()}


def _own_cpu() -> float:
    """CPU seconds of this process (every thread: the memory sampler's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / _TICK


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, found through each thread's children list."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children", encoding="ascii") as f:
                    todo.extend(int(child) for child in f.read().split())
            except OSError:
                continue
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB, or zeros if it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
    except (OSError, ValueError):
        pass
    return rss, pss


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.done = pid, threading.Event()
        self.rss = self.pss = self.processes = self.samples = 0

    def run(self) -> None:
        while not self.done.is_set():
            pids = descendants(self.pid)
            sizes = [memory_kb(p) for p in pids]
            self.rss = max(self.rss, sum(r for r, _ in sizes))
            self.pss = max(self.pss, sum(p for _, p in sizes))
            self.processes = max(self.processes, len(pids))
            self.samples += 1
            self.done.wait(INTERVAL)


def kill_tree(pid: int) -> None:
    """Stop ``pid`` and every descendant (until no new one appears), then kill them all."""
    stopped: set[int] = set()
    while new := [p for p in descendants(pid) if p not in stopped]:
        for p in new:
            try:
                os.kill(p, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped.update(new)
    for p in stopped:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, limit: float | None = None) -> Run:
    """Run ``cmd`` to completion, or until ``limit`` seconds (then its whole tree is killed), and measure it.

    A failure stops the benchmark with its stderr; a run cut at the limit is not a failure (``Run.cut``).
    """
    load_before, busy_before, own_before = os.getloadavg()[0], busy_seconds(), _own_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = _Sampler(proc.pid)
    sampler.start()
    cut = threading.Event()

    def stop() -> None:
        cut.set()
        kill_tree(proc.pid)

    timer = threading.Timer(limit, stop) if limit else None
    if timer:
        timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if timer:
        timer.cancel()
        timer.join()  # a kill under way ends before the figures are read
    sampler.done.set()
    sampler.join()
    busy = busy_seconds() - busy_before - (_own_cpu() - own_before)  # the sampler's CPU is not another's
    proc.returncode = os.waitstatus_to_exitcode(status)
    killed = cut.is_set() and os.WIFSIGNALED(status)  # not a run that ended by itself as the limit came
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0 and not killed:
        raise SystemExit(f"{' '.join(cmd)} (in {cwd}) failed with {proc.returncode}:\n{stderr[-4000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(
        wall=wall,
        cpu=cpu,
        rss_mb=sampler.rss / 1024,
        pss_mb=sampler.pss / 1024,
        maxrss_mb=usage.ru_maxrss / 1024,
        processes=sampler.processes,
        samples=sampler.samples,
        others=max(0.0, busy - cpu) / wall if wall > 0 else 0.0,
        load_before=load_before,
        load_after=os.getloadavg()[0],
        cut=killed,
    )


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(
        description="Run a command and print what it cost (JSON): seconds and the memory of its whole process tree."
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="The command and its arguments.")
    args = parser.parse_args()
    if not args.command:
        parser.error("name a command to measure")
    print(json.dumps(measure(args.command, Path.cwd()).as_dict(), indent=1))
