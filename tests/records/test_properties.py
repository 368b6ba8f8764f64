"""Property-based tests (hypothesis): random valid records round-trip; random damage never crashes.

- Round trip: random but valid sources, actors, places, events and figures (any Unicode text in
  NFC, newlines and quote marks included; numbers within the qualifier rules; EDTF dates at every
  precision) are written as YAML, built, and read back through ``kdata.load_table`` (Parquet) and
  the CSV files: every value comes back as written.
- Damage: the good project's files get random byte flips, insertions, deletions, truncations and
  structural YAML edits. ``load_raw`` must return issues or success and never raise; a sample also
  runs through the ``kdata validate`` command (its function, in this process: the malformed corpus
  runs the real command as a process), which must exit 0 or 1 without a traceback.

The examples are derandomized (the same every run), so CI cannot flake on a new random draw;
``benchmarks/stress.py`` runs more of them with fresh seeds. The counts of every run are chosen
for a suite of a few minutes: each round trip is a whole build (about 0.4 s), each damage example
a whole ``load_raw``; hypothesis draws its edge cases (empty, longest, extreme numbers, odd
characters) among the first examples, and the stress run (400 round trips, 10,000 damages) is
where volume looks for the rare ones. ``KDATA_HYPOTHESIS_EXAMPLES``, ``_ROUND_TRIPS``,
``_EDGES`` and ``_CLI_EXAMPLES`` raise the counts (the stress script sets them).
"""

from __future__ import annotations

import atexit
import calendar
import csv
import hashlib
import json
import os
import shutil
import tempfile
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

from conftest import GOOD, run_kdata
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inprocess import run_kdata_here

import kdata
from kdata.datapackage.build import build
from kdata.datapackage.verify import verify
from kdata.records.dates import MAX_YEAR, MIN_YEAR, bounds, parse_edtf
from kdata.records.models import _text
from kdata.records.neutral import loaded_term
from kdata.records.validate import load_raw
from kdata.records.vocab import ACTOR_KINDS, EVENT_KINDS, EVENT_STATUSES, MEASURES, PLACE_KINDS, QUALIFIERS, UNITS
from kdata.site.timeline import layout

DAMAGE_EXAMPLES = int(os.environ.get("KDATA_HYPOTHESIS_EXAMPLES", "400"))
ROUND_TRIP_EXAMPLES = int(os.environ.get("KDATA_HYPOTHESIS_ROUND_TRIPS", "20"))
EDGE_EXAMPLES = int(os.environ.get("KDATA_HYPOTHESIS_EDGES", "15"))
CLI_EXAMPLES = int(os.environ.get("KDATA_HYPOTHESIS_CLI_EXAMPLES", "15"))
SETTINGS: dict[str, Any] = {
    "deadline": None,
    "derandomize": os.environ.get("KDATA_HYPOTHESIS_RANDOM") != "1",
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
#: Examples run by each test of this module, for the README's figures (the stress script reads it).
RUN: dict[str, int] = {}


def _valid_text(value: str) -> bool:
    try:
        _text(value)
    except Exception:  # pydantic's error: the text breaks a rule, so hypothesis draws another
        return False
    return True


CHARS = st.characters(categories=["L", "M", "N", "P", "S", "Zs"], include_characters="\n\"'\\#:&*!|>%@`")
TEXT = st.text(CHARS, min_size=1, max_size=40).map(lambda t: unicodedata.normalize("NFC", t)).filter(_valid_text)
COUNT = st.integers(min_value=0, max_value=2**53)


#: Years of the usual draws, and every year a date may name.
YEARS = (1900, 2030)
ALL_YEARS = (MIN_YEAR, MAX_YEAR)
#: Every count a figure may hold: 0 to the largest signed 64-bit integer (``yamlio.INT_RANGE``).
ALL_COUNTS = st.integers(min_value=0, max_value=2**63 - 1)
#: Text of any character the character policy allows (every category, unassigned and private use included).
ANY_TEXT = (
    st.text(st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), min_size=1, max_size=40)
    .map(lambda t: unicodedata.normalize("NFC", t))
    .filter(_valid_text)
)


@st.composite
def edtf(draw: st.DrawFn, years: tuple[int, int] = YEARS) -> str:
    """An EDTF date at year, month or day precision, sometimes approximate, sometimes an interval."""

    def one() -> tuple[str, date]:
        year = draw(st.integers(*years))
        precision = draw(st.sampled_from(["year", "month", "day"]))
        if precision == "year":
            return f"{year:04d}", date(year, 1, 1)
        month = draw(st.integers(1, 12))
        if precision == "month":
            return f"{year:04d}-{month:02d}", date(year, month, 1)
        day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
        return f"{year:04d}-{month:02d}-{day:02d}", date(year, month, day)

    first, start = one()
    first += draw(st.sampled_from(["", "", "~", "?", "%"]))
    if draw(st.booleans()):
        return first
    second, end = one()
    if end < start:
        return first
    return f"{first}/{second}"


@st.composite
def numbers(draw: st.DrawFn, count: st.SearchStrategy[int] = COUNT) -> dict[str, Any]:
    """value/low/high that fit a qualifier drawn with them."""
    qualifier = draw(st.sampled_from(sorted(QUALIFIERS)))
    a, b = sorted(draw(st.lists(count, min_size=2, max_size=2, unique=True)))
    shapes: dict[str, dict[str, int]] = {
        "exact": {"value": a},
        "approximately": {"value": a},
        "more_than": {"low": a},
        "at_least": {"low": a},
        "at_most": {"high": b},
        "less_than": {"high": b},
        "range": {"low": a, "high": b},
    }
    return {"qualifier": qualifier, **shapes[qualifier]}


@st.composite
def dataset(
    draw: st.DrawFn,
    text: st.SearchStrategy[str] = TEXT,
    count: st.SearchStrategy[int] = COUNT,
    years: tuple[int, int] = YEARS,
) -> dict[str, list[dict[str, Any]]]:
    """A small, valid raw/ tree as records by table (texts, counts and years drawn from the given ranges)."""
    places: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 3))):
        place = {"id": f"place-{i}", "name": draw(text), "kind": draw(st.sampled_from(sorted(PLACE_KINDS)))}
        if i and draw(st.booleans()):
            place["parent"] = f"place-{draw(st.integers(0, i - 1))}"
        places.append(place)
    actors = [
        {"id": f"actor-{i}", "name": draw(text), "kind": draw(st.sampled_from(sorted(ACTOR_KINDS)))}
        for i in range(draw(st.integers(1, 2)))
    ]
    source = {
        "id": "source-0",
        "title": draw(text),
        "published": draw(edtf(years)),
        "language": "en",
        "kind": "news_report",
        "sha256": "0" * 64,
    }

    said = text.filter(lambda t: any(c.isalnum() for c in t))  # a quote holds a word a reader can find

    def citations() -> list[dict[str, Any]]:
        return [
            {"source": "source-0", "claimant": draw(st.sampled_from([a["id"] for a in actors])), "quote": draw(said)}
            for _ in range(draw(st.integers(1, 2)))
        ]

    events = []
    ours = text.filter(lambda t: not loaded_term(t))  # our own words use no loaded term (KD112)
    for i in range(draw(st.integers(1, 2))):
        event = {
            "id": f"event-{i}",
            "title": draw(ours),
            "kind": draw(st.sampled_from(sorted(EVENT_KINDS))),
            "status": draw(st.sampled_from(sorted(EVENT_STATUSES))),
            "date": draw(edtf(years)),
            "place": draw(st.sampled_from([p["id"] for p in places])),
        }
        if draw(st.booleans()):
            event["description"] = draw(ours)
        if event["status"] == "occurred" and parse_edtf(event["date"]).start > bounds(source["published"])[1]:  # type: ignore[operator]
            event["status"] = "planned"  # a report cannot tell of what occurred after it (KD206)
        event["citations"] = citations()
        events.append(event)
    figures = []
    for i in range(draw(st.integers(0, 2))):
        figure = {
            "id": f"figure-{i}",
            "measure": draw(st.sampled_from(sorted(MEASURES))),
            "unit": draw(st.sampled_from(sorted(UNITS))),
            **draw(numbers(count)),
            "stated_as": draw(text),
            "event": "event-0",
        }
        if draw(st.booleans()):
            figure["as_of"] = draw(edtf(years))
        figure["citations"] = citations()
        figures.append(figure)
    return {"places": places, "actors": actors, "sources": [source], "events": events, "figures": figures}


def _yaml(record: dict[str, Any]) -> str:
    """A record as YAML: JSON's double-quoted strings and plain numbers are YAML too."""
    lines = []
    for key, value in record.items():
        if key == "citations":
            lines.append("citations:")
            for citation in value:
                first = True
                for k, v in citation.items():
                    lines.append(f"{'  - ' if first else '    '}{k}: {json.dumps(v, ensure_ascii=False)}")
                    first = False
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def write_tree(root: Path, data: dict[str, list[dict[str, Any]]]) -> Path:
    """Write ``data`` as a raw/ tree under ``root`` (with the good project's package.yaml)."""
    raw = root / "raw"
    raw.mkdir(parents=True)
    shutil.copy(GOOD / "raw" / "package.yaml", raw / "package.yaml")
    texts = _archived_texts(data)
    for table, records in data.items():
        (raw / table).mkdir()
        for record in records:
            if table == "sources":  # the archived text beside its record, and its sha256 in the record
                text = texts[record["id"]].encode("utf-8")
                (raw / table / f"{record['id']}.txt").write_bytes(text)
                record["sha256"] = hashlib.sha256(text).hexdigest()  # in place: the round trip expects it
            (raw / table / f"{record['id']}.yaml").write_text(_yaml(record), "utf-8")
    return raw


def _archived_texts(data: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """An archived text for each source: every quote that cites it, one paragraph each (its id if none does)."""
    quotes: dict[str, list[str]] = {source["id"]: [] for source in data.get("sources", [])}
    for table in ("events", "figures"):
        for record in data.get(table, []):
            for citation in record.get("citations", []):
                quotes.setdefault(citation["source"], []).append(citation["quote"])
    return {source: "\n\n".join(said) or source for source, said in quotes.items()}


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def check_round_trip(data: dict[str, list[dict[str, Any]]], dist: Path) -> None:
    """Every written value is in the Parquet table (typed) and the CSV (as text), under its record's id."""
    for table, records in data.items():
        parquet = {row["id"]: row for row in kdata.load_table(table, package=dist).to_pylist()}
        from_csv = _csv_rows(dist / f"{table}.csv")
        assert sorted(parquet) == sorted(r["id"] for r in records) == sorted(from_csv)
        for record in records:
            for key, value in record.items():
                if key == "citations":
                    continue
                assert parquet[record["id"]][key] == value, (table, record["id"], key)
                assert from_csv[record["id"]][key] == str(value), (table, record["id"], key)
    citations = kdata.load_table("citations", package=dist).to_pylist()
    for table, column in (("events", "event"), ("figures", "figure")):
        for record in data[table]:
            quotes = [c["quote"] for c in citations if c[column] == record["id"]]
            assert quotes == [c["quote"] for c in record["citations"]]


@settings(max_examples=ROUND_TRIP_EXAMPLES, **SETTINGS)
@given(data=dataset())
def test_random_valid_records_round_trip(data: dict[str, list[dict[str, Any]]]) -> None:
    """YAML -> build -> load gives back the same values, in Parquet and CSV alike."""
    RUN["round_trip"] = RUN.get("round_trip", 0) + 1
    with tempfile.TemporaryDirectory() as tmp:
        raw = write_tree(Path(tmp), data)
        result = build(raw, Path(tmp) / "dist")
        assert result.rows["events"] == len(data["events"])
        check_round_trip(data, Path(tmp) / "dist")


@settings(max_examples=EDGE_EXAMPLES, **SETTINGS)
@given(data=dataset(text=ANY_TEXT, count=ALL_COUNTS, years=ALL_YEARS))
def test_what_validates_builds_and_verifies(data: dict[str, list[dict[str, Any]]]) -> None:
    """Valid records at the edges the models allow (any allowed character, counts up to 2**63 - 1, years
    0001 to 9998) pass validate, build and verify, read back unchanged, and the site lays out their timeline:
    what validates never crashes later."""
    RUN["edges"] = RUN.get("edges", 0) + 1
    with tempfile.TemporaryDirectory() as tmp:
        raw = write_tree(Path(tmp), data)
        assert load_raw(raw, jobs=1).issues == []
        build(raw, Path(tmp) / "dist")
        assert verify(Path(tmp) / "dist") == []
        check_round_trip(data, Path(tmp) / "dist")
        events = kdata.load_table("events", package=Path(tmp) / "dist").to_pylist()
        assert len(layout(events).marks) == len(events)


@settings(max_examples=2, **SETTINGS)
@given(data=dataset())
def test_round_trip_through_the_cli(data: dict[str, list[dict[str, Any]]]) -> None:
    """Drawn datasets built by the real command (a process), verified by the command's function, and read back."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_tree(root, data)
        result = run_kdata("build", cwd=root)
        assert result.returncode == 0, result.stdout + result.stderr
        assert run_kdata_here("verify", cwd=root).returncode == 0
        check_round_trip(data, root / "dist")


# --- Damage ---------------------------------------------------------------------------------

GOOD_FILES = {str(p.relative_to(GOOD)): p.read_bytes() for p in sorted((GOOD / "raw").rglob("*.yaml"))}
NASTY = [b"\x00", b"\t", b"\xff", b"\xef\xbb\xbf", b"&a ", b"*a", b"!!python/object:os.system ", b"<<: ", b"? ", b"- ",
         b"{", b"}", b"[", b"]", b"'", b'"', b"\\", b"\r", b"\n", b"  ", b": ", b"#", b"|", b">", b"%YAML 1.1\n",
         b"---\n", b"...\n", b"\xe2\x80\xae", b"\xe2\x80\x8b", b"e\xcc\x81", b"=cmd", b"1e999", b".nan", b"-1",
         b"0x1F", b"0o17", b"1_000", b"~", b"null", b"yes", b"2020-02-30", b"\xc3", b"\xf0\x9f\x98"]  # fmt: skip


@st.composite
def damage(draw: st.DrawFn) -> tuple[str, bytes]:
    """One good file with one to three random edits, bytes or YAML structure."""
    name = draw(st.sampled_from(sorted(GOOD_FILES)))
    content = bytearray(GOOD_FILES[name])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "nasty", "dupline", "indent", "swap"]))
        at = draw(st.integers(0, len(content)))
        lines = content.split(b"\n")
        line = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == "flip" and at < len(content):
            content[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            content[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del content[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del content[at:]
        elif kind == "nasty":
            content[at:at] = draw(st.sampled_from(NASTY))
        elif kind == "dupline" and lines:
            lines.insert(line, lines[line])
            content = bytearray(b"\n".join(lines))
        elif kind == "indent" and lines:
            lines[line] = b" " * draw(st.integers(1, 5)) + lines[line]
            content = bytearray(b"\n".join(lines))
        elif kind == "swap" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[line], lines[other] = lines[other], lines[line]
            content = bytearray(b"\n".join(lines))
    return name, bytes(content)


_DAMAGE_ROOT = Path(tempfile.mkdtemp(prefix="kdata-damage-"))
atexit.register(shutil.rmtree, _DAMAGE_ROOT, ignore_errors=True)
shutil.copytree(GOOD, _DAMAGE_ROOT / "project")


def _apply(project: Path, name: str, content: bytes) -> Path:
    path = project / name
    path.write_bytes(content)
    return path


@settings(max_examples=DAMAGE_EXAMPLES, **SETTINGS)
@given(case=damage())
def test_random_damage_never_raises(case: tuple[str, bytes]) -> None:
    """load_raw on a damaged tree returns issues (or success when the edit was harmless); it never raises."""
    RUN["damage"] = RUN.get("damage", 0) + 1
    name, content = case
    project = _DAMAGE_ROOT / "project"
    path = _apply(project, name, content)
    try:
        data = load_raw(project / "raw", jobs=1)
        for issue in data.issues:
            assert issue.code and issue.file and issue.message, issue
    finally:
        path.write_bytes(GOOD_FILES[name])


@settings(max_examples=CLI_EXAMPLES, **SETTINGS)
@given(case=damage())
def test_random_damage_through_the_cli(case: tuple[str, bytes]) -> None:
    """``kdata validate`` on damaged files, in every output format: exit 0 or 1, never a traceback."""
    RUN["damage_cli"] = RUN.get("damage_cli", 0) + 1
    name, content = case
    project = _DAMAGE_ROOT / "project"
    path = _apply(project, name, content)
    try:
        for fmt in ("text", "json", "github"):
            result = run_kdata_here("validate", "raw", "--no-cache", "--format", fmt, cwd=project)
            assert result.returncode in (0, 1), result.stdout + result.stderr
            assert "Traceback" not in result.stdout + result.stderr, result.stderr
    finally:
        path.write_bytes(GOOD_FILES[name])
