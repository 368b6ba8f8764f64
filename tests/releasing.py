"""Helpers for the release, download and diff tests: real builds, real archives, a real HTTP server."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import GOOD, run_kdata

CHANGELOG = "# Changelog\n\n## [0.2.0] - 2026-12-01\n\n- More.\n\n## [0.1.1] - 2026-11-30\n\n- Fix.\n\n## [0.1.0] - 2026-11-23\n\n- First.\n"


def make_project(root: Path, registry: Path) -> Path:
    """A copy of the good test project with a changelog and an empty registry file."""
    shutil.copytree(GOOD / "raw", root / "raw")
    (root / "CHANGELOG.md").write_text(CHANGELOG)
    registry.write_text('{"base_url": null, "releases": {}}\n')
    return root


def released_project(root: Path, www: Path) -> tuple[Path, Path]:
    """A built test project under ``root`` whose 0.1.0 is released into ``www`` and registered.

    Returns:
        The project folder and its registry file.
    """
    registry = root / "registry.json"
    project = make_project(root / "project", registry)
    kdata_ok("build", cwd=project)
    kdata_ok("release", "--register", "--out", www, cwd=project, env={"KDATA_REGISTRY": str(registry)})
    return project, registry


def set_version(root: Path, version: str) -> None:
    """Change the data version in raw/package.yaml."""
    path = root / "raw" / "package.yaml"
    path.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", path.read_text()))


def kdata_ok(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run kdata with extra environment; fail the test on a non-zero exit; return stdout."""
    result = run_env(*args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


#: The real command with variables added to its environment (one runner for every test).
run_env = run_kdata


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 in a thread; yield the base URL."""
    with serving(functools.partial(_Quiet, directory=str(folder))) as url:
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
