"""Downloads against hostile servers, tampered caches, crafted registries and odd cache states.

Every case uses real files, a real HTTP server on 127.0.0.1 (one handler per misbehaviour) and, where a
user would meet the problem, the real ``kdata`` command. Each must end in one line (no traceback) or
a clean, verified copy; never in trusted edited data, a hang, or leftovers.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import run_kdata, snapshot, without_root_file_access
from inprocess import run_kdata_here
from releasing import released_project, run_env, serve, serving

import kdata
from kdata.datapackage.verify import verify
from kdata.download import cache_problem, fetch
from kdata.errors import DownloadError, IntegrityError, KdataError
from kdata.release.archive import MANIFEST, parse_sums, sums_text
from kdata.release.registry import load_registry


@dataclass(frozen=True)
class Site:
    """A project with one published release: the archive on disk, served well and badly."""

    project: Path
    registry: Path
    www: Path
    url: str
    hostile: str
    file: str
    body: bytes


def _hostile_handler(body: bytes) -> type[http.server.BaseHTTPRequestHandler]:
    """A handler whose first path segment picks a misbehaviour; the file served is always ``body``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def head(self, length: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def trickle(self, content: bytes, size: int, pause: float) -> None:
            for i in range(0, len(content), size):
                self.wfile.write(content[i : i + size])
                self.wfile.flush()
                time.sleep(pause)

        def do_GET(self) -> None:
            kind = self.path.strip("/").split("/")[0]
            try:
                BEHAVIOURS[kind](self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

    BEHAVIOURS: dict[str, Callable[[Any], None]] = {
        # 1 byte every 0.2 s: 5 bytes/s, far below the tests' minimum of 100.
        "trickle": lambda h: (h.head(len(body)), h.trickle(body, 1, 0.2)),
        # 60 bytes every 0.2 s: 300 bytes/s, above the minimum, but the whole file needs a minute.
        "steady": lambda h: (h.head(len(body)), h.trickle(body, 60, 0.2)),
        # The status line and headers themselves, a byte every 0.2 s (each read comes in time; the whole never).
        "headers": lambda h: h.trickle(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body), 1, 0.2),
        # Headers, then silence.
        "silent": lambda h: (h.head(len(body)), h.wfile.flush(), time.sleep(30)),
        # All but the last byte at once, then silence (a transfer caught in the middle).
        "stalls": lambda h: (h.head(len(body)), h.wfile.write(body[:-1]), h.wfile.flush(), time.sleep(30)),
        # Half the body, then the connection is closed.
        "closes": lambda h: (h.head(len(body)), h.wfile.write(body[: len(body) // 2])),
        # The body and more, with no Content-Length (the cap must stop it).
        "more": lambda h: (
            h.send_response(200),
            h.send_header("Connection", "close"),
            h.end_headers(),
            h.wfile.write(body + b"x" * 100_000),
        ),
        # Content-Length larger than the registry says.
        "longer": lambda h: (h.head(len(body) + 10), h.wfile.write(body + b"x" * 10)),
        # Content-Length shorter than the body.
        "shorter": lambda h: (h.head(len(body) - 10), h.wfile.write(body)),
        # 404.
        "missing": lambda h: h.send_error(404),
    }
    return Handler


@contextmanager
def hostile(body: bytes) -> Iterator[str]:
    with serving(_hostile_handler(body)) as url:
        yield url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    www = root / "www"
    project, registry = released_project(root, www)
    entry = json.loads(registry.read_text())["releases"]["0.1.0"]
    body = (www / entry["file"]).read_bytes()
    with serve(www) as url, hostile(body) as bad:
        yield Site(project, registry, www, url, bad, entry["file"], body)


@pytest.fixture
def env(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh cache, the good base URL and small download limits; set here and returned for subprocesses.

    One retry (after 0.5 s): a broken connection is still tried again, without the default's pauses of 3.5 s in all.
    """
    values = {
        "KDATA_REGISTRY": str(site.registry),
        "KDATA_CACHE_DIR": str(tmp_path / "cache"),
        "KDATA_BASE_URL": f"{site.url}/",
        "KDATA_DOWNLOAD_WAIT": "1",
        "KDATA_DOWNLOAD_MIN_RATE": "100",
        "KDATA_DOWNLOAD_TIMEOUT": "3",
        "KDATA_DOWNLOAD_RETRIES": "1",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("KDATA_OFFLINE", raising=False)
    return values


@pytest.fixture(scope="module")
def _fetched_once(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding 0.1.0 as ``fetch`` leaves it, downloaded once for the module (``fetched`` copies it)."""
    cache = tmp_path_factory.mktemp("fetched") / "cache"
    mp = pytest.MonkeyPatch()
    try:
        for key, value in {
            "KDATA_REGISTRY": site.registry,
            "KDATA_CACHE_DIR": cache,
            "KDATA_BASE_URL": f"{site.url}/",
        }.items():
            mp.setenv(key, str(value))
        mp.delenv("KDATA_OFFLINE", raising=False)
        assert verify(fetch("0.1.0")) == []
    finally:
        mp.undo()
    return cache


@pytest.fixture
def fetched(_fetched_once: Path, env: dict[str, str]) -> Path:
    """The test's cache with a verified copy of 0.1.0 (a copy of one download); its folder."""
    cache = Path(env["KDATA_CACHE_DIR"])
    shutil.copytree(_fetched_once, cache, symlinks=True)
    return cache / "0.1.0"


def one_line(result: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    """Exit ``code`` with one 'Error: ...' line naming the cause, no traceback."""
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], result.stderr


def leftovers(cache: Path) -> list[str]:
    """Hidden entries in the cache other than lock files: partial downloads, staging folders."""
    if not cache.is_dir():
        return []
    return sorted(p.name for p in cache.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))


# 1. A tampered cache is never trusted -----------------------------------------------------------


def _edit_with_sums(name: str, edit: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    """Change one unpacked file and its line in the cached SHA256SUMS, so the two agree."""

    def tamper(folder: Path, outside: Path) -> None:
        path = folder / name
        path.write_bytes(edit(path.read_bytes()))
        sums = parse_sums((folder / MANIFEST).read_text())
        sums[name] = __import__("hashlib").sha256(path.read_bytes()).hexdigest()
        (folder / MANIFEST).write_text(sums_text(sums))

    return tamper


def _flip_last_byte(content: bytes) -> bytes:
    return content[:-1] + bytes([content[-1] ^ 1])


def _sums_wholesale(folder: Path, outside: Path) -> None:
    """Edit a CSV, then write a SHA256SUMS computed afresh from every file in the folder."""
    import hashlib

    (folder / "events.csv").write_text((folder / "events.csv").read_text().replace("bridge", "tunnel") + "\n")
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.name != MANIFEST}
    (folder / MANIFEST).write_text(sums_text(files))


def _extra_file(folder: Path, outside: Path) -> None:
    (folder / "extra.csv").write_text("id\nx\n")


def _removed_file(folder: Path, outside: Path) -> None:
    (folder / "events.csv").unlink()
    sums = parse_sums((folder / MANIFEST).read_text())
    del sums["events.csv"]
    (folder / MANIFEST).write_text(sums_text(sums))


def _other_zip(folder: Path, outside: Path) -> None:
    """The archive replaced by another well-formed release zip, and the folder edited to match it."""
    _edit_with_sums("events.csv", lambda b: b + b"\n")(folder, outside)
    archive = next(folder.parent.glob("*.zip"))
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.iterdir()):
            out.write(path, f"kdata-test-0.1.0/{path.name}")


def _truncated_archive(folder: Path, outside: Path) -> None:
    archive = next(folder.parent.glob("*.zip"))
    archive.write_bytes(archive.read_bytes()[:1000])


def _symlink_out(folder: Path, outside: Path) -> None:
    """events.csv replaced by a link to a file outside the cache, with the very same bytes."""
    shutil.copy(folder / "events.csv", outside / "events.csv")
    (folder / "events.csv").unlink()
    (folder / "events.csv").symlink_to(outside / "events.csv")


def _subfolder(folder: Path, outside: Path) -> None:
    (folder / "more").mkdir()


def _many_odd_names(folder: Path, outside: Path) -> None:
    """Files whose names hold a line break, and many of them: the message must stay one short line."""
    for i in range(50):
        (folder / f"x{i}\nError: forged").write_text("x")


TAMPERINGS: dict[str, Callable[[Path, Path], None]] = {
    "csv-and-sums-line": _edit_with_sums("events.csv", lambda b: b.replace(b"bridge", b"tunnel", 1) + b"\n"),
    "parquet-and-sums-line": _edit_with_sums("events.parquet", _flip_last_byte),
    "descriptor-and-sums-line": _edit_with_sums("datapackage.json", lambda b: b.replace(b'"title"', b'"title" ', 1)),
    "sums-only": lambda folder, outside: (folder / MANIFEST).write_text(""),
    "sums-replaced-wholesale": _sums_wholesale,
    "extra-file": _extra_file,
    "extra-folder": _subfolder,
    "many-odd-names": _many_odd_names,
    "file-removed-with-its-line": _removed_file,
    "archive-another-valid-zip": _other_zip,
    "archive-truncated": _truncated_archive,
    "archive-removed": lambda folder, outside: next(folder.parent.glob("*.zip")).unlink(),
    "file-is-symlink-outside": _symlink_out,
}


@pytest.mark.parametrize("kind", TAMPERINGS)
def test_tampered_cache_is_refused_then_replaced_by_refresh(
    site: Site, env: dict[str, str], fetched: Path, tmp_path: Path, kind: str
) -> None:
    """Edited files, with a cached SHA256SUMS that agrees, are refused by load; --refresh restores the release."""
    folder = fetched
    pristine = snapshot(folder)
    outside = tmp_path / "outside"
    outside.mkdir()
    TAMPERINGS[kind](folder, outside)
    registry = load_registry()
    assert cache_problem(registry.get("0.1.0"), folder.parent) is not None
    if kind != "archive-removed":  # a missing archive is fetched again; the folder is then checked against it
        with pytest.raises(IntegrityError, match=r"no longer matches the registry.*--refresh"):
            kdata.load("events", version="0.1.0")
        one_line(run_kdata_here("download", "0.1.0", cwd=site.project), 1, "--refresh")
    result = run_kdata_here("download", "0.1.0", "--refresh", cwd=site.project)
    assert result.returncode == 0, result.stderr
    assert snapshot(folder) == pristine and verify(folder) == []
    assert not folder.joinpath("events.csv").is_symlink()
    assert (outside / "events.csv").exists() == (kind == "file-is-symlink-outside")  # the link's target untouched
    assert cache_problem(registry.get("0.1.0"), folder.parent) is None
    assert leftovers(folder.parent) == []


def test_tampered_cache_by_the_real_command(site: Site, env: dict[str, str], fetched: Path) -> None:
    """The same through the real `kdata download`: refused in one line, then replaced with --refresh (here)."""
    folder = fetched
    TAMPERINGS["csv-and-sums-line"](folder, folder)
    one_line(run_env("download", "0.1.0", cwd=site.project, env=env), 1, "no longer matches the registry")
    assert "tunnel" in (folder / "events.csv").read_text()  # left as it is
    assert run_kdata_here("download", "0.1.0", "--refresh", cwd=site.project, env=env).returncode == 0
    assert "tunnel" not in (folder / "events.csv").read_text() and verify(folder) == []


@pytest.mark.parametrize("kind", ["csv-and-sums-line", "folder-is-a-file"])
def test_offline_refresh_restores_from_the_verified_cached_archive(
    site: Site, env: dict[str, str], fetched: Path, kind: str
) -> None:
    """KDATA_OFFLINE=1 forbids the network, not a reinstall from the archive the registry vouches for."""
    folder = fetched
    pristine = snapshot(folder)
    if kind == "folder-is-a-file":
        shutil.rmtree(folder)
        folder.write_text("not a folder")
    else:
        TAMPERINGS[kind](folder, folder)
    offline = {**env, "KDATA_OFFLINE": "1", "KDATA_BASE_URL": "http://127.0.0.1:9/"}  # nothing listens on port 9
    one_line(run_kdata_here("download", "0.1.0", cwd=site.project, env=offline), 1, "--refresh")
    result = run_kdata_here("download", "0.1.0", "--refresh", cwd=site.project, env=offline)
    assert result.returncode == 0, result.stderr
    assert folder.is_dir() and snapshot(folder) == pristine and verify(folder) == []


# 2. Downloads that cannot hang --------------------------------------------------------------------

SERVERS = {
    # kind: (exit code, words in the one line)
    "trickle": (1, "below the minimum of 100"),
    "steady": (1, "took longer than 1 s (KDATA_DOWNLOAD_TIMEOUT)"),  # with the deadline of STEADY
    "silent": (1, "timed out"),
    "headers": (1, "no complete response headers within 2 s"),
    "closes": (1, "Could not download"),
    "more": (1, "larger than the registry says"),
    "longer": (1, "larger than the registry says"),
    "shorter": (1, "does not match the registry"),
    "missing": (1, "404"),
}


#: The steady server's deadline: 1 s, the shortest allowed, equal to the wait (a rate of 300 bytes/s passes its span).
STEADY = {"KDATA_DOWNLOAD_TIMEOUT": "1"}


@pytest.mark.parametrize("kind", SERVERS)
def test_hostile_server_gives_one_line_and_caches_nothing(site: Site, env: dict[str, str], kind: str) -> None:
    """Slow, silent, closing, oversized and mislabelled servers: one line within the limits, nothing left."""
    code, words = SERVERS[kind]
    run = run_env if kind == "silent" else run_kdata_here  # one case by the real command in its own process
    start = time.monotonic()
    env = {**env, "KDATA_BASE_URL": f"{site.hostile}/{kind}", **(STEADY if kind == "steady" else {})}
    result = run("download", "0.1.0", cwd=site.project, env=env)
    assert time.monotonic() - start < 15  # the deadline is 3 s, the wait 1 s; the rest is Python starting
    one_line(result, code, words)
    cache = Path(env["KDATA_CACHE_DIR"])
    assert not (cache / "0.1.0").exists() and not (cache / site.file).exists()
    assert leftovers(cache) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [("KDATA_DOWNLOAD_TIMEOUT", "0"), ("KDATA_DOWNLOAD_WAIT", "soon"), ("KDATA_DOWNLOAD_MIN_RATE", "-1")],
)
def test_download_settings_are_bounded(site: Site, env: dict[str, str], name: str, value: str) -> None:
    one_line(run_kdata_here("download", "0.1.0", cwd=site.project, env={name: value}), 2, f"{name}={value!r}")


# 3. No leftovers ----------------------------------------------------------------------------------


def test_killed_download_leaves_a_part_file_the_next_run_removes(site: Site, env: dict[str, str]) -> None:
    """SIGKILL of a real `kdata download` mid-transfer leaves a .part; the next run removes it and succeeds."""
    cache = Path(env["KDATA_CACHE_DIR"])
    assert len(site.body) > 2 * io.DEFAULT_BUFFER_SIZE  # so the bytes before the stall reach the .part file
    slow = {**env, "KDATA_BASE_URL": f"{site.hostile}/stalls", "KDATA_DOWNLOAD_TIMEOUT": "600"}
    slow |= {"KDATA_DOWNLOAD_WAIT": "600", "KDATA_DOWNLOAD_MIN_RATE": "0"}  # the stall is waited out, not refused
    proc = subprocess.Popen(
        [sys.executable, "-m", "kdata", "download", "0.1.0"],
        cwd=site.project,
        env={**os.environ, **slow},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):
            parts = list(cache.glob("*.part")) if cache.is_dir() else []
            if parts and parts[0].stat().st_size > 0:
                break
            time.sleep(0.05)
        else:
            proc.kill()
            pytest.fail(f"no partial download appeared: {proc.communicate()[1]!r}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert [p.name.endswith(".part") for p in map(Path, leftovers(cache))] == [True]
    result = run_kdata_here("download", "0.1.0", cwd=site.project, env=env)  # the next run: the command's function
    assert result.returncode == 0, result.stderr
    assert leftovers(cache) == [] and verify(cache / "0.1.0") == []


@pytest.fixture(scope="module")
def killed_unpack(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache left by a real process killed between unpacking and moving into place (each test copies it)."""
    cache = tmp_path_factory.mktemp("killed") / "cache"
    env = {"KDATA_REGISTRY": str(site.registry), "KDATA_CACHE_DIR": str(cache), "KDATA_BASE_URL": f"{site.url}/"}
    script = (
        "import os, signal, kdata.datapackage.verify as v\n"
        "v.verify = lambda folder: os.kill(os.getpid(), signal.SIGKILL)\n"  # die just before the swap
        "from kdata.download import fetch\nfetch('0.1.0')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=site.project, env={**os.environ, **env})
    assert proc.returncode == -signal.SIGKILL
    return cache


@pytest.mark.parametrize("when", ["cold-cache", "beside-a-valid-copy"])
def test_killed_unpack_leaves_a_staging_folder_the_next_run_removes(
    site: Site,
    env: dict[str, str],
    killed_unpack: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    when: str,
) -> None:
    """A process killed between unpacking and moving into place leaves a half-installed stage and a .part.

    The next run removes them, also when a valid copy is there meanwhile (put there by another process),
    where it needs no download at all.
    """
    cache = Path(env["KDATA_CACHE_DIR"])
    shutil.copytree(killed_unpack, cache, symlinks=True)
    left = leftovers(cache)
    assert any(name.startswith(".0.1.0-new-") for name in left) and any(name.endswith(".part") for name in left)
    assert not (cache / "0.1.0").exists()
    if when == "beside-a-valid-copy":
        monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "other"))
        shutil.copytree(fetch("0.1.0"), cache / "0.1.0")
        shutil.copy(tmp_path / "other" / site.file, cache / site.file)
    result = run_kdata_here("download", "0.1.0", cwd=site.project, env=env)  # the next run: the command's function
    assert result.returncode == 0, result.stderr
    assert leftovers(cache) == [] and verify(cache / "0.1.0") == []


# 4. KDATA_BASE_URL: folders and file:// URLs; other schemes refused ---------------------------------


@pytest.mark.parametrize("form", ["folder", "folder-with-slash", "file-url", "file-localhost-url"])
def test_base_url_may_be_a_folder(site: Site, env: dict[str, str], form: str) -> None:
    """A folder (or file:// URL) holding the archives serves as a base URL, checked like a download."""
    base = {
        "folder": str(site.www),
        "folder-with-slash": f"{site.www}/",
        "file-url": site.www.as_uri(),
        "file-localhost-url": "file://localhost" + site.www.as_posix(),
    }[form]
    result = run_kdata_here("download", "0.1.0", cwd=site.project, env={**env, "KDATA_BASE_URL": base})
    assert result.returncode == 0, result.stderr
    assert verify(Path(env["KDATA_CACHE_DIR"]) / "0.1.0") == []


@pytest.mark.parametrize("problem", ["tampered", "missing", "fifo", "too-large"])
def test_bad_file_in_a_folder_base_url(site: Site, env: dict[str, str], tmp_path: Path, problem: str) -> None:
    """A folder base URL gets the same checks: sha256, size cap, a regular file; one line, nothing cached."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    target = mirror / site.file
    words = {"tampered": "does not match the registry", "missing": "No such file", "fifo": "not a regular file"}
    if problem == "tampered":
        target.write_bytes(site.body[:-1] + bytes([site.body[-1] ^ 1]))
    elif problem == "fifo":
        os.mkfifo(target)
    elif problem == "too-large":
        target.write_bytes(site.body + b"x")
        words["too-large"] = "larger than the registry says"
    result = run_kdata_here("download", "0.1.0", cwd=site.project, env={"KDATA_BASE_URL": str(mirror)})
    one_line(result, 1, words[problem])
    assert not (Path(env["KDATA_CACHE_DIR"]) / "0.1.0").exists()
    assert leftovers(Path(env["KDATA_CACHE_DIR"])) == []


@pytest.mark.parametrize(
    ("base", "words"),
    [
        ("ftp://127.0.0.1/pub/", "is not supported"),
        ("javascript:alert(1)//", "is not supported"),
        ("data:text/plain,x/", "is not supported"),
        ("gopher://x/", "is not supported"),
        ("file://example.org/x/", "file://"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://127.0.0.1:1/\r\nX-Injected: 1", "control characters"),
        ("http://127.0.0.1:99999/", "Could not download"),
        ("http://127.0.0.1:1/\x1b[31m/", "control characters"),
    ],
)
def test_other_schemes_are_refused(site: Site, env: dict[str, str], base: str, words: str) -> None:
    result = run_kdata_here("download", "0.1.0", cwd=site.project, env={"KDATA_BASE_URL": base})
    one_line(result, 1, words)
    assert leftovers(Path(env["KDATA_CACHE_DIR"])) == []


# 5. Damaged or crafted registries -----------------------------------------------------------------

_GOOD_ENTRY = {"file": "kalbajar-0.1.0.zip", "sha256": "a" * 64, "bytes": 100, "date": "2026-11-23"}


def _registry(**changes: Any) -> bytes:
    return json.dumps({"base_url": None, "releases": {"0.1.0": {**_GOOD_ENTRY, **changes}}}).encode()


REGISTRIES: dict[str, tuple[bytes | str, str]] = {
    # name: (content, or "fifo"/"dir"; words in the one line)
    "json-list": (b"[]", "Input should be an object"),
    "json-string": (b'"registry"', "Input should be an object"),
    "json-null": (b"null", "Input should be an object"),
    "not-json": (b"{base_url: }", "Invalid JSON"),
    "no-releases": (b'{"base_url": null}', "releases: Field required"),
    "no-sha256": (
        json.dumps({"base_url": None, "releases": {"0.1.0": {"file": "a.zip", "bytes": 1}}}).encode(),
        "sha256",
    ),
    "releases-a-list": (b'{"base_url": null, "releases": []}', "releases"),
    "entry-a-string": (b'{"base_url": null, "releases": {"0.1.0": "x"}}', "releases['0.1.0']"),
    "bytes-as-text": (_registry(bytes="100"), "bytes: expected a whole number"),
    "base-url-a-number": (json.dumps({"base_url": 5, "releases": {}}).encode(), "base_url"),
    "extra-key": (_registry(url="http://x/"), "url"),
    "not-semver": (json.dumps({"base_url": None, "releases": {"0.1": _GOOD_ENTRY}}).encode(), "'0.1' is not a version"),
    "semver-newline": (json.dumps({"base_url": None, "releases": {"0.1.0\n": _GOOD_ENTRY}}).encode(), "not a version"),
    "file-with-slash": (_registry(file="a/kalbajar-0.1.0.zip"), "no folder"),
    "file-with-dotdot": (_registry(file="../kalbajar-0.1.0.zip"), "no folder"),
    "file-dotdot-only": (_registry(file=".."), "no folder"),
    "file-hidden": (_registry(file=".kalbajar-0.1.0.zip"), "no folder"),
    "negative-size": (_registry(bytes=-1), "bytes: expected a whole number"),
    "zero-size": (_registry(bytes=0), "bytes"),
    "sha256-short": (_registry(sha256="abc"), "64 lower-case hex digits"),
    "sha256-upper": (_registry(sha256="A" * 64), "64 lower-case hex digits"),
    "sha256-not-hex": (_registry(sha256="g" * 64), "64 lower-case hex digits"),
    "bad-date": (_registry(date="23/11/2026"), "date"),
    "not-utf8": (b'{"base_url": "\xff\xfe", "releases": {}}', "not UTF-8"),
    "huge": (b" " * (2 << 20) + b"{}", "more than a registry's"),
    "fifo": ("fifo", "not a regular file"),
    "directory": ("dir", "not a regular file"),
    "missing": ("missing", "No such file"),
}


def _make_registry(path: Path, content: bytes | str) -> None:
    makers: dict[object, Callable[[], object]] = {
        "fifo": lambda: os.mkfifo(path),
        "dir": lambda: path.mkdir(),
        "missing": lambda: None,
    }
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        makers[content]()


@pytest.mark.parametrize("kind", REGISTRIES)
def test_crafted_registry_gives_one_line_everywhere(
    site: Site, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """versions, download, cite and load(version=) all refuse a bad registry in one line, without waiting."""
    content, words = REGISTRIES[kind]
    path = tmp_path / "registry.json"
    _make_registry(path, content)
    crafted = {"KDATA_REGISTRY": str(path)}
    for command in (["versions"], ["download", "0.1.0"], ["cite", "0.1.0"]):
        one_line(run_kdata_here(*command, cwd=site.project, env=crafted), 2, words)
        assert "release registry" in run_kdata_here(*command, cwd=site.project, env=crafted).stderr
    monkeypatch.setenv("KDATA_REGISTRY", str(path))
    with pytest.raises(KdataError, match="release registry") as info:
        kdata.load("events", version="0.1.0")
    assert "\n" not in str(info.value)


def test_crafted_registry_by_the_real_command(site: Site, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    os.mkfifo(path)
    one_line(run_env("versions", cwd=site.project, env={**env, "KDATA_REGISTRY": str(path)}, timeout=20), 2, "regular")


# 6. Odd states of the cached folder ---------------------------------------------------------------


def _version_is_file(cache: Path, elsewhere: Path) -> None:
    shutil.rmtree(cache / "0.1.0")
    (cache / "0.1.0").write_text("not a folder")


def _version_is_link(cache: Path, elsewhere: Path) -> None:
    shutil.copytree(cache / "0.1.0", elsewhere / "copy")
    shutil.rmtree(cache / "0.1.0")
    (cache / "0.1.0").symlink_to(elsewhere / "copy")


def _version_is_dangling_link(cache: Path, elsewhere: Path) -> None:
    shutil.rmtree(cache / "0.1.0")
    (cache / "0.1.0").symlink_to(elsewhere / "nothing")


STATES: dict[str, Callable[[Path, Path], None]] = {
    "version-is-a-file": _version_is_file,
    "version-is-a-link": _version_is_link,
    "version-is-a-dangling-link": _version_is_dangling_link,
}


@pytest.mark.parametrize("state", STATES)
def test_odd_cached_folder_is_refused_then_refetched(
    site: Site, env: dict[str, str], fetched: Path, tmp_path: Path, state: str
) -> None:
    """A file, a link or an unreadable folder at <cache>/0.1.0: one line, then --refresh installs a real copy."""
    folder = fetched
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    STATES[state](folder.parent, elsewhere)
    try:
        one_line(run_kdata_here("download", "0.1.0", cwd=site.project), 1, "--refresh")
        with pytest.raises(IntegrityError):
            kdata.load("events", version="0.1.0")
        result = run_kdata_here("download", "0.1.0", "--refresh", cwd=site.project, env=env)
        assert result.returncode == 0, result.stderr
        assert folder.is_dir() and not folder.is_symlink() and verify(folder) == []
        assert not elsewhere.joinpath("copy").exists() or verify(elsewhere / "copy") == []  # the link's target kept
    finally:
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o755)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="file permissions of this kind are POSIX only")
def test_an_unreadable_cached_folder_is_one_line_then_refetched(site: Site, env: dict[str, str], fetched: Path) -> None:
    """A chmod 000 <cache>/0.1.0: one line; --refresh installs a real copy. As root, the first command runs
    without the capabilities that let root read anything (chmod does not bind root otherwise)."""
    folder = fetched
    folder.chmod(0)
    try:
        drop = without_root_file_access if os.geteuid() == 0 else None
        one_line(run_kdata("download", "0.1.0", cwd=site.project, env=env, preexec_fn=drop), 1, "--refresh")
        result = run_kdata_here("download", "0.1.0", "--refresh", cwd=site.project, env=env)
        assert result.returncode == 0, result.stderr
        assert folder.is_dir() and verify(folder) == []
    finally:
        if folder.is_dir():
            folder.chmod(0o755)


def test_cache_that_is_a_file(site: Site, env: dict[str, str]) -> None:
    cache = Path(env["KDATA_CACHE_DIR"])
    cache.write_text("not a folder")
    one_line(run_kdata_here("download", "0.1.0", cwd=site.project, env=env), 1, "is a file, not a folder")
    with pytest.raises(DownloadError, match="is a file, not a folder"):
        kdata.load("events", version="0.1.0")
    assert run_kdata_here("versions", cwd=site.project).returncode == 0
    assert cache.read_text() == "not a folder"


def test_closed_port_and_connect_refused_in_time(site: Site, env: dict[str, str]) -> None:
    """A listening socket that never accepts (backlog full) is abandoned after the wait, in one line."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        start = time.monotonic()
        result = run_kdata_here(
            "download", "0.1.0", cwd=site.project, env={"KDATA_BASE_URL": f"http://127.0.0.1:{port}/"}
        )
        assert time.monotonic() - start < 10
    one_line(result, 1, "Could not download")
