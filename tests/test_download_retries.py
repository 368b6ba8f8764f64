"""Transient failures are tried again, others are not; errors are plain words; the progress bar shows on a terminal.

Every server is a real HTTP server on 127.0.0.1 (``releasing.serving``) that counts the requests it
answers; the files are real release archives made by `kdata release`.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO
from inprocess import run_kdata_here
from releasing import closed_port, released_project, run_env, serving

from kdata.datapackage.verify import verify
from kdata.download import fetch, progress_bar, show_progress, transfer
from kdata.errors import DownloadError, IntegrityError

#: A server's behaviour: for the n-th request of a path (from 1), what to do.
Behaviour = Callable[[http.server.BaseHTTPRequestHandler, int, bytes], None]


def _send(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/zip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _status(code: int, retry_after: str | None = None) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(code)
        if retry_after is not None:
            handler.send_header("Retry-After", retry_after)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def _hang_up(handler: http.server.BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer."""
    handler.close_connection = True


def _reset(handler: http.server.BaseHTTPRequestHandler) -> None:
    """Reset the connection (a TCP RST: SO_LINGER with a zero timeout, then close)."""
    linger = struct.pack("HH" if sys.platform == "win32" else "ii", 1, 0)  # struct linger: on, 0 s
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    handler.connection.close()
    handler.close_connection = True


def _half(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
    """Announce the whole file, send half, close."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
    handler.close_connection = True


BEHAVIOURS: dict[str, Behaviour] = {
    "ok": lambda h, n, body: _send(h, body),
    "503-twice": lambda h, n, body: _status(503)(h) if n <= 2 else _send(h, body),
    "500-502-then-ok": lambda h, n, body: _status(500 if n == 1 else 502)(h) if n <= 2 else _send(h, body),
    "hangs-up-twice": lambda h, n, body: _hang_up(h) if n <= 2 else _send(h, body),
    "resets-twice": lambda h, n, body: _reset(h) if n <= 2 else _send(h, body),
    "resets-forever": lambda h, n, body: _reset(h),
    "breaks-mid-body-twice": lambda h, n, body: _half(h, body) if n <= 2 else _send(h, body),
    "429-retry-after-1": lambda h, n, body: _status(429, "1")(h) if n == 1 else _send(h, body),
    "429-retry-after-hour": lambda h, n, body: _status(429, "3600")(h),
    "503-forever": lambda h, n, body: _status(503)(h),
    "404": lambda h, n, body: _status(404)(h),
    "403": lambda h, n, body: _status(403)(h),
    "tampered": lambda h, n, body: _send(h, body[:-1] + bytes([body[-1] ^ 1])),
}


@dataclass(frozen=True)
class Site:
    """A project with one published release, and a server that misbehaves as its first path segment says."""

    project: Path
    registry: Path
    url: str
    file: str
    hits: Counter[str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("retries")
    project, registry = released_project(root, root / "www")
    entry = json.loads(registry.read_text())["releases"]["0.1.0"]
    body = (root / "www" / entry["file"]).read_bytes()
    hits: Counter[str] = Counter()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            hits[self.path] += 1
            kind = self.path.strip("/").split("/")[0]
            try:
                BEHAVIOURS[kind](self, hits[self.path], body)
            except OSError:  # writing to a connection the behaviour reset
                self.close_connection = True

        def finish(self) -> None:
            try:
                super().finish()
            except OSError:  # flushing a connection the behaviour reset
                pass

    with serving(Handler) as url:
        yield Site(project, registry, url, entry["file"], hits)


@pytest.fixture
def env(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh cache and the site's registry, set here and returned for subprocesses."""
    values = {"KDATA_REGISTRY": str(site.registry), "KDATA_CACHE_DIR": str(tmp_path / "cache")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for name in ("KDATA_OFFLINE", "KDATA_DOWNLOAD_RETRIES", "KDATA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    site.hits.clear()
    return values


#: The first pause between attempts in the tests that count attempts in this process (``transfer.BACKOFF``, 0.5 s,
#: scaled down; it still doubles). The real command's test and the deadline's test keep the real pauses.
QUICK = 0.05


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> float:
    """Pauses between attempts of ``QUICK`` s, doubling; returns the real first pause, for the tests' arithmetic."""
    real = transfer.BACKOFF
    monkeypatch.setattr(transfer, "BACKOFF", QUICK)
    return real


def _use(site: Site, kind: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point downloads at the ``kind`` server; return the archive's path on it (the key of ``site.hits``)."""
    monkeypatch.setenv("KDATA_BASE_URL", f"{site.url}/{kind}/")
    return f"/{kind}/{site.file}"


def _nothing_cached(env: dict[str, str]) -> None:
    cache = Path(env["KDATA_CACHE_DIR"])
    assert not cache.exists() or [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


@pytest.mark.parametrize(
    ("kind", "least_wait"),
    [
        ("503-twice", QUICK + 2 * QUICK),  # the pause doubles: QUICK, then twice that
        ("500-502-then-ok", QUICK + 2 * QUICK),
        ("hangs-up-twice", QUICK + 2 * QUICK),
        ("resets-twice", QUICK + 2 * QUICK),
        ("breaks-mid-body-twice", QUICK + 2 * QUICK),
        ("429-retry-after-1", 1.0),  # the server's Retry-After instead of the backoff
    ],
    ids=lambda value: f"{value:.2f}" if isinstance(value, float) else None,
)
def test_transient_failures_are_tried_again_and_the_third_attempt_succeeds(
    site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, quick_backoff: float, kind: str, least_wait: float
) -> None:
    path = _use(site, kind, monkeypatch)
    start = time.monotonic()
    folder = fetch("0.1.0", progress=False)
    elapsed = time.monotonic() - start
    assert verify(folder) == []
    assert site.hits[path] == (2 if kind.startswith("429") else 3)
    assert least_wait <= elapsed < least_wait + 10


@pytest.mark.parametrize(
    ("kind", "words", "requests"),
    [
        ("404", "the server answered 404 Not Found", 1),
        ("403", "the server answered 403 Forbidden", 1),
        ("tampered", "does not match the registry: sha256 expected", 1),
        ("503-forever", "the server answered 503 Service Unavailable (4 attempts)", 4),
        ("resets-forever", "broke: connection reset by the server (4 attempts)", 4),
        # Retry-After beyond the deadline: giving up at once beats waiting an hour.
        ("429-retry-after-hour", "429 Too Many Requests; it asked to wait 3600 s, past KDATA_DOWNLOAD_TIMEOUT", 1),
    ],
)
def test_other_failures_end_at_once_and_the_limit_ends_the_rest(
    site: Site,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    quick_backoff: float,
    kind: str,
    words: str,
    requests: int,
) -> None:
    """4xx and a checksum mismatch are never tried again; a 5xx forever stops after KDATA_DOWNLOAD_RETRIES."""
    path = _use(site, kind, monkeypatch)
    monkeypatch.setenv("KDATA_DOWNLOAD_TIMEOUT", "60")
    with pytest.raises((DownloadError, IntegrityError)) as info:
        fetch("0.1.0", progress=False)
    assert words in str(info.value)
    assert site.hits[path] == requests
    _nothing_cached(env)


def test_the_retry_count_is_a_setting(
    site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, quick_backoff: float
) -> None:
    path = _use(site, "503-forever", monkeypatch)
    monkeypatch.setenv("KDATA_DOWNLOAD_RETRIES", "0")
    with pytest.raises(DownloadError, match=r"503 Service Unavailable\. Nothing was cached"):
        fetch("0.1.0", progress=False)
    assert site.hits[path] == 1
    monkeypatch.setenv("KDATA_DOWNLOAD_RETRIES", "1")
    with pytest.raises(DownloadError, match=r"503 Service Unavailable \(2 attempts\)"):
        fetch("0.1.0", progress=False)
    assert site.hits[path] == 3


def test_the_default_pauses_are_the_documented_ones(
    site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the defaults, a server failing for good is tried 4 times, after pauses of 0.5 s, 1 s and 2 s (as the
    README says); the pauses are recorded, not slept. The real command's tests use fewer retries."""
    path = _use(site, "503-forever", monkeypatch)
    pauses: list[float] = []
    monkeypatch.setattr(transfer, "time", types.SimpleNamespace(monotonic=time.monotonic, sleep=pauses.append))
    with pytest.raises(DownloadError, match=r"503 Service Unavailable \(4 attempts\)"):
        fetch("0.1.0", progress=False)
    assert site.hits[path] == 4 and pauses == [0.5, 1.0, 2.0]
    readme = (REPO / "README.md").read_text("utf-8")
    assert "up to `KDATA_DOWNLOAD_RETRIES` times (default 3), after\n  0.5 s, 1 s, 2 s..." in readme
    assert [min(transfer.BACKOFF * 2**n, transfer.MAX_BACKOFF) for n in (5, 6, 9)] == [16.0, 30.0, 30.0]


def test_retries_stay_within_the_deadline(site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With 10 retries (pauses of 0.5 s doubling) and a 2 s deadline, the download gives up after about 2 s."""
    path = _use(site, "503-forever", monkeypatch)
    monkeypatch.setenv("KDATA_DOWNLOAD_RETRIES", "10")
    monkeypatch.setenv("KDATA_DOWNLOAD_TIMEOUT", "2")
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"503 Service Unavailable \(3 attempts\)"):
        fetch("0.1.0", progress=False)
    assert time.monotonic() - start < 2
    assert site.hits[path] == 3  # at 0 s, 0.5 s and 1.5 s; the next pause (2 s) would pass the deadline


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for internal in (
        "Traceback",
        "urllib3",
        "HTTPConnection",
        "Errno",
        "Max retries",
        "NewConnectionError",
        "object at",
    ):
        assert internal not in result.stderr
    return lines[0]


def test_a_refused_connection_is_one_line_in_plain_words(site: Site, env: dict[str, str]) -> None:
    """The real command, against a port nothing listens on: tried again once (after 0.5 s), then one line
    without internals. (The default's 4 attempts: ``test_the_default_pauses_are_the_documented_ones``.)"""
    port = closed_port()
    start = time.monotonic()
    base = {"KDATA_BASE_URL": f"http://127.0.0.1:{port}/", "KDATA_DOWNLOAD_RETRIES": "1"}
    result = run_env("download", "0.1.0", cwd=site.project, env={**env, **base})
    assert time.monotonic() - start >= 0.5
    line = _one_line(result)
    assert f"Cannot connect to 127.0.0.1:{port}: connection refused (2 attempts)." in line.replace("cannot", "Cannot")
    assert line.startswith(f"Error: Could not download http://127.0.0.1:{port}/{site.file}: ")
    _nothing_cached(env)


@pytest.mark.parametrize(
    ("base", "words"),
    [
        (
            "http://no-such-host.invalid/",
            "cannot connect to no-such-host.invalid:80: the host name cannot be resolved.",
        ),
        ("http://127.0.0.1:99999/", "the port in '127.0.0.1:99999' is not a number from 0 to 65535."),
    ],
)
def test_other_connection_problems_are_plain_words_too(site: Site, env: dict[str, str], base: str, words: str) -> None:
    result = run_kdata_here("download", "0.1.0", cwd=site.project, env={**env, "KDATA_BASE_URL": base})
    assert words in _one_line(result)


def test_a_404_through_the_real_command_is_one_line(site: Site, env: dict[str, str]) -> None:
    result = run_env("download", "0.1.0", cwd=site.project, env={**env, "KDATA_BASE_URL": f"{site.url}/404/"})
    assert f"{site.url}/404/{site.file}: the server answered 404 Not Found. Nothing was cached" in _one_line(result)


# The progress bar -------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream", [_Terminal(), io.StringIO()], ids=["terminal-like", "plain"])
def test_the_bar_shows_size_rate_and_time_left_only_when_shown(stream: io.StringIO) -> None:
    """The same bar, shown (as on a terminal) and not shown (as when stderr is a pipe or file)."""
    shown = stream.isatty()
    bar = progress_bar("kalbajar-0.1.0.zip", 2 * 1024 * 1024, shown, stream)
    for _ in range(4):
        bar.update(256 * 1024)
        if shown:
            time.sleep(0.15)  # tqdm redraws at most every 0.1 s; a hidden bar has nothing to wait for
    bar.close()
    text = stream.getvalue()
    if not shown:
        assert text == ""
        return
    last = text.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("kalbajar-0.1.0.zip:  50%")
    assert "1.00M/2.00M" in last  # bytes done of the total
    assert "B/s]" in last  # the rate
    assert "<00:0" in last  # time left


def _run_on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run the real command with stderr on a pseudo-terminal; return status, stdout and stderr."""
    full_env = {**os.environ, **env, "COLUMNS": "100"}
    import fcntl
    import pty
    import select
    import termios

    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    proc = subprocess.Popen(
        [sys.executable, "-m", "kdata", *args], cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=side, text=True
    )
    os.close(side)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        try:
            data = os.read(main, 1 << 16) if ready else b""
        except OSError:  # the child closed the terminal
            data = b""
        if not data:
            break
        chunks.append(data)
    os.close(main)
    stdout, _ = proc.communicate(timeout=60)
    return proc.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")


def test_the_real_command_draws_the_bar_on_a_terminal(site: Site, env: dict[str, str]) -> None:
    """On a pipe it draws nothing: ``test_download.py::test_download_verifies_unpacks_and_prints_the_path``."""
    if sys.platform == "win32":
        pytest.skip("pseudo-terminals are POSIX only")
    base = {**env, "KDATA_BASE_URL": f"{site.url}/ok/"}
    fresh = {**base, "KDATA_CACHE_DIR": env["KDATA_CACHE_DIR"] + "-tty"}
    code, stdout, stderr = _run_on_a_terminal(["download", "0.1.0"], site.project, fresh)
    assert code == 0, stderr
    assert stdout.strip().endswith("0.1.0")
    final = stderr.replace("\r", "\n").strip().splitlines()[-1]
    size = Path(fresh["KDATA_CACHE_DIR"], site.file).stat().st_size
    assert final.startswith(f"{site.file}: 100%"), stderr
    assert f"{size / 1024:.1f}k/{size / 1024:.1f}k" in final and "B/s]" in final


def test_the_bar_shows_by_default_on_a_terminal_or_in_a_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked for, it is as asked; by default it follows stderr (a pipe here), and shows in a Jupyter kernel."""
    assert show_progress(True) is True and show_progress(False) is False
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert show_progress(None) is False
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert show_progress(None) is True
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert show_progress(None) is True


def _drain(fd: int) -> str:
    """All a pseudo-terminal's main side holds (until nothing more comes for 0.2 s)."""
    import select

    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        chunks.append(os.read(fd, 1 << 16))
    return b"".join(chunks).decode("utf-8")


@pytest.mark.parametrize(("columns", "width"), [(None, 80), ("60", 60), ("0", 80), ("wide", 80)])
def test_a_terminal_of_unknown_size_gets_a_bar_of_a_fallback_width(
    monkeypatch: pytest.MonkeyPatch, columns: str | None, width: int
) -> None:
    """A pseudo-terminal reporting 0 x 0 (as a new one does): the bar is drawn at $COLUMNS, else 80 columns."""
    if sys.platform == "win32":
        pytest.skip("pseudo-terminals are POSIX only")
    import pty

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    main, side = pty.openpty()
    try:
        assert os.get_terminal_size(side) == os.terminal_size((0, 0))
        with os.fdopen(os.dup(side), "w", encoding="utf-8") as stream:
            bar = progress_bar("kalbajar-0.1.0.zip", 2 * 1024 * 1024, True, stream)
            for _ in range(2):
                bar.update(1024 * 1024)
            bar.close()
        text = _drain(main)
    finally:
        os.close(main)
        os.close(side)
    lines = [line for line in text.replace("\r", "\n").splitlines() if line]
    assert lines[-1].startswith("kalbajar-0.1.0.zip: 100%|") and "2.00M/2.00M" in lines[-1], text
    assert {len(line) for line in lines} == {width}, text
