"""Byte sizes as people write them in config and on the command line (pure).

`parse_size("500MB") == 500_000_000`, `parse_size("1.5GiB") == 1_610_612_736`.
Decimal SI units (kB, MB, GB, TB: powers of 1000) and binary IEC units (KiB,
MiB, GiB, TiB: powers of 1024), matched case-insensitively because nobody
means kilobits when budgeting an image; a bare number is bytes. Single-letter
units ("500M") are refused: docker reads them as binary, most people as
decimal, and a size budget must not be ambiguous.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal

from dockyard.errors import InputError

# Canonical spelling -> factor. Order matters for format_size: biggest first,
# binary before decimal of the same magnitude.
_UNITS: dict[str, int] = {
    "TiB": 1024**4,
    "TB": 1000**4,
    "GiB": 1024**3,
    "GB": 1000**3,
    "MiB": 1024**2,
    "MB": 1000**2,
    "KiB": 1024,
    "kB": 1000,
    "B": 1,
}
_BY_LOWER = {unit.lower(): factor for unit, factor in _UNITS.items()}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*")

VALID_SIZES = (
    "a number of bytes, or a number with kB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. 500MB or 1.5GiB"
)


def _refuse(text: object) -> InputError:
    shown = repr(text) if isinstance(text, str) else str(text)
    return InputError(f"{shown} is not a size (expected {VALID_SIZES})")


def parse_size(text: str | int) -> int:
    """Bytes in `text`; fractions of a byte are dropped (1.5kB -> 1500, 0.0001kB -> 0)."""
    if isinstance(text, bool):  # bool is an int: True is not "1 byte"
        raise _refuse(text)
    if isinstance(text, int):
        if text < 0:
            raise _refuse(text)
        return text
    match = _SIZE.fullmatch(text)
    if match is None:
        raise _refuse(text)
    number, unit = match.groups()
    factor = _BY_LOWER.get(unit.lower() or "b")
    if factor is None:
        raise _refuse(text)
    return int((Decimal(number) * factor).to_integral_value(rounding=ROUND_FLOOR))


def format_size(size: int) -> str:
    """The shortest exact spelling of `size`: 500_000_000 -> "500MB", 1536 -> "1.5KiB".

    parse_size(format_size(n)) == n for every n >= 0.
    """
    if size < 0:
        raise ValueError(f"negative size {size}")
    for unit, factor in _UNITS.items():
        if size < factor:
            continue
        quotient = Decimal(size) / factor
        # At most three decimals keeps it readable; anything finer falls to a smaller unit.
        if quotient == quotient.quantize(Decimal("0.001")) and quotient * factor == size:
            text = format(quotient.normalize(), "f")
            return f"{text}{unit}"
    return f"{size}B"


def round_size(n: int) -> str:
    """Rounded for reading, in decimal units as registries and docker show image
    sizes ("12.3 MB"); format_size is the exact spelling a config takes."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"
