"""Variable values from the environment, and `type =` constraints (bake's typed variables).

An environment variable overrides a `variable` block of the same name (unless
BUILDX_BAKE_DISABLE_VARS_ENV_LOOKUP is set). Its string is read as the variable's type:
- with `type =`: primitives as themselves, list/set/tuple of primitives as one CSV record;
  any typed variable also takes JSON from NAME_JSON, which wins over NAME (unless NAME_JSON is
  itself a declared variable). A map or object is read only from NAME_JSON: buildx's "limited"
  CSV form for them is not documented precisely enough to copy, so NAME alone is refused.
- without it, as the type of the default: a number default parses the value like Go's
  strconv.ParseFloat, a bool default like strconv.ParseBool, a string stays a string; a list or
  map default cannot be overridden without a `type` (bake-reference.md "typed variables").
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Collection, Mapping
from typing import Any

from dockyard.bake.fields import type_name
from dockyard.bake.hcl import ast
from dockyard.bake.hcl.errors import EvalProblem

_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")
_PRIMITIVES = ("string", "number", "bool", "any")


def parse_bool(name: str, raw: str, line: int) -> bool:
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise EvalProblem(f"failed to parse {name} as bool", line)


def parse_number(name: str, raw: str, line: int) -> int | float:
    try:  # Go's ParseFloat takes no surrounding spaces and no "_" in a decimal
        f = float("x" if "_" in raw or raw != raw.strip() else raw)
    except ValueError:
        raise EvalProblem(f"failed to parse {name} as number", line) from None
    if math.isnan(f) or math.isinf(f):
        raise EvalProblem(f"failed to parse {name} as number", line)
    return int(f) if f.is_integer() else f


def _type_of(expr: ast.Node, line: int) -> tuple[str, Any]:
    """A type expression as (kind, argument): ("string", None), ("list", ("string", None))."""
    if isinstance(expr, ast.Var) and expr.name in _PRIMITIVES:
        return expr.name, None
    if isinstance(expr, ast.Call) and expr.name in ("list", "set", "map") and len(expr.args) == 1:
        return expr.name, _type_of(expr.args[0], line)
    if isinstance(expr, ast.Call) and expr.name in ("tuple", "object") and len(expr.args) == 1:
        return expr.name, expr.args[0]
    raise EvalProblem(
        "invalid type: use string, number, bool, any, list(T), set(T), map(T), tuple([...]) "
        "or object({...})",
        line,
    )


def _from_string(name: str, raw: str, typ: tuple[str, Any], line: int) -> Any:
    kind, arg = typ
    if kind in ("string", "any"):
        return raw
    if kind == "number":
        return parse_number(name, raw, line)
    if kind == "bool":
        return parse_bool(name, raw, line)
    if kind in ("list", "set", "tuple"):
        row = next(csv.reader(io.StringIO(raw)), []) if raw != "" else []
        if kind == "tuple":
            elems = [_type_of(e, line) for e in getattr(arg, "items", ())]
            if len(elems) != len(row):
                raise EvalProblem(f"failed to parse {name}: {len(elems)} values expected", line)
            return [_from_string(name, item, t, line) for item, t in zip(row, elems, strict=True)]
        if arg[0] not in ("string", "number", "bool", "any"):
            raise EvalProblem(f"{name}: a list of collections is read only from {name}_JSON", line)
        return [_from_string(name, item, arg, line) for item in row]
    raise EvalProblem(f"{name}: a {kind} is read only as JSON from the {name}_JSON variable", line)


def env_override(
    name: str,
    env: Mapping[str, str],
    declared: Collection[str],
    type_expr: ast.Node | None,
    default: Any,
    line: int,
) -> tuple[bool, Any]:
    """(True, value) when the environment overrides variable `name`, else (False, None)."""
    if env.get("BUILDX_BAKE_DISABLE_VARS_ENV_LOOKUP", "") not in ("", "0", "false"):
        return False, None
    if type_expr is not None:
        typ = _type_of(type_expr, line)
        json_name = f"{name}_JSON"
        if json_name in env and json_name not in declared:
            try:
                return True, json.loads(env[json_name])
            except json.JSONDecodeError:
                raise EvalProblem(f"failed to parse {json_name} as JSON", line) from None
        if name in env:
            return True, _from_string(name, env[name], typ, line)
        return False, None
    if name not in env:
        return False, None
    raw = env[name]
    if isinstance(default, bool):
        return True, parse_bool(name, raw, line)
    if isinstance(default, (int, float)):
        return True, parse_number(name, raw, line)
    if isinstance(default, (list, dict)):
        raise EvalProblem(
            f"variable {name} has a {type_name(default)} default: overriding it from the "
            "environment needs a type (e.g. type = list(string))",
            line,
        )
    return True, raw


def _check(name: str, value: Any, typ: tuple[str, Any], line: int) -> Any:
    kind, arg = typ
    if kind == "any":
        return value
    if kind == "string":
        if isinstance(value, (list, dict)):
            raise EvalProblem(
                f"variable {name}: a string is required, got {type_name(value)}", line
            )
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise EvalProblem(
                f"variable {name}: a number is required, got {type_name(value)}", line
            )
        return parse_number(name, value, line) if isinstance(value, str) else value
    if kind == "bool":
        if isinstance(value, str):
            return parse_bool(name, value, line)
        if not isinstance(value, bool):
            raise EvalProblem(f"variable {name}: a bool is required, got {type_name(value)}", line)
        return value
    if kind in ("list", "set"):
        if not isinstance(value, list):
            raise EvalProblem(
                f"variable {name}: a {kind} is required, got {type_name(value)}", line
            )
        return [_check(name, v, arg, line) for v in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise EvalProblem(f"variable {name}: a map is required, got {type_name(value)}", line)
        return {k: _check(name, v, arg, line) for k, v in value.items()}
    return value  # tuple/object: shape not checked further


def validate_type(name: str, value: Any, type_expr: ast.Node) -> Any:
    """The value converted to the declared type, or an error naming the variable."""
    return _check(name, value, _type_of(type_expr, type_expr.line), type_expr.line)
