"""Checking and converting an evaluated attribute value to the type buildx's Target field has.

HCL values arrive as Python values (str, int/float, bool, None, list, dict); buildx converts them
with cty's rules: numbers and bools become strings where a string is wanted ("1" for 1, "true"),
a map value may be null (not set here), a list field needs a list.
"""

from __future__ import annotations

from typing import Any

from dockyard.bake.model import ATTRIBUTES, BOOLS, LISTS, MAPS

# List attributes whose entries are key=value CSV strings, also writable as objects.
ENTRY_LISTS = frozenset({"cache-from", "cache-to", "output", "secret", "ssh", "attest"})


class FieldError(ValueError):
    """The value does not fit the attribute; the caller adds file, line and block."""


def render(value: Any) -> str:
    """A primitive as cty converts it to a string: shortest decimal numbers, true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    raise FieldError(f"a string is required, got {type_name(value)}")


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "tuple"
    return "object"


def convert(name: str, value: Any) -> Any:
    """The Target field value for attribute `name`, or FieldError saying what would be valid."""
    if name not in ATTRIBUTES:
        raise FieldError(f'an argument named "{name}" is not expected here')
    if value is None:
        return None
    if name in BOOLS:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise FieldError(f"{name} must be a bool, got {type_name(value)}")
    if name in MAPS:
        if not isinstance(value, dict):
            raise FieldError(f"{name} must be a map of strings, got {type_name(value)}")
        out: dict[str, str | None] = {}
        for k, v in value.items():
            if v is not None and isinstance(v, (list, dict)):
                raise FieldError(f"{name}.{k} must be a string, got {type_name(v)}")
            out[str(k)] = None if v is None else render(v)
        return out
    if name in LISTS or name == "inherits":
        if not isinstance(value, list):
            raise FieldError(f"{name} must be a list of strings, got {type_name(value)}")
        items = []
        for v in value:
            if isinstance(v, dict) and name in ENTRY_LISTS:
                # The object form (cache-from = [{type = "registry", ref = "r"}]) as the CSV
                # entry it stands for.
                items.append(",".join(f"{k}={render(x)}" for k, x in v.items() if x is not None))
                continue
            if v is None or isinstance(v, (list, dict)):
                raise FieldError(f"{name} must be a list of strings, got an element {type_name(v)}")
            items.append(render(v))
        return items
    if isinstance(value, (list, dict)):
        raise FieldError(f"{name} must be a string, got {type_name(value)}")
    return render(value)
