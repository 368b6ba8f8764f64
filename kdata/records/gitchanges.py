"""What may have changed in raw/ since the validate cache was last made, as git sees it (``kdata validate --git``).

The cache remembers the tree of raw/ at HEAD when it was made (the *base*) and the files that then
differed from it (*dirty*): every other file held the base's content. Now, a file may differ from
what the cache holds only if it changed between the old base and today's HEAD (``git diff-tree``,
trees only), was dirty then, or is dirty now (``git diff-index HEAD`` and ``git ls-files -o``,
ignored files included, since a full run reads them too). Only those *candidates* are stat-ed; the
rest of the tree is not looked at. In a pull request the cache of the base branch's run gives the
base: the candidates are the files the pull request changed.

git cannot say when an index entry is marked assume-unchanged or skip-worktree (git status trusts
the mark), when raw/ is outside a repository, or when the old base is not in the repository
(a shallow clone): then ``changes`` returns None and the caller stats every file.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: An index entry git does not stat: assume-unchanged (a lower-case tag) or skip-worktree (S).
_UNWATCHED = re.compile(rb"(?:^|\0)[a-zS] ")


@dataclass
class GitState:
    """The tree of raw/ at HEAD (None: not committed yet) and the files that differ from it (paths as listed)."""

    base: str | None
    dirty: tuple[str, ...]


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _names(out: bytes, root: Path) -> set[str]:
    """Paths relative to raw/ (NUL-separated) as the listing names them: ``<root>/<table>/<file>``."""
    prefix = str(root)
    return {f"{prefix}/{os.fsdecode(name)}" for name in out.split(b"\0") if name}


def changes(root: Path, before: GitState | None) -> tuple[GitState, set[str] | None] | None:
    """The state of raw/ now, and the files that may differ from the cache made at ``before``.

    Returns:
        None if git cannot tell (see the module's notes); else the state to remember and the candidate
        paths, or None for them when there is no earlier state to compare with (every file is stat-ed).
    """
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.strip() != b"true":
        return None
    flags = _git(root, "ls-files", "-v", "-z", "--", ".")
    if flags is None or _UNWATCHED.search(flags):
        return None
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD:./")
    base = head.decode().strip() if head else None
    if base:
        dirty_out = _git(root, "diff-index", "--name-only", "-z", "--no-renames", "--relative", "HEAD", "--", ".")
    else:  # nothing committed yet: every file is dirty
        dirty_out = _git(root, "ls-files", "-z", "--", ".")
    untracked = _git(root, "ls-files", "-o", "-z", "--", ".")
    if dirty_out is None or untracked is None:
        return None
    dirty = _names(dirty_out, root) | _names(untracked, root)
    state = GitState(base, tuple(sorted(dirty)))
    if before is None:
        return state, None
    candidates = dirty | set(before.dirty)
    if before.base != base:
        if before.base is None or base is None:
            return state, None
        moved = _git(root, "diff-tree", "-r", "--name-only", "-z", "--no-renames", before.base, base)
        if moved is None:
            return state, None  # the old base is not in this repository
        candidates |= _names(moved, root)
    return state, candidates
