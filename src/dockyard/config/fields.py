"""Typed reads from a parsed TOML document, with field paths in every error (pure).

Each reader checks one value's type, interpolates `${NAME}` in strings, and on
any problem raises an InputError of exactly one line:

    <file>: <field path>: <what is wrong> (<what is valid>)

Field paths are written as a user would address the value in the file:
`targets.api.platforms[1]`, `targets.api.args.APP_VERSION`, keys that are not
bare TOML keys quoted (`targets.api.labels."org.opencontainers.image.title"`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from dockyard.config.durations import parse_duration
from dockyard.config.interpolate import VariableError, interpolate
from dockyard.errors import InputError

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# A target or group name (dockyard.toml keys, command-line names).
TARGET_NAME = re.compile(r"[A-Za-z0-9_-]+")
NAME_RULE = "letters, digits, '_' and '-'"


def key_path(parent: str, key: str) -> str:
    """`parent.key`, quoting the key as TOML would when it is not a bare key."""
    part = key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return f"{parent}.{part}" if parent else part


def index_path(parent: str, index: int) -> str:
    return f"{parent}[{index}]"


def type_name(value: object) -> str:
    """'a string', 'an integer', ... as the error messages say it."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, dt.datetime):
        return "a datetime"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time"
    return f"a {type(value).__name__}"


class Fields:
    """The readers, bound to one file's display name and its resolved variables."""

    def __init__(self, display: str, variables: Mapping[str, str] | None = None) -> None:
        self.display = display
        self.variables: Mapping[str, str] = variables or {}

    def error(self, path: str, what: str) -> InputError:
        prefix = f"{self.display}: {path}: " if path else f"{self.display}: "
        return InputError(prefix + what)

    def wrong_type(self, path: str, expected: str, value: object) -> InputError:
        return self.error(path, f"expected {expected}, got {type_name(value)}")

    # -- tables ---------------------------------------------------------------

    def table(
        self, value: object, path: str, *, keys: Collection[str] | None = None
    ) -> Mapping[str, Any]:
        """A table; with `keys`, any other key is refused with a did-you-mean."""
        if not isinstance(value, Mapping):
            raise self.wrong_type(path, "a table", value)
        if keys is not None:
            for key in value:
                if key not in keys:
                    raise self.unknown_key(key_path(path, key), key, keys)
        return value

    def unknown_key(self, path: str, key: str, valid: Collection[str]) -> InputError:
        close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
        if close:
            return self.error(path, f"unknown key (did you mean {close[0]!r}?)")
        return self.error(path, f"unknown key (valid: {', '.join(valid)})")

    # -- scalars --------------------------------------------------------------

    def string(self, value: object, path: str) -> str:
        """A string, with ${NAME} interpolated."""
        if not isinstance(value, str):
            raise self.wrong_type(path, "a string", value)
        try:
            return interpolate(value, self.variables)
        except VariableError as exc:
            raise self.error(path, str(exc)) from None

    def scalar_string(self, value: object, path: str) -> str:
        """A string, or a number or boolean turned into one as bake does (true, 3, 1.5)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float) and not (
            isinstance(value, float) and not math.isfinite(value)
        ):
            return str(value)
        if isinstance(value, str):
            return self.string(value, path)
        raise self.wrong_type(path, "a string, number or boolean", value)

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.wrong_type(path, "true or false", value)
        return value

    def integer(self, value: object, path: str, *, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.wrong_type(path, f"an integer from {low} to {high}", value)
        if not low <= value <= high:
            raise self.error(
                path, f"{value} is out of range (expected an integer from {low} to {high})"
            )
        return value

    def seconds(self, value: object, path: str, *, low: float, high: float) -> float:
        expected = f"a number of seconds from {low:g} to {high:g}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.wrong_type(path, expected, value)
        if not low <= value <= high:  # also refuses nan
            raise self.error(path, f"{value} is out of range (expected {expected})")
        return float(value)

    # -- collections ----------------------------------------------------------

    def duration(
        self, value: object, path: str, *, shape: str = "a duration such as 90s, 30m or 1h"
    ) -> float:
        """Seconds of a duration written as a string (interpolated) or a number of seconds."""
        if not isinstance(value, int | float | str) or isinstance(value, bool):
            raise self.wrong_type(path, shape, value)
        text = self.string(value, path) if isinstance(value, str) else value
        return parse_duration(text, what=f"{self.display}: {path}")

    def strings(self, value: object, path: str) -> tuple[str, ...]:
        """A list of strings, each interpolated."""
        if not isinstance(value, list):
            raise self.wrong_type(path, "a list of strings", value)
        return tuple(self.string(item, index_path(path, i)) for i, item in enumerate(value))

    def string_table(self, value: object, path: str) -> dict[str, str]:
        """A table of strings (numbers and booleans converted), e.g. build args or labels."""
        if not isinstance(value, Mapping):
            raise self.wrong_type(path, "a table of strings", value)
        return {key: self.scalar_string(item, key_path(path, key)) for key, item in value.items()}
