"""kdata.datapackage.rows: valid records become typed rows of every table, each with its CSV line."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from kdata.datapackage.rows import Part, chunk_tables, columns, csv_header, merge
from kdata.datapackage.schemas import arrow_schema, table_fields
from kdata.records import models

CITATION = {"source": "test-wire-2020-05-01", "claimant": "town-council", "quote": 'said "about 1,200", then left'}


def event(id: str, date: str = "2020-03", **fields: Any) -> models.Event:
    return models.Event.model_validate(
        {
            "id": id,
            "title": "Residents returned to Riverton",
            "kind": "return_of_residents",
            "status": "occurred",
            "date": date,
            "citations": [CITATION],
            **fields,
        }
    )


def rows_of(part: Part) -> list[dict[str, Any]]:
    """The typed rows of a part, as column -> value."""
    rows: list[dict[str, Any]] = part.arrow.to_pylist()
    return rows


def test_columns_and_header_follow_the_table_schema() -> None:
    for table in models.TABLES:
        assert columns(table) == tuple(f["name"] for f in table_fields(table))
        assert csv_header(table) == (",".join(columns(table)) + "\n").encode()


def test_a_record_becomes_its_row_with_dates_expanded_and_sub_records_flattened() -> None:
    record = event(
        "riverton-return",
        "2020-03~",
        retracted={"reason": "Duplicate of events/riverton-return-2020.", "version": "0.2.0"},
    )
    tables = chunk_tables([("events", record)])
    (row,) = rows_of(tables["events"])
    assert row["date"] == "2020-03~"
    assert (row["date_start"], row["date_end"], row["date_precision"]) == (
        dt.date(2020, 3, 1),
        dt.date(2020, 3, 31),
        "month",
    )
    assert (row["retracted_reason"], row["retracted_version"]) == ("Duplicate of events/riverton-return-2020.", "0.2.0")
    assert row["place"] is None and row["date_phrase"] is None
    assert tables["events"].arrow.schema == arrow_schema("events")
    assert all(tables[t].arrow.num_rows == 0 and tables[t].csv == b"" for t in ("sources", "figures", "disagreements"))


def test_citations_and_actors_become_rows_of_their_child_tables() -> None:
    record = event(
        "riverton-return",
        citations=[CITATION, {**CITATION, "claimant": "test-wire", "locator": "paragraph 2"}],
        actors=[{"actor": "town-council", "role": "speaker"}, {"actor": "test-wire", "role": "participant"}],
    )
    tables = chunk_tables([("events", record)])
    assert [(r["id"], r["event"], r["figure"], r["claimant"], r["locator"]) for r in rows_of(tables["citations"])] == [
        ("event:riverton-return:1", "riverton-return", None, "town-council", None),
        ("event:riverton-return:2", "riverton-return", None, "test-wire", "paragraph 2"),
    ]
    assert rows_of(tables["event_actors"]) == [
        {"event": "riverton-return", "actor": "town-council", "role": "speaker"},
        {"event": "riverton-return", "actor": "test-wire", "role": "participant"},
    ]
    figure = models.Figure.model_validate(
        {
            "id": "returnees",
            "measure": "residents",
            "unit": "people",
            "qualifier": "exact",
            "value": 1200,
            "stated_as": "1,200",
            "citations": [CITATION],
        }
    )
    owned = rows_of(chunk_tables([("figures", figure)])["citations"])
    assert [(r["id"], r["event"], r["figure"]) for r in owned] == [("figure:returnees:1", None, "returnees")]


def test_each_csv_line_reads_back_as_its_row() -> None:
    """Quotes, commas, nulls and non-ASCII text survive: a null is an empty cell, each line ends with one newline."""
    records: list[tuple[str, models.Record]] = [
        ("events", event("b", date_phrase='early, "cold" March')),
        ("events", event("a", term="Kəlbəcər")),
    ]
    tables = chunk_tables(records)
    for table in ("events", "citations"):
        part = tables[table]
        assert b"".join(part.lines()) == part.csv
        for row, line in zip(rows_of(part), part.lines(), strict=True):
            assert line.endswith(b"\n") and line.count(b"\n") == 1
            (cells,) = csv.reader(io.StringIO(line.decode("utf-8")))
            expected = ["" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v) for v in row.values()]
            assert cells == expected
    assert b'"early, ""cold"" March"' in tables["events"].lines()[0]


def test_merge_joins_parts_and_sorts_them_by_primary_key() -> None:
    late = chunk_tables([("events", event("c", term="Kəlbəcər")), ("events", event("a"))])
    early = chunk_tables([("events", event("b"))])
    merged = merge("events", [late["events"], early["events"]]).collect()
    assert merged.arrow["id"].to_pylist() == ["a", "b", "c"]
    lines = merged.csv.decode("utf-8").splitlines()  # each CSV line moves with its row
    assert [line.split(",")[0] for line in lines] == ["a", "b", "c"] and "Kəlbəcər" in lines[2]
    links = chunk_tables(
        [
            ("events", event("e", actors=[{"actor": "z", "role": "agent"}, {"actor": "y", "role": "host"}])),
            ("events", event("d", actors=[{"actor": "y", "role": "speaker"}, {"actor": "y", "role": "agent"}])),
        ]
    )
    keyed = merge("event_actors", [links["event_actors"]]).collect()
    assert [(r["event"], r["actor"], r["role"]) for r in keyed.arrow.to_pylist()] == [
        ("d", "y", "agent"),
        ("d", "y", "speaker"),
        ("e", "y", "host"),
        ("e", "z", "agent"),
    ]
    assert keyed.csv == b"d,y,agent\nd,y,speaker\ne,y,host\ne,z,agent\n"
    in_order = merge("events", [early["events"]]).collect()
    assert in_order.csv == early["events"].csv
    empty = merge("places", []).collect()
    assert empty.arrow.num_rows == 0 and empty.arrow.column_names == list(columns("places"))
    assert empty.csv == b""


#: Cells that test CSV quoting; values that look like formulas stay as they are (a data question).
AWKWARD = [
    'a "quoted" word',
    "comma, inside",
    "line one\nline two",
    "carriage\r\nreturn",
    '=HYPERLINK("http://x")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\ttab",
    " leading space",
    '"',
    "Kəlbəcər; ;",
]


def test_awkward_cells_are_quoted_and_read_back_as_written(tmp_path: Any) -> None:
    """The csv module writes the CSV; the csv module and verify's Arrow reader read back every value."""
    from kdata.datapackage.rows import Rows
    from kdata.datapackage.schemas import table_schema
    from kdata.datapackage.verify import _read_csv

    rows = Rows()
    for i, value in enumerate(AWKWARD):
        rows.add_row("actors", {"id": f"a{i}", "name": value, "kind": "person", "note": value})
    part = rows.tables()["actors"]
    content = csv_header("actors") + part.csv
    read = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    names = [row[read[0].index("name")] for row in read[1:]]
    assert names == AWKWARD
    assert len(part.lines()) == len(AWKWARD)  # one line piece per row, however many line breaks it holds
    path = tmp_path / "actors.csv"
    path.write_bytes(content)
    assert _read_csv(path, table_schema("actors")).column("name").to_pylist() == AWKWARD
