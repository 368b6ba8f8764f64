"""Helpers for the release, download and diff tests: real builds, real archives, a real HTTP server."""

from __future__ import annotations

import atexit
import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import GOOD, run_kdata
from inprocess import run_kdata_here

CHANGELOG = "# Changelog\n\n## [0.2.0] - 2026-12-01\n\n- More.\n\n## [0.1.1] - 2026-11-30\n\n- Fix.\n\n## [0.1.0] - 2026-11-23\n\n- First.\n"


def make_project(root: Path, registry: Path) -> Path:
    """A copy of the good test project with a changelog and an empty registry file."""
    shutil.copytree(GOOD / "raw", root / "raw")
    (root / "CHANGELOG.md").write_text(CHANGELOG)
    registry.write_text('{"base_url": null, "releases": {}}\n')
    return root


def released_project(root: Path, www: Path) -> tuple[Path, Path]:
    """A built test project under ``root`` whose 0.1.0 is released into ``www`` and registered.

    A copy of one project built and released once per test process (``_released_once``): the tests
    that use it start from the same bytes and may change their copy.

    Returns:
        The project folder and its registry file.
    """
    once = _released_once()
    registry = root / "registry.json"
    shutil.copytree(once / "project", root / "project", symlinks=True)
    shutil.copytree(once / "www", www, symlinks=True, dirs_exist_ok=True)
    shutil.copyfile(once / "registry.json", registry)
    return root / "project", registry


def built_project(root: Path, registry: Path) -> Path:
    """``make_project`` built: a copy of ``_released_once``'s project (dist/ and schemas/ unreleased), empty registry."""
    shutil.copytree(_released_once() / "project", root, symlinks=True)
    registry.write_text('{"base_url": null, "releases": {}}\n')
    return root


@functools.cache
def _released_once() -> Path:
    """The test project built and its 0.1.0 released and registered, once per test process (removed at exit)."""
    root = Path(tempfile.mkdtemp(prefix="kdata-released-"))
    atexit.register(shutil.rmtree, root, True)
    registry = root / "registry.json"
    project = make_project(root / "project", registry)
    # Set-up, not under test (tests/release runs these commands as processes): in this process.
    www = root / "www"
    for args, env in ((("build",), None), (("release", "--register", "--out", www), {"KDATA_REGISTRY": str(registry)})):
        result = run_kdata_here(*args, cwd=project, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    return root


def set_version(root: Path, version: str) -> None:
    """Change the data version in raw/package.yaml."""
    path = root / "raw" / "package.yaml"
    path.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", path.read_text()))


def kdata_ok(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run kdata with extra environment; fail the test on a non-zero exit; return stdout."""
    result = run_env(*args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def kdata_ok_here(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """``kdata_ok`` in this process (``inprocess.run_kdata_here``): where the command's own process proves nothing."""
    result = run_kdata_here(*args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


#: The real command with variables added to its environment (one runner for every test).
run_env = run_kdata


class _Quiet(http.server.SimpleHTTPRequestHandler):
    #: Where the paths of the requests served are appended (a list shared by the server's threads), if anywhere.
    served: list[str] | None = None

    def log_message(self, format: str, *args: object) -> None:
        if self.served is not None:
            self.served.append(self.path)  # list.append is atomic: the threads need no lock


@contextmanager
def serve(folder: Path, served: list[str] | None = None) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 in a thread; yield the base URL; log request paths to ``served``."""
    handler = type("_Logged", (_Quiet,), {"served": served})
    with serving(functools.partial(handler, directory=str(folder))) as url:
        yield url


@contextmanager
def serving(handler: Any) -> Iterator[str]:
    """Run an HTTP server with ``handler`` on 127.0.0.1 in a thread; yield its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: A warm Python that forks one ``kdata`` command per argument set, all released at once (see ``race``).
_RACE = r"""
import json, os, sys
import kdata.cli, kdata.download, kdata.datapackage.verify, urllib3  # imported once, before any fork

out, argv, count = sys.argv[1], sys.argv[2:], int(os.environ["T_RACERS"])
gate_read, gate_write = os.pipe()
pids = []
for n in range(count):
    pid = os.fork()
    if pid == 0:
        os.close(gate_write)
        os.read(gate_read, 1)  # blocks until the parent closes its end: every child starts at once
        for fd, name in ((1, "out"), (2, "err")):
            os.dup2(os.open(f"{out}/{n}.{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        try:
            kdata.cli.main(argv, prog_name="kdata")
        except SystemExit as exc:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        os._exit(0)
    pids.append(pid)
os.close(gate_read)
os.close(gate_write)  # the start signal
print(json.dumps([os.WEXITSTATUS(os.waitpid(pid, 0)[1]) for pid in pids]))
"""


def race(*args: str, processes: int, cwd: Path, env: dict[str, str], out: Path) -> list[tuple[int, str, str]]:
    """Run ``kdata ARGS`` in ``processes`` processes that start at the same instant; each one's exit status, stdout, stderr.

    The processes are forked from one Python that imported kdata first, and released together
    through a pipe: a tighter race than cold starts (each spends a second importing), at the cost
    of one Python start.
    """
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", _RACE, str(out), *args],
        cwd=cwd,
        env={**env, "T_RACERS": str(processes)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    codes = json.loads(result.stdout)
    return [(code, (out / f"{n}.out").read_text(), (out / f"{n}.err").read_text()) for n, code in enumerate(codes)]
