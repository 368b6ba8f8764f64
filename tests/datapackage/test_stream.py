"""Tables streamed to disk: the same CSV and Parquet bytes as sorting and writing the whole table at once.

The build writes each table as its parts stream in (``rows.merge``, ``write.write_table``): one
group of parts with overlapping keys and one Parquet row group at a time. These tests compare it,
over many splits and orders, with the plain way: every part concatenated, stably sorted by primary
key, combined into one chunk and written by ``pq.write_table`` in row groups of the same size.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kdata.datapackage import write
from kdata.datapackage.parquet import described
from kdata.datapackage.rows import Part, Rows, Spilled, chunk_tables, csv_header, merge, spill_chunk
from kdata.records import models

META = {"kdata.package": "test", "kdata.version": "1.0.0", "kdata.title": "Test", "kdata.license": "CC0-1.0"}


def parts_of(table: str, rows: list[dict[str, Any]], sizes: list[int]) -> list[Part]:
    """``rows`` of ``table`` cut into parts of the given sizes, in the order given."""
    out, start = [], 0
    for size in sizes:
        made = Rows()
        for row in rows[start : start + size]:
            made.add_row(table, row)
        out.append(made.tables()[table])
        start += size
    return out


def plain(table: str, parts: list[Part], group_rows: int) -> tuple[bytes, bytes]:
    """The CSV and Parquet bytes of the table written the plain way (all rows at once)."""
    joined = pa.concat_tables([part.arrow for part in parts]) if parts else Rows().tables()[table].arrow
    order = pc.sort_indices(joined, [(key, "ascending") for key in models.TABLES[table].primary_key]).to_pylist()
    lines = [line for part in parts for line in part.lines()]
    sink = io.BytesIO()
    rows = described(table, joined.take(pa.array(order, pa.int64())).combine_chunks(), META)
    pq.write_table(rows, sink, compression="zstd", row_group_size=group_rows)
    return csv_header(table) + b"".join(lines[i] for i in order), sink.getvalue()


def streamed(table: str, parts: list[Any], folder: Path) -> tuple[bytes, bytes]:
    folder.mkdir()
    sums = write.write_table(table, merge(table, parts), folder, META, sync=False)
    csv, parquet = (folder / f"{table}.csv").read_bytes(), (folder / f"{table}.parquet").read_bytes()
    assert sums["csv"][0] == len(csv) and sums["parquet"][0] == len(parquet)
    return csv, parquet


def link_rows(rng: random.Random, n: int, mixed: bool) -> list[dict[str, Any]]:
    """Rows of ``claim_targets``, in key order unless ``mixed`` (then some runs are out of order)."""
    rows = [{"claim": f"claim-{i // 3:07d}", "actor": f"actor-{rng.randrange(10**6):07d}"} for i in range(n)]
    rows.sort(key=lambda r: (r["claim"], r["actor"]))
    if mixed:
        for _ in range(max(1, n // 500)):
            a, b = sorted(rng.sample(range(n), 2)) if n > 1 else (0, 0)
            rows[a : b + 1] = reversed(rows[a : b + 1])
    return rows


#: A row group size for the edge cases: the writer reads ``write.ROW_GROUP_ROWS`` at each call, so a test may set it
#: small; the same edges (one row short of a group, a group exactly, two groups and a few rows) in a few hundred rows.
SMALL_GROUP = 64


@pytest.mark.parametrize(
    ("group", "n", "orders"),
    [
        *(
            (SMALL_GROUP, n, (False, True, True))
            for n in (0, 1, 2, 299, SMALL_GROUP - 1, SMALL_GROUP, 2 * SMALL_GROUP + 3)
        ),
        (write.ROW_GROUP_ROWS, write.ROW_GROUP_ROWS + 1, (True,)),  # the real size once: one boundary, out of order
    ],
)
def test_streamed_tables_equal_tables_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group: int, n: int, orders: tuple[bool, ...]
) -> None:
    """Any split into parts, in or out of key order: the same bytes, row group boundaries included.

    Parts come in sizes from a single row to more than a row group, so part ends fall before, on and after group ends.
    """
    monkeypatch.setattr(write, "ROW_GROUP_ROWS", group)
    rng = random.Random(n)
    choices = (1, 7, group // 256 + 3, group // 64 + 11, group // 3, 2 * group + 5)
    for trial, mixed in enumerate(orders):
        rows = link_rows(rng, n, mixed)
        sizes = []
        while sum(sizes) < n:
            sizes.append(min(n - sum(sizes), rng.choice(choices)))
        parts = parts_of("claim_targets", rows, sizes)
        assert streamed("claim_targets", parts, tmp_path / f"{trial}") == plain("claim_targets", parts, group)


def test_equal_keys_keep_the_order_of_their_parts(tmp_path: Path) -> None:
    """Duplicate keys across and within parts come out as a stable sort leaves them."""
    rows = [{"event": "e", "actor": "a", "role": "agent"} for _ in range(6)]
    rows += [{"event": "d", "actor": "a", "role": "agent"}, {"event": "f", "actor": "b", "role": "host"}]
    parts = parts_of("event_actors", rows, [3, 2, 3])
    assert streamed("event_actors", parts, tmp_path / "out") == plain("event_actors", parts, write.ROW_GROUP_ROWS)


def test_spilled_parts_stream_like_parts_in_memory(tmp_path: Path) -> None:
    """Records turned into rows and written to disk by ``spill_chunk`` give the same table files."""
    citation = {"source": "wire", "claimant": "council", "quote": "said about 1,200"}

    def event(rid: str, cites: int) -> models.Event:
        return models.Event.model_validate(
            {
                "id": rid,
                "title": "Residents returned",
                "kind": "return_of_residents",
                "status": "occurred",
                "date": "2020-03",
                "citations": [citation] * cites,
                "actors": [{"actor": "b", "role": "agent"}, {"actor": "a", "role": "host"}],
            }
        )

    # Files come in name order: 'x-1-b.yaml' before 'x-1.yaml', though the id 'x-1' sorts first;
    # a record with 12 citations numbers them 1..12, which sort as text ('...:10' before '...:2').
    chunks = [[("events", event("x-1-b", 12)), ("events", event("x-0", 1))], [("events", event("x-1", 2))]]
    spill = tmp_path / "spill"
    spill.mkdir()
    for table in ("events", "citations", "event_actors"):
        in_memory: list[Part] = []
        on_disk: list[Spilled] = []
        for chunk in chunks:
            in_memory.append(chunk_tables(chunk)[table])
            on_disk.append(spill_chunk(chunk, None, spill)[table])
        expected = plain(table, in_memory, write.ROW_GROUP_ROWS)
        assert streamed(table, on_disk, tmp_path / f"disk-{table}") == expected
        assert streamed(table, in_memory, tmp_path / f"memory-{table}") == expected
        if (
            table == "events"
        ):  # 'x-1' sorts inside the first part's range ('x-0' to 'x-1-b'): the two are sorted together
            assert len(merge(table, on_disk).groups) == 1


def test_a_previous_file_of_several_row_groups_is_kept_when_its_rows_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Parquet file of the previous build, rewritten as another pyarrow might, is kept row group by row group."""
    monkeypatch.setattr(write, "ROW_GROUP_ROWS", SMALL_GROUP)
    rows = link_rows(random.Random(7), write.ROW_GROUP_ROWS + 10, False)
    parts = parts_of("claim_targets", rows, [len(rows)])
    previous = tmp_path / "previous"
    streamed("claim_targets", parts, previous)
    path = previous / "claim_targets.parquet"
    assert pq.ParquetFile(path).metadata.num_row_groups == 2
    table = pq.read_table(path)
    pq.write_table(table, path, compression="zstd", row_group_size=write.ROW_GROUP_ROWS, write_statistics=False)
    other = path.read_bytes()
    again = tmp_path / "again"
    again.mkdir()
    write.write_table("claim_targets", merge("claim_targets", parts), again, META, previous=previous, sync=False)
    assert (again / "claim_targets.parquet").read_bytes() == other
    changed = [dict(row) for row in rows]
    changed[-1]["actor"] = "actor-changed"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    parts = parts_of("claim_targets", changed, [len(changed)])
    write.write_table("claim_targets", merge("claim_targets", parts), fresh, META, previous=previous, sync=False)
    assert (fresh / "claim_targets.parquet").read_bytes() != other
    assert pq.read_table(fresh / "claim_targets.parquet")["actor"][-1].as_py() == "actor-changed"
