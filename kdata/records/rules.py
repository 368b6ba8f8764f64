"""Rules a valid record must also keep that span its fields: each finding points at one value of the file.

The model checks each field (and a figure's numbers, ``models.HEDGES``); these rules compare
fields with each other, and :func:`kdata.records.scan.check_file` turns each finding into an
issue at the line and column of the value it names. ``RULES`` lists them by table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from kdata.records import neutral, vague
from kdata.records.yamlio import Loc


class Finding(NamedTuple):
    """What a rule found: where in the record (a path of keys and list indexes), its code, a sentence."""

    loc: Loc
    code: str
    message: str


Rule = Callable[[Any], Iterator[Finding]]


def claimant_matches(claim: Any) -> Iterator[Finding]:
    """Each citation of a claim names the claim's own claimant: the evidence is of that speaker's words."""
    for i, citation in enumerate(claim.citations):
        if citation.claimant != claim.claimant:
            message = (
                f"The citation's claimant is '{citation.claimant}', but the claim is made by '{claim.claimant}'; "
                "a claim's evidence quotes its own claimant."
            )
            yield Finding(("citations", i, "claimant"), "KD110", message)


def vague_date(record: Any) -> Iterator[Finding]:
    """A date keeps the vagueness of the source's words for it (``vague.VAGUE``): '?' for a hedge, '~' for 'about'."""
    problem = vague.date_problem(record.date_phrase, record.date)
    if problem:
        yield Finding(("date",), "KD111", problem)


def neutral_wording(fields: tuple[str, ...]) -> Rule:
    """The rule that ``fields``, our own words, use no loaded term outside quotation marks (``neutral.LOADED``)."""

    def rule(record: Any) -> Iterator[Finding]:
        for field in fields:
            value = getattr(record, field)
            term = neutral.loaded_term(value) if isinstance(value, str) else ""
            if term:
                message = f"'{field}' is in our own words, but uses the loaded term '{term}' outside quotation marks."
                yield Finding((field,), "KD112", message)

    return rule


#: Table -> the rules its records keep, in the order they run.
_COMPARING: dict[str, tuple[Rule, ...]] = {"events": (vague_date,), "claims": (claimant_matches, vague_date)}
RULES: dict[str, tuple[Rule, ...]] = {
    table: (*_COMPARING.get(table, ()), neutral_wording(fields)) for table, fields in neutral.OUR_WORDS.items()
}


def findings(table: str, record: Any) -> list[Finding]:
    """Every finding of the rules of ``table`` on one valid record."""
    return [found for rule in RULES.get(table, ()) for found in rule(record)]
