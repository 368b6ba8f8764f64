"""Rules a valid record must also keep that span its fields: each finding points at one value of the file.

The model checks each field (and a figure's numbers, ``models.HEDGES``); these rules compare
fields with each other, and :func:`kdata.records.scan.check_file` turns each finding into an
issue at the line and column of the value it names. ``RULES`` lists them by table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

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


#: Table -> the rules its records keep, in the order they run.
RULES: dict[str, tuple[Rule, ...]] = {"claims": (claimant_matches,)}


def findings(table: str, record: Any) -> list[Finding]:
    """Every finding of the rules of ``table`` on one valid record."""
    return [found for rule in RULES.get(table, ()) for found in rule(record)]
