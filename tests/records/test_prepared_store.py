"""Texts prepared once a run and shared on disk between its processes anchor as texts prepared afresh.

A tree with many sources has every chunk quote most of them, more than a process keeps prepared;
the processes of one run leave what they prepared in a scratch folder (``texts.shared_store``) and
read it back. What is read back must anchor every quote exactly as a fresh preparation does, a
damaged or missing file must only cost a preparation, and the folder must be gone after the run.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from conftest import REPO

from kdata.fs import sha256_bytes
from kdata.records import texts
from kdata.records.anchors import Archived
from kdata.records.scan import FileResult

TEXTS = sorted((REPO / "raw" / "sources").glob("*.txt"))


@pytest.mark.parametrize("path", TEXTS[:: max(1, len(TEXTS) // 12)], ids=lambda p: p.stem)
def test_a_restored_preparation_anchors_as_a_fresh_one(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fresh = Archived(text)
    back = Archived.restored(fresh.dump())
    assert back.text == text
    assert back.normal == fresh.normal
    assert back.paragraphs() == fresh.paragraphs()
    rng = random.Random(path.stem)
    words = text.split()
    for _ in range(40):  # quotes cut anywhere, some not in the text at all
        start = rng.randrange(len(words))
        quote = " ".join(words[start : start + rng.randrange(1, 30)])
        if rng.random() < 0.2:
            quote = quote + " zzz-not-there"
        assert back.anchor(quote) == fresh.anchor(quote)
    for offset in rng.sample(range(len(text)), 30):
        assert back.normal_offset(offset) == fresh.normal_offset(offset)
        assert back.paragraph(offset) == fresh.paragraph(offset)


def _results(sources: list[str], quotes: list[str]) -> list[FileResult]:
    out = []
    for n, quote in enumerate(quotes):
        source = sources[n % len(sources)]
        out.append(FileResult("events", f"raw/events/e{n}.yaml", f"e{n}", f"e{n}", quotes=((0, source, quote, None),)))
    return out


def test_settling_through_a_shared_store_settles_the_same_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "cache"))
    folder = REPO / "raw" / "sources"
    sources = [p.stem for p in TEXTS]
    rng = random.Random(3)
    quotes = []
    for path in TEXTS * 2:
        words = path.read_text(encoding="utf-8").split()
        start = rng.randrange(len(words))
        quotes.append(" ".join(words[start : start + 12]) + (" not-there" if rng.random() < 0.2 else ""))
    expected = _results(sources, quotes)
    used = texts.settle(expected, folder)
    with texts.shared_store(True) as store:
        assert store is not None and store.is_dir()
        texts._PREPARED.texts.clear()
        texts._PREPARED.size = 0
        first = _results(sources, quotes)
        assert texts.settle(first, folder, store=store) == used
        kept = sorted(p.name for p in store.iterdir() if not p.name.startswith("."))  # the folder's own lock too
        assert kept == sorted({sha256_bytes(p.read_bytes()) for p in TEXTS})
        # Read back by a process that prepared nothing (here: this one, emptied), one file damaged.
        texts._PREPARED.texts.clear()
        texts._PREPARED.size = 0
        (store / kept[0]).write_bytes(b"\x00damaged")
        os.remove(store / kept[1])
        second = _results(sources, quotes)
        assert texts.settle(second, folder, store=store) == used
    for a, b, c in zip(expected, first, second, strict=True):
        assert (a.quotes, a.settled) == (b.quotes, b.settled) == (c.quotes, c.settled)
    assert not store.exists(), "the run's scratch folder is gone after it"


def test_no_store_where_the_cache_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("KDATA_CACHE_DIR", str(blocked / "cache"))
    with texts.shared_store(True) as store:
        assert store is None
    with texts.shared_store(False) as store:
        assert store is None


def test_a_cached_run_that_holds_one_text_at_a_time_finds_the_same_issues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first cached run quotes texts in file order: let go and read again, they give the same issues."""
    import shutil

    from kdata.records.incremental import check_tree

    raw = tmp_path / "raw"
    shutil.copytree(REPO / "raw", raw)
    rng = random.Random(9)
    for path in rng.sample(sorted((raw / "events").glob("*.yaml")), 6):  # quotes that are not in their texts
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("quote: ", "quote: Not said ", 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "roomy"))
    roomy = check_tree(Path("raw")).issues
    assert any(i.code == "KD301" for i in roomy)
    monkeypatch.setattr(texts._PREPARED, "limit", 1)  # every other text let go as soon as another is prepared
    texts._PREPARED.texts.clear()
    texts._PREPARED.size = 0
    monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "tight"))
    assert check_tree(Path("raw")).issues == roomy


def test_a_run_reads_an_unchanged_text_once_and_a_changed_or_replaced_one_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of one run that quote a text read before take it without reading it while its lstat is the same."""
    import shutil

    monkeypatch.setenv("KDATA_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "sources"
    folder.mkdir()
    chosen = TEXTS[:3]
    for path in chosen:
        shutil.copy(path, folder / path.name)
    sources = [p.stem for p in chosen]
    quotes = [" ".join(p.read_text(encoding="utf-8").split()[5:17]) for p in chosen]
    reads: list[str] = []
    real = texts.fs.read_regular

    def counted(path: Path, limit: int) -> bytes:
        reads.append(Path(path).stem)
        return real(path, limit)

    monkeypatch.setattr(texts.fs, "read_regular", counted)
    texts._PREPARED.texts.clear()
    texts._PREPARED.size = 0
    with texts.shared_store(True) as store:
        assert store is not None
        first = _results(sources, quotes)
        used = texts.settle(first, folder, store=store)
        assert sorted(reads) == sorted(sources) and all(r.settled for r in first)
        for limit in (PREPARED_ALL, 1):  # held, then let go and taken back from the store
            monkeypatch.setattr(texts._PREPARED, "limit", limit)
            reads.clear()
            again = _results(sources, quotes)
            assert texts.settle(again, folder, store=store) == used
            assert reads == [] and all(r.settled for r in again)
        # Rewritten with other words: read again, and the quote is no longer in it.
        changed = folder / chosen[0].name
        changed.write_text("Other words entirely.\n", encoding="utf-8")
        # Replaced by a link to the same bytes: never read through the link.
        linked = folder / chosen[1].name
        linked.rename(tmp_path / "elsewhere.txt")
        linked.symlink_to(tmp_path / "elsewhere.txt")
        reads.clear()
        last = _results(sources, quotes)
        found = texts.settle(last, folder, store=store)
        assert sorted(reads) == sorted(sources[:2])
        assert [r.settled for r in last] == [False, False, True]
        assert found == {sources[2]: used[sources[2]]}
        assert texts._SEEN
    assert not texts._SEEN, "what a run saw of its texts is let go after it"


#: A limit no test text reaches: every text prepared stays held.
PREPARED_ALL = 1 << 40
