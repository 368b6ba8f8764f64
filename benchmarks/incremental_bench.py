"""Time ``kdata validate`` cold, with an empty cache, and incrementally, measuring each run's whole process tree.

    python benchmarks/incremental_bench.py PROJECT [--repeats 3] [--only nocache,empty,noedit,oneedit,git]

PROJECT holds ``raw/`` (a synthetic tree: ``benchmarks/synth.py``); it is edited (a comment appended to
record files, one per timed run), so never point it at a shared tree. The cache lives in PROJECT/.bench-cache.
Scenarios: ``nocache`` (``--no-cache``), ``empty`` (an empty cache filled), ``noedit`` (nothing changed since
the last run), ``oneedit`` (one file changed), ``git`` (``--git`` after one edit: PROJECT must be a git
repository, its raw/ committed). Prints one JSON line per scenario: the median wall and CPU seconds and the
largest peak of the tree's RSS and PSS (``benchmarks/tree.py``), and each run's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import tree


def _edit(raw: Path, n: int) -> None:
    """Change one record file (a comment line appended: the file stays valid), a different one each time."""
    files = sorted((raw / "events").glob("*.yaml"))
    path = files[(n * 7919) % len(files)]
    path.write_text(path.read_text("utf-8") + f"# edit {n}\n", "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="nocache,empty,noedit,oneedit,git")
    args = parser.parse_args()
    project, cache = args.project.resolve(), args.project.resolve() / ".bench-cache"
    env = {**os.environ, "KDATA_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "kdata", "validate", "raw"]
    edits = iter(range(10**6))

    def run(*flags: str) -> tree.Run:
        return tree.measure([*cmd, *flags], project, env)

    def empty() -> tree.Run:
        shutil.rmtree(cache, ignore_errors=True)
        return run()

    def one_edit(*flags: str) -> tree.Run:
        _edit(project / "raw", next(edits))
        return run(*flags)

    scenarios = {
        "nocache": (None, lambda: run("--no-cache")),
        "empty": (None, empty),
        "noedit": (run, run),
        "oneedit": (run, one_edit),
        "git": (lambda: run("--git"), lambda: one_edit("--git")),
    }
    for name in args.only.split(","):
        warm, timed = scenarios[name]
        if warm is not None and not cache.exists():
            warm()
        if name == "git":
            warm()  # the cache remembers git's state
        runs = [timed() for _ in range(args.repeats)]
        figures = {
            "scenario": name,
            "wall": round(statistics.median(r.wall for r in runs), 3),
            "cpu": round(statistics.median(r.cpu for r in runs), 3),
            "rss_mb": round(max(r.rss_mb for r in runs), 1),
            "pss_mb": round(max(r.pss_mb for r in runs), 1),
            "others": round(max(r.others for r in runs), 2),
            "runs": [[round(r.wall, 3), round(r.cpu, 3), round(r.rss_mb, 1), round(r.pss_mb, 1)] for r in runs],
        }
        print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
