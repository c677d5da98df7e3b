"""Evaluate the syntax tree to Python values with HCL/cty semantics.

Values: str, int/float (numbers), bool, None (null), list (tuple/list/set), dict (object/map).
cty converts between primitives where HCL would: "5" + 1 is 6, a bool where a string is wanted is
"true"; equality does not convert ("1" == 1 is false). A template that is exactly one `${...}`
yields the raw value (a list stays a list), as HCL does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from dockyard.bake.fields import FieldError, render, type_name
from dockyard.bake.hcl import ast
from dockyard.bake.hcl.errors import EvalProblem
from dockyard.bake.hcl.variables import validate_type

Function = Callable[[list[Any]], Any]


class Scope:
    """Names visible to an expression: local bindings over a global resolver, and functions."""

    def __init__(
        self,
        resolve: Callable[[str, int], Any],
        functions: Mapping[str, Function],
        local: Mapping[str, Any] | None = None,
    ) -> None:
        self.resolve = resolve
        self.functions = functions
        self.local = dict(local or {})

    def child(self, bindings: Mapping[str, Any]) -> Scope:
        return Scope(self.resolve, self.functions, {**self.local, **bindings})

    def lookup(self, name: str, line: int) -> Any:
        if name in self.local:
            return self.local[name]
        return self.resolve(name, line)


def to_number(v: Any, line: int) -> int | float:
    if isinstance(v, bool) or v is None or isinstance(v, (list, dict)):
        raise EvalProblem(f"a number is required, got {type_name(v)}", line)
    if isinstance(v, (int, float)):
        return v
    try:
        f = float(v)
    except ValueError:
        raise EvalProblem(f'a number is required, got the string "{v}"', line) from None
    if math.isnan(f) or math.isinf(f):
        raise EvalProblem(f'a number is required, got the string "{v}"', line)
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


def to_bool(v: Any, line: int) -> bool:
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise EvalProblem(f"a bool is required, got {type_name(v)}", line)


def to_str(v: Any, line: int) -> str:
    if v is None:
        raise EvalProblem("a string is required, got null", line)
    try:
        return render(v)
    except FieldError as exc:
        raise EvalProblem(str(exc), line) from None


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _num(x: float) -> int | float:
    return int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 2**63 else x


def _arith(op: str, a: Any, b: Any, line: int) -> Any:
    try:
        return _arith_numbers(op, to_number(a, line), to_number(b, line), line)
    except (ValueError, OverflowError):  # fmod(inf, y), int overflow on huge literals
        raise EvalProblem(f"the result of {op} is not a finite number", line) from None


def _arith_numbers(op: str, x: int | float, y: int | float, line: int) -> Any:
    if op == "+":
        return _num(x + y)
    if op == "-":
        return _num(x - y)
    if op == "*":
        return _num(x * y)
    if y == 0:
        raise EvalProblem("division by zero", line)
    if op == "/":
        return _num(x / y)
    return _num(math.fmod(x, y))


def _compare(op: str, a: Any, b: Any, line: int) -> bool:
    x, y = to_number(a, line), to_number(b, line)
    return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _items(coll: Any, line: int) -> list[tuple[Any, Any]]:
    if isinstance(coll, list):
        return list(enumerate(coll))
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    raise EvalProblem(f"a for expression needs a list or map, got {type_name(coll)}", line)


def _index(obj: Any, key: Any, line: int) -> Any:
    if isinstance(obj, list):
        i = to_number(key, line)
        if not float(i).is_integer() or not 0 <= int(i) < len(obj):
            raise EvalProblem(f"index {render(i)} out of range for a list of {len(obj)}", line)
        return obj[int(i)]
    if isinstance(obj, dict):
        k = to_str(key, line)
        if k not in obj:
            raise EvalProblem(f'this map has no element for the key "{k}"', line)
        return obj[k]
    raise EvalProblem(f"cannot index a {type_name(obj)}", line)


def evaluate(node: ast.Node, scope: Scope) -> Any:
    line = node.line
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.Template):
        return _template(node, scope)
    if isinstance(node, ast.Var):
        return scope.lookup(node.name, line)
    if isinstance(node, ast.SplatItem):
        return scope.lookup("\0splat", line)
    if isinstance(node, ast.GetAttr):
        obj = evaluate(node.obj, scope)
        if not isinstance(obj, dict):
            raise EvalProblem(f'cannot read attribute "{node.name}" of a {type_name(obj)}', line)
        if node.name not in obj:
            raise EvalProblem(f'this object does not have an attribute named "{node.name}"', line)
        try:
            return obj[node.name]
        except EvalProblem as p:  # target.NAME.ATTR evaluated lazily, without a position
            raise EvalProblem(p.message, p.line or line) from None
    if isinstance(node, ast.Index):
        return _index(evaluate(node.obj, scope), evaluate(node.key, scope), line)
    if isinstance(node, ast.Splat):
        obj = evaluate(node.obj, scope)
        items = [] if obj is None else obj if isinstance(obj, list) else [obj]
        return [evaluate(node.each, scope.child({"\0splat": it})) for it in items]
    if isinstance(node, ast.Tuple):
        return [evaluate(i, scope) for i in node.items]
    if isinstance(node, ast.Object):
        out: dict[str, Any] = {}
        for k, v in node.items:
            out[to_str(evaluate(k, scope), k.line)] = evaluate(v, scope)
        return out
    if isinstance(node, ast.Unary):
        x = evaluate(node.x, scope)
        if node.op == "!":
            return not to_bool(x, line)
        return _num(-to_number(x, line))
    if isinstance(node, ast.Binary):
        return _binary(node, scope)
    if isinstance(node, ast.Cond):
        c = evaluate(node.cond, scope)
        if c is None:
            raise EvalProblem("the condition is null", line)
        return evaluate(node.then if to_bool(c, line) else node.other, scope)
    if isinstance(node, ast.ForExpr):
        return _for(node, scope)
    if isinstance(node, ast.Call):
        return _call(node, scope)
    raise EvalProblem(f"cannot evaluate {type(node).__name__}", line)


def _binary(node: ast.Binary, scope: Scope) -> Any:
    op, line = node.op, node.line
    a = evaluate(node.left, scope)
    if op == "&&":
        return to_bool(a, line) and to_bool(evaluate(node.right, scope), line)
    if op == "||":
        return to_bool(a, line) or to_bool(evaluate(node.right, scope), line)
    b = evaluate(node.right, scope)
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if op in ("<", ">", "<=", ">="):
        return _compare(op, a, b, line)
    return _arith(op, a, b, line)


def _for(node: ast.ForExpr, scope: Scope) -> Any:
    coll = evaluate(node.coll, scope)
    if coll is None:
        raise EvalProblem("a for expression cannot iterate over null", node.line)
    out_list: list[Any] = []
    out_map: dict[str, Any] = {}
    for k, v in _items(coll, node.line):
        bind = {node.value: v}
        if node.key:
            bind[node.key] = k
        inner = scope.child(bind)
        if node.cond is not None and not to_bool(evaluate(node.cond, inner), node.line):
            continue
        value = evaluate(node.value_expr, inner)
        if node.key_expr is None:
            out_list.append(value)
            continue
        key = to_str(evaluate(node.key_expr, inner), node.line)
        if node.group:
            out_map.setdefault(key, []).append(value)
        elif key in out_map:
            raise EvalProblem(f'duplicate key "{key}" in a for expression (use ... )', node.line)
        else:
            out_map[key] = value
    return out_list if node.key_expr is None else out_map


def _call(node: ast.Call, scope: Scope) -> Any:
    fn = scope.functions.get(node.name)
    if fn is None:
        raise EvalProblem(f'There is no function named "{node.name}"', node.line)
    if node.name == "convert":  # its second argument is a type expression, not a value
        if len(node.args) != 2:
            raise EvalProblem("convert(): takes a value and a type", node.line)
        return validate_type("convert()", evaluate(node.args[0], scope), node.args[1])
    args: list[Any]
    if node.name in ("try", "can"):  # lazy: they catch their arguments' errors
        args = [lambda a=a: evaluate(a, scope) for a in node.args]
    else:
        args = [evaluate(a, scope) for a in node.args]
    if node.expand:
        last = args.pop() if args else None
        if not isinstance(last, list):
            raise EvalProblem("the argument before ... must be a list", node.line)
        args.extend(last)
    try:
        return fn(args)
    except EvalProblem as p:
        if p.line == 0:  # raised by a helper that had no position: give it the call's
            raise EvalProblem(f"{node.name}(): {p.message}", node.line) from None
        raise
    except IndexError:
        raise EvalProblem(
            f"{node.name}(): wrong number of arguments ({len(args)})", node.line
        ) from None
    except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
        raise EvalProblem(f"{node.name}(): {exc}", node.line) from None


def _template(node: ast.Template, scope: Scope) -> Any:
    parts = node.parts
    if (
        len(parts) == 1
        and isinstance(parts[0], ast.Node)
        and not isinstance(parts[0], (ast.TemplateIf, ast.TemplateFor))
    ):
        return evaluate(parts[0], scope)
    return _render_parts(parts, scope)


def _render_parts(parts: tuple[Any, ...], scope: Scope) -> str:
    out: list[str] = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, ast.TemplateIf):
            c = evaluate(p.cond, scope)
            if to_bool(c, p.line):
                out.append(_render_parts(p.then.parts, scope))
            elif p.other is not None:
                out.append(_render_parts(p.other.parts, scope))
        elif isinstance(p, ast.TemplateFor):
            for k, v in _items(evaluate(p.coll, scope), p.line):
                bind = {p.value: v, **({p.key: k} if p.key else {})}
                out.append(_render_parts(p.body.parts, scope.child(bind)))
        else:
            v = evaluate(p, scope)
            if v is None:
                raise EvalProblem("invalid template interpolation value: the value is null", p.line)
            if isinstance(v, (list, dict)):
                raise EvalProblem(
                    f"invalid template interpolation value: cannot include a {type_name(v)}", p.line
                )
            out.append(to_str(v, p.line))
    return "".join(out)
