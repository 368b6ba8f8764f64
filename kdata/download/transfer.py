"""Copy one release archive from a location into a file: http(s) with retries, or a folder on disk.

Every source goes through one loop that writes into the caller's ``.part`` file, stops at the
registry's size, gives up after ``KDATA_DOWNLOAD_TIMEOUT`` seconds in all, after
``KDATA_DOWNLOAD_WAIT`` seconds without a byte, or when a ``KDATA_DOWNLOAD_WAIT`` span brings less
than ``KDATA_DOWNLOAD_MIN_RATE`` bytes a second; then the sha256 is checked against the registry.
A refused, reset or broken connection and a 429 or 5xx answer are tried again
(``KDATA_DOWNLOAD_RETRIES`` times, the pause doubling, a server's Retry-After honoured within
bounds); nothing else is. Failures are told in plain words (``cannot connect to 127.0.0.1:9:
connection refused``), never as a library's internals. The progress bar is tqdm's.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

from kdata import settings
from kdata.errors import DownloadError, IntegrityError, redact
from kdata.fs import sha256_file
from kdata.release.registry import ENV_BASE_URL, Release

#: Numeric settings (kdata.settings): a download's deadline, its wait for bytes, its minimum rate.
ENV_TIMEOUT, ENV_WAIT, ENV_MIN_RATE = "KDATA_DOWNLOAD_TIMEOUT", "KDATA_DOWNLOAD_WAIT", "KDATA_DOWNLOAD_MIN_RATE"
#: How many times a transient failure (refused or broken connection, 429 or 5xx) is tried again.
ENV_RETRIES = "KDATA_DOWNLOAD_RETRIES"


def show_progress(progress: bool | None) -> bool:
    """Whether to draw the progress bar: as asked, else when stderr is a terminal or in a Jupyter kernel."""
    if progress is not None:
        return progress
    return sys.stderr.isatty() or "ipykernel" in sys.modules


#: The width of the bar on a terminal that reports no size (0 x 0, as a new pseudo-terminal does).
FALLBACK_COLUMNS = 80


def unknown_width(stream: TextIO) -> int | None:
    """The width to draw at on a terminal whose size is unknown (0 columns): ``$COLUMNS``, else 80; None otherwise.

    tqdm follows the terminal's size, and draws nothing at 0 columns.
    """
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):  # not a terminal, or no file descriptor (io.UnsupportedOperation)
        return None
    if columns > 0:
        return None
    given = os.environ.get("COLUMNS", "")
    return int(given) if given.isascii() and given.isdigit() and int(given) > 0 else FALLBACK_COLUMNS


def progress_bar(label: str, total: int, show: bool, stream: TextIO | None = None) -> Any:
    """A tqdm bar on ``stream`` (default stderr): bytes done of ``total``, rate and time left; silent unless ``show``.

    ``tqdm.auto`` draws a widget in a notebook and text on a terminal, at the terminal's width as it
    changes, or at ``unknown_width`` where the terminal reports none.
    """
    from tqdm.auto import tqdm

    stream = stream or sys.stderr
    fixed = unknown_width(stream) if show else None
    return tqdm(
        total=total,
        desc=label,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=stream,
        disable=not show,
        leave=True,
        ncols=fixed,
        dynamic_ncols=fixed is None,
    )


#: A source: a function that returns the next bytes (b"" at the end), and the size it announces (or None).
_Source = tuple[Callable[[], bytes], "int | None"]


@contextmanager
def _http(url: str, wait: int) -> Iterator[_Source]:
    """Read an http(s) URL with requests, waiting at most ``wait`` s for the connection and for each read.

    ``read1`` returns as soon as any bytes arrive (plain ``read`` and requests' ``iter_content`` wait for
    a whole chunk), so the caller sees a trickling server often enough to hold it to a deadline and a
    rate; pooch's downloader has only requests' per-read timeout, which a trickle never trips.
    """
    import threading

    import requests

    # requests' timeouts bound each socket read, so a server sending its headers a byte a second would
    # hold the request forever: the request runs in a thread, and the headers get 2 x wait in all
    # (a connection, then the response). An abandoned request closes its response when it comes.
    box: dict[str, Any] = {}

    def request() -> None:
        try:
            box["response"] = requests.get(
                url, stream=True, timeout=(wait, wait), headers={"Accept-Encoding": "identity"}
            )
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        if box.get("abandoned") and "response" in box:
            box["response"].close()

    thread = threading.Thread(target=request, name="kdata-download", daemon=True)
    thread.start()
    thread.join(2 * wait)
    if thread.is_alive():
        box["abandoned"] = True
        raise _Failed(f"no complete response headers within {2 * wait} s")
    if "error" in box:
        raise box["error"]
    with box["response"] as response:
        if response.status_code >= 400:
            raise _answer_failure(response.status_code, response.headers.get("Retry-After"))
        length = response.headers.get("Content-Length", "")
        # read1 exists from urllib3 2.3; before it, small reads bound how long a trickle goes unseen.
        read1 = getattr(response.raw, "read1", None) or (lambda amt: response.raw.read(min(amt, 1 << 10)))
        yield (lambda: read1(1 << 16)), int(length) if length.isascii() and length.isdigit() else None


@contextmanager
def _local(path: Path) -> Iterator[_Source]:
    """Read a file from a folder (a mirror on disk); opened without blocking, so a FIFO is refused, not waited on."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DownloadError(f"{path} is not a regular file; {ENV_BASE_URL} must name the folder of the archives.")
        yield (lambda: handle.read(1 << 16)), info.st_size


def _file_url(url: str) -> Path:
    """The path of a ``file://`` URL (only on this machine: no host, or ``localhost``)."""
    from urllib.parse import unquote, urlsplit
    from urllib.request import url2pathname

    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise DownloadError(f"{url} names the host '{parts.netloc}'; a file:// URL must be on this machine.")
    return Path(url2pathname(unquote(parts.path)))


#: How each kind of location is opened, by URL scheme ("": a folder path).
_OPENERS: dict[str, Callable[[str, int], AbstractContextManager[_Source]]] = {
    "http": _http,
    "https": _http,
    "file": lambda url, wait: _local(_file_url(url)),
    "": lambda url, wait: _local(Path(url)),
}


def _scheme(url: str) -> str:
    """The scheme of a location, lower-case; "" for a folder path (a Windows drive letter included)."""
    from urllib.parse import urlsplit

    scheme = urlsplit(url).scheme.lower()
    return "" if len(scheme) <= 1 else scheme


class _Failed(Exception):
    """One failed attempt: its reason in plain words, whether trying again may help, and when (Retry-After)."""

    def __init__(self, reason: str, transient: bool = False, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.transient, self.after = reason, transient, after


#: HTTP answers worth trying again: too many requests, and the server's transient failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: The longest Retry-After honoured, in seconds (a longer one is cut to this, within the deadline).
MAX_RETRY_AFTER = 60.0
#: The first pause between attempts, in seconds; it doubles after each failed attempt, up to MAX_BACKOFF.
BACKOFF, MAX_BACKOFF = 0.5, 30.0
#: Socket errors in plain words, and whether a new attempt may succeed.
_ERRNO_WORDS: dict[int, tuple[str, bool]] = {
    errno.ECONNREFUSED: ("connection refused", True),
    errno.ECONNRESET: ("connection reset by the server", True),
    errno.ECONNABORTED: ("connection aborted", True),
    errno.EPIPE: ("connection closed by the server", True),
    errno.EHOSTUNREACH: ("host unreachable", False),
    errno.ENETUNREACH: ("network unreachable", False),
    errno.ETIMEDOUT: ("timed out", False),
}


def _answer_failure(status: int, retry_after: str | None) -> _Failed:
    """An HTTP error answer as a failed attempt: ``the server answered 503 Service Unavailable``."""
    import http

    try:
        phrase = " " + http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return _Failed(f"the server answered {status}{phrase}", status in RETRY_STATUSES, _retry_after(retry_after))


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks to wait (whole seconds or an HTTP date), or None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value[:6])
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    import datetime

    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it: ``__cause__``, ``__context__``, urllib3's ``reason`` and exceptions in ``args``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        more = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(e for e in more if isinstance(e, BaseException))


def _failure(exc: BaseException, url: str, wait: int, received: int) -> _Failed:
    """A failed open or read in plain words, never a library's internals.

    ``Cannot connect to 127.0.0.1:9: connection refused``; ``the connection broke after 1024 bytes``.
    """
    import http.client
    import socket
    import ssl
    from urllib.parse import urlsplit

    import requests
    import urllib3

    if isinstance(exc, _Failed):
        return exc
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):  # a folder or file:// mirror: the system's own words
        return _Failed(_reason(exc))
    try:
        port = parts.port or {"https": 443}.get(parts.scheme, 80)
    except ValueError:
        return _Failed(f"the port in {parts.netloc.rpartition('@')[2]!r} is not a number from 0 to 65535")
    where = f"{parts.hostname}:{port}"
    causes = list(_causes(exc))
    timeouts = (requests.Timeout, urllib3.exceptions.TimeoutError, socket.timeout, TimeoutError)
    connecting = any(isinstance(e, (requests.ConnectTimeout, urllib3.exceptions.NewConnectionError)) for e in causes)
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            return _Failed(f"cannot connect to {where}: the host name cannot be resolved")
        if isinstance(cause, ssl.SSLError):
            return _Failed(f"cannot connect to {where}: the TLS handshake failed ({cause.reason or cause})")
        if isinstance(cause, OSError) and cause.errno in _ERRNO_WORDS:
            words, transient = _ERRNO_WORDS[cause.errno]
            lead = f"cannot connect to {where}" if connecting else f"the connection to {where} broke"
            return _Failed(f"{lead}: {words}", transient)
    if any(isinstance(e, timeouts) for e in causes):
        if connecting:
            return _Failed(f"cannot connect to {where}: no connection within {wait} s (timed out, {ENV_WAIT})")
        return _Failed(f"no byte came from {where} for {wait} s (timed out, {ENV_WAIT})")
    broken = (
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.ProtocolError,
        http.client.HTTPException,
        requests.ConnectionError,
    )
    if any(isinstance(e, broken) for e in causes):
        if received:
            return _Failed(f"the connection to {where} broke after {received} bytes", True)
        return _Failed(f"{where} closed the connection without an answer", True)
    return _Failed(_reason(exc))


def download(url: str, release: Release, part: Path, progress: bool) -> None:
    """Copy ``url`` into ``part``, trying again after a transient failure; check its sha256.

    A refused, reset or broken connection and a 429 or 5xx answer are tried again, up to
    ``KDATA_DOWNLOAD_RETRIES`` more times, after a pause that doubles each time (from ``BACKOFF``
    seconds; a server's Retry-After, up to ``MAX_RETRY_AFTER``, instead), all within
    ``KDATA_DOWNLOAD_TIMEOUT``. Any other failure (another 4xx answer, a timeout, a rate below the
    minimum, a file that is not the registry's) ends the download at once.

    Raises:
        DownloadError: The location cannot be read, is too slow, or the deadline passed.
        IntegrityError: The file is not the registry's (size announced or sent, or sha256).
    """
    shown = redact(url)  # before any shortening: a cut URL may have lost the '@' that marks its credentials
    try:
        scheme = _scheme(url)
    except ValueError as exc:  # urlsplit: "Invalid IPv6 URL" and the like
        raise DownloadError(f"Cannot download from {shown[:200]!r}: {exc}. Check {ENV_BASE_URL}.") from None
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise DownloadError(f"Cannot download from {shown[:200]!r}: it holds control characters. Check {ENV_BASE_URL}.")
    if scheme not in _OPENERS:
        raise DownloadError(
            f"Cannot download from {shown[:200]}: the scheme '{scheme}:' is not supported. Set {ENV_BASE_URL} "
            "to an http://, https:// or file:// URL, or to a folder path."
        )
    deadline, retries = settings.number(ENV_TIMEOUT), settings.number(ENV_RETRIES)
    import requests  # noqa: F401  (imported before the clock starts: under load an import takes seconds)

    bar = progress_bar(release.file, release.bytes, progress)
    start = time.monotonic()
    try:
        for attempt in range(retries + 1):
            try:
                _attempt(url, scheme, release, part, bar, start)
                break
            except _Failed as failed:
                left = deadline - (time.monotonic() - start)
                if failed.after is not None:
                    pause = min(failed.after, MAX_RETRY_AFTER)
                else:
                    pause = min(BACKOFF * 2**attempt, MAX_BACKOFF)
                if not failed.transient or attempt == retries or pause >= left:
                    tries = f" ({attempt + 1} attempts)" if attempt else ""
                    if failed.transient and attempt < retries and failed.after is not None:
                        tries += f"; it asked to wait {failed.after:.0f} s, past {ENV_TIMEOUT}"
                    raise _gave_up(url, failed.reason + tries) from None
                time.sleep(pause)
                bar.reset()
    finally:
        bar.close()
    size, actual = part.stat().st_size, sha256_file(part)
    if actual != release.sha256:
        raise IntegrityError(
            f"The file downloaded from {url} does not match the registry: sha256 expected {release.sha256} "
            f"({release.bytes} bytes), actual {actual} ({size} bytes). It was deleted, not cached. "
            "The file on the server is truncated or altered; try again later or use another base URL."
        )


def _gave_up(url: str, why: str) -> DownloadError:
    return DownloadError(
        f"Could not download {url}: {why}. Nothing was cached; check the network and the base URL "
        f"(set {ENV_BASE_URL} to the folder that holds the release archives), then try again."
    )


def _attempt(url: str, scheme: str, release: Release, part: Path, bar: Any, start: float) -> None:
    """One attempt: copy ``url`` into ``part`` (from its start) within the deadline and the minimum rate.

    Raises:
        _Failed: The location could not be opened or read (its ``transient`` says whether to try again).
        DownloadError: The deadline passed or the rate fell below the minimum.
        IntegrityError: The file is larger than the registry says.
    """
    import requests
    import urllib3

    deadline, wait, rate = (settings.number(name) for name in (ENV_TIMEOUT, ENV_WAIT, ENV_MIN_RATE))
    failed = (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError)  # ValueError: a bad port
    window = time.monotonic()
    received = in_window = 0
    with ExitStack() as stack:
        try:
            read, announced = stack.enter_context(_OPENERS[scheme](url, wait))
        except failed as exc:  # opening the location; writes go to fetch
            raise _failure(exc, url, wait, 0) from None
        handle = stack.enter_context(open(part, "wb"))
        if announced is not None and announced > release.bytes:  # a shorter one fails the sha256 check
            raise IntegrityError(
                f"{url} is {announced} bytes long, larger than the registry says ({release.bytes} bytes); "
                "nothing was downloaded or cached. The server holds another file: "
                "try again later or use another base URL."
            )
        while True:
            try:
                chunk = read()
            except failed as exc:  # a timeout, a connection closed mid-body
                raise _failure(exc, url, wait, received) from None
            if not chunk:
                break
            received += len(chunk)
            if received > release.bytes:
                raise IntegrityError(
                    f"The file downloaded from {url} is larger than the registry says ({release.bytes} bytes); "
                    "the download was stopped and nothing was cached. The server sends something else: "
                    "try again later or use another base URL."
                )
            handle.write(chunk)
            bar.update(len(chunk))
            now, in_window = time.monotonic(), in_window + len(chunk)
            if now - start > deadline:
                raise _gave_up(url, f"it took longer than {deadline} s ({ENV_TIMEOUT})")
            if now - window >= wait:
                if in_window < rate * (now - window):
                    raise _gave_up(
                        url,
                        f"it slowed to {in_window / (now - window):.0f} bytes/s, below the minimum of {rate} "
                        f"({ENV_MIN_RATE}, averaged over {ENV_WAIT}={wait} s)",
                    )
                window, in_window = now, 0
        if announced is not None and received < announced:  # the server closed before the length it announced
            raise _Failed(f"the connection broke after {received} of {announced} bytes", True)


def _reason(exc: BaseException) -> str:
    """An exception in one line, without a trailing full stop."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return " ".join(text.split()).rstrip(".")
