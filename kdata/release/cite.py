"""How to cite a version of the dataset: plain text and BibTeX, from the package's own metadata.

The title, authors and licence come from the bundled ``datapackage.json``; the
release date, archive name and sha256 from the registry, so a citation names
exactly the bytes an analysis used. No URL is made up: one appears only where
the package metadata or the registry states it.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

from kdata.datapackage.safety import web_url
from kdata.release.registry import Release, load_registry

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
    """The parts of a citation of ``version`` (default: the newest published, else the bundled one).

    Args:
        meta: The bundled package's descriptor (title, authors and licence come from it).
        version: The version to cite.

    Raises:
        UsageError: The version is neither published nor bundled (the message lists those published).
    """
    registry = load_registry()
    bundled = str(meta["version"])
    release: Release | None = None
    if version is None:
        version = registry.versions()[-1] if registry.releases else bundled
    if version in registry.releases:
        release = registry.releases[version]
    elif version != bundled:
        registry.get(version)  # raises with the list of published versions
    date = (release.date if release else None) or ""
    year = date[:4] or str(datetime.date.today().year)
    authors = [c["title"] for c in meta.get("contributors", [])]
    url = web_url(meta.get("homepage")) or web_url(
        registry.base_url.rstrip("/") + "/" + release.file if release and registry.base_url else ""
    )
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
    }


def plain(c: dict[str, str]) -> str:
    """APA-like plain text."""
    archive = f" Archive {c['file']}, sha256 {c['sha256']}." if c["file"] else " Unreleased version."
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
