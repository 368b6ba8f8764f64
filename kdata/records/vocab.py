"""Controlled vocabularies: every allowed term with the neutral meaning we give it.

Each vocabulary is defined here once. The models accept exactly its terms (``models.OneOf``),
in this order. Every term's meaning travels with it: the JSON Schemas for editors list the terms
as ``enum`` with ``enumDescriptions`` (shown on hover and in completions), the Table Schemas of
``datapackage.json`` as ``enum`` and Data Package v2 ``categories`` (value, label and the meaning
as ``kdata:description``), and ``kdata docs`` writes every vocabulary into README.md.
Rules that go with a term live beside the model that enforces them (which numbers each
qualifier needs: ``models.HEDGES``). Add a term only with a neutral description.
"""

from __future__ import annotations

#: A record id: lowercase letters and digits, in words joined by single hyphens (also the file name).
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
#: A released dataset version: MAJOR.MINOR.PATCH without leading zeros (Semantic Versioning 2.0, no suffixes).
SEMVER_PATTERN = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"
#: The suffix of the data's version between releases: ``1.0.0-dev`` is what will become 1.0.0 (a SemVer
#: pre-release, before 1.0.0; the wheel's PEP 440 version is ``1.0.0.dev0``). Never released as it is.
DEV_SUFFIX = "-dev"
#: The data's version in raw/package.yaml: a released version, or the next one with ``DEV_SUFFIX``.
DATA_VERSION_PATTERN = SEMVER_PATTERN.removesuffix("$") + f"(?:{DEV_SUFFIX})?$"

#: The record tables, one folder of raw/ each (kdata.records.models maps each to its model).
RECORD_TABLES: tuple[str, ...] = ("sources", "actors", "places", "events", "figures", "claims")

SOURCE_KINDS: dict[str, str] = {
    "news_report": "An article written by a news outlet.",
    "official_statement": "A statement of a government body, as published by the body or reprinted by an outlet.",
    "speech_transcript": "A transcript of a speech or of the exchanges at a public meeting.",
}

ACTOR_KINDS: dict[str, str] = {
    "person": "A named individual.",
    "state": "A sovereign state acting as a whole.",
    "government_body": "A government, ministry, administration or official office.",
    "armed_forces": "The armed forces of a state, or a named part of them.",
    "international_organization": "A body of several states (the UN Security Council, the OSCE Minsk Group).",
    "news_agency": "A news agency or outlet that publishes or is cited as reporting.",
    "political_group": "A political party, movement or alliance.",
    "group": "An unnamed collective the sources speak of (residents, servicemen, delegations).",
}

PLACE_KINDS: dict[str, str] = {
    "country": "A sovereign state's territory.",
    "region": "A region without administrative status in the sources (Karabakh, Nagorno-Karabakh).",
    "autonomous_republic": "An autonomous republic.",
    "district": "An administrative district (rayon).",
    "city": "A city or town.",
    "village": "A village or rural settlement.",
    "pass": "A mountain pass.",
    "mountain": "A mountain, ridge or height.",
    "reservoir": "A water reservoir.",
    "river": "A river.",
    "sea": "A sea or lake.",
    "power_station": "A power station.",
    "tunnel": "A road or rail tunnel.",
    "road": "A road or route between places.",
    "railway": "A railway line.",
    "airport": "An airport.",
    "cableway": "An aerial cableway.",
    "facility": "A building or site such as a school, plant or residential complex.",
    "checkpoint": "A border or road checkpoint.",
    "settlement": "A populated place whose kind (city, town or village) the sources do not state.",
}

EVENT_KINDS: dict[str, str] = {
    "change_of_control": "Armed forces took control of a place.",
    "handover": "Control of a place was handed over under an agreement.",
    "military_operation": "A military offensive or operation over a period.",
    "armed_clash": "Fighting between armed forces.",
    "ceasefire": "Fighting stopped under an agreement or order.",
    "agreement": "A document was signed or initialled by two or more parties.",
    "resolution": "An international body adopted a resolution or decision.",
    "statement": "A body or person issued a statement or address.",
    "blockade": "A place's access was cut off or restricted.",
    "displacement": "People left or were made to leave their homes.",
    "destruction": "Property, buildings or monuments were damaged, destroyed or taken.",
    "incident": "A single violent or harmful occurrence, such as a mine explosion.",
    "visit": "A person or delegation travelled to a place.",
    "opening": "A facility, road or building was opened or put into operation.",
    "construction": "Building work was started, carried out or completed.",
    "return_of_residents": "Former residents moved back to a place.",
    "award_established": "A medal, order or other award was created.",
    "award_conferred": "An award was given to people.",
    "election": "A person was elected to an office.",
    "transfer_of_power": "A group or person took office or power.",
    "negotiations": "Talks between parties over a period.",
    "communication": "A message or letter was sent.",
    "death": "A person died.",
    "proposal": "A body drew up a plan, proposal or timetable.",
    "resettlement": "People were brought to live in a place.",
    "resource_extraction": "Natural resources of a place were extracted or exploited.",
    "mine_laying": "Landmines were laid.",
    "deadline_extension": "A deadline was extended at the request of a party.",
    "creative_work": "A poem, song or other work was written or created.",
    "status_change": "The status, name or use of a place or road was changed.",
    "military_buildup": "A state enlarged, re-equipped or reorganised its armed forces.",
    "public_service": "A public service such as schooling was provided or arranged.",
}

EVENT_STATUSES: dict[str, str] = {
    "occurred": "The claim is that it happened.",
    "ongoing": "The claim is that it was under way when the source was published.",
    "planned": "Announced as intended, with the target the source states (if any).",
}

EVENT_ROLES: dict[str, str] = {
    "agent": "Carried out the action, as the source presents it.",
    "signatory": "Signed or initialled a document.",
    "participant": "Took part.",
    "speaker": "Spoke or issued the statement.",
    "mediator": "Mediated between parties.",
    "affected": "Was affected by the action (killed, injured, displaced, targeted).",
    "recipient": "Received an award, message or handover.",
    "host": "Received visitors or hosted the occasion.",
}

MEASURES: dict[str, str] = {
    "people_killed": "People killed.",
    "people_injured": "People injured.",
    "people_displaced": "People who left or were made to leave their homes.",
    "people_displaced_current": "People living displaced at the time of the statement.",
    "people_captured_or_missing": "People captured, taken prisoner or hostage, or missing.",
    "residents": "People living, or to live, in a place or in buildings.",
    "military_personnel": "Soldiers, officers or other military personnel.",
    "deserters": "Soldiers who deserted.",
    "settlements": "Settlements (cities, towns, villages).",
    "buildings": "Buildings.",
    "residential_complexes": "Residential complexes.",
    "tunnels": "Tunnels.",
    "cableways": "Cableways.",
    "countries": "Countries.",
    "duration": "Length of a period of time.",
    "elapsed_time": "Time between an event and the statement.",
    "travel_time": "Time needed to travel a route.",
    "length": "Length of a road, tunnel or other structure.",
    "monetary_value": "Value in money.",
    "rank": "Position in a ranking (1 is first).",
    "casualties": "People killed or injured, where the source does not separate them.",
    "shots_fired": "Shots fired.",
    "lanes": "Traffic lanes of a road, tunnel or bridge.",
    "routes": "Roads or directions by which a place can be reached.",
}

UNITS: dict[str, str] = {
    "people": "Persons.",
    "items": "Things counted one by one (settlements, buildings, tunnels, countries).",
    "years": "Years.",
    "months": "Months.",
    "days": "Days.",
    "hours": "Hours.",
    "minutes": "Minutes.",
    "kilometres": "Kilometres.",
    "usd": "United States dollars.",
    "ordinal": "A rank (1 is first).",
}

#: How a source hedges a number. Which of a figure's value, low and high each one needs: ``models.HEDGES``.
QUALIFIERS: dict[str, str] = {
    "exact": "Stated as an exact number.",
    "approximately": "Stated as an estimate: 'about', 'approximately'.",
    "more_than": "Stated as above a bound, the bound excluded: 'more than', 'over'.",
    "at_least": "Stated as a bound or more, the bound included: 'at least', 'tens of thousands'.",
    "at_most": "Stated as a bound or less, the bound included: 'up to', 'at most'.",
    "less_than": "Stated as below a bound, the bound excluded: 'less than', 'under'.",
    "range": "Stated as two bounds: '5-6', 'seven to eight'.",
}

#: What records on one topic can state differently (the ``aspect`` of a disagreement).
DISAGREEMENT_ASPECTS: dict[str, str] = {
    "number": "The number of a figure: its value or bounds, its unit or its hedge.",
    "date": "The date a record gives, where the days the dates cover do not all overlap.",
    "wording": "The term a source uses for the thing, verbatim.",
}

#: What kind of disagreement it is, most substantive first: the one ranking of listings (``conflicts.by_topic``
#: groups by topic and ranks a topic by its first kind here). Translations, which differ in the reports rather
#: than in the claims, come last.
DISAGREEMENT_KINDS: dict[str, str] = {
    "number": "Claims differ in a number, its unit or its hedge.",
    "date": "Claims give dates whose days do not all overlap.",
    "wording": "Claims name or describe the thing in different words.",
    "translation": (
        "One statement rendered differently by its reports: every side is the same claimant's, each side "
        "from its own sources, all published within a day of each other (a reprint or another translation)."
    ),
}

#: How precise a date is as the source states it, finest first (``dates.PRECISIONS`` keeps this order).
DATE_PRECISIONS: dict[str, str] = {
    "day": "The source names the day.",
    "month": "The source names the month, not the day: the date covers the whole month.",
    "year": "The source names the year only: the date covers the whole year.",
}

#: What an attributed claim does (``Claim.kind``): the speaker's act, never our judgement of its truth.
CLAIM_KINDS: dict[str, str] = {
    "accusation": "Says that someone did something wrong (a crime, a violation, a hostile act).",
    "characterisation": "Labels or classifies something: a legal, historical or moral description "
    "of a situation, an act or a party, in the speaker's words.",
    "demand": "Calls on someone to do or stop doing something.",
    "warning": "Says that something will happen to someone, or threatens consequences.",
    "position": "States the speaker's stance or policy on an issue.",
    "denial": "Rejects another party's claim or account.",
    "promise": "Commits the speaker (or those they speak for) to a future action.",
    "assertion": "States as fact what happened, what is true or what a document says "
    "(e.g. what a resolution requires), where no other kind fits.",
    "tribute": "Praises, honours or commemorates someone or something.",
}
