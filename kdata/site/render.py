"""Render the static site of a built package: what ``kdata site`` writes (``build_site``).

The site is made from a built package (never from ``raw/``), read through :mod:`kdata.api`.
Jinja2 renders the pages from ``templates/`` with autoescaping on, so text from the records is
always shown as text. The output is plain HTML, one stylesheet and one small script; links
between its pages are relative and it loads nothing from the network, so it works from
``file://`` with no server. It is written into a staging folder that replaces the previous
site in one step (``fs.swap_in``), and only a folder an earlier run wrote (marked by
``fs.MADE``, which lists every file it wrote) is ever replaced, and only while it holds nothing else.

Pages: the front page (with the timeline of :mod:`kdata.site.timeline`), one page per
table (data dictionary and rows), one per event and per figure (every citation with
claimant, source and quote, and the attributed claims that concern it), one per attributed
claim (who says it, about whom, the events, places and figures it concerns, and its
citations), one per source (its metadata and every passage quoted from it in document
order, with paragraph, the record it supports and its claimant), one per actor, place and topic
(:mod:`kdata.site.entities`), the topics, the disagreements and a datasheet in the sections of
"Datasheets for Datasets" (Gebru et al.). Every id on every page links to its page; dates read in
words at their precision (:mod:`kdata.site.when`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kdata import fs
from kdata.api import load_table, metadata, package_dir, resources
from kdata.datapackage.conflicts import grouped, quoted
from kdata.datapackage.safety import href
from kdata.datapackage.schemas import MEANING
from kdata.errors import PackageError
from kdata.records import models, vocab
from kdata.records.anchors import CONTEXT
from kdata.release.cite import citation, plain
from kdata.site.entities import CITATIONS, PAGED, TOPICS, actor_pages, linked_columns, place_pages, topics
from kdata.site.front import SEARCH_INDEX, copy_data, front, number, reading, search_index
from kdata.site.ids import link_ids
from kdata.site.when import iso_day, reads_html

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Files copied unchanged into the site's static/ folder.
STATIC = ("style.css", "site.js")
#: The command named in the site folder's marker (``fs.MADE``) and in refusals to replace a folder.
COMMAND = "kdata site"
#: Ids become file names: only the package's id pattern is accepted.
_ID = re.compile(vocab.ID_PATTERN)
#: Columns that hold the sources' own words: shown as quotations wherever they appear.
VERBATIM = {
    ("citations", "quote"),
    ("citations", "anchor_exact"),  # the archived text around and under a quote (its anchor)
    ("citations", "anchor_prefix"),
    ("citations", "anchor_suffix"),
    ("events", "term"),
    ("figures", "term"),
    ("figures", "stated_as"),
    ("sources", "title"),
    ("disagreement_sides", "value"),  # except a date (``conflicts.quoted``)
    ("events", "date_phrase"),  # the source's words; a trailing '(…)' is the curator's note (``_phrase``)
    ("claims", "date_phrase"),
}
#: Tables whose records have pages of their own (``entities.PAGED``): every citation of an event, figure or claim,
#: with claimant, source and quote; every passage quoted from a source, in document order; an actor's claims,
#: events and quotes; a place's events, figures and places within. Topics have pages too (``entities.TOPICS``).
PAGES = PAGED
#: Columns whose values are numbers of things, not ids or years: shown with thousands separators.
_PLAIN_NUMBERS = ("side",)  # a side's ordinal (1, 2) reads as itself; integers elsewhere are counts or offsets
#: Columns of our own or the sources' text -> how much room a table gives them (a CSS class), so that they do not
#: wrap to a column of single words: ``long`` for sentences, ``medium`` for phrases and names, ``key`` for ids.
_WIDTHS: dict[str, str] = {
    **dict.fromkeys(("title", "summary", "description", "note", "quote", "anchor_exact"), "long"),
    **dict.fromkeys(("term", "stated_as", "date_phrase", "name", "role", "value", "locator"), "medium"),
    **dict.fromkeys(("anchor_prefix", "anchor_suffix", "publisher", "via", "author", "retracted_reason"), "medium"),
    "id": "key",
}
#: Columns of kdata's own prose, where an id names a record or topic (``ids.link_ids`` links it).
OWN_TEXT = frozenset({"note", "description", "retracted_reason"})
#: Columns holding a date (EDTF as recorded, or its first or last day): kept on one line.
_DATE_COLUMN = re.compile(r"^(date|as_of|published)(_start|_end)?$")
#: The patterns of the Table Schemas in words, for the data dictionary (a pattern missing here shows as its regex).
PATTERN_WORDS: dict[str, str] = {
    vocab.ID_PATTERN: "an id: lowercase letters and digits, in words joined by single hyphens",
    vocab.SEMVER_PATTERN: "a version MAJOR.MINOR.PATCH, e.g. 1.4.0",
    r"^[a-z]{2,3}$": "an ISO 639 language code: two or three lowercase letters",
    r"^[0-9a-f]{64}$": "64 lowercase hexadecimal digits (a SHA-256 hash)",
}
#: The link tables of a claim: its list field (``Claim.targets``) -> (link table, column of the listed id, its table).
CLAIM_LINKS: dict[str, tuple[str, str, str]] = {
    spec.ids: (table, column, str(info.json_schema_extra["x-references"]))  # type: ignore[index]  # a dict: see models
    for table, spec in models.TABLES.items()
    if spec.ids and "claims" in spec.owners
    for column, info in spec.model.model_fields.items()
}


#: The tables whose records a citation supports, and the citation's column that names the record.
OWNERS: dict[str, str] = models.TABLES["citations"].owners
#: How a passage's page names the record it supports, by table.
_WHAT: dict[str, Any] = {
    "events": lambda r: r["title"],
    "figures": lambda r: f"{r['measure'].replace('_', ' ')}: {reading(r)}",
    "claims": lambda r: r["summary"],
}
assert set(_WHAT) == set(OWNERS), "every table a citation may support is named on a source's page"
#: The noun a passage's page gives the record it supports ("supports the claim ..."), by table.
_NOUN: dict[str, str] = {"events": "event", "figures": "figure", "claims": "claim"}
assert set(_NOUN) == set(OWNERS), "every table a citation may support has its noun on a source's page"

#: The tables the disagreements page joins (``conflicts.grouped``): disagreements, their sides, what they cite.
_DISAGREEMENT_TABLES = ("disagreements", "disagreement_sides", "citations", "sources", "actors")


#: A curator's note after the source's words in a date phrase: 'next year (said on 21 August 2025)'.
_PHRASE_NOTE = re.compile(r"^(?P<words>.*?)\s*(?P<note>\([^()]*\))?$", re.DOTALL)


def _phrase(text: str) -> tuple[str, str]:
    """A date phrase as (the source's words, shown as a quotation; the curator's trailing note in brackets, or '')."""
    match = _PHRASE_NOTE.match(text)
    assert match is not None  # the pattern matches every text
    return match["words"] or text, match["note"] or ""


@dataclass(frozen=True)
class SiteResult:
    """What ``build_site`` wrote: the folder and the number of HTML pages."""

    out: Path
    pages: int


class Cell(NamedTuple):
    """One cell of a table page: its text, a link to a record's page if any, and whether it quotes a source."""

    text: str
    href: str | None
    verbatim: bool
    null: bool
    note: str = ""  # a curator's note after the quoted words (a date phrase's '(said on …)')
    sort: str = ""  # the value the column sorts by where the text is formatted (a number without separators)
    meaning: str = ""  # a vocabulary term's meaning, shown on hover
    own: bool = False  # kdata's own prose (``OWN_TEXT``): ids in it become links


def column_class(field: dict[str, Any]) -> str:
    """The CSS class of a table column: ``num`` (right-aligned), ``date`` (on one line), its width (``_WIDTHS``), ''."""
    if field["type"] in ("integer", "number"):
        return "num"
    if field["type"] == "date" or _DATE_COLUMN.match(field["name"]):
        return "date"
    return _WIDTHS.get(field["name"], "")


def _first(fields: str | list[str]) -> str:
    """The first field of a Table Schema key (a key is a name or a list of names)."""
    return fields if isinstance(fields, str) else fields[0]


def is_verbatim_title(title: str) -> bool:
    """Whether a source's title is its printed headline (kdata's own descriptions are in brackets)."""
    return not title.startswith("[")


def _constraints(field: dict[str, Any], references: dict[str, str]) -> list[str]:
    """A Table Schema field's constraints in words, for the data dictionary."""
    rules = field.get("constraints", {})
    words = []
    if rules.get("required"):
        words.append("required")
    if "enum" in rules and field.get("categories"):  # the terms stand with their meanings beside
        words.append(f"one of the {len(rules['enum'])} terms listed with their meanings")
    elif "enum" in rules:
        words.append("one of: " + ", ".join(rules["enum"]))
    for key, label in (
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("maxLength", "at most"),
    ):
        if key in rules:
            words.append(f"{label} {rules[key]:,}" + (" characters" if key == "maxLength" else ""))
    if "pattern" in rules:  # a pattern in words; the regex itself stays in the descriptor
        words.append(PATTERN_WORDS.get(rules["pattern"], f"pattern {rules['pattern']}"))
    if field["name"] in references:
        words.append(f"references {references[field['name']]}")
    return words


class _Package:
    """A built package loaded for the site: its descriptor, its rows and indexes over them."""

    def __init__(self, package: str | os.PathLike[str] | None) -> None:
        self.folder = package_dir(package)
        self.meta = metadata(self.folder)
        self.names = resources(self.folder)
        self.rows: dict[str, list[dict[str, Any]]] = {n: load_table(n, self.folder).to_pylist() for n in self.names}
        missing = set(models.TABLES) - set(self.names)
        if missing:
            raise PackageError(f"The package in {self.folder} has no table {', '.join(sorted(missing))}; rebuild it.")
        self.by_id = {n: {r["id"]: r for r in rows if "id" in r} for n, rows in self.rows.items()}
        for table in PAGES:
            for record_id in self.by_id[table]:
                if not _ID.match(record_id):
                    raise PackageError(f"{table} id '{record_id}' is not a valid id; the site names pages after ids.")
        self.citations = self._group("citations", ("event", "figure", "claim"))
        self.topics = topics(self)  # topic -> its records by table; a topic names its page's file too
        for topic in self.topics:
            if not _ID.match(topic):
                raise PackageError(f"topic '{topic}' is not a valid id; the site names pages after topics.")
        #: Claim id -> its list field -> the listed ids; and (listed table, listed id) -> the claims that list it.
        self.claim_links: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.claims_about: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for field, (link, column, listed) in CLAIM_LINKS.items():
            for row in self.rows[link]:
                self.claim_links[row["claim"]][field].append(row[column])
                claim = self.by_id["claims"].get(row["claim"])
                if claim is not None:
                    self.claims_about[(listed, row[column])].append(claim)
        self.event_actors = self._group("event_actors", ("event",))
        self.figures_of = self._group("figures", ("event",))
        self.disagreements = grouped(*(self.rows[n] for n in _DISAGREEMENT_TABLES))
        self.disagreements_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for found in self.disagreements:
            for record in sorted({record for side in found["sides"] for _, record in side["records"]}):
                self.disagreements_of[record].append(found)

    # Where each id links, and what a citation supports.
    def url(self, table: str, record_id: object) -> str | None:
        """The path inside the site (from its top) that a record's id links to, or None if it has no page.

        A record of ``PAGES`` has ``<table>/<id>.html``, a topic ``topics/<topic>.html``, a citation
        its passage on its source's page; a withdrawn record (left out of the rows) has none.
        """
        if not isinstance(record_id, str):
            return None
        if table == TOPICS:
            return f"topics/{record_id}.html" if record_id in self.topics else None
        if table == CITATIONS:
            cited = self.by_id[CITATIONS].get(record_id)
            if cited is None or cited["source"] not in self.by_id["sources"]:
                return None
            return f"sources/{cited['source']}.html#{record_id}"
        return f"{table}/{record_id}.html" if table in PAGES and record_id in self.by_id[table] else None

    def page_of(self, token: str) -> str | None:
        """The page an id names, from the site's top: a record's (in ``PAGES`` order), else a topic's; or None."""
        for table in (*PAGES, TOPICS):
            path = self.url(table, token)
            if path is not None:
                return path
        return None

    def supports(self, c: dict[str, Any]) -> dict[str, Any]:
        """What a citation supports: its table, noun, record id, words for it and its row (None if withdrawn)."""
        table, column = next((t, col) for t, col in OWNERS.items() if c[col] is not None)
        record_id = c[column]
        record = self.by_id[table].get(record_id)
        what = record_id if record is None else _WHAT[table](record)
        return {"table": table, "noun": _NOUN[table], "id": record_id, "what": what, "record": record}

    def meaning(self, table: str, field: str, value: object) -> str:
        """The meaning of a vocabulary term in a table's field (its ``categories`` in the descriptor), or ''."""
        if table not in self.names:
            return ""
        for f in self.resource(table)["schema"]["fields"]:
            if f["name"] == field:
                return next((c.get(MEANING, "") for c in f.get("categories", []) if c["value"] == value), "")
        return ""

    def _group(self, table: str, columns: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.rows[table]:
            for column in columns:
                if row[column] is not None:
                    groups[row[column]].append(row)
        return groups

    def passages(self, source_id: str) -> list[dict[str, Any]]:
        """Every citation of a source in the order its passages stand in the document, each with what it supports."""
        rows = [c for c in self.rows["citations"] if c["source"] == source_id]
        out = []
        for c in sorted(rows, key=lambda c: (c["anchor_start"] is None, c["anchor_start"] or 0, c["id"])):
            out.append({**c, "supports": self.supports(c), "claimant_row": self.by_id["actors"].get(c["claimant"])})
        return out

    def resource(self, name: str) -> dict[str, Any]:
        """The CSV resource of a table in the descriptor (its schema and description)."""
        return next(r for r in self.meta["resources"] if r["name"] == name)

    def attributed(self, table: str, record_id: str) -> list[dict[str, Any]]:
        """The attributed claims that concern a record of ``table``, by date, each with its claimant's row."""
        found = sorted(
            self.claims_about.get((table, record_id), []), key=lambda c: (c["date_start"] or c["date_end"], c["id"])
        )
        return [{**c, "claimant_row": self.by_id["actors"].get(c["claimant"])} for c in found]

    def claims(self, record_id: str) -> list[dict[str, Any]]:
        """Citations of an event, figure or claim, each with its source and claimant rows."""
        return [
            {
                **c,
                "source_row": self.by_id["sources"].get(c["source"]),
                "claimant_row": self.by_id["actors"].get(c["claimant"]),
            }
            for c in self.citations.get(record_id, [])
        ]

    def cells(self, table: str) -> tuple[list[dict[str, Any]], list[list[Cell]]]:
        """A table's fields (from its Table Schema) and its rows as cells for the table page."""
        resource = self.resource(table)
        fields = resource["schema"]["fields"]
        links = linked_columns(resource)
        meanings = {f["name"]: {c["value"]: c.get(MEANING, "") for c in f.get("categories", [])} for f in fields}
        rows = []
        for row in self.rows[table]:
            cells = []
            for field in fields:
                name, value = field["name"], row[field["name"]]
                path = self.url(links[name], value) if name in links else None
                href = None if path is None else "../" + path
                text = "" if value is None else str(value)
                sort = ""
                if isinstance(value, int) and name not in _PLAIN_NUMBERS:  # a count or an offset: 1,000,000
                    text, sort = number(value), str(value)
                meaning = meanings[name].get(text, "")
                verbatim = (table, name) in VERBATIM and not (name == "title" and not is_verbatim_title(text))
                verbatim = verbatim and not (table == "disagreement_sides" and not quoted(row["aspect"]))
                note = ""
                if name == "date_phrase" and value is not None:
                    text, note = _phrase(text)
                own = name in OWN_TEXT and (table, name) not in VERBATIM and href is None
                cells.append(
                    Cell(text, href, verbatim and value is not None, value is None, note, sort, meaning, own=own)
                )
            rows.append(cells)
        return fields, rows

    def dictionary(self, table: str) -> list[dict[str, Any]]:
        """The data dictionary of a table: field, type, description, constraints in words, vocabulary terms with meanings."""
        schema = self.resource(table)["schema"]
        references = {
            _first(fk["fields"]): f"{fk['reference'].get('resource') or table}.{_first(fk['reference']['fields'])}"
            for fk in schema.get("foreignKeys", [])
            if isinstance(fk["fields"], str) or len(fk["fields"]) == 1  # a key of several columns: in the description
        }
        return [
            {
                "name": f["name"],
                "type": f["type"],
                "description": f.get("description", ""),
                "constraints": _constraints(f, references),
                "terms": [(c["value"], c.get(MEANING, "")) for c in f.get("categories", [])],
            }
            for f in schema["fields"]
        ]


def breakable(name: str) -> Markup:
    """A table or field name that may break only after its underscores (``disagreement_<wbr>sides``), never mid-word."""
    from markupsafe import Markup, escape

    return Markup("_<wbr>").join(escape(part) for part in name.split("_"))


def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value from the data is escaped: a record holding <script> shows as text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["number"] = number
    env.filters["when"] = (
        reads_html  # an EDTF date in words ('2 April 1993'), its precision kept, each date on one line
    )
    env.filters["iso_day"] = iso_day
    env.filters["phrase"] = _phrase
    env.filters["breakable"] = breakable
    env.filters["href"] = href  # every href of every template passes through it (a test checks the templates)
    env.globals.update(
        reading=reading,
        is_verbatim_title=is_verbatim_title,
        kinds=vocab.DISAGREEMENT_KINDS,
        context=CONTEXT,
        quoted=quoted,
    )
    return env


def _facts(data: _Package) -> dict[str, Any]:
    """The numbers the datasheet quotes, counted from the package's rows."""
    events, citations = data.rows["events"], data.rows["citations"]
    return {
        "first_year": min((e["date_start"].year for e in events if e["date_start"]), default=None),
        "last_year": max((e["date_end"].year for e in events if e["date_end"]), default=None),
        "precisions": sorted(Counter(e["date_precision"] for e in events).items()),
        "planned": sum(e["status"] == "planned" for e in events),
        "claims": len(citations),
        "claimants": len({c["claimant"] for c in citations}),
        "topics": len({d["topic"] for d in data.rows["disagreements"]}),
        "sources": data.rows["sources"],
    }


def _pages(data: _Package) -> Iterable[tuple[str, str, dict[str, Any]]]:
    """Every page of the site: (path inside the site, template, context)."""
    meta = data.meta
    counts = {n: len(data.rows[n]) for n in data.names}
    pages = {(table, record_id) for table in PAGES for record_id in data.by_id[table]}
    cite = plain(citation(meta, str(meta["version"])))  # the same text as `kdata cite` and CITATION.cff
    common = {"meta": meta, "counts": counts, "names": data.names, "pages": pages, "citation": cite}
    yield "index.html", "index.html", {**common, **front(data), "root": ""}
    yield "datasheet.html", "datasheet.html", {**common, "root": "", "facts": _facts(data)}
    yield "disagreements.html", "disagreements.html", {**common, "root": "", "disagreements": data.disagreements}
    for name in data.names:
        fields, rows = data.cells(name)
        context: dict[str, Any] = {"table": name, "resource": data.resource(name), "dictionary": data.dictionary(name)}
        yield f"tables/{name}.html", "table.html", {**common, **context, "root": "../", "fields": fields, "rows": rows}
    for event in data.rows["events"]:
        context = {
            "event": event,
            "place": data.by_id["places"].get(event["place"] or ""),
            "actors": [(data.by_id["actors"].get(a["actor"]), a) for a in data.event_actors.get(event["id"], [])],
            "claims": data.claims(event["id"]),
            "attributed": data.attributed("events", event["id"]),
            "figures": data.figures_of.get(event["id"], []),
            "disagreements": data.disagreements_of.get(event["id"], []),
            "related": [e for e in data.rows["events"] if event["topic"] and e["topic"] == event["topic"]],
        }
        yield f"events/{event['id']}.html", "event.html", {**common, **context, "root": "../"}
    for figure in data.rows["figures"]:
        context = {
            "figure": figure,
            "place": data.by_id["places"].get(figure["place"] or ""),
            "event": data.by_id["events"].get(figure["event"] or ""),
            "claims": data.claims(figure["id"]),
            "disagreements": data.disagreements_of.get(figure["id"], []),
            "attributed": data.attributed("figures", figure["id"]),
            "related": [f for f in data.rows["figures"] if figure["topic"] and f["topic"] == figure["topic"]],
        }
        yield f"figures/{figure['id']}.html", "figure.html", {**common, **context, "root": "../"}
    for source in data.rows["sources"]:
        context = {"source": source, "passages": data.passages(source["id"])}
        yield f"sources/{source['id']}.html", "source.html", {**common, **context, "root": "../"}
    for claim in data.rows["claims"]:
        links = data.claim_links.get(claim["id"], {})
        context = {
            "claim": claim,
            "claimant": data.by_id["actors"].get(claim["claimant"]),
            "meaning": vocab.CLAIM_KINDS.get(claim["kind"], ""),
            "targets": [(i, data.by_id["actors"].get(i)) for i in links.get("targets", [])],
            "events": [(i, data.by_id["events"].get(i)) for i in links.get("events", [])],
            "places": [(i, data.by_id["places"].get(i)) for i in links.get("places", [])],
            "figures": [(i, data.by_id["figures"].get(i)) for i in links.get("figures", [])],
            "claims": data.claims(claim["id"]),
            "disagreements": data.disagreements_of.get(claim["id"], []),
            "related": [c for c in data.rows["claims"] if claim["topic"] and c["topic"] == claim["topic"]],
        }
        yield f"claims/{claim['id']}.html", "claim.html", {**common, **context, "root": "../"}
    # A page per actor, place and topic, and the topics' index.
    for actor_id, context in actor_pages(data):
        yield f"actors/{actor_id}.html", "actor.html", {**common, **context, "root": "../"}
    for place_id, context in place_pages(data):
        yield f"places/{place_id}.html", "place.html", {**common, **context, "root": "../"}
    disagreements_on: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for found in data.disagreements:
        disagreements_on[found["topic"]].append(found)
    for topic, records in data.topics.items():
        context = {"topic": topic, "records": records, "disagreements": disagreements_on.get(topic, [])}
        yield f"topics/{topic}.html", "topic.html", {**common, **context, "root": "../"}
    yield "topics.html", "topics.html", {**common, "root": "", "topics": data.topics, "on": disagreements_on}


def build_site(out: str | os.PathLike[str], package: str | os.PathLike[str] | None = None) -> SiteResult:
    """Write the static site of a built package to ``out``, replacing a previous site there in one step.

    Args:
        out: Folder to write; it must be new, empty, or a site an earlier call wrote.
        package: A built package folder; default: the bundled package.

    Returns:
        The folder written and how many HTML pages it holds.

    Raises:
        UsageError: ``out`` holds something other than a kdata site, or ``package`` is not a package.
        PackageError: The package cannot be read or lacks a table the site shows.
    """
    target = Path(out)
    fs.recover(target)
    fs.check_replaceable(target, COMMAND, "site")  # early, before the pages are rendered; swap_in checks again
    data = _Package(package)
    env = _environment()
    env.globals.update(url=data.url, meaning=data.meaning, column_class=column_class)
    env.filters["ids"] = lambda text, root: link_ids(text, root, data.page_of)  # ids in our own notes: links
    # Staged inside a scratch folder beside the site, not a bare staging folder: a site is rendered
    # without the site's lock, so no later command could tell a killed render's staging folder from a
    # running one's; a scratch folder whose process died is deleted by the next render (fs.scratch).
    with fs.scratch(target) as scratch:
        staging = scratch / "site"
        staging.mkdir()
        pages = 0
        for path, template, context in _pages(data):
            page = staging / path
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(env.get_template(template).render(context), "utf-8")
            pages += 1
        (staging / "static").mkdir()
        for name in STATIC:
            shutil.copyfile(TEMPLATES / name, staging / "static" / name)
        pages_of = {(table, record_id) for table in PAGES for record_id in data.by_id[table]}
        (staging / "static" / SEARCH_INDEX).write_text(search_index(data, pages_of), "utf-8")
        copy_data(data, staging)
        fs.swap_in(staging, target, COMMAND, "site")
    return SiteResult(target, pages)
