"""User `function` blocks: `function "name" { params = [a] variadic_param = rest result = ... }`.

The result is evaluated in the global scope (variables, other functions) plus the parameters;
a parameter may be named like a type keyword (`number`), as bake allows. The JSON form writes
parameter names as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dockyard.bake.hcl import ast
from dockyard.bake.hcl.errors import EvalProblem, Problem
from dockyard.bake.hcl.evaluate import Scope, evaluate


def user_function(
    block: ast.Block,
    scope: Callable[[], Scope],
    fail: Callable[[Problem], Exception],
) -> Callable[[list[Any]], Any]:
    """A `function "name" { params = [a, b] variadic_param = c result = ... }` block."""
    body = block.body

    def names(attr: str) -> list[str]:
        a = body.attr(attr)
        if a is None:
            return []
        items = a.expr.items if isinstance(a.expr, ast.Tuple) else (a.expr,)
        out = []
        for it in items:
            if isinstance(it, ast.Var):
                out.append(it.name)
            elif (
                isinstance(it, ast.Template) and len(it.parts) == 1 and isinstance(it.parts[0], str)
            ):
                out.append(it.parts[0])  # the JSON form writes names as strings
            else:
                raise fail(Problem(f"{attr} must list parameter names", a.line))
        return out

    params, variadic = names("params"), names("variadic_param")
    result = body.attr("result")
    if result is None:
        raise fail(Problem(f'function "{block.labels[0]}" needs a result', block.line))

    def call(args: list[Any]) -> Any:
        if len(args) < len(params) or (len(args) > len(params) and not variadic):
            raise EvalProblem(
                f"{block.labels[0]}() takes {len(params)} argument(s), got {len(args)}", result.line
            )
        bind = dict(zip(params, args, strict=False))
        if variadic:
            bind[variadic[0]] = args[len(params) :]
        return evaluate(result.expr, scope().child(bind))

    return call
