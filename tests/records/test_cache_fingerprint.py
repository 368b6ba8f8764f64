"""The validate cache is keyed by the code that checks a file: every kdata module a file check runs counts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kdata
from kdata.records import listing

KDATA = Path(kdata.__file__).resolve().parent


def test_every_module_a_file_check_imports_is_in_the_fingerprint() -> None:
    """Run in a fresh process: import the file check, list the kdata modules it loaded, compare."""
    code = (
        "import sys; from kdata.records import scan, validate; "
        "print('\\n'.join(m.__file__ for n, m in list(sys.modules.items()) if n.startswith('kdata') and m.__file__))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    here = KDATA / "records"
    covered = {(here / m).resolve() for m in listing._CHECKING_CODE} | set(here.glob("*.py"))
    missing = [f for f in map(Path, loaded) if f.name != "__init__.py" and f.resolve() not in covered]
    assert missing == []


def test_a_change_to_any_checking_module_changes_the_fingerprint(tmp_path: Path) -> None:
    """A copy of kdata/records with one rule module edited has another fingerprint (the cache is not reused)."""
    import shutil

    records = tmp_path / "kdata" / "records"
    shutil.copytree(KDATA / "records", records)
    for name in listing._CHECKING_CODE:
        shutil.copy2(KDATA / "records" / name, records / name)
    probe = (
        "import importlib.util, sys; spec = importlib.util.spec_from_file_location('s', sys.argv[1]); "
        "m = importlib.util.module_from_spec(spec); sys.modules['s'] = m; spec.loader.exec_module(m); "
        "print(m._fingerprint())"
    )

    def fingerprint() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(records / "scan.py")], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    before = fingerprint()
    neutral = records / "neutral.py"
    neutral.write_text(neutral.read_text("utf-8").replace('"victor":', '"winner": "x",\n    "victor":'), "utf-8")
    assert fingerprint() != before
