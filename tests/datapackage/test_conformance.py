"""kdata.datapackage.conformance: a package carries exactly what the writer of its format writes.

Hostile packages are real copies of a built package, edited as a user would (the descriptor's
JSON, a Parquet file rewritten with pyarrow), with hashes declared afresh, then checked by
``kdata verify`` (a few cases, in-process) or by ``verify`` itself.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO
from inprocess import run_kdata_here

from kdata.datapackage.build import build
from kdata.datapackage.conformance import current_version
from kdata.datapackage.verify import verify
from kdata.errors import CODES

GOOD_RAW = REPO / "tests" / "data" / "good" / "raw"
Edit = Callable[[dict[str, Any]], Any]


def copy_of(source: Path, target: Path) -> Path:
    """A copy of a built package's own files (no releases/)."""
    return Path(shutil.copytree(source, target, ignore=shutil.ignore_patterns("releases", ".kdata-made")))


def declare(folder: Path, edit: Edit | None = None) -> None:
    """Edit the descriptor, then declare every file's sha256 (and bytes) afresh, as a careful forger would."""
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text("utf-8"))
    if edit is not None:
        edit(descriptor)
    for resource in descriptor["resources"]:
        content = (folder / resource["path"]).read_bytes()
        resource["hash"] = "sha256:" + hashlib.sha256(content).hexdigest()
        if "bytes" in resource:
            resource["bytes"] = len(content)
    path.write_text(json.dumps(descriptor), "utf-8")


def rewrite_parquet(folder: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> None:
    """Rewrite ``table``'s Parquet file through pyarrow with ``change`` applied, and declare it."""
    path = folder / f"{table}.parquet"
    pq.write_table(change(pq.read_table(path)), path, compression="zstd")
    declare(folder)


def field(descriptor: dict[str, Any], resource: str, name: str) -> dict[str, Any]:
    """A field of a resource's schema."""
    res = next(r for r in descriptor["resources"] if r["name"] == resource)
    return next(f for f in res["schema"]["fields"] if f["name"] == name)


def resource(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in descriptor["resources"] if r["name"] == name)


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's built package: the version this kdata bundles, made by these models."""
    folder = REPO / "dist"
    assert json.loads((folder / "datapackage.json").read_text("utf-8"))["version"] == current_version()
    return folder


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package of the current format but another version (as an older release is): the test project at 0.9.0."""
    raw = Path(shutil.copytree(GOOD_RAW, tmp_path_factory.mktemp("raw") / "raw"))
    info = raw / "package.yaml"
    info.write_text(info.read_text("utf-8").replace("version: 0.1.0", "version: 0.9.0"), "utf-8")
    dist = tmp_path_factory.mktemp("other") / "dist"
    build(raw, dist)
    return dist


def meaning(d: dict[str, Any]) -> None:
    """A term's meaning changed in both twins."""
    for name in ("events", "events-parquet"):
        field(d, name, "kind")["categories"][0]["kdata:description"] = "Changed."


#: Descriptor edits -> the start of the one line verify prints.
DESCRIPTOR_EDITS: dict[str, tuple[Edit, str]] = {
    "parquet type file": (
        lambda d: resource(d, "events-parquet").update(type="file"),
        'KD403 resource-metadata: events-parquet.type: "file", expected "table"',
    ),
    "csv type removed": (
        lambda d: resource(d, "places").pop("type"),
        'KD403 resource-metadata: places.type: missing, expected "table"',
    ),
    "licences emptied": (
        lambda d: d.update(licenses=[]),
        "KD402 package-metadata: licenses: List should have at least 1",
    ),
    "licences removed": (lambda d: d.pop("licenses"), "KD402 package-metadata: licenses: Field required"),
    "contributors emptied": (lambda d: d.update(contributors=[]), "KD402 package-metadata: contributors:"),
    "profile changed": (
        lambda d: d.update({"$schema": "https://example.org/x.json"}),
        "KD402 package-metadata: $schema:",
    ),
    "categories removed": (
        lambda d: field(d, "events", "kind").pop("categories"),
        "KD403 resource-metadata: events.kind.categories: missing, expected",
    ),
    "category label": (
        lambda d: field(d, "events", "kind")["categories"][0].update(label="Taken"),
        'KD403 resource-metadata: events.kind.categories[change_of_control].label: "Taken", expected',
    ),
    "category meaning": (
        meaning,
        'KD403 resource-metadata: events.kind.categories[change_of_control].kdata:description: "Changed.", expected',
    ),
    "category dropped": (
        lambda d: field(d, "events", "kind")["categories"].pop(),
        "KD403 resource-metadata: events.kind.categories: [",
    ),
    "field description": (
        lambda d: field(d, "events", "title").update(description="Anything."),
        'KD403 resource-metadata: events.title.description: "Anything.", expected',
    ),
    "table description": (
        lambda d: resource(d, "figures").update(description="Numbers."),
        'KD403 resource-metadata: figures.description: "Numbers.", expected',
    ),
    "extra key": (
        lambda d: resource(d, "actors").update({"kdata:note": 1}),
        "KD403 resource-metadata: actors.kdata:note: 1, which the writer does not write",
    ),
    "format removed": (lambda d: d.pop("kdata:format"), "KD401 package-format: kdata:format: missing; every package"),
    "format 3": (
        lambda d: d.update({"kdata:format": 3}),
        "KD401 package-format: kdata:format: 3: this kdata writes and checks format 2",
    ),
    "format as text": (lambda d: d.update({"kdata:format": "2"}), 'KD401 package-format: kdata:format: "2":'),
    # frictionless counts no Parquet bytes and calls a declared count an error: the writer declares none
    "parquet bytes declared": (
        lambda d: resource(d, "events-parquet").update(bytes=0),  # ``declare`` then writes the true size
        "KD403 resource-metadata: events-parquet: declares bytes, hash, kdata:rows; the writer declares hash, kdata:rows",
    ),
    "csv bytes removed": (
        lambda d: resource(d, "events").pop("bytes"),
        "KD403 resource-metadata: events: declares hash, kdata:rows; the writer declares bytes, hash, kdata:rows",
    ),
    "unknown top-level key": (lambda d: d.update(evil="x"), "KD402 package-metadata: evil: not a key kdata writes"),
    "created between releases": (
        lambda d: d.update(created="2026-11-26T00:00:00Z"),
        "KD402 package-metadata: created: a version between releases (-dev) has no release date",
    ),
}


@pytest.mark.parametrize("case", DESCRIPTOR_EDITS, ids=list(DESCRIPTOR_EDITS))
def test_a_current_package_carries_what_the_models_write(current: Path, tmp_path: Path, case: str) -> None:
    edit, line = DESCRIPTOR_EDITS[case]
    folder = copy_of(current, tmp_path / "dist")
    declare(folder, edit)
    found = verify(folder)
    assert found and found[0].startswith(line), found
    assert all(one.split()[0] in CODES and "\n" not in one for one in found), found


#: Parquet rewrites -> the one line verify prints.
PARQUET_EDITS: dict[str, tuple[Callable[[pa.Table], pa.Table], str]] = {
    "metadata removed": (
        lambda t: t.replace_schema_metadata(None),
        'KD404 parquet-metadata: events.parquet: metadata.schema.kdata.package: missing, expected "kalbajar"',
    ),
    "version changed": (
        lambda t: t.replace_schema_metadata({**t.schema.metadata, b"kdata.version": b"9.9.9"}),
        'KD404 parquet-metadata: events.parquet: metadata.schema.kdata.version: "9.9.9", expected',
    ),
    "licence changed": (
        lambda t: t.replace_schema_metadata({**t.schema.metadata, b"kdata.license": b"CC0-1.0"}),
        'KD404 parquet-metadata: events.parquet: metadata.schema.kdata.license: "CC0-1.0", expected',
    ),
    "pandas metadata removed": (
        lambda t: t.replace_schema_metadata({k: v for k, v in t.schema.metadata.items() if k != b"pandas"}),
        "KD404 parquet-metadata: events.parquet: metadata.schema.pandas: missing",
    ),
    "pandas dtype changed": (
        lambda t: t.replace_schema_metadata(
            {**t.schema.metadata, b"pandas": t.schema.metadata[b"pandas"].replace(b'"string"', b'"object"', 1)}
        ),
        "KD404 parquet-metadata: events.parquet: metadata.schema.pandas:",
    ),
    "field description removed": (
        lambda t: t.cast(
            pa.schema([f.remove_metadata() if f.name == "title" else f for f in t.schema], t.schema.metadata)
        ),
        "KD404 parquet-metadata: events.parquet: metadata.fields.title.description: missing",
    ),
}


@pytest.mark.parametrize("case", PARQUET_EDITS, ids=list(PARQUET_EDITS))
def test_a_current_parquet_file_carries_what_the_writer_writes(current: Path, tmp_path: Path, case: str) -> None:
    change, line = PARQUET_EDITS[case]
    folder = copy_of(current, tmp_path / "dist")
    rewrite_parquet(folder, "events", change)
    found = verify(folder)
    assert len(found) == 1 and found[0].startswith(line), found


def test_kdata_verify_prints_one_coded_line_per_hostile_package(current: Path, tmp_path: Path) -> None:
    """The command, as a user runs it: exit 1, one line with the code and the resource or field, no traceback."""
    cases = {"type": DESCRIPTOR_EDITS["parquet type file"], "categories": DESCRIPTOR_EDITS["categories removed"]}
    for name, (edit, line) in cases.items():
        folder = copy_of(current, tmp_path / name)
        declare(folder, edit)
        done = run_kdata_here("verify", folder, cwd=tmp_path)
        assert done.returncode == 1 and done.stdout.startswith(line) and len(done.stdout.splitlines()) == 1, done
        assert "Traceback" not in done.stderr
    folder = copy_of(current, tmp_path / "parquet")
    rewrite_parquet(folder, "events", PARQUET_EDITS["metadata removed"][0])
    done = run_kdata_here("verify", folder, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout.splitlines() == [PARQUET_EDITS["metadata removed"][1]], done


def test_a_package_of_another_version_is_held_to_its_own_declarations(other: Path, tmp_path: Path) -> None:
    """An older release's texts are its models', not ours: they pass; its shape, categories and metadata must still agree."""
    assert verify(other) == []
    for case, problem in {
        "table description": "KD403 resource-metadata: figures-parquet.description:",  # its own words, if the twin's agree
        "parquet type file": "KD403 resource-metadata: events-parquet.type:",
        "categories removed": "KD403 resource-metadata: events.kind.categories: missing",
        "category label": "KD403 resource-metadata: events.kind.categories[change_of_control].label:",
        "licences emptied": "KD402 package-metadata: licenses:",
    }.items():
        folder = copy_of(other, tmp_path / case.replace(" ", "-"))
        declare(folder, DESCRIPTOR_EDITS[case][0])
        found = verify(folder)
        assert found and found[0].startswith(problem), (case, found)
    folder = copy_of(other, tmp_path / "unmarked")  # 0.9.0 claims to come after formats began
    declare(folder, lambda d: d.pop("kdata:format"))
    found = verify(folder)
    assert len(found) == 1 and found[0].startswith("KD401 package-format: kdata:format: missing; "), found
    folder = copy_of(other, tmp_path / "meaning")
    declare(folder, meaning)  # an older release's meanings are its own
    assert verify(folder) == []
    folder = copy_of(other, tmp_path / "field")
    declare(folder, lambda d: field(d, "events", "title").update(description="Anything."))
    old, new = '"Neutral one-line title in plain verbs."', '"Anything."'
    assert verify(folder) == [  # the twin and the Parquet file still say what the build wrote
        f"KD403 resource-metadata: events-parquet.title.description: {old}, expected {new}",
        f"KD404 parquet-metadata: events.parquet: metadata.fields.title.description: {old}, expected {new}",
    ]


def test_a_package_before_formats_still_verifies(tmp_path: Path) -> None:
    """0.1.0 (no format: Parquet as files, no categories, no Parquet metadata) verifies as it was released."""
    import zipfile

    with zipfile.ZipFile(REPO / "dist" / "releases" / "kalbajar-0.1.0.zip") as archive:
        archive.extractall(tmp_path)
    old = tmp_path / "kalbajar-0.1.0"
    descriptor = json.loads((old / "datapackage.json").read_text("utf-8"))
    assert "kdata:format" not in descriptor and resource(descriptor, "events-parquet")["type"] == "file"
    assert verify(old) == []


#: Entries put into a package folder -> whether verify names them (KD405): what the descriptor names, a release's
#: SHA256SUMS, kdata's marker and a checkout's releases/ belong there; anything else travels without being part of it.
STRAYS: dict[str, bool] = {
    "notes.txt": True,
    "kalbajar_data-1.0.0-py3-none-any.whl": True,  # what `python -m build` once left in dist/
    ".hidden": True,
    "empty/": True,
    "sub/events.csv": True,
    "SHA256SUMS": False,
    ".kdata-made": False,
    "releases/kalbajar-0.1.0.zip": False,
}


@pytest.mark.parametrize("entry", STRAYS, ids=list(STRAYS))
def test_a_package_folder_holds_the_package_and_nothing_else(current: Path, tmp_path: Path, entry: str) -> None:
    folder = copy_of(current, tmp_path / "dist")
    path = folder / entry
    path.parent.mkdir(parents=True, exist_ok=True)
    if entry.endswith("/"):
        path.mkdir()
    else:
        path.write_bytes(b"x")
    found = verify(folder)
    if STRAYS[entry]:
        name = entry.split("/")[0]
        assert found == [f"KD405 stray-file: {name}: in the package folder but not part of the package; move it out"]
    else:
        assert found == []
