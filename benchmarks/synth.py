"""Generate a realistic synthetic raw/ tree of N records for benchmarks.

Every table is present in roughly the curated dataset's proportions (events and
figures dominate), quotes have real length, and every reference resolves, so
``kdata validate`` and ``kdata build`` do all their work. Output is
deterministic for a given N and seed.

Usage: python benchmarks/synth.py N OUT_DIR
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

WORDS = (
    "district city village road tunnel pass reservoir school residents returned statement ministry reported "
    "according officials construction opened president visit agreement signed forces control border region "
    "water electricity houses complex railway airport bridge ceremony delegation embassy attaches monuments"
).split()

#: Share of each table in a tree (sources and the small tables first, so references resolve).
SHARES = {"sources": 0.01, "actors": 0.04, "places": 0.05, "events": 0.45, "figures": 0.45}
QUALIFIERS = ("exact", "approximately", "more_than", "at_most", "range")


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize()


def _citations(rng: random.Random, sources: list[str], actors: list[str], said: dict[str, list[str]]) -> str:
    """A record's citations; each quote becomes a paragraph of its source's archived text (``said``)."""
    out = ["citations:"]
    for _ in range(rng.choice((1, 1, 2))):
        source, quote = rng.choice(sources), _sentence(rng, rng.randint(12, 22))
        paragraphs = said.setdefault(source, [])
        if quote not in paragraphs:
            paragraphs.append(quote)
        out += [
            f"  - source: {source}",
            f"    claimant: {rng.choice(actors)}",
            f'    quote: "{quote}"',
            f"    locator: paragraph {paragraphs.index(quote) + 1}",
        ]
    return "\n".join(out)


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
    ]


def generate(n: int, out: Path, seed: int = 1) -> Path:
    """Write a raw/ tree of about ``n`` records under ``out``; return the raw folder."""
    rng = random.Random(seed)
    raw = out / "raw"
    counts = {table: max(1, int(n * share)) for table, share in SHARES.items()}
    for table in SHARES:
        (raw / table).mkdir(parents=True, exist_ok=True)
    (raw / "package.yaml").write_text(
        "name: synthetic\ntitle: Synthetic benchmark data\ndescription: Generated records for benchmarks.\n"
        "version: 1.0.0\nlicenses:\n  - name: CC0-1.0\n    path: https://creativecommons.org/publicdomain/zero/1.0/\n"
        "    title: CC0 1.0\ncontributors:\n  - title: kdata benchmarks\n    roles: [creator]\n"
    )
    sources = [f"source-{i:06d}" for i in range(counts["sources"])]
    actors = [f"actor-{i:06d}" for i in range(counts["actors"])]
    places = [f"place-{i:06d}" for i in range(counts["places"])]
    events = [f"event-{i:06d}" for i in range(counts["events"])]
    for i, aid in enumerate(actors):
        parent = f"parent: {actors[i // 2]}\n" if i else ""
        (raw / "actors" / f"{aid}.yaml").write_text(
            f"id: {aid}\nname: {_sentence(rng, 3)}\nkind: government_body\n{parent}"
        )
    for i, pid in enumerate(places):
        parent = f"parent: {places[i // 3]}\n" if i else ""
        (raw / "places" / f"{pid}.yaml").write_text(f"id: {pid}\nname: {_sentence(rng, 2)}\nkind: village\n{parent}")
    said: dict[str, list[str]] = {}
    for eid in events:
        body = [
            f"id: {eid}",
            f"title: {_sentence(rng, 7)}",
            "kind: construction",
            "status: occurred",
            f"date: {rng.randint(1992, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            f"place: {rng.choice(places)}",
            "actors:",
            f"  - actor: {rng.choice(actors)}",
            "    role: agent",
            _citations(rng, sources, actors, said),
        ]
        (raw / "events" / f"{eid}.yaml").write_text("\n".join(body) + "\n")
    for i in range(counts["figures"]):
        body = _figure(rng, i, places, events) + [_citations(rng, sources, actors, said)]
        (raw / "figures" / f"figure-{i:06d}.yaml").write_text("\n".join(body) + "\n")
    for i, sid in enumerate(sources):  # last: each archived text holds the quotes that cite it, one paragraph each
        text = ("\n\n".join(said.get(sid, [])) or sid).encode("utf-8")
        (raw / "sources" / f"{sid}.txt").write_bytes(text)
        digest = hashlib.sha256(text).hexdigest()
        body = [
            f"id: {sid}",
            f'title: "{_sentence(rng, 8)}"',
            "publisher: Synthetic Wire",
            f"published: 2026-01-{i % 28 + 1:02d}",  # after every event date it reports (KD206)
        ]
        body += ["language: en", "kind: news_report", f"sha256: {digest}"]
        (raw / "sources" / f"{sid}.yaml").write_text("\n".join(body) + "\n")
    return raw


if __name__ == "__main__":
    generate(int(sys.argv[1]), Path(sys.argv[2]))
