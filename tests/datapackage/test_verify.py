"""kdata.datapackage.verify: a built package is checked file by file, then table by table."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kdata.datapackage.build import build
from kdata.datapackage.verify import verify
from kdata.errors import PackageError

GOOD_RAW = Path(__file__).resolve().parents[1] / "data" / "good" / "raw"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The good test project, built once for this module."""
    dist = tmp_path_factory.mktemp("verify") / "dist"
    build(GOOD_RAW, dist)
    return dist


@pytest.fixture
def dist(pristine: Path, tmp_path: Path) -> Path:
    """A copy of the built package for one test to break."""
    return Path(shutil.copytree(pristine, tmp_path / "dist"))


def rehash(folder: Path) -> None:
    """Declare every file's current sha256, rows and bytes (where declared) in the descriptor, as a careful forger would."""
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text("utf-8"))
    for resource in descriptor["resources"]:
        content = (folder / resource["path"]).read_bytes()
        resource["hash"] = "sha256:" + hashlib.sha256(content).hexdigest()
        if "bytes" in resource:  # a Parquet resource declares none (see conformance)
            resource["bytes"] = len(content)
        twin = folder / (resource["path"].removesuffix(".csv").removesuffix(".parquet") + ".parquet")
        try:
            resource["kdata:rows"] = pq.read_metadata(twin).num_rows
        except Exception:  # a twin the test made unreadable: its declared rows stay
            pass
    path.write_text(json.dumps(descriptor), "utf-8")


def edit_table(folder: Path, table: str, old: str, new: str) -> None:
    """Replace a text in a table's CSV and in every string column of its Parquet twin, then rehash."""
    csv = folder / f"{table}.csv"
    csv.write_text(csv.read_text("utf-8").replace(old, new), "utf-8")
    parquet = pq.read_table(folder / f"{table}.parquet")
    for i, field in enumerate(parquet.schema):
        if field.type == pa.string():
            column = pc.replace_substring(parquet.column(i), old, new)
            parquet = parquet.set_column(i, field, column)
    pq.write_table(parquet, folder / f"{table}.parquet")
    rehash(folder)


def test_a_fresh_build_verifies(dist: Path) -> None:
    assert verify(dist) == []


def test_a_changed_byte_is_caught_by_its_sha256(dist: Path) -> None:
    path = dist / "events.csv"
    content = path.read_bytes()
    declared = "sha256:" + hashlib.sha256(content).hexdigest()
    path.write_bytes(content.replace(b"Riverton", b"Rivertan", 1))  # same size, other bytes
    tampered = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert verify(dist) == [f"events.csv: sha256 is {tampered}, expected {declared}"]


def test_a_truncated_or_missing_file_is_named(dist: Path) -> None:
    """A CSV declares its bytes and sha256, a Parquet file its sha256 only (see write.UNCOUNTED): each is checked."""
    size = (dist / "figures.csv").stat().st_size
    for name in ("figures.csv", "events.parquet"):
        with open(dist / name, "r+b") as handle:
            handle.truncate((dist / name).stat().st_size - 10)
    (dist / "citations.csv").unlink()
    problems = verify(dist)
    assert "citations.csv: missing" in problems
    assert f"figures.csv: {size - 10} bytes, expected {size}" in problems
    assert any(p.startswith("figures.csv: sha256 is ") for p in problems)
    assert any(p.startswith("events.parquet: sha256 is ") for p in problems)
    assert len(problems) == 4


def test_a_folder_without_a_readable_descriptor_is_no_package(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"Cannot read .*datapackage\.json: No such file"):
        verify(tmp_path)
    (tmp_path / "datapackage.json").write_text("{not json")
    with pytest.raises(PackageError, match=str(tmp_path)):
        verify(tmp_path)


def test_csv_and_parquet_that_disagree_are_caught_even_when_rehashed(dist: Path) -> None:
    csv = dist / "places.csv"
    csv.write_text(csv.read_text("utf-8").replace("Bridge at Riverton", "Ferry at Riverton"), "utf-8")
    rehash(dist)
    assert verify(dist) == ["places.csv and places.parquet do not hold the same rows"]


def test_a_reference_to_no_record_is_caught(dist: Path) -> None:
    edit_table(dist, "citations", "town-council", "town-hall")  # the claimant, and the claim named after it
    assert verify(dist) == [
        "citations.claim: 1 value(s) not found in claims, e.g. 'town-hall-says-residents-returned'",
        "citations.claimant: 3 value(s) not found in actors, e.g. 'town-hall'",
    ]


def test_a_side_of_no_disagreement_is_caught(dist: Path) -> None:
    """A foreign key of several columns: each side's topic, table and aspect name a row of disagreements."""
    csv = dist / "disagreements.csv"
    lines = csv.read_text("utf-8").splitlines(keepends=True)
    csv.write_text("".join(line for line in lines if ",wording," not in line), "utf-8")
    parquet = pq.read_table(dist / "disagreements.parquet")
    pq.write_table(parquet.filter(pc.not_equal(parquet["aspect"], "wording")), dist / "disagreements.parquet")
    rehash(dist)
    assert verify(dist) == [
        "disagreement_sides.(topic, table, aspect): 2 row(s) not found in disagreements,"
        " e.g. (riverton-returnees, figures, wording)"
    ]


def test_a_duplicate_primary_key_is_caught(dist: Path) -> None:
    """The first place written twice, in both files: each file is intact and they agree, but the key is not."""
    csv = dist / "places.csv"
    lines = csv.read_text("utf-8").splitlines(keepends=True)
    csv.write_text("".join([*lines, lines[1]]), "utf-8")
    table = pq.read_table(dist / "places.parquet")
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), dist / "places.parquet")
    rehash(dist)
    assert verify(dist) == ["places: primary key ['id'] is not unique"]


def test_an_empty_required_cell_is_caught(dist: Path) -> None:
    """Both files agree on an empty name: the rows match, but a required column has a gap."""
    csv = dist / "actors.csv"
    csv.write_text(csv.read_text("utf-8").replace("Town Council", ""), "utf-8")
    table = pq.read_table(dist / "actors.parquet")
    index = table.schema.get_field_index("name")
    names = pc.if_else(pc.equal(table["name"], "Town Council"), pa.scalar(None, pa.string()), table["name"])
    pq.write_table(
        table.set_column(index, table.schema.field(index).with_nullable(True), names), dist / "actors.parquet"
    )
    rehash(dist)
    assert verify(dist) == ["actors: required column 'name' has empty cells"]


def set_cell(folder: Path, table: str, column: str, row: int, value: object) -> None:
    """Write ``value`` into one cell of both files of a table (CSV by the csv module), then rehash."""
    import csv
    import io

    parquet = pq.read_table(folder / f"{table}.parquet")
    index = parquet.schema.get_field_index(column)
    cells = parquet.column(column).to_pylist()
    cells[row] = value
    field = parquet.schema.field(index)
    parquet = parquet.set_column(index, field, pa.array(cells, field.type))
    pq.write_table(parquet, folder / f"{table}.parquet")
    with open(folder / f"{table}.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[row + 1][rows[0].index(column)] = "" if value is None else str(value)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (folder / f"{table}.csv").write_text(out.getvalue(), "utf-8")
    rehash(folder)


@pytest.mark.parametrize(
    ("table", "column", "value", "problem"),
    [
        ("events", "status", "imagined", "events.status: 1 value(s) break its enum constraint"),
        ("actors", "kind", "Person", "actors.kind: 1 value(s) break its enum constraint"),
        ("figures", "unit", "kg", "figures.unit: 1 value(s) break its enum constraint"),
        ("figures", "value", -5, "figures.value: 1 value(s) break its minimum constraint 0, e.g. -5"),
        ("sources", "language", "english", "sources.language: 1 value(s) break its pattern constraint"),
        ("sources", "sha256", "0" * 63, "sources.sha256: 1 value(s) break its pattern constraint"),
        ("events", "topic", "Not An Id", "events.topic: 1 value(s) break its pattern constraint"),
        ("events", "title", "x" * 2001, "events.title: 1 value(s) break its maxLength constraint 2000"),
        ("citations", "claimant", "a" * 101, "citations.claimant: 1 value(s) break its maxLength constraint 100"),
    ],
)
def test_a_value_that_breaks_a_constraint_is_named(
    dist: Path, table: str, column: str, value: object, problem: str
) -> None:
    """Both files agree and are rehashed: only the Table Schema's constraint catches the value."""
    set_cell(dist, table, column, 0, value)
    problems = verify(dist)
    assert any(p.startswith(problem) for p in problems), problems


def test_a_constraint_is_checked_in_the_csv_when_the_twins_disagree(dist: Path) -> None:
    csv = dist / "events.csv"
    csv.write_text(csv.read_text("utf-8").replace(",occurred,", ",imagined,", 1), "utf-8")
    rehash(dist)
    problems = verify(dist)
    assert "events.csv and events.parquet do not hold the same rows" in problems
    assert any(p.startswith("events.csv.status: 1 value(s) break its enum constraint") for p in problems), problems


def test_a_parquet_twin_with_garbage_bytes_and_a_matching_hash_is_named(dist: Path, tmp_path: Path) -> None:
    from kdata.errors import KdataError
    from tests.inprocess import run_kdata_here

    (dist / "events.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 100 + b"PAR1")
    rehash(dist)
    problems = verify(dist)
    assert len(problems) == 1 and "events.parquet: not a readable Parquet file (" in problems[0], problems
    result = run_kdata_here("verify", dist, cwd=tmp_path)
    assert result.returncode == 1 and "not a readable Parquet file" in result.stdout
    for args in (["diff", dist, dist], ["site", tmp_path / "site", "--package", dist]):
        result = run_kdata_here(*args, cwd=tmp_path)
        assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result
        assert "events.parquet: not a readable Parquet file" in result.stderr
    import kdata

    with pytest.raises(KdataError, match="not a readable Parquet file"):
        kdata.load("events", dist)


def test_a_parquet_twin_with_other_types_or_rows_is_named(dist: Path) -> None:
    table = pq.read_table(dist / "figures.parquet")
    index = table.schema.get_field_index("value")
    pq.write_table(table.set_column(index, "value", pc.cast(table["value"], pa.float64())), dist / "figures.parquet")
    table = pq.read_table(dist / "places.parquet")
    pq.write_table(table.slice(0, 1), dist / "places.parquet")
    rehash(dist)
    problems = verify(dist)
    assert any(p.startswith("figures.parquet: columns") and "('value', 'double')" in p for p in problems)
    assert "places.csv holds 2 rows, places.parquet 1" in problems


def test_a_declared_row_count_that_is_wrong_is_named(dist: Path) -> None:
    path = dist / "datapackage.json"
    descriptor = json.loads(path.read_text("utf-8"))
    descriptor["resources"][0]["kdata:rows"] += 1
    path.write_text(json.dumps(descriptor), "utf-8")
    rows = descriptor["resources"][0]["kdata:rows"]
    assert verify(dist) == [f"sources.parquet: {rows - 1} rows, the descriptor declares {rows}"]


def _schema_of(folder: Path, table: str, edit: object) -> None:
    path = folder / "datapackage.json"
    descriptor = json.loads(path.read_text("utf-8"))
    for resource in descriptor["resources"]:
        if resource["name"] == table:
            edit(resource["schema"])  # type: ignore[operator]  # a callable of the parametrization
    path.write_text(json.dumps(descriptor), "utf-8")


@pytest.mark.parametrize(
    ("table", "edit", "problem"),
    [
        ("citations", lambda s: s.pop("foreignKeys"), "citations: the foreign key ['event'] -> events is missing"),
        ("figures", lambda s: s["foreignKeys"].pop(1), "figures: the foreign key ['event'] -> events is missing"),
        ("actors", lambda s: s.pop("foreignKeys"), "actors: the foreign key ['parent'] -> actors is missing"),
        (
            "citations",
            lambda s: next(k for k in s["foreignKeys"] if k["fields"] == ["source"])["reference"].update(
                resource="actors"
            ),
            "citations: the foreign key ['source'] -> sources is missing",
        ),
        ("events", lambda s: s.pop("primaryKey"), "events: primary key is None, the models define ['id']"),
        (
            "places",
            lambda s: s.update(primaryKey=["name"]),
            "places: primary key is ['name'], the models define ['id']",
        ),
        (
            "event_actors",
            lambda s: s.update(primaryKey=["event", "actor"]),
            "event_actors: primary key is ['event', 'actor'], the models define ['event', 'actor', 'role']",
        ),
    ],
)
def test_a_descriptor_that_lost_a_key_the_models_define_is_refused(
    dist: Path, table: str, edit: object, problem: str
) -> None:
    _schema_of(dist, table, edit)
    assert problem in verify(dist)


def _constraint(name: str, change: object) -> object:
    """An edit of one field's constraints (``change(constraints)``) in a table schema."""

    def edit(schema: dict) -> None:  # type: ignore[type-arg]
        field = next(f for f in schema["fields"] if f["name"] == name)
        change(field.setdefault("constraints", {}))  # type: ignore[operator]

    return edit


@pytest.mark.parametrize(
    ("table", "field", "change", "key"),
    [
        ("events", "status", lambda c: c.pop("enum"), "enum"),
        ("events", "status", lambda c: c["enum"].append("happened"), "enum"),
        ("events", "id", lambda c: c.pop("pattern"), "pattern"),
        ("events", "id", lambda c: c.update(pattern=".*"), "pattern"),
        ("events", "title", lambda c: c.update(maxLength=10**9), "maxLength"),
        ("events", "id", lambda c: c.pop("required"), "required"),
        ("figures", "low", lambda c: c.update(minimum=-1), "minimum"),
        ("figures", "value", lambda c: c.pop("minimum"), "minimum"),
    ],
)
def test_a_descriptor_whose_constraint_is_looser_than_the_models_is_refused(
    dist: Path, table: str, field: str, change: object, key: str
) -> None:
    """A dropped enum or widened range would let through values no build writes (with a bad value, or without)."""
    _schema_of(dist, table, _constraint(field, change))
    problems = verify(dist)
    assert any(p.startswith(f"{table}.{field}: the constraint {key} is") for p in problems), problems


def test_a_stricter_descriptor_still_verifies(dist: Path) -> None:
    _schema_of(dist, "events", _constraint("status", lambda c: c.update(enum=sorted(set(c["enum"])))))
    _schema_of(dist, "events", _constraint("title", lambda c: c.update(maxLength=c["maxLength"] - 1)))
    assert not [p for p in verify(dist) if "looser" in p]


def test_a_package_an_older_kdata_released_still_verifies(tmp_path: Path) -> None:
    """0.1.0 has a ``conflicts`` table and citations without ``claim``: what the models no longer define is left alone,
    so ``kdata.load(version="0.1.0")`` keeps working after the schema grows; a key it still has may not be dropped."""
    import zipfile

    with zipfile.ZipFile(Path(__file__).parents[2] / "dist" / "releases" / "kalbajar-0.1.0.zip") as archive:
        archive.extractall(tmp_path)
    old = tmp_path / "kalbajar-0.1.0"
    assert verify(old) == []
    descriptor = json.loads((old / "datapackage.json").read_text("utf-8"))
    citations = next(r for r in descriptor["resources"] if r["name"] == "citations")
    citations["schema"]["foreignKeys"] = [fk for fk in citations["schema"]["foreignKeys"] if fk["fields"] != ["source"]]
    (old / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    assert any("the foreign key ['source'] -> sources is missing" in p for p in verify(old))


def test_cells_that_span_lines_are_read_across_arrow_blocks(tmp_path: Path) -> None:
    """A quote's anchor context may hold paragraph breaks: a CSV larger than Arrow's 1 MiB block,
    with such cells throughout, reads back whole (the chunker once split inside a quoted cell)."""
    import csv

    from kdata.datapackage.verify import _read_csv

    texts = [f'end of paragraph {i}\n\nstart of the next, "quoted" {i}\r\nand more' for i in range(40_000)]
    path = tmp_path / "t.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "text"])
        writer.writerows([i, t] for i, t in enumerate(texts))
    assert path.stat().st_size > 2 * 1024 * 1024
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"}]}
    table = _read_csv(path, schema)
    assert table.column("text").to_pylist() == texts
    assert table.column("id").to_pylist() == list(range(40_000))


def test_verify_never_imports_pandas(built: Path) -> None:
    """`kdata verify` checks every constraint (pattern, enum, minimum, maximum, maxLength) without pandas: pyarrow
    imports it where an array or scalar is made from Python values (README: "kdata verify never imports pandas")."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom kdata.cli import main\n"
        "try:\n    main(['verify', 'dist'])\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "print('pandas' in sys.modules, 'pyarrow.compute' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=built, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False True"  # the constraints were checked, with pyarrow alone
