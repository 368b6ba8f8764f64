"""Generate a realistic synthetic raw/ tree of N records for benchmarks.

Every record table is present in roughly the curated dataset's proportions, quotes
have real length and stand in their sources' archived texts (``raw/sources/<id>.txt``),
and every reference resolves, so ``kdata validate`` and ``kdata build`` do all their work:

- quote verification and anchors: every citation's quote is a paragraph of its source's text;
- the claims table and its link tables: claims cite their own claimant (KD110) and name
  target actors, events, places and figures;
- the stricter checks: vague date phrases that the date keeps (KD111: 'about' -> '~',
  'early' -> a month), planned events bounded by 'next year' (KD205), reported dates before
  their sources' publication (KD206), neutral wording (KD112) of every text we write;
- disagreements: records share topics in small groups, so the derived tables have rows.

Output is deterministic for a given N and seed. ``COUNTS`` says what a tree holds.

Usage: python benchmarks/synth.py N OUT_DIR
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from pathlib import Path

WORDS = (
    "district city village road tunnel pass reservoir school residents returned statement ministry reported "
    "according officials construction opened president visit agreement signed forces control border region "
    "water electricity houses complex railway airport bridge ceremony delegation embassy attaches monuments"
).split()

#: Share of each table in a tree (sources and the small tables first, so references resolve).
SHARES = {"sources": 0.01, "actors": 0.04, "places": 0.05, "events": 0.30, "figures": 0.30, "claims": 0.30}
QUALIFIERS = ("exact", "approximately", "more_than", "at_most", "range")
CLAIM_KINDS = ("position", "assertion", "demand", "promise", "denial", "tribute")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
#: One record in this many shares a topic with its neighbours (groups of 3), so disagreements are found.
TOPIC_EVERY = 10


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize()


def _citations(
    rng: random.Random, sources: list[str], claimants: list[str], said: dict[str, list[str]], fixed: str | None = None
) -> str:
    """A record's citations; each quote becomes a paragraph of its source's archived text (``said``)."""
    out = ["citations:"]
    for _ in range(rng.choice((1, 1, 2))):
        source, quote = rng.choice(sources), _sentence(rng, rng.randint(12, 22))
        paragraphs = said.setdefault(source, [])
        paragraphs.append(quote)
        out += [
            f"  - source: {source}",
            f"    claimant: {fixed or rng.choice(claimants)}",
            f'    quote: "{quote}"',
            f"    locator: paragraph {len(paragraphs)}",
        ]
    return "\n".join(out)


def _topic(table: str, i: int) -> list[str]:
    return [f"topic: {table}-topic-{i // (TOPIC_EVERY * 3):06d}"] if i % TOPIC_EVERY < 3 else []


def _vague_date(rng: random.Random, i: int) -> list[str]:
    """A date, with a vague phrase the date keeps on one record in four."""
    year, month, day = rng.randint(1992, 2025), rng.randint(1, 10), rng.randint(1, 28)
    phrase = {
        1: [f"date: {year}-{month:02d}~", f"date_phrase: about {MONTHS[month - 1]} {year}"],
        2: [f"date: {year}-{month:02d}", f"date_phrase: early {MONTHS[month - 1]} {year}"],
    }
    return phrase.get(i % 4, [f"date: {year}-{month:02d}-{day:02d}"])


def _figure(rng: random.Random, i: int, places: list[str], events: list[str]) -> list[str]:
    qualifier = rng.choice(QUALIFIERS)
    value = rng.randint(10, 90000)
    numbers = {
        "exact": [f"value: {value}"],
        "approximately": [f"value: {value}"],
        "more_than": [f"low: {value}"],
        "at_most": [f"high: {value}"],
        "range": [f"low: {value}", f"high: {value + rng.randint(1, 500)}"],
    }[qualifier]
    return [
        f"id: figure-{i:06d}",
        "measure: people_displaced",
        "unit: people",
        f"qualifier: {qualifier}",
        *numbers,
        f'stated_as: "about {value:,}"',
        f"as_of: {rng.randint(1992, 2025)}-{rng.randint(1, 12):02d}",
        f"place: {rng.choice(places)}",
        f"event: {rng.choice(events)}",
        *_topic("figures", i),
    ]


def _event(rng: random.Random, i: int, eid: str, places: list[str], actors: list[str]) -> list[str]:
    planned = i % 8 == 7  # a plan 'next year': its end is bounded by the citing source's year plus one (KD205)
    dated = ["status: planned", "date: '2026'", "date_phrase: next year"] if planned else ["status: occurred"]
    return [
        f"id: {eid}",
        f"title: {_sentence(rng, 7)}",
        "kind: construction",
        *(dated if planned else dated + _vague_date(rng, i)),
        f"place: {rng.choice(places)}",
        *_topic("events", i),
        "actors:",
        f"  - actor: {rng.choice(actors)}",
        "    role: agent",
    ]


def _ids(rng: random.Random, key: str, pool: list[str], most: int) -> list[str]:
    chosen = sorted(set(rng.sample(pool, min(len(pool), rng.randint(0, most)))))
    return [f"{key}:", *(f"  - {x}" for x in chosen)] if chosen else []


def _claim(rng: random.Random, i: int, cid: str, claimant: str, pools: dict[str, list[str]]) -> list[str]:
    return [
        f"id: {cid}",
        f"claimant: {claimant}",
        f"kind: {CLAIM_KINDS[i % len(CLAIM_KINDS)]}",
        *_vague_date(rng, i),
        f"summary: {_sentence(rng, 12)}",
        *_ids(rng, "targets", pools["actors"], 2),
        *_ids(rng, "events", pools["events"], 2),
        *_ids(rng, "places", pools["places"], 1),
        *_ids(rng, "figures", pools["figures"], 1),
        *_topic("claims", i),
    ]


def counts(n: int) -> dict[str, int]:
    """How many records of each table a tree of about ``n`` records holds."""
    return {table: max(1, int(n * share)) for table, share in SHARES.items()}


def generate(n: int, out: Path, seed: int = 1) -> Path:
    """Write a raw/ tree of about ``n`` records under ``out``; return the raw folder."""
    rng = random.Random(seed)
    raw = out / "raw"
    count = counts(n)
    for table in SHARES:
        (raw / table).mkdir(parents=True, exist_ok=True)
    (raw / "package.yaml").write_text(
        "name: synthetic\ntitle: Synthetic benchmark data\ndescription: Generated records for benchmarks.\n"
        "version: 1.0.0\nlicenses:\n  - name: CC0-1.0\n    path: https://creativecommons.org/publicdomain/zero/1.0/\n"
        "    title: CC0 1.0\ncontributors:\n  - title: kdata benchmarks\n    roles: [creator]\n"
    )
    pools = {table: [f"{table.removesuffix('s')}-{i:06d}" for i in range(count[table])] for table in SHARES}
    sources, actors, places = pools["sources"], pools["actors"], pools["places"]
    for i, aid in enumerate(actors):
        parent = f"parent: {actors[i // 2]}\n" if i else ""
        (raw / "actors" / f"{aid}.yaml").write_text(
            f"id: {aid}\nname: {_sentence(rng, 3)}\nkind: government_body\n{parent}"
        )
    for i, pid in enumerate(places):
        parent = f"parent: {places[i // 3]}\n" if i else ""
        (raw / "places" / f"{pid}.yaml").write_text(f"id: {pid}\nname: {_sentence(rng, 2)}\nkind: village\n{parent}")
    said: dict[str, list[str]] = {}
    for i, eid in enumerate(pools["events"]):
        body = [*_event(rng, i, eid, places, actors), _citations(rng, sources, actors, said)]
        (raw / "events" / f"{eid}.yaml").write_text("\n".join(body) + "\n")
    for i, fid in enumerate(pools["figures"]):
        body = [*_figure(rng, i, places, pools["events"]), _citations(rng, sources, actors, said)]
        (raw / "figures" / f"{fid}.yaml").write_text("\n".join(body) + "\n")
    for i, cid in enumerate(pools["claims"]):
        claimant = rng.choice(actors)  # its citations quote the same claimant (KD110)
        body = [*_claim(rng, i, cid, claimant, pools), _citations(rng, sources, actors, said, claimant)]
        (raw / "claims" / f"{cid}.yaml").write_text("\n".join(body) + "\n")
    for i, sid in enumerate(sources):  # last: each archived text holds the quotes that cite it, one paragraph each
        text = ("\n\n".join(said.get(sid, [])) or sid).encode("utf-8")
        (raw / "sources" / f"{sid}.txt").write_bytes(text)
        digest = hashlib.sha256(text).hexdigest()
        body = [
            f"id: {sid}",
            f'title: "{_sentence(rng, 8)}"',
            "publisher: Synthetic Wire",
            f"published: 2026-01-{i % 28 + 1:02d}",  # after every reported date (KD206); 'next year' ends 2027 (KD205)
        ]
        body += ["language: en", "kind: news_report", f"sha256: {digest}"]
        (raw / "sources" / f"{sid}.yaml").write_text("\n".join(body) + "\n")
    _aged(raw)
    return raw


def _aged(raw: Path) -> None:
    """Date every file and folder of ``raw`` an hour back, as a clone's files unchanged for a while: a cached
    ``kdata validate`` reads a file whose mtime is less than 2 s old again on its next run (a racily clean file)."""
    then = time.time_ns() - 3600 * 10**9
    for folder, _, names in os.walk(raw):
        for name in names:
            os.utime(os.path.join(folder, name), ns=(then, then))
        os.utime(folder, ns=(then, then))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Generate a synthetic raw/ tree of N records (see the module doc).")
    parser.add_argument("records", type=int, help="How many records (at least 1).")
    parser.add_argument("out", type=Path, help="The folder to write raw/ into.")
    args = parser.parse_args()
    if args.records < 1:
        parser.error("records must be at least 1")
    generate(args.records, args.out)
