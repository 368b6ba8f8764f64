"""kdata.records.vocab: every term defined once, with a neutral description; the version pattern."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kdata.records import models, vocab

#: Every controlled vocabulary: name in vocab -> its terms and their descriptions.
VOCABULARIES: dict[str, dict[str, str]] = {
    name: value for name, value in vars(vocab).items() if name.isupper() and isinstance(value, dict)
}

#: Words that take a side or judge; a neutral description of a term needs none of them.
LOADED = re.compile(
    r"\b(aggressor|aggression|occupier|occupiers|occupation|occupied|terrorist|terrorists|liberation|liberated|"
    r"heroic|hero|martyr|martyrs|genocide|atrocity|barbaric|illegal|illegally|enemy|invader|invaders|separatist|"
    r"separatists|puppet|so-called|criminal)\b",
    re.IGNORECASE,
)


def test_the_vocabularies_are_all_found() -> None:
    """The tests below walk every vocabulary; make sure the walk sees them all."""
    assert set(VOCABULARIES) == {
        "SOURCE_KINDS",
        "ACTOR_KINDS",
        "PLACE_KINDS",
        "EVENT_KINDS",
        "EVENT_STATUSES",
        "EVENT_ROLES",
        "MEASURES",
        "UNITS",
        "QUALIFIERS",
        "CLAIM_KINDS",
    }


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_every_term_has_a_neutral_sentence_for_its_meaning(name: str) -> None:
    terms = VOCABULARIES[name]
    assert terms, f"{name} is empty"
    for term, description in terms.items():
        assert re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*", term), f"{name}: '{term}' is not a snake_case term"
        assert description.strip() == description and len(description) > 3, f"{name}.{term}: no description"
        assert description[0].isupper() or description[0] == "'", f"{name}.{term}: not a sentence: {description!r}"
        assert description.endswith("."), f"{name}.{term}: a description is a sentence ending in '.'"
        assert not LOADED.search(description), f"{name}.{term}: loaded word in {description!r}"


def test_no_vocabulary_defines_a_term_twice() -> None:
    """A dict literal keeps the last of two equal keys silently, so a term written twice loses a description."""
    tree = ast.parse(Path(vocab.__file__).read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_the_models_accept_exactly_the_terms_of_the_vocabularies() -> None:
    """Each vocabulary field's JSON Schema enum is its table's terms, in order: a term is defined once."""
    fields: dict[tuple[type[models.Record], str], dict[str, str]] = {
        (models.Source, "kind"): vocab.SOURCE_KINDS,
        (models.Actor, "kind"): vocab.ACTOR_KINDS,
        (models.Place, "kind"): vocab.PLACE_KINDS,
        (models.Event, "kind"): vocab.EVENT_KINDS,
        (models.Event, "status"): vocab.EVENT_STATUSES,
        (models.EventActor, "role"): vocab.EVENT_ROLES,
        (models.Figure, "measure"): vocab.MEASURES,
        (models.Figure, "unit"): vocab.UNITS,
        (models.Figure, "qualifier"): vocab.QUALIFIERS,
    }
    for (model, field), terms in fields.items():
        assert model.model_json_schema()["properties"][field]["enum"] == list(terms), (model.__name__, field)


def test_the_record_tables_are_the_models_tables() -> None:
    assert tuple(models.RECORD_TABLES) == vocab.RECORD_TABLES
    assert list(models.TABLES)[: len(vocab.RECORD_TABLES)] == list(vocab.RECORD_TABLES)


@pytest.mark.parametrize("version", ["0.1.0", "0.0.0", "1.2.3", "10.20.30", "2026.1.0", "999999999.0.1"])
def test_semver_pattern_accepts_plain_versions(version: str) -> None:
    assert re.search(vocab.SEMVER_PATTERN, version)


@pytest.mark.parametrize(
    "version",
    [
        "01.0.0",  # leading zeros
        "1.02.0",
        "1.0.00",
        "1.0",
        "1",
        "1.0.0.0",
        "v1.0.0",
        "1.0.0-beta",  # SemVer allows suffixes; kdata's versions do not
        "1.0.0+build.5",
        " 1.0.0",
        "1.-1.0",
        "a.b.c",
        "",
    ],
)
def test_semver_pattern_refuses_anything_else(version: str) -> None:
    assert not re.search(vocab.SEMVER_PATTERN, version)
