"""Crafted hostile release archives, served over real HTTP: each is refused by name, the cache untouched.

The registry entry of every crafted archive carries the archive's own sha256 and size, so the
download's hash check passes and the archive-content checks of ``kdata.release.publish.extract`` are
what refuses it (except the last two cases, which exercise the hash and the size cap).
A cache holding a good copy of 0.1.0 is snapshotted before and after each refusal: it must be
byte-identical (the per-version lock file, empty by design, is the one new entry allowed; filelock
may also remove it).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from inprocess import run_kdata_here
from releasing import released_project, run_env, serve

from kdata.datapackage.verify import verify
from kdata.download import fetch
from kdata.errors import IntegrityError
from kdata.fs import sha256_bytes
from kdata.release.archive import MANIFEST, MAX_MEMBERS, sums_text

ROOT = "kdata-test-0.1.0"
CRAFTED = "kdata-test-0.2.0.zip"

#: sha256 of an empty file (the lock file).
EMPTY = hashlib.sha256(b"").hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder (hidden ones too), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def _info(name: str, mode: int = 0o100644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zip_of(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    """A zip of the entries, written by zipfile as given (it keeps '..', '/abs' and backslashes)."""
    sink = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we write on purpose
        with zipfile.ZipFile(sink, "w") as archive:
            for name, content in entries:
                archive.writestr(name if isinstance(name, zipfile.ZipInfo) else _info(name), content)
    return sink.getvalue()


Members = dict[str, bytes]


def _with_manifest(files: Members, root: str = ROOT) -> list[tuple[str | zipfile.ZipInfo, bytes]]:
    """The files under ``root`` with a SHA256SUMS manifest that lists every one of them."""
    sums = sums_text({name: sha256_bytes(content) for name, content in files.items()}).encode()
    return [(f"{root}/{name}", content) for name, content in sorted({**files, MANIFEST: sums}.items())]


def _patch_central(data: bytes, edit: Callable[[bytearray, int], None], local: bool = False) -> bytes:
    """Apply ``edit(buffer, offset)`` to every central directory record (and local header if asked)."""
    out = bytearray(data)
    for signature in [b"PK\x01\x02"] + ([b"PK\x03\x04"] if local else []):
        at = out.find(signature)
        while at >= 0:
            edit(out, at if signature == b"PK\x01\x02" else -at - 1)
            at = out.find(signature, at + 4)
    return bytes(out)


def _overlapping(files: Members) -> bytes:
    """Two names in the directory whose data is the same stored byte range."""
    data = bytearray(zip_of(_with_manifest(files)))
    entries = []
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        entries.append(at)
        at = data.find(b"PK\x01\x02", at + 4)
    first_offset = struct.unpack_from("<I", data, entries[0] + 42)[0]
    struct.pack_into("<I", data, entries[1] + 42, first_offset)
    return bytes(data)


def _method(code: int) -> Callable[[bytearray, int], None]:
    def edit(buffer: bytearray, at: int) -> None:
        offset = at + 10 if at >= 0 else (-at - 1) + 8  # compression method: central +10, local +8
        struct.pack_into("<H", buffer, offset, code)

    return edit


def _encrypted(buffer: bytearray, at: int) -> None:
    offset = at + 8 if at >= 0 else (-at - 1) + 6  # general purpose flags: central +8, local +6
    struct.pack_into("<H", buffer, offset, struct.unpack_from("<H", buffer, offset)[0] | 1)


def _corrupt_data(files: Members) -> bytes:
    """One member's deflate stream damaged (its CRC and the manifest no longer hold)."""
    data = bytearray(zip_of(_with_manifest(files)))
    target = f"{ROOT}/events.csv".encode()
    at = data.find(b"PK\x03\x04")
    while at >= 0:
        name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
        if data[at + 30 : at + 30 + name_len] == target:
            start = at + 30 + name_len + extra_len
            for i in range(start + 2, start + 40):
                data[i] ^= 0x5A
            break
        at = data.find(b"PK\x03\x04", at + 4)
    return bytes(data)


def _cases(good: bytes, files: Members) -> dict[str, tuple[bytes, str]]:
    """Crafted archive bytes by case name, with a pattern the refusal's message must match."""
    plain = {k: v for k, v in files.items() if k != MANIFEST}
    entries = _with_manifest(plain)
    unsafe = "is not a safe kdata release archive"
    altered = dict(plain)
    altered["events.csv"] = plain["events.csv"] + b"x,y\n"
    altered_entries = [(n, altered[n.split("/")[1]]) if n.endswith("events.csv") else (n, c) for n, c in entries]
    return {
        "path-traversal": (zip_of(entries + [(f"{ROOT}/../evil.csv", b"x")]), rf"{unsafe}.*'{ROOT}/\.\./evil\.csv'"),
        "path-traversal-leading": (zip_of([("../evil.csv", b"x")] + entries), rf"{unsafe}.*'\.\./evil\.csv'"),
        "absolute-path": (zip_of(entries + [("/tmp/evil.csv", b"x")]), rf"{unsafe}.*'/tmp/evil\.csv'"),
        "backslash-name": (zip_of(entries + [(f"{ROOT}\\..\\evil.csv", b"x")]), rf"{unsafe}.*evil\.csv' is not"),
        "drive-letter": (zip_of(entries + [("C:/evil.csv", b"x")]), rf"{unsafe}.*'C:/evil\.csv'"),
        "symlink-member": (
            zip_of(entries + [(_info(f"{ROOT}/link.csv", stat.S_IFLNK | 0o777), b"/etc/passwd")]),
            rf"{unsafe}.*'{ROOT}/link\.csv' is a link",
        ),
        "fifo-member": (
            zip_of(entries + [(_info(f"{ROOT}/pipe", stat.S_IFIFO | 0o644), b"")]),
            rf"{unsafe}.*is a link",
        ),
        "duplicate-names": (zip_of(entries + [entries[1]]), rf"{unsafe}: a member name occurs twice"),
        "overlapping-entries": (_overlapping(plain), rf"{unsafe}: its members overlap"),
        "compression-ratio": (
            zip_of(entries + [(f"{ROOT}/bomb.csv", bytes(40 << 20))]),
            rf"{unsafe}.*'{ROOT}/bomb\.csv' unpacks to more than the size limits",
        ),
        "too-many-entries": (
            zip_of(entries + [(f"{ROOT}/f{i}.csv", b"") for i in range(MAX_MEMBERS)]),
            rf"{unsafe}: it has {MAX_MEMBERS + len(entries)} members",
        ),
        "two-top-folders": (zip_of(entries + [("other/x.csv", b"x")]), rf"{unsafe}: its files are in 2 top folders"),
        "member-not-in-manifest": (
            zip_of(entries + [(f"{ROOT}/extra.csv", b"a\n")]),
            rf"does not match its manifest {MANIFEST}: {ROOT}/extra\.csv listed on one side only",
        ),
        "member-missing": (
            zip_of([(n, c) for n, c in entries if not n.endswith("/events.csv")]),
            rf"does not match its manifest {MANIFEST}: {ROOT}/events\.csv listed on one side only",
        ),
        "member-altered": (zip_of(altered_entries), r"events\.csv in kdata-test-0\.2\.0\.zip has sha256 .*, expected"),
        "truncated": (good[: len(good) // 2], r"is not a readable release archive"),
        "bytes-appended": (good + b"\0trailing bytes", rf"{unsafe}: it has bytes before its first member or after"),
        "bytes-prepended": (b"MZ\0\0prefix" + good, rf"{unsafe}: it has bytes before its first member or after"),
        "unknown-compression": (
            _patch_central(zip_of(entries), _method(99), local=True),
            r"is not a readable release archive \(.*compression",
        ),
        "encrypted-member": (
            _patch_central(zip_of(entries), _encrypted, local=True),
            r"is not a readable release archive \(.*(encrypted|password)",
        ),
        "corrupt-deflate": (_corrupt_data(plain), r"is not a readable release archive|has sha256 .*, expected"),
        "package-does-not-verify": (
            zip_of(_with_manifest(altered)),  # the manifest agrees; the descriptor does not
            r"The package in kdata-test-0\.2\.0\.zip does not verify",
        ),
    }


@dataclass(frozen=True)
class Site:
    """The good release, the crafted archives served over HTTP, and a cache seeded with the good one."""

    root: Path
    url: str
    good: dict[str, object]
    seed: Path
    cases: dict[str, tuple[bytes, str]]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("archives")
    _, registry = released_project(root, root / "www" / "good")
    good_entry = json.loads(registry.read_text())["releases"]["0.1.0"]
    good = (root / "www" / "good" / good_entry["file"]).read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        files = {info.filename.split("/", 1)[1]: archive.read(info) for info in archive.infolist()}
    cases = _cases(good, files)
    for name, (content, _) in cases.items():
        folder = root / "www" / name
        folder.mkdir(parents=True)
        (folder / CRAFTED).write_bytes(content)
        (folder / good_entry["file"]).write_bytes(good)
    (root / "www" / "oversize").mkdir()
    (root / "www" / "oversize" / CRAFTED).write_bytes(good + b"\0" * 4096)
    with serve(root / "www") as url:
        seed = root / "seed"
        registry_of(root, "seed", good_entry, good)
        _fetch_with(root / "registry-seed.json", seed, f"{url}/good/", "0.1.0")
        yield Site(root, url, good_entry, seed, cases)


def registry_of(root: Path, name: str, good: dict[str, object], crafted: bytes, size: int | None = None) -> Path:
    """A registry with the good 0.1.0 and a crafted 0.2.0 described by its own hash and size."""
    path = root / f"registry-{name}.json"
    entry = {"file": CRAFTED, "sha256": sha256_bytes(crafted), "bytes": len(crafted) if size is None else size}
    path.write_text(json.dumps({"base_url": None, "releases": {"0.1.0": good, "0.2.0": entry}}))
    return path


def _fetch_with(registry: Path, cache: Path, url: str, version: str) -> Path:
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("KDATA_REGISTRY", str(registry))
        mp.setenv("KDATA_CACHE_DIR", str(cache))
        mp.setenv("KDATA_BASE_URL", url)
        mp.delenv("KDATA_OFFLINE", raising=False)
        return fetch(version)
    finally:
        mp.undo()


def _refused(site: Site, tmp_path: Path, case: str, registry: Path, pattern: str) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(site.seed, cache)
    before = snapshot(cache)
    with pytest.raises(IntegrityError, match=pattern):
        _fetch_with(registry, cache, f"{site.url}/{case}/", "0.2.0")
    after = snapshot(cache)
    # The per-version lock file may stay, empty (whether filelock removes it on release depends on its version).
    assert after.pop(".0.2.0.lock", EMPTY) == EMPTY
    assert after == before, "the cache changed"
    assert verify(cache / "0.1.0") == []


CASE_NAMES = [
    "path-traversal",
    "path-traversal-leading",
    "absolute-path",
    "backslash-name",
    "drive-letter",
    "symlink-member",
    "fifo-member",
    "duplicate-names",
    "overlapping-entries",
    "compression-ratio",
    "too-many-entries",
    "two-top-folders",
    "member-not-in-manifest",
    "member-missing",
    "member-altered",
    "truncated",
    "bytes-appended",
    "bytes-prepended",
    "unknown-compression",
    "encrypted-member",
    "corrupt-deflate",
    "package-does-not-verify",
]


def test_every_case_is_listed(site: Site) -> None:
    assert sorted(site.cases) == sorted(CASE_NAMES)
    assert len(CASE_NAMES) + 2 >= 15  # with the two below: wrong hash, more bytes than the registry


@pytest.mark.parametrize("case", CASE_NAMES)
def test_crafted_archive_is_refused_and_cache_unchanged(site: Site, tmp_path: Path, case: str) -> None:
    content, pattern = site.cases[case]
    registry = registry_of(tmp_path, case, site.good, content)
    _refused(site, tmp_path, case, registry, pattern)


def test_wrong_hash_is_refused_before_unpacking(site: Site, tmp_path: Path) -> None:
    """The registry names other bytes than the server sends: refused on the hash, nothing unpacked."""
    content, _ = site.cases["path-traversal"]
    registry = registry_of(tmp_path, "wrong", site.good, content[:-1] + bytes([content[-1] ^ 1]))
    _refused(site, tmp_path, "path-traversal", registry, r"does not match the registry: sha256 expected")


def test_more_bytes_than_the_registry_says_stops_the_download(site: Site, tmp_path: Path) -> None:
    """A server that sends more than the registry's size is cut off at the first extra byte."""
    good = (site.root / "www" / "good" / str(site.good["file"])).read_bytes()
    registry = registry_of(tmp_path, "oversize", site.good, good)  # the good hash and size; the server adds 4 KiB
    _refused(site, tmp_path, "oversize", registry, r"larger than the registry says")


@pytest.mark.parametrize("case", ["path-traversal", "symlink-member", "compression-ratio"])
def test_cli_refusal_is_one_clear_error(site: Site, tmp_path: Path, case: str) -> None:
    """Through the command: exit 1, the reason on stderr, no traceback, nothing cached.

    The first case by the real command in its own process; the others by its function here.
    """
    content, _ = site.cases[case]
    registry = registry_of(tmp_path, case, site.good, content)
    cache = tmp_path / "cache"
    env = {"KDATA_REGISTRY": str(registry), "KDATA_CACHE_DIR": str(cache), "KDATA_BASE_URL": f"{site.url}/{case}/"}
    run = run_env if case == "path-traversal" else run_kdata_here
    result = run("download", "0.2.0", cwd=tmp_path, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "is not a safe kdata release archive" in result.stderr
    assert sorted(p.name for p in cache.iterdir()) in ([], [".0.2.0.lock"])
