"""What ``load_raw`` keeps of each file check (``kdata.records.ledger``) is what checking the file gives.

A record kept as its file name alone must come back as the ``FileResult`` its check made, with
only what the checks across records have consumed (references, dates, the record, settled quotes)
left out; a record with anything more is kept whole. Checked on the repository's raw/ and on a
damaged copy, in one process and in two (``records_parallel``: from a few hundred files).
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO
from records_parallel import lower_the_parallel_threshold

from kdata.records import ledger, listing, scan
from kdata.records.validate import load_raw

#: What the checks across records consume as files are read: not kept, whatever the record.
CONSUMED = ("refs", "record", "bound", "said")


def _check(table: str, path: str) -> scan.FileResult:
    """The file's check, as a worker makes it, with the consumed fields cleared."""
    result = scan.check_file(table, path)
    for name in CONSUMED:
        setattr(result, name, None if name in ("record", "bound", "said") else ())
    return result


def _same(kept: scan.FileResult, checked: scan.FileResult) -> None:
    assert (kept.table, kept.path, kept.name, kept.id) == (checked.table, checked.path, checked.name, checked.id)
    assert list(kept.issues) == list(checked.issues)
    assert (kept.parent, kept.sha256, kept.published) == (checked.parent, checked.sha256, checked.published)
    if kept.settled:  # quotes anchored where the file was checked: only those that need more are kept
        assert set(kept.quotes) <= set(checked.quotes)
    else:
        assert kept.quotes == checked.quotes


def _damaged(tmp_path: Path, copies: int) -> Path:
    """A copy of raw/ with ``copies`` renamed copies of each event and figure, some damaged in many ways."""
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "raw", raw)
    rng = random.Random(5)
    for table in ("events", "figures"):
        originals = sorted((raw / table).glob("*.yaml"))
        for n in range(copies):
            for path in originals:
                text = path.read_text(encoding="utf-8")
                rid = f"{path.stem}-copy-{n}"
                text = re.sub(r"^id: .*$", f"id: {rid}", text, count=1, flags=re.M)
                damage = rng.randrange(12)
                if damage == 0:
                    text = text.replace(f"id: {rid}", f"id: {rid}-other")  # KD107, kept whole
                elif damage == 1:
                    text = text.replace(f"id: {rid}", f"id: {path.stem}")  # KD201 against the original
                elif damage == 2:
                    text += "unknown_field: 1\n"
                (raw / table / f"{rid}.yaml").write_text(text, encoding="utf-8")
    return raw


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_record_comes_back_as_its_check(jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    parallel = lower_the_parallel_threshold(monkeypatch) if jobs > 1 else []  # one process: the real threshold
    raw = _damaged(tmp_path, copies=1)
    data = load_raw(Path("raw"), jobs=jobs, keep="nothing", settle=True)
    files = listing.record_files(Path("raw"), [])
    if jobs > 1:
        assert len(files) >= 3 * scan.PARALLEL_MIN_FILES, "the tree is large enough for worker processes"
    assert parallel == ([jobs] if jobs > 1 else [])
    owners: dict[tuple[str, str], str] = {}
    for table, path in files:  # the first file (in listing order, sources first) that gives an id holds it
        checked = _check(table, path)
        if checked.id is not None:
            owners.setdefault((table, checked.id), path)
    assert set(data.results) == set(owners)
    assert len(data.results) == len(owners)
    for key, path in owners.items():
        assert key in data.results
        _same(data.results[key], _check(key[0], path))
    for table in {t for t, _ in owners}:
        assert sorted(k for k, _ in data.results.items_of(table)) == sorted(k for k in owners if k[0] == table)
    kept = dict(data.results.kept())
    assert 0 < len(kept) < len(owners) / 2, "most records are kept as their file name alone"
    assert all(
        r.issues or r.quotes or r.parent or r.sha256 or r.path != f"{r.path.rsplit('/', 1)[0]}/{r.id}.yaml"
        for r in kept.values()
    )
    assert ("events", "no-such-record") not in data.results
    with pytest.raises(KeyError):
        data.results[("events", "no-such-record")]
    assert raw.is_dir()


def test_a_record_file_that_gives_another_id_is_kept_whole(tmp_path: Path) -> None:
    folders = {"events": "raw/events"}
    held = ledger.Ledger(folders, {"events": {"a": ledger.LISTED}})
    other = scan.FileResult("events", "raw/events/a.yaml", "raw/events/a.yaml", "b")
    held.add(other)
    assert ("events", "b") in held and ("events", "a") not in held
    assert held[("events", "b")] is other
    plain = scan.FileResult("events", "raw/events/a.yaml", "raw/events/a.yaml", "a", settled=True)
    held.add(plain)
    assert held[("events", "a")] == plain and held[("events", "a")] is not plain
    assert len(held) == 2 and set(held) == {("events", "a"), ("events", "b")}
