"""Downloads from a real HTTP server on 127.0.0.1 serving real release archives made by `kdata release`."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from inprocess import run_kdata_here
from releasing import closed_port, released_project, run_env, serve

import kdata
from kdata.datapackage.verify import verify
from kdata.download import fetch
from kdata.errors import DownloadError, IntegrityError, UsageError


@dataclass(frozen=True)
class Site:
    """A project with one published release, served over HTTP."""

    project: Path
    registry: Path
    url: str
    file: str
    sha256: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("site")
    project, registry = released_project(root, root / "www" / "good")
    entry = json.loads(registry.read_text())["releases"]["0.1.0"]
    good = (root / "www" / "good" / entry["file"]).read_bytes()
    for name, content in {
        "tampered": good[:1000] + bytes([good[1000] ^ 1]) + good[1001:],
        "truncated": good[: len(good) // 2],
    }.items():
        (root / "www" / name).mkdir()
        (root / "www" / name / entry["file"]).write_bytes(content)
    with serve(root / "www") as url:
        yield Site(project, registry, url, entry["file"], entry["sha256"])


@pytest.fixture
def env(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Variables for a fresh cache and the good base URL, set here and returned for subprocesses."""
    values = {
        "KDATA_REGISTRY": str(site.registry),
        "KDATA_CACHE_DIR": str(tmp_path / "cache"),
        "KDATA_BASE_URL": f"{site.url}/good/",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("KDATA_OFFLINE", raising=False)
    return values


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))


def test_download_verifies_unpacks_and_prints_the_path(site: Site, env: dict[str, str]) -> None:
    """`kdata download` fetches the newest version, quietly (stderr a pipe: no progress bar), and prints its folder last."""
    result = run_env("download", cwd=site.project, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder == Path(env["KDATA_CACHE_DIR"]) / "0.1.0"
    assert verify(folder) == []
    assert (folder.parent / site.file).is_file()
    versions = run_kdata_here("versions", cwd=site.project, env=env).stdout
    assert versions.startswith("0.1.0") and "cached)" in versions


def test_cache_hit_needs_no_network(site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached version loads with the network cut and KDATA_OFFLINE=1; tombstones stay out."""
    fetch("0.1.0")
    monkeypatch.setenv("KDATA_OFFLINE", "1")
    monkeypatch.setenv("KDATA_BASE_URL", f"http://127.0.0.1:{closed_port()}/")
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("the network was touched"))
    figures = kdata.load("figures", version="0.1.0")
    assert len(figures) == 3 and "riverton-bridge-length" in set(figures["id"])
    assert kdata.metadata(version="0.1.0")["version"] == "0.1.0"
    with pytest.raises(UsageError, match="either package= or version="):
        kdata.load("figures", package="dist", version="0.1.0")


def test_progress_bar_when_asked(site: Site, env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """With a terminal (here: progress=True) the download draws a bar on stderr: size, rate, time left."""
    fetch("0.1.0", progress=True)
    final = capsys.readouterr().err.split("\r")[-1]
    assert final.startswith(f"{site.file}: 100%") and "B/s]" in final


@pytest.mark.parametrize("kind", ["tampered", "truncated"])
def test_bad_file_is_deleted_and_named(site: Site, env: dict[str, str], kind: str) -> None:
    """A tampered or truncated archive is refused with expected and actual sha256, and nothing is cached.

    The tampered one by the real command in its own process; the truncated one by its function here.
    """
    env = {**env, "KDATA_BASE_URL": f"{site.url}/{kind}"}
    result = (run_env if kind == "tampered" else run_kdata_here)("download", "0.1.0", cwd=site.project, env=env)
    assert result.returncode == 1
    assert f"expected {site.sha256}" in result.stderr and "actual " in result.stderr, result.stderr
    cache = Path(env["KDATA_CACHE_DIR"])
    assert not (cache / site.file).exists() and not (cache / "0.1.0").exists()
    assert _leftovers(cache) == []


def test_unknown_version_lists_the_available_ones(site: Site, env: dict[str, str]) -> None:
    result = run_kdata_here("download", "9.9.9", cwd=site.project, env=env)
    assert result.returncode == 2
    assert "Version '9.9.9' is not published; the available versions are 0.1.0." in result.stderr


def test_server_down(site: Site, env: dict[str, str]) -> None:
    """A closed port gives a DownloadError that says what to check; nothing is cached.

    Not tried again (the retries: tests/test_download_retries.py).
    """
    env = {**env, "KDATA_BASE_URL": f"http://127.0.0.1:{closed_port()}/", "KDATA_DOWNLOAD_RETRIES": "0"}
    result = run_kdata_here("download", "0.1.0", cwd=site.project, env=env)
    assert result.returncode == 1
    assert "Could not download" in result.stderr and "KDATA_BASE_URL" in result.stderr
    assert not (Path(env["KDATA_CACHE_DIR"]) / "0.1.0").exists()


def test_no_base_url_says_how_to_set_one(site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KDATA_BASE_URL")
    with pytest.raises(DownloadError, match="Set the environment variable KDATA_BASE_URL"):
        fetch("0.1.0")


def test_offline_never_touches_the_network(site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """KDATA_OFFLINE=1 with an uncached version fails before any connection, saying what to do."""
    monkeypatch.setenv("KDATA_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("the network was touched"))
    with pytest.raises(DownloadError, match="KDATA_OFFLINE forbids downloading") as info:
        kdata.load("events", version="0.1.0")
    assert "version=None" in str(info.value)
    assert len(kdata.load("events")) > 0  # version=None: the bundled data


@pytest.mark.parametrize("word", ["1", "TRUE", " yes ", "On"])
def test_every_on_word_of_kdata_offline_forbids_the_network(
    site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    monkeypatch.setenv("KDATA_OFFLINE", word)
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("the network was touched"))
    with pytest.raises(DownloadError, match="KDATA_OFFLINE forbids downloading"):
        fetch("0.1.0")


@pytest.mark.parametrize("word", ["0", "false", "No", " off ", ""])
def test_every_off_word_of_kdata_offline_downloads(
    site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    monkeypatch.setenv("KDATA_OFFLINE", word)
    assert (fetch("0.1.0") / "datapackage.json").is_file()


@pytest.mark.parametrize("word", ["maybe", "2", "offline", "y", "1 1", "\u0661", "on\x1b[31m"], ids=repr)
def test_a_kdata_offline_it_does_not_know_is_refused_in_one_line(
    site: Site, env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    """``KDATA_OFFLINE=maybe`` was taken as online; now no value is guessed: one line, exit 2, nothing fetched."""
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("the network was touched"))
    result = run_kdata_here("download", "0.1.0", cwd=tmp_path, env={"KDATA_OFFLINE": word})
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, lines
    assert "KDATA_OFFLINE=" in lines[0] and "1, true, yes, on" in lines[0] and "0, false, no, off" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cache").exists()
    monkeypatch.setenv("KDATA_OFFLINE", word)
    with pytest.raises(UsageError, match="KDATA_OFFLINE="):
        kdata.load("events", version="0.1.0")


def test_changed_cache_is_reported_and_refetched_only_when_asked(site: Site, env: dict[str, str]) -> None:
    folder = fetch("0.1.0")
    csv = folder / "events.csv"
    csv.write_text(csv.read_text() + "x\n")
    with pytest.raises(IntegrityError, match=r"no longer matches the registry.*--refresh"):
        fetch("0.1.0")
    assert csv.read_text().endswith("x\n")  # left as it is
    assert fetch("0.1.0", refresh=True) == folder
    assert verify(folder) == [] and not csv.read_text().endswith("x\n")


# Concurrent downloads on a cold cache: tests/reliability/test_faults.py, 8 processes x 2 trials
# (the 4 x 3 race once here made the same assertions on the same command).
