"""What a published artefact carries of the archived texts: the test of LICENSE-DATA.md's promise.

The wheel, the sdist, the data package and the release archives carry no archived text: not
the file, not its bytes under another name, and not most of its paragraphs (the citations'
quotes and their short prefix and suffix are excerpts of one passage each).
"""

from __future__ import annotations

from conftest import REPO

ARCHIVE = REPO / "raw" / "sources"
#: Paragraphs shorter than this are headlines and datelines that quotes may well hold whole.
LONG = 200


def texts_carried(members: dict[str, bytes]) -> list[str]:
    """Each archived text some member carries, with why: its name, its bytes, or most of its long paragraphs."""
    texts = {p.name: p.read_bytes() for p in sorted(ARCHIVE.glob("*.txt"))}
    assert len(texts) >= 5  # the repository's archive, read from the checkout
    found = []
    flat = {name: " ".join(content.decode("utf-8", errors="replace").split()) for name, content in members.items()}
    for text_name, content in texts.items():
        paragraphs = [" ".join(p.split()) for p in content.decode("utf-8").split("\n\n")]
        long = [p for p in paragraphs if len(p) >= LONG]
        for name, member in members.items():
            if name.endswith(f"/{text_name}") or name == text_name:
                found.append(f"{name}: named as the archived text {text_name}")
            elif member == content:
                found.append(f"{name}: the bytes of {text_name}")
            elif long and sum(p in flat[name] for p in long) * 2 > len(long):
                found.append(f"{name}: most long paragraphs of {text_name}")
    return found
