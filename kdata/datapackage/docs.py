"""Generated documentation: the data model and the error codes, kept inside Markdown files.

Sections between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` are
rewritten from the models and the error table by ``kdata docs``; a test fails
when they are stale, so the docs never drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from kdata.datapackage.schemas import MEANING, table_schema
from kdata.errors import CODES, UsageError
from kdata.fs import atomic_write
from kdata.records import models


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def data_model() -> str:
    """One Markdown table per resource: field, type, required, description."""
    parts = []
    for table, spec in models.TABLES.items():
        schema = table_schema(table)
        keys = ", ".join(f"`{k}`" for k in schema["primaryKey"])
        joins = "".join(
            f" Each row's {', '.join(f'`{c}`' for c in fk['fields'])} name a row of `{fk['reference']['resource']}`."
            for fk in schema.get("foreignKeys", [])
            if len(fk["fields"]) > 1
        )
        lines = [f"### `{table}`", "", f"{spec.description} Primary key: {keys}.{joins}", ""]
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        refs = {
            fk["fields"][0]: fk["reference"]["resource"]
            for fk in schema.get("foreignKeys", [])
            if len(fk["fields"]) == 1
        }
        for field in schema["fields"]:
            constraints = field.get("constraints", {})
            note = f" References `{refs[field['name']]}`." if field["name"] in refs else ""
            enum = constraints.get("enum")
            allowed = f" One of: {', '.join(f'`{e}`' for e in enum)}." if enum and len(enum) <= 12 else ""
            allowed += " Meanings below." if enum else ""
            required = "yes" if constraints.get("required") else ""
            lines.append(
                f"| `{field['name']}` | {field['type']} | {required} | {_cell(field.get('description', ''))}{note}{allowed} |"
            )
        parts.append("\n".join(lines))
    parts.append(
        "### Vocabularies\n\nThe terms each vocabulary field takes, with their meanings. `datapackage.json` carries the"
        " same as each field's `categories` (the meaning as `kdata:description`), and the JSON Schemas in `schemas/`"
        " as `enumDescriptions`.\n\n" + vocabularies()
    )
    return "\n\n".join(parts)


def vocabularies() -> str:
    """Every controlled vocabulary of the package, each term with its meaning (from the fields' ``categories``).

    One list per vocabulary, headed by the fields that use it, in the order of ``models.TABLES``.
    """
    used: dict[tuple[str, ...], tuple[list[str], list[dict[str, str]]]] = {}
    for table in models.TABLES:
        for field in table_schema(table)["fields"]:
            if "categories" in field:
                values = tuple(c["value"] for c in field["categories"])
                used.setdefault(values, ([], field["categories"]))[0].append(f"`{table}.{field['name']}`")
    out = []
    for fields, categories in used.values():
        terms = "\n".join(f"- `{c['value']}`: {c[MEANING]}" for c in categories)
        out.append(f"#### {', '.join(fields)}\n\n{terms}")
    return "\n\n".join(out)


def error_codes() -> str:
    """The error-code table: code, name, what it means, how to fix it."""
    lines = ["| code | name | what it means | how to fix |", "|---|---|---|---|"]
    lines += [f"| `{c.code}` | `{c.name}` | {_cell(c.meaning)} | {_cell(c.hint)} |" for c in CODES.values()]
    return "\n".join(lines)


def environment() -> str:
    """The checked environment variables (``kdata.settings``), numbers then switches: meaning, allowed values, default."""
    from kdata.settings import SETTINGS, SWITCH_WORDS, SWITCHES

    lines = ["| variable | what it sets | allowed | default |", "|---|---|---|---|"]
    for name, s in SETTINGS.items():
        default = "one per core" if s.default is None else f"{s.default:,}"
        lines.append(f"| `{name}` | {_cell(s.meaning)} | {s.low:,} to {s.high:,} | {default} |")
    on = ", ".join(f"`{word}`" for word, value in SWITCH_WORDS.items() if value)
    off = ", ".join(f"`{word}`" for word, value in SWITCH_WORDS.items() if not value)
    for name, switch in SWITCHES.items():
        lines.append(f"| `{name}` | {_cell(switch.meaning)} | on: {on}; off: {off} or unset | off |")
    return "\n".join(lines)


def vague_dates() -> str:
    """The words of vague time expressions (``kdata.records.vague.VAGUE``), by what they ask of the date."""
    from kdata.records.vague import KINDS, VAGUE

    lines = ["| the words say | words | the date must |", "|---|---|---|"]
    for kind, rule in KINDS.items():
        words = ", ".join(f'"{w}"' for w, k in VAGUE.items() if k == kind)
        lines.append(f"| {_cell(rule.meaning)} | {_cell(words)} | {_cell(rule.asks)} |")
    return "\n".join(lines)


def loaded_terms() -> str:
    """The loaded terms validate refuses in our own words (``kdata.records.neutral``), and the fields it reads."""
    from kdata.records.neutral import LOADED, OUR_WORDS

    lines = ["| a word beginning (or containing) | is loaded because it is |", "|---|---|"]
    lines += [f"| `{stem}` | {_cell(why)} |" for stem, why in LOADED.items()]
    fields = "; ".join(f"{table}: {', '.join(f'`{f}`' for f in fields)}" for table, fields in OUR_WORDS.items())
    return "\n".join([*lines, "", f"`kdata validate` reads our own words in these fields (KD112): {fields}."])


#: Generated section name -> the function that writes it.
SECTIONS: dict[str, Callable[[], str]] = {
    "data model": data_model,
    "error codes": error_codes,
    "environment": environment,
    "vague dates": vague_dates,
    "loaded terms": loaded_terms,
}


def render(text: str) -> str:
    """``text`` with every generated section it contains rewritten."""
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.DOTALL)
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)  # type: ignore[misc]
    return text


#: The largest file ``kdata docs`` rewrites (README.md is about 40 KB).
MAX_DOC_BYTES = 8 << 20


def update(paths: list[Path], check: bool = False) -> list[Path]:
    """Rewrite the generated sections of ``paths``; return those that changed (or would).

    Raises:
        UsageError: A path is not a regular UTF-8 file (a symlink or a FIFO is refused, never followed).
    """
    from kdata.fs import read_regular

    changed = []
    for path in paths:
        try:
            old = read_regular(path, MAX_DOC_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"Cannot rewrite {path}: {exc.reason if isinstance(exc, UnicodeDecodeError) else exc}."
            ) from None
        new = render(old)
        if new != old:
            changed.append(path)
            if not check:
                atomic_write(path, new.encode("utf-8"))  # a full disk leaves the old file whole
    return changed
