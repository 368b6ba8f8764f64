"""crossstate.Holders answers as a plain map of every (table, id) to its first holder and a set of every name."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kdata.errors import Issue
from kdata.records.crossstate import Holders, stem
from kdata.records.listing import record_files


@pytest.mark.parametrize("listed", [False, True], ids=["unlisted", "listed"])
@pytest.mark.parametrize("seed", range(20))
def test_holders_answer_as_plain_maps(seed: int, listed: bool) -> None:
    """Random files: ids equal to their name or not, shared ids, files in an odd folder, files without an id.

    ``listed``: the holders start from each table's listing (the names its folder holds), as a filling run's do.
    """
    rng = random.Random(seed)
    ids = [f"r-{n}" for n in range(12)]
    folders = {"actors": "raw/actors", "events": "raw/events"}
    files = []
    for _ in range(rng.randrange(1, 60)):
        table = rng.choice(list(folders))
        name = rng.choice(ids + ["x-" + rng.choice(ids)])
        folder = folders[table] if rng.random() < 0.9 else "raw/elsewhere"
        rid = rng.choice([name, rng.choice(ids), None]) if not name.startswith("x-") else rng.choice([*ids, None])
        files.append((table, f"{folder}/{name}.yaml", rid))
    rng.shuffle(files)  # results arrive in any order; the first path holds an id

    listing: dict[str, list[str]] = {}
    for table, path, _ in files:
        if path.startswith(folders[table] + "/"):
            listing.setdefault(table, []).append(Path(path).name)
    holders = Holders((table, sorted(set(names))) for table, names in listing.items()) if listed else Holders()
    owners: dict[tuple[str, str], str] = {}
    names: set[tuple[str, str]] = set()
    for table, path, rid in files:
        holders.add(table, path, rid)
        names.add((table, stem(path)))
        if rid is not None:
            names.add((table, rid))
            if (table, rid) not in owners or path < owners[(table, rid)]:
                owners[(table, rid)] = path

    for table in folders:
        for rid in [*ids, *(f"x-{i}" for i in ids), "absent"]:
            assert holders.owner((table, rid)) == owners.get((table, rid)), (table, rid, files)
            assert holders.present(table, rid) == ((table, rid) in names), (table, rid, files)
        assert sorted(holders.held(table)) == sorted(rid for t, rid in owners if t == table)
    assert sorted(holders.tables()) == sorted({table for table, _, _ in files})


def test_record_files_come_in_path_order(tmp_path: Path) -> None:
    """The listing's files, made as they are read, are in the order of their paths (the cache's order)."""
    names = ["a.yaml", "a-b.yaml", "a.b.yaml", "ab.yaml", "a_b.yaml", "A.yaml", "é.yaml", "z.yaml", "0.yaml"]
    for table in ["actors", "places", "claims", "events", "figures", "sources"]:
        (tmp_path / table).mkdir()
        for name in names:
            (tmp_path / table / name).write_text("id: x\n", "utf-8")
    issues: list[Issue] = []
    files = record_files(tmp_path, issues)
    listed = list(files)
    assert issues == []
    assert len(files) == len(listed) == 6 * len(names)
    assert listed == sorted(listed, key=lambda item: item[1])
    assert {(table, Path(path).name) for table, path in listed} == {
        (t, n) for t in ["actors", "places", "claims", "events", "figures", "sources"] for n in names
    }
