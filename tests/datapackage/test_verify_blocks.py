"""`kdata verify` compares a CSV with its Parquet twin a block at a time: the same verdicts as reading it whole."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pyarrow as pa
import pytest

from kdata.datapackage import verify as verify_module
from kdata.datapackage.verify import _csv_equals, _read_csv

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "text", "type": "string"},
        {"name": "day", "type": "date"},
        {"name": "share", "type": "number"},
    ]
}


def _write(path: Path, rows: list[list[object]], header: list[str] | None = None) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header or [f["name"] for f in SCHEMA["fields"]])
        writer.writerows(rows)


def _rows(rng: random.Random, count: int) -> list[list[object]]:
    return [
        [
            i,
            rng.choice(["", "plain", 'a "quoted" word', "two\n\nparagraphs", "comma, inside", "é ü ə"])
            * rng.randint(1, 9),
            rng.choice(["", "2020-09-27", "2023-09-19"]),
            rng.choice(["", "0.5", "12", "-3.25"]),
        ]
        for i in range(count)
    ]


@pytest.mark.parametrize("block", [4 << 10, 37 << 10, 1 << 20])
def test_block_by_block_gives_the_whole_read_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """Many blocks (cells spanning lines, empty cells, every type): equal when equal; any change anywhere is seen."""
    monkeypatch.setattr(verify_module, "_CSV_BLOCK", block)
    rng = random.Random(block)
    rows = _rows(rng, 6000)
    path = tmp_path / "t.csv"
    _write(path, rows)
    table = _read_csv(path, SCHEMA)
    assert path.stat().st_size > 3 * 4096
    assert _csv_equals(path, SCHEMA, table)

    def differs(changed: list[list[object]], header: list[str] | None = None) -> bool:
        _write(path, changed, header)
        return not _csv_equals(path, SCHEMA, table)

    for at in [0, 1, len(rows) // 2, len(rows) - 2, len(rows) - 1, *rng.sample(range(len(rows)), 5)]:
        for column, value in [(1, "changed"), (2, "2021-01-01"), (3, "7.5"), (1, "")]:
            changed = [list(r) for r in rows]
            if changed[at][column] == value:
                continue
            changed[at][column] = value
            assert differs(changed), (at, column)
    assert differs(rows[:-1])  # a row missing at the end
    assert differs([*rows, rows[-1]])  # a row too many
    assert differs(rows[1:])  # every row shifted
    assert differs([[r[0], r[1], r[3], r[2]] for r in rows], ["id", "text", "share", "day"])  # columns swapped
    assert differs([*rows[:100], [1, "x", "not a date", ""], *rows[101:]])  # a cell that does not read
    _write(path, rows)
    assert _csv_equals(path, SCHEMA, table)


def test_an_empty_table_equals_its_header_only_csv(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    _write(path, [])
    table = _read_csv(path, SCHEMA)
    assert table.num_rows == 0
    assert _csv_equals(path, SCHEMA, table)
    assert not _csv_equals(path, SCHEMA, pa.table({"id": [1], "text": ["a"], "day": [None], "share": [None]}))
