"""Where the time of one cached ``kdata validate`` goes, phase by phase (CPU seconds of this process).

    cd PROJECT && python benchmarks/incremental_phases.py [--git]

Times, with ``time.process_time`` around each, the imports (kdata's CLI; the models, YAML and pydantic
that a recheck needs; the modules of the checks across records), the listing, the code fingerprint,
opening the cache, comparing the listing with it (stat), rechecking and patching (``_update``; its
checks across records apart), the package file, and the rest of ``check_tree`` (texts, reading the
stored issues, commit). Runs with ``KDATA_JOBS=1``; prints one JSON line. Works on older versions of
the incremental module too (a phase it lacks is left out, its time counted in the rest).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ["KDATA_JOBS"] = "1"
PHASES: dict[str, float] = {}


def _timed(owner: Any, name: str, phase: str) -> None:
    inner = getattr(owner, name, None)
    if inner is None:
        return

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            PHASES[phase] = PHASES.get(phase, 0.0) + time.process_time() - start

    setattr(owner, name, wrapper)


def _import(phase: str, *modules: str) -> None:
    start = time.process_time()
    for module in modules:
        __import__(module)
    PHASES[phase] = time.process_time() - start


def main() -> None:
    _import("import kdata.cli", "kdata.cli")
    if "--cold-imports" not in sys.argv:
        _import("import models, YAML, pydantic (a recheck)", "kdata.records.scan")
        _import("import checks across records", "kdata.records.evidence", "kdata.records.validate")
    from kdata.records import incremental, listing

    _timed(listing, "record_files", "listing")
    _timed(listing, "code_fingerprint", "code fingerprint")
    _timed(incremental, "_connect", "open the cache")
    _timed(incremental, "_compare", "compare listing and cache (stat)")
    _timed(incremental, "_git_changes", "ask git")
    _timed(incremental, "_update", "recheck and patch (with the checks across records)")
    _timed(incremental, "_fill", "fill an empty cache")
    _timed(incremental, "_package_issues", "package file")
    total: Callable[..., Any] = incremental.check_tree
    start = time.process_time()
    checked = total(incremental.Path("raw"), git="--git" in sys.argv)
    whole = time.process_time() - start
    inside = sum(v for k, v in PHASES.items() if not k.startswith("import") and k != "listing")
    PHASES["rest of check_tree (texts, stored issues, commit)"] = whole - inside - PHASES.get("listing", 0.0)
    out = {k: round(v, 3) for k, v in PHASES.items()}
    out["total CPU"] = round(time.process_time(), 3)
    out["rechecked"] = checked.rechecked
    print(json.dumps(out))


if __name__ == "__main__":
    main()
