"""pydantic models of the records: the one source of truth for every table and schema.

Each record kind is one file under ``raw/<table>/<id>.yaml``. Models are strict
(``"1"`` is not a number, ``"yes"`` is not a boolean) and refuse unknown fields.
The JSON Schemas for editors and the Table Schemas of the package are generated
from these classes by :mod:`kdata.datapackage.schemas`; field descriptions written here are
the documentation users read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from kdata.records import chars, vocab
from kdata.records.dates import bounds, parse_edtf

# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("kd_text", "The text is empty or only whitespace.")
    if value != value.strip():
        raise PydanticCustomError("kd_text", "The text starts or ends with whitespace; remove it.")
    problem = chars.text_problem(value)  # the one character policy (control, invisible, bidi; NFC)
    if problem:
        raise PydanticCustomError("kd_text", "{problem}", {"problem": problem})
    if value.startswith(_FORMULA_START):
        raise PydanticCustomError(
            "kd_text",
            "The text starts with '{c}', which spreadsheets run as a formula; start it with a letter, digit or quote mark.",
            {"c": value[0]},
        )
    return value


def _date_rule(parse: Callable[[str], object]) -> Callable[[str], str]:
    """A validator that refuses a date ``parse`` refuses, with its reason (KD105)."""

    def check(value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise PydanticCustomError("kd_date", "{reason}.", {"reason": str(exc)}) from None
        return value

    return check


_edtf = _date_rule(parse_edtf)  # any EDTF date of levels 0 and 1 the sources need, '..' ends included
_closed_edtf = _date_rule(bounds)  # both ends known: a publication date


def _url(value: str) -> str:
    problem = chars.text_problem(value)
    if problem:
        raise PydanticCustomError("kd_text", "{problem}", {"problem": problem})
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value):
        raise PydanticCustomError(
            "kd_url", "Expected an http:// or https:// URL, found '{v}'.", {"v": chars.visible(value)}
        )
    return value


class OneOf:
    """Annotated metadata: a text field that takes one term of a controlled vocabulary.

    Validation says which terms are allowed; the JSON Schema (and so the Table
    Schema) gets them as ``enum``, with each term's meaning as ``enumDescriptions``
    (editors show it on hover; the Table Schema turns it into ``categories``).
    """

    def __init__(self, terms: dict[str, str]) -> None:
        self.meanings = dict(terms)
        self.terms = tuple(terms)

    def _check(self, value: str) -> str:
        if value not in self.terms:
            raise PydanticCustomError(
                "kd_vocab",
                "Expected one of {allowed}; found '{value}'.",
                {"allowed": ", ".join(self.terms), "value": chars.visible(value)},
            )
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out["enum"] = list(self.terms)
        out["enumDescriptions"] = list(self.meanings.values())
        return out


# max_length comes before the validator, so pydantic still knows the value is text.
Text = Annotated[str, Field(max_length=2000), AfterValidator(_text)]
Id = Annotated[str, Field(pattern=vocab.ID_PATTERN, max_length=100)]
Edtf = Annotated[str, AfterValidator(_edtf), Field(json_schema_extra={"x-edtf": True})]
#: An EDTF date both of whose ends are known (no '..'): a publication date.
ClosedEdtf = Annotated[str, AfterValidator(_closed_edtf), Field(json_schema_extra={"x-edtf": "closed"})]
Url = Annotated[str, Field(max_length=2000), AfterValidator(_url)]
Count = Annotated[int, Field(ge=0)]
SourceKind = Annotated[str, OneOf(vocab.SOURCE_KINDS)]
ActorKind = Annotated[str, OneOf(vocab.ACTOR_KINDS)]
PlaceKind = Annotated[str, OneOf(vocab.PLACE_KINDS)]
EventKind = Annotated[str, OneOf(vocab.EVENT_KINDS)]
EventStatus = Annotated[str, OneOf(vocab.EVENT_STATUSES)]
EventRole = Annotated[str, OneOf(vocab.EVENT_ROLES)]
Measure = Annotated[str, OneOf(vocab.MEASURES)]
Unit = Annotated[str, OneOf(vocab.UNITS)]
Qualifier = Annotated[str, OneOf(vocab.QUALIFIERS)]
ClaimKind = Annotated[str, OneOf(vocab.CLAIM_KINDS)]


class References:
    """Annotated metadata: an id that refers to a record of ``table``; the JSON Schema gets ``x-references``.

    Used for the items of a list of ids (``Claim.targets``), where pydantic's ``Field`` cannot go.
    """

    def __init__(self, table: str) -> None:
        self.table = table

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        out["x-references"] = self.table
        return out


def _distinct(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise PydanticCustomError(
                "kd_distinct", "Each id may stand in the list once; '{id}' stands twice.", {"id": chars.visible(i)}
            )
        seen.add(i)
    return ids


#: Lists of distinct ids of records of one table (each id becomes one row of a link table).
_UNIQUE = Field(json_schema_extra={"uniqueItems": True})
ActorIds = Annotated[list[Annotated[Id, References("actors")]], AfterValidator(_distinct), _UNIQUE]
EventIds = Annotated[list[Annotated[Id, References("events")]], AfterValidator(_distinct), _UNIQUE]
PlaceIds = Annotated[list[Annotated[Id, References("places")]], AfterValidator(_distinct), _UNIQUE]
FigureIds = Annotated[list[Annotated[Id, References("figures")]], AfterValidator(_distinct), _UNIQUE]


def ref(table: str, description: str) -> Any:
    """A field that holds the id of a record in ``table`` (a foreign key)."""
    return Field(default=None, description=description, json_schema_extra={"x-references": table})


class Record(BaseModel):
    """Base of every record: strict types, no unknown fields, immutable.

    Each model's validator is built when it is first used (``defer_build``): a cached run that rechecks one
    event builds the event's alone (importing the models: 165 -> 103 ms; the first event checked: +22 ms).
    ``built`` builds them all before worker processes are forked, so that the workers share them.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


SemVer = Annotated[str, Field(pattern=vocab.SEMVER_PATTERN)]
DataVersion = Annotated[str, Field(pattern=vocab.DATA_VERSION_PATTERN)]


class Retraction(Record):
    """Why and when a record was withdrawn. Ids are never reused: a withdrawn record stays as a tombstone."""

    reason: Text = Field(description="Why the record was withdrawn, e.g. 'duplicate of events/x' or 'misread source'.")
    version: SemVer = Field(description="Dataset version that withdrew the record.")


#: The column that marks a tombstone in every published table of records: the version that withdrew it.
TOMBSTONE = "retracted_version"


def retraction_field() -> Any:
    """The optional ``retracted`` field every record kind has (published as ``retracted_*`` columns)."""
    return Field(
        default=None,
        description="Set when the record is withdrawn: the row stays as a tombstone, and kdata.load leaves it out unless asked.",
    )


class Citation(Record):
    """Evidence for an event or figure: who claims it, in which source, in what words."""

    source: Id = Field(
        description="Id of the source document that reports the claim.", json_schema_extra={"x-references": "sources"}
    )
    claimant: Id = Field(
        description="Id of the actor who asserts the claim (may differ from the publisher: a ministry quoted by a news site).",
        json_schema_extra={"x-references": "actors"},
    )
    quote: Text = Field(
        description="Verbatim words of the source that support the claim; loaded terms stay inside quotes only."
    )
    locator: Text | None = Field(default=None, description="Where the quote stands in the source, e.g. 'paragraph 4'.")


class QuoteAnchor(Record):
    """Where a quote stands in its source's archived text, computed by the build (never written by hand).

    The W3C Web Annotation selectors: ``start``/``end`` are a TextPositionSelector, ``exact``/``prefix``/``suffix``
    a TextQuoteSelector. Offsets count the Unicode code points of the text as archived (``raw/sources/<id>.txt``
    decoded as UTF-8, nothing normalised; a line break is one), from 0, ``end`` exclusive.
    """

    start: int = Field(
        ge=0,
        description="Offset of the quote's first character in the archived text (TextPositionSelector start; Unicode code points from 0).",
    )
    end: int = Field(
        ge=0,
        description="Offset just after the quote's last character (TextPositionSelector end, exclusive).",
    )
    parts: str = Field(
        description="Offsets of each verbatim part as 'start-end', separated by spaces: one part, or one per stretch of a quote that leaves words out with '…'."
    )
    exact: str = Field(description="The archived text from start to end, as archived (TextQuoteSelector exact).")
    prefix: str | None = Field(
        default=None, description="Up to 32 code points of the archived text before start (TextQuoteSelector prefix)."
    )
    suffix: str | None = Field(
        default=None, description="Up to 32 code points of the archived text after end (TextQuoteSelector suffix)."
    )
    paragraph: int = Field(
        ge=1,
        description="Paragraph of the archived text the quote starts in, from 1: blocks of non-blank lines separated by blank lines.",
    )


class PublishedCitation(Citation):
    """A citation as the package publishes it: as written, with its anchor in the archived text."""

    anchor: QuoteAnchor | None = Field(
        default=None,
        description="Where the quote stands in the archived text, computed by the build (which refuses a quote it cannot anchor, so kdata build fills it in every row).",
    )


class EventActor(Record):
    """An actor taking part in an event, with the part it plays."""

    actor: Id = Field(description="Id of the actor.", json_schema_extra={"x-references": "actors"})
    role: EventRole = Field(description="The actor's part in the event.")


class Source(Record):
    """One archived document, described only by what it states about itself."""

    id: Id = Field(description="Stable identifier, equal to the file name.")
    title: Text = Field(
        description="Title or headline as printed; empty headlines get a neutral description in brackets."
    )
    publisher: Text | None = Field(
        default=None, description="Outlet or body that published the document, if the document names it."
    )
    author: Text | None = Field(default=None, description="Author named in the document; empty when none is named.")
    published: ClosedEdtf | None = Field(
        default=None, description="Publication date as printed in the document (EDTF, never open-ended)."
    )
    url: Url | None = Field(default=None, description="URL printed in the document itself; never reconstructed.")
    via: Text | None = Field(default=None, description="Agency or outlet the document says it is citing, e.g. 'APA'.")
    language: str = Field(pattern=r"^[a-z]{2,3}$", description="Language of the archived text (ISO 639 code).")
    kind: SourceKind = Field(description="What kind of document it is.")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the archived text, which identifies it in the archive."
    )
    note: Text | None = Field(default=None, description="Curator's neutral note on the document.")
    retracted: Retraction | None = retraction_field()


class Actor(Record):
    """A person, organisation or state that acts or speaks in the sources."""

    id: Id = Field(description="Stable identifier, equal to the file name.")
    name: Text = Field(description="Name as the sources write it.")
    kind: ActorKind = Field(description="What kind of actor it is.")
    role: Text | None = Field(default=None, description="Role or title as stated in the sources.")
    parent: Id | None = ref("actors", "Id of the organisation or state the actor belongs to.")
    note: Text | None = Field(default=None, description="Curator's neutral note.")
    retracted: Retraction | None = retraction_field()


class Place(Record):
    """A named place; no coordinates unless a source states them."""

    id: Id = Field(description="Stable identifier, equal to the file name.")
    name: Text = Field(description="Name as the sources write it.")
    kind: PlaceKind = Field(description="What kind of place it is.")
    parent: Id | None = ref("places", "Id of the place that contains it, as the sources state.")
    note: Text | None = Field(default=None, description="Curator's neutral note, e.g. other spellings in the sources.")
    retracted: Retraction | None = retraction_field()


class Event(Record):
    """Something that happened, or was announced to happen, at a date."""

    id: Id = Field(description="Stable identifier, equal to the file name.")
    title: Text = Field(description="Neutral one-line title in plain verbs.")
    kind: EventKind = Field(description="What kind of event it is.")
    status: EventStatus = Field(description="Whether it is claimed to have happened or is planned.")
    date: Edtf = Field(description="Date as precise as the sources state it (EDTF).")
    date_phrase: Text | None = Field(
        default=None, description="The source's own words for the date, e.g. 'next year', 'early April 1993'."
    )
    place: Id | None = ref("places", "Id of the place where it happened.")
    topic: Id | None = Field(
        default=None,
        description="Key shared by records that speak of the same thing; kdata compares them for disagreements.",
    )
    term: Text | None = Field(
        default=None, description="The name the source gives the thing, verbatim (e.g. a medal's name)."
    )
    description: Text | None = Field(default=None, description="Neutral description.")
    actors: list[EventActor] = Field(default_factory=list, description="Actors taking part, with their roles.")
    citations: list[Citation] = Field(min_length=1, description="Evidence: at least one citation.")
    retracted: Retraction | None = retraction_field()


class Figure(Record):
    """One number a source states, with its hedge kept."""

    id: Id = Field(description="Stable identifier, equal to the file name.")
    measure: Measure = Field(description="What is counted or measured.")
    unit: Unit = Field(description="Unit of value, low and high.")
    qualifier: Qualifier = Field(description="How the source hedges the number.")
    value: Count | None = Field(default=None, description="The number, or best estimate, as stated.")
    low: Count | None = Field(default=None, description="Lower bound, as stated.")
    high: Count | None = Field(default=None, description="Upper bound, as stated.")
    stated_as: Text = Field(description="The number with its hedge as the source writes it, e.g. 'up to 60.000'.")
    term: Text | None = Field(default=None, description="What the source says is counted, in its words.")
    as_of: Edtf | None = Field(default=None, description="Date the number refers to (EDTF).")
    place: Id | None = ref("places", "Id of the place the number is about.")
    event: Id | None = ref("events", "Id of the event the number is about.")
    topic: Id | None = Field(
        default=None,
        description="Key shared by figures about the same quantity; kdata compares them for disagreements.",
    )
    note: Text | None = Field(default=None, description="Curator's neutral note.")
    citations: list[Citation] = Field(min_length=1, description="Evidence: at least one citation.")
    retracted: Retraction | None = retraction_field()

    @model_validator(mode="after")
    def _hedge_rules(self) -> Figure:
        problem = figure_problem(self.qualifier, self.value, self.low, self.high)
        if problem:
            raise PydanticCustomError("kd_figure", "{problem}", {"problem": problem})
        return self


class Claim(Record):
    """An attributed statement: what a speaker says, about whom, when and in which words (not whether it is true)."""

    id: Id = Field(description="Stable identifier, equal to the file name.")
    claimant: Id = Field(
        description="Id of the actor who makes the claim: the speaker, not the outlet that reports it.",
        json_schema_extra={"x-references": "actors"},
    )
    kind: ClaimKind = Field(description="What the claim does: accuses, characterises, demands, warns, ...")
    date: Edtf = Field(description="When the claim was made, as precise as the sources state it (EDTF).")
    date_phrase: Text | None = Field(default=None, description="The source's own words for that date, hedges kept.")
    summary: Text = Field(
        description="Neutral one-line summary in our words, beginning with the speaker; attributed loaded words in quotation marks."
    )
    targets: ActorIds = Field(default_factory=list, description="Ids of the actors the claim is about.")
    events: EventIds = Field(default_factory=list, description="Ids of the events the claim concerns.")
    places: PlaceIds = Field(default_factory=list, description="Ids of the places the claim concerns.")
    figures: FigureIds = Field(default_factory=list, description="Ids of the figures the claim concerns.")
    topic: Id | None = Field(
        default=None,
        description="Key shared by claims that render one statement; kdata compares them for disagreements.",
    )
    note: Text | None = Field(default=None, description="Curator's neutral note.")
    citations: list[Citation] = Field(
        min_length=1, description="Evidence: at least one citation, each naming the claim's claimant."
    )
    retracted: Retraction | None = retraction_field()


class Hedge(NamedTuple):
    """The rule of one qualifier: which of a figure's numbers it needs, and how the hedged number reads.

    ``value``, ``low`` and ``high`` say whether the qualifier requires that number (True), leaves it
    empty (False) or allows it (None); ``reads`` is how kdata words the figure, with its numbers put
    in (``"at most {high}"``).
    """

    value: bool | None
    low: bool | None
    high: bool | None
    reads: str


#: The figure rules, one per qualifier (what each means in words: ``vocab.QUALIFIERS``). The model
#: checks every figure by them (``figure_problem``), ``kdata new`` writes them into a new figure's
#: comments, and the site reads each figure by them.
HEDGES: dict[str, Hedge] = {
    "exact": Hedge(True, False, False, "{value}"),
    "approximately": Hedge(True, None, None, "about {value}"),
    "more_than": Hedge(False, True, False, "more than {low}"),
    "at_least": Hedge(False, True, False, "at least {low}"),
    "at_most": Hedge(False, False, True, "at most {high}"),
    "less_than": Hedge(False, False, True, "less than {high}"),
    "range": Hedge(None, True, True, "{low} to {high}"),
}
assert list(HEDGES) == list(vocab.QUALIFIERS), "every qualifier of the vocabulary has one rule"

#: A figure's numbers, which its qualifier governs.
NUMBERS: tuple[str, ...] = ("value", "low", "high")


def figure_problem(qualifier: str, value: int | None, low: int | None, high: int | None) -> str:
    """Say what is wrong with a figure's numbers for its qualifier (see ``HEDGES``), or '' if nothing."""
    given = dict(zip(NUMBERS, (value, low, high), strict=True))
    hedge = HEDGES[qualifier]
    for name, number in given.items():
        rule = getattr(hedge, name)
        if rule is True and number is None:
            return f"A figure qualified '{qualifier}' needs {name}; it is empty."
        if rule is False and number is not None:
            return f"A figure qualified '{qualifier}' leaves {name} empty; found {number}."
    if low is not None and high is not None and not low < high:
        return f"low ({low}) must be less than high ({high})."
    if value is not None and low is not None and value < low:
        return f"value ({value}) is below low ({low})."
    if value is not None and high is not None and value > high:
        return f"value ({value}) is above high ({high})."
    return ""


class License(Record):
    """A licence of the data package."""

    name: str = Field(description="SPDX identifier, e.g. CC-BY-4.0.")
    path: Url = Field(description="URL of the licence text.")
    title: Text = Field(description="Human-readable title.")


class Contributor(Record):
    """A contributor to the data package."""

    title: Text = Field(description="Name of the person or team.")
    roles: list[str] = Field(description="Roles, e.g. ['creator'].")


class PackageInfo(Record):
    """Package-level metadata, kept in ``raw/package.yaml``."""

    name: Id = Field(description="Package name.")
    title: Text = Field(description="Package title.")
    description: Text = Field(description="What the package holds.")
    version: DataVersion = Field(
        description="SemVer version of the data: the release it is, or the next one with '-dev' (1.0.0-dev) "
        "when the data has changed since the last release."
    )
    homepage: Url | None = Field(default=None, description="Project home page.")
    licenses: list[License] = Field(min_length=1, description="Licences of the data.")
    contributors: list[Contributor] = Field(min_length=1, description="Who made the data.")
    keywords: list[Text] = Field(default_factory=list, description="Keywords.")


DisagreementAspect = Annotated[str, OneOf(vocab.DISAGREEMENT_ASPECTS)]
DisagreementKind = Annotated[str, OneOf(vocab.DISAGREEMENT_KINDS)]


class Disagreement(Record):
    """A derived row: records on one topic that state different things in one aspect (never written by hand)."""

    topic: Id = Field(description="The topic the records share.")
    table: str = Field(description="The table of the records compared.")
    aspect: DisagreementAspect = Field(description="What the records state differently.")
    kind: DisagreementKind = Field(description="What kind of disagreement it is.")
    sides: int = Field(ge=2, description="How many different values the records state (rows in disagreement_sides).")
    records: int = Field(ge=2, description="How many records state a value.")
    claimants: int = Field(ge=1, description="How many claimants the records cite.")


class DisagreementSide(Record):
    """A derived row: one citation of a record on one side of a disagreement (never written by hand).

    Its topic, table and aspect name the row of ``disagreements`` it belongs to; records that state the
    same value share a side.
    """

    topic: Id = Field(description="The topic of the disagreement.")
    table: str = Field(description="The table of the record.")
    aspect: DisagreementAspect = Field(description="What the records state differently.")
    side: int = Field(ge=1, description="The side, from 1: records stating the same value share one.")
    value: Text = Field(description="The value as the record states it (a figure's number as the source writes it).")
    citation: str = Field(
        description="Id of the citation: who claims it, in which source.",
        json_schema_extra={"x-references": "citations"},
    )
    claimant: Id = Field(description="Id of the actor who claims it.", json_schema_extra={"x-references": "actors"})
    source: Id = Field(description="Id of the source that reports it.", json_schema_extra={"x-references": "sources"})


class ClaimTarget(Record):
    """An actor a claim is about."""

    actor: Id = Field(description="Id of the actor the claim is about.", json_schema_extra={"x-references": "actors"})


class ClaimEvent(Record):
    """An event a claim concerns."""

    event: Id = Field(description="Id of the event the claim concerns.", json_schema_extra={"x-references": "events"})


class ClaimPlace(Record):
    """A place a claim concerns."""

    place: Id = Field(description="Id of the place the claim concerns.", json_schema_extra={"x-references": "places"})


class ClaimFigure(Record):
    """A figure a claim concerns."""

    figure: Id = Field(
        description="Id of the figure the claim concerns.", json_schema_extra={"x-references": "figures"}
    )


class TableSpec(NamedTuple):
    """How a table is made: its model, its primary key, the tables that own its rows, its description.

    A child table (one with owners) gets its rows from a list field of each owner's records whose
    items are its model, or a model it extends with computed fields (``Event.citations`` ->
    ``citations``, whose ``PublishedCitation`` adds the anchor); each row names its owner's id in
    the owner's column. A derived table (``disagreement_sides``) names its records the same way, one
    column per table it may refer to. A link table (``ids`` set) gets one row per id of the owner's list of ids
    ``ids``: the owner's id, and the listed id in its model's one column.
    """

    model: type[Record]
    primary_key: tuple[str, ...]
    owners: dict[str, str]  # owner table -> column that refers to the owner (child and derived tables only)
    description: str
    #: Foreign keys of several columns: (columns, table) where the columns hold a row's primary key of the table.
    composite: tuple[tuple[tuple[str, ...], str], ...] = ()
    ids: str = ""  # a link table: the owner's list of ids it publishes, one row per id (``Claim.targets``)

    @property
    def numbered(self) -> bool:
        """Whether the build makes each row's id, ``<owner column>:<owner id>:<n>``: a child table keyed by ``id``.

        Its model has no id of its own: ``event:riverton-return-2020:1`` is the first citation of that event.
        """
        return bool(self.owners) and self.primary_key == ("id",) and "id" not in self.model.model_fields


#: Tables written from raw/<table>/*.yaml, one record a file.
RECORD_TABLES: dict[str, type[Record]] = dict(
    zip(vocab.RECORD_TABLES, (Source, Actor, Place, Event, Figure, Claim), strict=True)
)

#: Every table of the package, in the order of the descriptor.
TABLES: dict[str, TableSpec] = {
    "sources": TableSpec(Source, ("id",), {}, "Archived documents the data cites."),
    "actors": TableSpec(Actor, ("id",), {}, "People, organisations and states that act or speak in the sources."),
    "places": TableSpec(Place, ("id",), {}, "Places the facts refer to."),
    "events": TableSpec(Event, ("id",), {}, "Events, with dates kept at the sources' precision."),
    "figures": TableSpec(Figure, ("id",), {}, "Every number the sources state, with its hedge."),
    "claims": TableSpec(
        Claim,
        ("id",),
        {},
        "Attributed claims: who says what about whom, when, in which words (not whether it is true).",
    ),
    "event_actors": TableSpec(
        EventActor, ("event", "actor", "role"), {"events": "event"}, "Which actors take part in which events."
    ),
    "citations": TableSpec(
        PublishedCitation,
        ("id",),
        {"events": "event", "figures": "figure", "claims": "claim"},
        "Evidence for each event, figure and claim: source, claimant, verbatim quote and where it stands in the archived text.",
    ),
    **{
        f"claim_{field}": TableSpec(link, ("claim", column), {"claims": "claim"}, description, ids=field)
        for field, link, column, description in (
            ("targets", ClaimTarget, "actor", "Which actors each claim is about."),
            ("events", ClaimEvent, "event", "Which events each claim concerns."),
            ("places", ClaimPlace, "place", "Which places each claim concerns."),
            ("figures", ClaimFigure, "figure", "Which figures each claim concerns."),
        )
    },
}
#: The record tables whose records are compared for disagreements: those with a topic, whose citations
#: name them (``citations`` owners). A new such table joins by being added to both.
COMPARED: dict[str, str] = {
    table: column for table, column in TABLES["citations"].owners.items() if "topic" in TABLES[table].model.model_fields
}
TABLES["disagreements"] = TableSpec(
    Disagreement,
    ("topic", "table", "aspect"),
    {},
    "Derived: where records on one topic disagree, one row per topic and aspect, with the kind of disagreement.",
)
TABLES["disagreement_sides"] = TableSpec(
    DisagreementSide,
    ("topic", "table", "aspect", "side", "citation"),
    COMPARED,
    "Derived: each side of each disagreement, one row per citation: the value, who claims it and in which source.",
    ((TABLES["disagreements"].primary_key, "disagreements"),),
)


def built() -> None:
    """Build the validator of every table's model now (they are built on first use otherwise)."""
    for model in RECORD_TABLES.values():
        model.model_rebuild()


def table_of(model: type[Record]) -> str:
    """The table whose rows ``model`` describes, e.g. ``Source`` -> ``"sources"``."""
    return next(table for table, spec in TABLES.items() if spec.model is model)
