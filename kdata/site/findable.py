"""The front page's schema.org ``Dataset`` (JSON-LD), so that dataset search engines find the package.

Every value comes from the package descriptor or the release registry (through
:func:`kdata.release.cite.citation`, which ``kdata cite`` uses too); what neither states is left
out, never guessed. The site carries a copy of the package's files under ``data/``
(``DATA``), so each distribution's ``contentUrl`` is that copy, relative to the front page; a
published release archive is added with its own URL when the registry knows where it is.
"""

from __future__ import annotations

import json
from typing import Any

#: The site's folder that holds the copy of the package (descriptor and every resource file).
DATA = "data"


def dataset(meta: dict[str, Any], cite: dict[str, str]) -> dict[str, Any]:
    """The schema.org ``Dataset`` of a package descriptor.

    Args:
        meta: The package descriptor (``datapackage.json``).
        cite: The citation of its version (``kdata.release.cite.citation``): release date, archive and URL.
    """
    found: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": meta["title"],
        "alternateName": meta["name"],
        "description": meta["description"],
        "version": str(meta["version"]),
        "license": [lic["path"] for lic in meta.get("licenses", []) if lic.get("path")]
        or [lic["name"] for lic in meta.get("licenses", [])],
        "creator": [
            {"@type": "Organization", "name": c["title"]}
            for c in meta.get("contributors", [])
            if "creator" in c.get("roles", [])
        ],
        "keywords": meta.get("keywords", []),
        "isAccessibleForFree": True,
    }
    optional = {
        "dateCreated": str(meta.get("created") or "")[:10],
        "datePublished": cite.get("date", ""),
        "url": str(meta.get("homepage") or ""),
    }
    found.update({key: value for key, value in optional.items() if value})
    distributions = [
        {
            "@type": "DataDownload",
            "name": resource["name"],
            "description": resource.get("description", ""),
            "encodingFormat": resource["mediatype"],
            "contentUrl": f"{DATA}/{resource['path']}",
            **({"contentSize": f"{resource['bytes']} B"} if resource.get("bytes") else {}),
            **({"sha256": resource["hash"].removeprefix("sha256:")} if resource.get("hash") else {}),
        }
        for resource in meta["resources"]
    ]
    if cite.get("file") and cite.get("url", "").endswith("/" + cite["file"]):
        distributions.append(
            {
                "@type": "DataDownload",
                "name": cite["file"],
                "description": "The release archive: the descriptor and every resource file.",
                "encodingFormat": "application/zip",
                "contentUrl": cite["url"],
                "sha256": cite["sha256"],
            }
        )
    found["distribution"] = distributions
    return found


def script_body(data: dict[str, Any]) -> str:
    """JSON for a ``<script type="application/ld+json">``: ``<`` written ``\\u003c`` so no text ends the script."""
    return json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c")
