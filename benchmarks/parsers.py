"""YAML parsers side by side, per file: is there a faster one that keeps kdata's guarantees?

kdata needs, from a parser: line and column of every value (errors name them),
duplicate keys refused, no aliases or tags, and no implicit typing (``no`` stays
text). kdata.records.yamlio reads a plainly written file line by line and finds positions
only when an issue needs them (composing the file with libyaml, in C, and walking the nodes);
any other file takes that full path from the start. This script times, on the same files, with
the garbage collector paused as kdata runs:

- PyYAML's C loader (what benchmarks/floor.py uses: no positions, YAML 1.1 typing);
- kdata's parse (positions and strictness included);
- rapidyaml (``pip install rapidyaml``), parse only, and parse plus turning its
  tree into Python values (which kdata would need). Its Python binding exposes
  no node locations, so it cannot give kdata's line numbers at any speed.

Usage: python benchmarks/parsers.py RAW_DIR [--files N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kdata.records import yamlio


def _ryml() -> dict[str, Callable[[bytes], Any]]:
    """The rapidyaml contenders, if it is installed."""
    try:
        import ryml
    except ImportError:
        return {}

    def to_python(tree: Any, node: int) -> Any:
        if tree.is_map(node):
            return {bytes(tree.key(c)).decode(): to_python(tree, c) for c in ryml.children(tree, node)}
        if tree.is_seq(node):
            return [to_python(tree, c) for c in ryml.children(tree, node)]
        return bytes(tree.val(node)).decode()

    def parse_and_convert(raw: bytes) -> Any:
        tree = ryml.parse_in_arena(raw)
        return to_python(tree, tree.root_id())

    return {
        "rapidyaml: parse only (no values, no positions)": ryml.parse_in_arena,
        "rapidyaml: parse + Python values (no positions)": parse_and_convert,
    }


def compare(raw: Path, files: int = 5000, repeat: int = 3) -> list[str]:
    """Microseconds per file of each parser on the first ``files`` record files; Markdown lines."""
    paths = sorted(raw.glob("*/*.yaml"))[:files]
    blobs = [p.read_bytes() for p in paths]
    texts = [b.decode("utf-8") for b in blobs]
    contenders: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        "PyYAML C loader, safe_load (no positions, 1.1 typing)": (
            lambda t: yaml.load(t, Loader=yaml.CSafeLoader),
            texts,
        ),
        "kdata.records.yamlio.parse (strict; positions when an issue needs them)": (
            lambda t: yamlio.parse(t, "x"),
            texts,
        ),
        **{name: (fn, blobs) for name, fn in _ryml().items()},
    }
    out = [f"| parser ({len(paths):,} files, median of {repeat}) | µs a file |", "|---|---:|"]
    gc.disable()
    try:
        for name, (parse, inputs) in contenders.items():
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                for item in inputs:
                    parse(item)
                times.append(time.perf_counter() - start)
            out.append(f"| {name} | {statistics.median(times) / len(inputs) * 1e6:.0f} |")
    finally:
        gc.enable()
    if not _ryml():
        out.append("| rapidyaml | not installed |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("--files", type=int, default=5000)
    args = parser.parse_args()
    print("\n".join(compare(args.raw, args.files)))


if __name__ == "__main__":
    main()
