"""Durations as people write them in flags and config: `90s`, `30m`, `1h`, `1h30m`, `45` (pure).

One parser for `--timeout` and `[retry] deadline`; its error is one line that
names where the value came from and what would be valid.
"""

from __future__ import annotations

import re

from dockyard.errors import InputError

_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}
EXPECTED = "expected a duration such as 90s, 30m, 1h or 1h30m (a bare number is seconds)"


def parse_duration(text: str | float | int, *, what: str) -> float:
    """Seconds in `text`; `what` names the flag or field for the error (exit 2)."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise InputError(f"{what}: {text!r} is not a duration ({EXPECTED})")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        value = text.strip().lower()
        seconds = _seconds(value)
        if seconds is None:
            raise InputError(f"{what}: {text!r} is not a duration ({EXPECTED})")
    if not seconds > 0 or seconds == float("inf"):  # also refuses nan
        raise InputError(f"{what}: {text!r} must be more than 0 ({EXPECTED})")
    return seconds


def _seconds(value: str) -> float | None:
    try:
        return float(value) if value and value[0].isdigit() else None
    except ValueError:
        pass
    parts = _PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    units = [u for _, u in parts]
    if len(set(units)) != len(units) or units != sorted(units, key="hms".index):
        return None  # "5s3m" or "1m1m": a typo more likely than a meaning
    return sum(float(n) * _UNIT[u] for n, u in parts)


def format_duration(seconds: float) -> str:
    """`1800` -> `30m`, `5400` -> `1h30m`, `2.5` -> `2.5s`: how messages name a duration."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    text += f"{secs}s" if secs or not text else ""
    return text
