"""Turn pydantic's validation errors into kdata Issues that point into the YAML.

As in rendercv, each error's location is walked back into the parsed document
to find the line and column of the offending value (a missing field points at
its parent mapping, an unknown field at its key), and pydantic's wording is
rewritten through one small table into sentences that say what was expected,
what was found and how to fix it.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from kdata.errors import Issue
from kdata.records import chars, vocab
from kdata.records.yamlio import MAX_ISSUES, Document, Loc, capped, field_path

#: pydantic error type -> kdata code. Types not listed map to KD106 invalid-value.
_CODE_BY_TYPE: dict[str, str] = {
    "missing": "KD101",
    "extra_forbidden": "KD104",
    "literal_error": "KD103",
    "kd_vocab": "KD103",
    "kd_date": "KD105",
    "kd_text": "KD108",
    "kd_figure": "KD109",
    "int_type": "KD102",
    "string_type": "KD102",
    "bool_type": "KD102",
    "float_type": "KD102",
    "list_type": "KD102",
    "dict_type": "KD102",
    "model_type": "KD102",
    "model_attributes_type": "KD102",
}

#: What each type error expected, in words.
_EXPECTED: dict[str, str] = {
    "int_type": "a whole number (unquoted)",
    "string_type": "text",
    "bool_type": "true or false",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "a mapping of field: value",
    "model_type": "a mapping of field: value",
    "model_attributes_type": "a mapping of field: value",
}


#: kdata's words for pydantic's constraint errors, by error type, filled from the error's context (its
#: ``ctx``, plus ``found``: the value described, and ``length``: its length). pydantic's own messages
#: ("List should have at least 1 item after validation, not 0") are its wording, not ours to promise.
_CONSTRAINTS: dict[str, str] = {
    "too_short": "Expected at least {min_length} item(s); found {length}.",
    "too_long": "Expected at most {max_length} item(s); found {length}.",
    "string_too_short": "Expected at least {min_length} character(s); found {length}.",
    "string_too_long": "Expected at most {max_length} characters; found {length}.",
    "greater_than_equal": "Expected a number greater than or equal to {ge}; found {found}.",
    "greater_than": "Expected a number greater than {gt}; found {found}.",
    "less_than_equal": "Expected a number less than or equal to {le}; found {found}.",
    "less_than": "Expected a number less than {lt}; found {found}.",
    "finite_number": "Expected a finite number; found {found}.",
}

#: What each pattern of the models means, in words (a test checks that every pattern has them).
_PATTERNS: dict[str, str] = {
    vocab.ID_PATTERN: "an id: lowercase letters and digits, in words joined by single hyphens",
    r"^[a-z]{2,3}$": "a language code of two or three lowercase letters (ISO 639, e.g. 'az')",
    r"^[0-9a-f]{64}$": "a sha256: 64 lowercase hexadecimal digits",
    vocab.SEMVER_PATTERN: "a version MAJOR.MINOR.PATCH such as 0.1.0",
    vocab.DATA_VERSION_PATTERN: "a version MAJOR.MINOR.PATCH such as 0.1.0, or the next one with -dev (1.0.0-dev) "
    "between releases",
}


def _shown(text: str) -> str:
    """Text quoted in a message: invisible characters as escapes, at most 60 characters."""
    text = chars.visible(text)
    return text if len(text) <= 60 else f"{text[:57]}..."


def describe(value: Any) -> str:
    """Describe a parsed YAML value for an error message."""
    kinds: dict[type, str] = {
        bool: f"{str(value).lower()}",
        int: f"the number {value}",
        float: f"the number {value}",
        str: f"the text '{_shown(str(value))}'",
        list: "a list",
        dict: "a mapping",
        type(None): "nothing (null)",
    }
    return kinds.get(type(value), repr(value))


def _message(err: Any, model: type[BaseModel], doc: Document) -> str:
    kind, loc, found = err["type"], tuple(err["loc"]), err.get("input")
    if kind == "missing":
        return f"The required field '{loc[-1]}' is missing."
    if kind == "extra_forbidden":
        known = _known_fields(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1])[:100], known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else f" Known fields: {', '.join(known)}."
        return f"'{_shown(str(loc[-1]))}' is not a known field.{hint}"
    if kind == "literal_error":
        return f"Expected one of {err['ctx']['expected']}; found {describe(found)}."
    if kind in _EXPECTED:
        return f"Expected {_EXPECTED[kind]}, found {describe(found)}.{_tip(kind, found)}"
    if kind == "string_pattern_mismatch":
        pattern = str(err["ctx"]["pattern"])
        return f"Expected {_PATTERNS.get(pattern, f'text matching the pattern {pattern}')}; found {describe(found)}."
    if kind in _CONSTRAINTS:
        length = len(found) if isinstance(found, (str, list, dict)) else 0
        return _CONSTRAINTS[kind].format(**err.get("ctx", {}), found=describe(found), length=length)
    if kind.startswith("kd_"):
        return str(err["msg"])
    return f"{str(err['msg']).rstrip('.')}; found {describe(found)}."


def _tip(kind: str, found: Any) -> str:
    """A hint for the commonest type mistakes of YAML writers."""
    if kind == "int_type" and isinstance(found, str):
        digits = found.strip().lstrip("+-")
        if digits.isdigit():
            return (
                " Write the number without leading zeros."
                if digits.startswith("0")
                else " Write numbers without quotes."
            )
    if kind == "string_type" and isinstance(found, (int, float)) and not isinstance(found, bool):
        return f" Put it in quotes if it is meant as text: '{found}'."
    return ""


def _known_fields(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the (sub)model at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = current.model_fields[part].annotation
        args = getattr(annotation, "__args__", ())
        current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), annotation)
    return list(current.model_fields)


def _where(kind: str, loc: Loc, doc: Document) -> tuple[int, int]:
    """Line and column for an error at ``loc``: the value, the key, or the nearest parent."""
    if kind == "extra_forbidden" and loc in doc.keypos:
        return doc.keypos[loc]
    if kind == "kd_figure" and ("qualifier",) in doc.keypos:
        return doc.keypos[("qualifier",)]
    probe = loc if kind != "missing" else loc[:-1]
    while probe not in doc.pos and probe:
        probe = probe[:-1]
    return doc.pos.get(probe, (1, 1))


def from_validation_error(exc: ValidationError, model: type[BaseModel], doc: Document, name: str) -> list[Issue]:
    """One Issue per pydantic error, located in the YAML document, capped as every file's issues are (``yamlio.capped``).

    Only the issues the cap shows are worded: a file of 20,000 unknown keys was 20,000 searches for the
    nearest field name, for the 20 lines shown and a count.
    """
    errors = exc.errors()
    located = []
    for err in errors:
        loc = tuple(err["loc"])
        line, col = _where(err["type"], loc, doc)
        located.append(Issue(name, line, col, _CODE_BY_TYPE.get(err["type"], "KD106"), field_path(loc)))
    shown = sorted(range(len(located)), key=located.__getitem__)[:MAX_ISSUES]  # stable, as capped sorts them
    for i in shown:
        located[i] = dataclasses.replace(located[i], message=_message(errors[i], model, doc))
    return capped(located, name)
