"""How to cite a version of the dataset, from one source, in every form that is published.

The title, authors, licence, description and keywords come from the package's
``datapackage.json`` (written from ``raw/package.yaml``); the release date,
archive name and sha256 from the registry, so a citation names exactly the bytes
an analysis used. ``citation`` gathers these parts once; ``plain`` (``kdata
cite``, the site's front page), ``bibtex``, ``cff`` (``CITATION.cff``, which
GitHub shows) and ``zenodo`` (``.zenodo.json``, from which Zenodo mints a DOI
for each GitHub release) only lay them out. ``kdata docs`` rewrites the two
files, and ``kdata docs --check`` fails when they are stale. No URL is made up:
one appears only where the package metadata states it (its ``homepage``).

Every form says the same in every state: the version cited by default is the one the package
states (the bundled data, what ``kdata.load()`` reads), and nothing comes from what changes after
the files are committed: the registry's base URL, which the release workflow sets only in the
wheel it builds, is where archives are fetched from, not part of the citation.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kdata.datapackage.safety import web_url
from kdata.errors import UsageError
from kdata.release.archive import archive_name
from kdata.release.registry import Release, load_registry, version_key

#: BibTeX (LaTeX) special characters in a field's text, each as LaTeX writes it literally.
_BIBTEX = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "_": r"\_",
        "$": r"\$",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
        "\r": " ",
        "\n": " ",
    }
)
#: Characters a URL may keep as they are inside a BibTeX ``url`` field (read verbatim); others are %-encoded.
_URL_SAFE = "/:?&=#%+-._~@!$'()*,;[]"


def bibtex_text(text: str) -> str:
    """``text`` for a BibTeX field: every LaTeX special character escaped, line breaks as spaces."""
    return text.translate(_BIBTEX)


def bibtex_url(url: str) -> str:
    """``url`` for a BibTeX ``url`` field (verbatim): braces, backslashes and spaces %-encoded."""
    return quote(url, safe=_URL_SAFE)


def citation(meta: dict[str, Any], version: str | None = None) -> dict[str, str]:
    """The parts of a citation of ``version`` (default: the package's own, the bundled data).

    Args:
        meta: The bundled package's descriptor (title, authors and licence come from it).
        version: The version to cite.

    Raises:
        UsageError: The version is neither published nor bundled (the message lists those published).
    """
    registry = load_registry()
    bundled = str(meta["version"])
    release: Release | None = None
    version = version or bundled
    if version in registry.releases:
        release = registry.releases[version]
        if release.file != archive_name(str(meta["name"]), version):
            release = None  # another package's release of that number (a test project, a fork): not this one's
    elif version != bundled:
        registry.get(version)  # raises with the list of published versions
    date = (release.date if release else None) or ""
    year = date[:4] or str(datetime.date.today().year)
    authors = [c["title"] for c in meta.get("contributors", [])]
    url = web_url(meta.get("homepage"))
    earlier = [v for v in registry.versions() if version_key(v) < version_key(version)]
    return {
        "key": f"{meta['name']}_{version.replace('.', '_')}",
        "authors": "; ".join(authors),
        "title": str(meta["title"]),
        "version": version,
        "year": year,
        "date": date,
        "license": ", ".join(lic["name"] for lic in meta.get("licenses", [])),
        "file": release.file if release else "",
        "sha256": release.sha256 if release else "",
        "url": url or "",
        "description": " ".join(str(meta.get("description", "")).split()),
        "keywords": "; ".join(str(k) for k in meta.get("keywords", [])),
        "after": earlier[-1] if earlier and not release else "",
    }


def plain(c: dict[str, str]) -> str:
    """APA-like plain text."""
    after = f", after {c['after']}" if c.get("after") else ""
    archive = f" Archive {c['file']}, sha256 {c['sha256']}." if c["file"] else f" Unreleased version{after}."
    where = f" {c['url']}" if c["url"] else ""
    return f"{c['authors']} ({c['year']}). {c['title']} (Version {c['version']}) [Data set]. Licence {c['license']}.{archive}{where}"


def bibtex(c: dict[str, str]) -> str:
    """A BibTeX ``@misc`` entry: every value escaped (``bibtex_text``), the URL %-encoded (``bibtex_url``)."""
    authors = " and ".join("{" + bibtex_text(a) + "}" for a in c["authors"].split("; ") if a)
    fields = {
        "author": authors,
        "title": bibtex_text(c["title"]),
        "year": bibtex_text(c["year"]),
        "version": bibtex_text(c["version"]),
        "note": bibtex_text(
            f"Data set, licence {c['license']}" + (f"; archive {c['file']}, sha256 {c['sha256']}" if c["file"] else "")
        ),
        **({"url": bibtex_url(c["url"])} if c["url"] else {}),
    }
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
    key = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-:.") else "_" for ch in c["key"])
    return f"@misc{{{key},\n{body}\n}}"


#: The files ``kdata docs`` writes from the citation of the built package, in the repository's root.
CITATION_FILES = ("CITATION.cff", ".zenodo.json")
_HEADER = "# Written by `kdata docs` from raw/package.yaml and kdata/registry.json: edit those, not this file."


def cff(c: dict[str, str]) -> str:
    """``CITATION.cff`` (Citation File Format 1.2.0); each text a JSON string, which YAML reads as it is."""
    text = json.dumps
    lines = [
        _HEADER,
        "cff-version: 1.2.0",
        f"message: {text('If you use this dataset, cite the version you used: ' + plain(c))}",
        "type: dataset",
        f"title: {text(c['title'])}",
        f"version: {text(c['version'])}",
        *([f"date-released: {text(c['date'])}"] if c["date"] else []),
        "authors:",
        *[f"  - name: {text(author)}" for author in c["authors"].split("; ") if author],
        *([f"license: {text(c['license'])}"] if c["license"] and ", " not in c["license"] else []),
        *([f"url: {text(c['url'])}"] if c["url"] else []),
        *([f"abstract: {text(c['description'])}"] if c["description"] else []),
        *(["keywords:", *[f"  - {text(k)}" for k in c["keywords"].split("; ")]] if c["keywords"] else []),
    ]
    return "\n".join(lines) + "\n"


def zenodo(c: dict[str, str]) -> str:
    """``.zenodo.json``: what Zenodo reads from a GitHub release to archive it and mint its DOI."""
    record: dict[str, object] = {
        "upload_type": "dataset",
        "title": c["title"],
        "version": c["version"],
        **({"publication_date": c["date"]} if c["date"] else {}),
        "creators": [{"name": author} for author in c["authors"].split("; ") if author],
        "description": c["description"] or c["title"],
        "access_right": "open",
        **({"license": c["license"].lower()} if c["license"] and ", " not in c["license"] else {}),
        **({"keywords": c["keywords"].split("; ")} if c["keywords"] else {}),
        "notes": plain(c),
    }
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


#: How each citation file is laid out.
LAYOUTS = {"CITATION.cff": cff, ".zenodo.json": zenodo}


def citation_files(meta: dict[str, Any]) -> dict[str, str]:
    """The text of each citation file for the package ``meta`` describes, at its own version."""
    c = citation(meta, str(meta["version"]))
    return {name: LAYOUTS[name](c) for name in CITATION_FILES}


def update_citation_files(root: Path, meta: dict[str, Any], check: bool = False) -> list[Path]:
    """Rewrite the citation files that exist in ``root`` from ``meta``; return those that changed (or would)."""
    from kdata.fs import atomic_write, read_regular

    changed = []
    for name, text in citation_files(meta).items():
        path = root / name
        try:
            old = read_regular(path, 1 << 20).decode("utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"Cannot rewrite {path}: {exc}.") from None
        if old != text:
            changed.append(path)
            if not check:
                atomic_write(path, text.encode("utf-8"))
    return changed
