"""Numeric environment variables (``kdata.settings``): bounded, and refused in one line when they are not numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_kdata
from inprocess import run_kdata_here

import kdata
from kdata import settings
from kdata.errors import UsageError

BAD = [
    "abc",
    "-1",
    "0",
    "65",
    "1e3",
    "2.5",
    "99999999999999999999",
    "\u0663",
    "1_0",
    "0x10",
    "4 4",
    "\u200b4",
    "4\x1b[31m",
]


@pytest.mark.parametrize("value", BAD, ids=repr)
def test_a_bad_kdata_jobs_is_refused_in_one_line(project: Path, value: str) -> None:
    result = run_kdata_here("validate", cwd=project, env={"KDATA_JOBS": value})
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, lines
    assert "KDATA_JOBS=" in lines[0] and "from 1 to 64" in lines[0] and "\x1b" not in lines[0]


@pytest.mark.parametrize("value", ["1", "2", " 3 ", "64", ""])
def test_good_kdata_jobs_values_validate(project: Path, value: str) -> None:
    assert run_kdata_here("validate", cwd=project, env={"KDATA_JOBS": value}).returncode == 0


def test_every_setting_has_sane_bounds_and_refuses_outside_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, setting in settings.SETTINGS.items():
        assert setting.low <= setting.high and setting.meaning
        for inside in (setting.low, setting.high):
            monkeypatch.setenv(name, str(inside))
            assert settings.number(name, default=1) == inside
        for outside in (setting.low - 1, setting.high + 1):
            monkeypatch.setenv(name, str(outside))
            with pytest.raises(UsageError, match=name):
                settings.number(name, default=1)
        monkeypatch.delenv(name)
        assert setting.low <= settings.number(name, default=10**9) <= setting.high  # defaults are capped too


def test_a_bad_lock_timeout_stops_a_build_before_it_starts(built: Path) -> None:
    """The real command, in its own process: one line, exit 2, dist/ untouched."""
    before = sorted(p.name for p in (built / "dist").iterdir())
    result = run_kdata("build", cwd=built, env={"KDATA_LOCK_TIMEOUT": "soon"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "KDATA_LOCK_TIMEOUT='soon'" in result.stderr
    assert sorted(p.name for p in (built / "dist").iterdir()) == before


def test_every_switch_knows_its_words_and_refuses_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in settings.SWITCHES:
        monkeypatch.delenv(name, raising=False)
        assert settings.switch(name) is False
        for word, meaning in settings.SWITCH_WORDS.items():
            for spelt in (word, word.upper(), f" {word} "):
                monkeypatch.setenv(name, spelt)
                assert settings.switch(name) is meaning
        for bad in ("maybe", "2", "tru", "o n", "yes please", "x" * 100):
            monkeypatch.setenv(name, bad)
            with pytest.raises(UsageError, match=f"^{name}=.* is not allowed: use 1, true, yes, on") as info:
                settings.switch(name)
            assert "\n" not in str(info.value) and len(str(info.value)) < 200


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KDATA_LOCK_TIMEOUT", "abc"),
        ("KDATA_DOWNLOAD_RETRIES", "11"),
        ("KDATA_DOWNLOAD_WAIT", "0"),
        ("KDATA_JOBS", "3.0"),
        ("KDATA_OFFLINE", "maybe"),
    ],
)
@pytest.mark.parametrize("command", [["info"], ["build", "--check"], ["versions"], ["cite"]])
def test_a_bad_value_stops_every_command_before_any_work(variable: str, value: str, command: list[str]) -> None:
    """Whichever setting the command reads (or none): one line naming the variable, exit 2.

    ``kdata info`` runs as a real process (one per variable); the other commands run through the
    command's own function in this process, with the variable set in its environment.
    """
    if command == ["info"]:
        done = subprocess.run(
            [sys.executable, "-m", "kdata", *command],
            env={**os.environ, variable: value},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
    else:
        done = run_kdata_here(*command, cwd=REPO, env={variable: value})
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.count("\n") == 1 and f"{variable}={value!r} is not allowed" in done.stderr


def test_a_bad_value_stops_a_cached_versioned_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled or cached copy would load without reading the variable; it is refused all the same."""
    monkeypatch.setenv("KDATA_DOWNLOAD_RETRIES", "abc")
    with pytest.raises(UsageError, match="KDATA_DOWNLOAD_RETRIES='abc' is not allowed"):
        kdata.load("events", version="0.1.0")
