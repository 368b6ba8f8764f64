"""Credentials in a base URL (https://user:token@host/) are never printed: not in errors, not in listings.

Real downloads (in-process ``kdata download``) against 127.0.0.1: a refused port, a missing file, a
port out of range, an unsupported scheme, a URL too long to print whole; each must name the place
without its user name or token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from inprocess import run_kdata_here
from releasing import closed_port, released_project, serve

from kdata.errors import HIDDEN, DownloadError, KdataError, redact

TOKEN = "ghp_s3cr3tT0ken"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A released test project: its registry, and the URL of the server holding its archive."""
    root = tmp_path_factory.mktemp("secrets")
    _, registry = released_project(root, root / "www")
    with serve(root / "www") as url:
        yield registry, url


def download(registry: Path, base: str, cwd: Path) -> str:
    """What ``kdata download 0.1.0`` prints, all of it, with ``base`` as the base URL; it must fail in one line."""
    env = {"KDATA_REGISTRY": str(registry), "KDATA_CACHE_DIR": str(cwd / "cache"), "KDATA_BASE_URL": base}
    env |= {"KDATA_DOWNLOAD_TIMEOUT": "5", "KDATA_DOWNLOAD_RETRIES": "0"}
    cwd.mkdir()
    done = run_kdata_here("download", "0.1.0", cwd=cwd, env=env)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done
    return done.stdout + done.stderr


def test_a_failed_download_never_prints_the_credentials(site: tuple[Path, str], tmp_path: Path) -> None:
    registry, url = site
    host = url.removeprefix("http://")
    bases = {
        "refused": (f"http://user:{TOKEN}@127.0.0.1:{closed_port()}/", "connection refused"),
        "missing file": (f"http://{TOKEN}@{host}/nowhere/", "404"),
        "port out of range": (f"http://user:{TOKEN}@127.0.0.1:99999/", "is not a number from 0 to 65535"),
        "scheme": (f"ftp://user:{TOKEN}@example.org/", "is not supported"),
        "at sign in the password": (f"http://user:ab@{TOKEN}@127.0.0.1:{closed_port()}/", "connection refused"),
        "cut to 200 characters": (f"http://user:{TOKEN * 30}@{host}/\x01/", "control characters"),
    }
    for case, (base, words) in bases.items():
        out = download(registry, base, tmp_path / case.replace(" ", "-"))
        assert words in out, (case, out)
        assert TOKEN not in out and TOKEN[:8] not in out and "user:" not in out, (case, out)
        assert f"://{HIDDEN}@" in out, (case, out)


@pytest.mark.parametrize("tail", ["?token=abc123", "?token=abc123/", "#token=abc123", "/?a=1&token=abc123"])
def test_a_base_url_with_a_query_or_fragment_is_refused_without_printing_it(
    site: tuple[Path, str], tmp_path: Path, tail: str
) -> None:
    """A base URL names a folder and the archive's name is appended: a query or fragment would swallow it."""
    registry, url = site
    out = download(registry, f"http://u:pw@{url.removeprefix('http://')}/{tail}", tmp_path / "cwd")
    assert "has a query ('?') or a fragment ('#')" in out and out.count("\n") == 1, out
    assert "abc123" not in out and "pw" not in out, out


def test_kdata_versions_shows_the_base_url_without_credentials(site: tuple[Path, str], tmp_path: Path) -> None:
    registry, _ = site
    env = {"KDATA_REGISTRY": str(registry), "KDATA_BASE_URL": f"https://user:{TOKEN}@example.org/kdata/"}
    done = run_kdata_here("versions", cwd=tmp_path, env=env)
    assert done.returncode == 0 and TOKEN not in done.stdout
    assert f"Base URL: https://{HIDDEN}@example.org/kdata/." in done.stdout


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://user:pw@host/x", f"https://{HIDDEN}@host/x"),
        (
            "see http://tok@h:80/a?b=c@d and file://u@localhost/p",
            f"see http://{HIDDEN}@h:80/a?{HIDDEN} and file://{HIDDEN}@localhost/p",
        ),
        ("https://u:p@ss@host/", f"https://{HIDDEN}@host/"),  # urlsplit's host is after the last '@'
        ("HTTPS://U:P@HOST/", f"HTTPS://{HIDDEN}@HOST/"),
        ("https://host/a@b", "https://host/a@b"),  # an '@' in the path is no credential
        ("mail me at a@b.org", "mail me at a@b.org"),
        # a query may carry a token too (a signed link): hidden whole, the fragment and the text after it kept
        ("https://host/dl/?token=abc123 then", f"https://host/dl/?{HIDDEN} then"),
        ("https://host/dl/x.zip?X-Amz-Signature=f00&e=1#part", f"https://host/dl/x.zip?{HIDDEN}#part"),
        ("a question? yes", "a question? yes"),
    ],
)
def test_redact_hides_exactly_the_user_information(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_every_kdata_error_is_redacted_whoever_builds_it() -> None:
    for error in (KdataError, DownloadError):
        assert (
            str(error(f"Could not download https://u:{TOKEN}@h/x.zip."))
            == f"Could not download https://{HIDDEN}@h/x.zip."
        )
    assert json.dumps(str(DownloadError("no URL here"))) == '"no URL here"'
