"""The ``kdata`` command run inside the test process: the same entry point, without a new Python.

A subprocess costs a Python start and the imports of click, pydantic and their friends (about half
a second each time); tests that only check what a command prints and how it exits call the
command's own function, ``kdata.cli.main`` (the ``kdata`` script's entry point), here instead. Its
output is captured as a subprocess's would be: stdout and stderr apart, no terminal (so no
colour unless asked for), the exit status from ``SystemExit``. Tests about processes themselves
(kills, crashes, concurrency, imports, the installed script) keep ``conftest.run_kdata``.
"""

from __future__ import annotations

import io
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from kdata.cli import main


def run_kdata_here(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``kdata ARGS`` in this process, in ``cwd``, with variables added to the environment.

    Returns:
        What ``conftest.run_kdata`` returns for the same command: its exit status, stdout and stderr.
    """
    argv = [str(arg) for arg in args]
    out, err = io.StringIO(), io.StringIO()
    saved = {key: os.environ.get(key) for key in env or {}}
    here = os.getcwd()
    status = 0
    try:
        os.chdir(cwd)
        os.environ.update(env or {})
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(argv, prog_name="kdata")  # standalone, as the script runs it: it always ends in SystemExit
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        os.chdir(here)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return subprocess.CompletedProcess(["kdata", *argv], status, out.getvalue(), err.getvalue())
