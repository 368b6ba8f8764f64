"""The environment variables kdata reads for numbers and switches, each with its default and what it allows.

Two tables: a number that is not a whole number, or lies outside its bounds, and a switch set to a
word it does not know (``KDATA_OFFLINE=maybe``), are refused in one line naming the variable and
the allowed values, before any work starts.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from kdata.errors import UsageError


class Setting(NamedTuple):
    """A numeric environment variable: what it sets, its bounds and its default (``None``: computed)."""

    meaning: str
    low: int
    high: int
    default: int | None


#: Every numeric environment variable kdata reads.
SETTINGS: dict[str, Setting] = {
    "KDATA_JOBS": Setting("worker processes for validating large trees", 1, 64, None),
    "KDATA_LOCK_TIMEOUT": Setting("seconds to wait for another kdata process to release a folder", 0, 86_400, 600),
    "KDATA_DOWNLOAD_TIMEOUT": Setting("seconds a whole download may take", 1, 86_400, 3600),
    "KDATA_DOWNLOAD_WAIT": Setting(
        "seconds a download waits for a connection or for more bytes, and the span its rate is measured over",
        1,
        3600,
        30,
    ),
    "KDATA_DOWNLOAD_MIN_RATE": Setting(
        "bytes per second a download must average over each KDATA_DOWNLOAD_WAIT span (0: no minimum)",
        0,
        10**9,
        1000,
    ),
    "KDATA_DOWNLOAD_RETRIES": Setting(
        "times a download is tried again after a refused or broken connection or a 429 or 5xx answer", 0, 10, 3
    ),
}


def number(name: str, default: int | None = None) -> int:
    """The value of the numeric environment variable ``name``, or its default when unset or empty.

    Args:
        name: A key of ``SETTINGS``.
        default: Used where the table's default is ``None`` (a value computed by the caller).

    Raises:
        UsageError: The variable is set to something other than a whole number within its bounds.
    """
    setting = SETTINGS[name]
    raw = os.environ.get(name, "").strip()
    fallback = setting.default if setting.default is not None else default
    if not raw:
        if fallback is None:
            raise TypeError(f"{name} has no default; pass one")
        return min(max(fallback, setting.low), setting.high)
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or not setting.low <= int(raw) <= setting.high:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise UsageError(
            f"{name}={shown!r} is not allowed: {setting.meaning} must be a whole number "
            f"from {setting.low} to {setting.high}."
        )
    return int(raw)


class Switch(NamedTuple):
    """An on/off environment variable: what it turns on. Unset or empty means off."""

    meaning: str


#: Every on/off environment variable kdata reads.
SWITCHES: dict[str, Switch] = {
    "KDATA_OFFLINE": Switch("never touch the network: only cached versions load"),
}

#: The words a switch accepts (compared without case or surrounding spaces), and what each means.
SWITCH_WORDS: dict[str, bool] = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def check() -> None:
    """Refuse any kdata environment variable set to a value it does not allow, before a command does any work.

    Raises:
        UsageError: The first setting or switch (in table order) set to a value it does not allow.
    """
    for name in SETTINGS:
        number(name, default=1)  # a computed default is only needed when the variable is unset
    for name in SWITCHES:
        switch(name)


def switch(name: str) -> bool:
    """Whether the on/off environment variable ``name`` is on; off when unset or empty.

    Args:
        name: A key of ``SWITCHES``.

    Raises:
        UsageError: The variable is set to a word that is not in ``SWITCH_WORDS``.
    """
    if name not in SWITCHES:
        raise KeyError(f"{name} is not in kdata.settings.SWITCHES")
    raw = os.environ.get(name, "").strip()
    if not raw:
        return False
    value = SWITCH_WORDS.get(raw.lower())
    if value is None:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        on = ", ".join(word for word, meaning in SWITCH_WORDS.items() if meaning)
        off = ", ".join(word for word, meaning in SWITCH_WORDS.items() if not meaning)
        raise UsageError(f"{name}={shown!r} is not allowed: use {on} (on) or {off} (off), or leave it unset.")
    return value
