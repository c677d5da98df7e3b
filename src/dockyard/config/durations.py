"""Durations as dockyard.toml and the CLI write them: `90`, `90s`, `2m`, `1m30s`, `1.5h` (pure).

The units are docker's HEALTHCHECK units (Go's time.ParseDuration) without the
sub-second ones: a health check deadline is seconds to minutes.
"""

from __future__ import annotations

import math
import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
VALID_DURATIONS = "a number of seconds or a duration such as 90s, 2m, 1m30s"


def parse_duration(text: str) -> float:
    """Seconds from `text`; ValueError naming what would be valid."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = _with_units(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration (expected {VALID_DURATIONS})")
    return seconds


def _with_units(value: str) -> float:
    parts = list(_PART.finditer(value))
    if not parts or "".join(p.group(0) for p in parts) != value:
        raise ValueError(f"{value!r} is not a duration (expected {VALID_DURATIONS})")
    units = [p.group(2) for p in parts]
    if len(set(units)) != len(units):
        raise ValueError(f"{value!r} names a unit twice (expected {VALID_DURATIONS})")
    return sum(float(p.group(1)) * _UNITS[p.group(2)] for p in parts)
