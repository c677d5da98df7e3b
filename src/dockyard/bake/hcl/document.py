"""Evaluate the HCL/JSON files of one bake invocation into a Definition (buildx hclparser.Parse).

All files share one namespace: `variable` blocks (overridable from the environment by the same
name), top-level attributes (constants, never overridable), user `function` blocks, and the
`target.NAME.ATTR` references. Evaluation is lazy and order independent (a variable may use one
declared later or in another file), yet every variable and constant is evaluated and validated
even when unused, as buildx does; a reference cycle is refused. Targets with `matrix` expand to
one target per combination, named by `name`, and their label becomes a group of those names.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.bake.definition import Definition, Origin
from dockyard.bake.fields import FieldError, convert
from dockyard.bake.hcl import ast
from dockyard.bake.hcl.errors import EvalProblem, Problem
from dockyard.bake.hcl.evaluate import Scope, evaluate, to_bool
from dockyard.bake.hcl.functions import STDLIB
from dockyard.bake.hcl.userfuncs import user_function
from dockyard.bake.hcl.variables import env_override, validate_type
from dockyard.errors import BakeError

_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
# Names buildx defines without a variable block (the reader puts their values in env).
BUILTINS = ("BAKE_LOCAL_PLATFORM", "BAKE_CMD_CONTEXT")
_TARGET_META = ("matrix", "name")


@dataclass(frozen=True)
class Located:
    file: str
    block: ast.Block | None
    node: Any  # ast.Attribute | ast.Block

    def origin(self) -> Origin:
        b = self.block
        where = f'{b.type} "{b.labels[0]}"' if b and b.labels else (b.type if b else "file")
        line = self.node.line if hasattr(self.node, "line") else 1
        return Origin(self.file, line, where)


def _fail(loc: Located, problem: Problem) -> BakeError:
    origin = loc.origin()
    return BakeError(f"{origin.file}:{problem.line}: {origin.block}: {problem.message}")


class Document:
    def __init__(self, files: Sequence[tuple[str, ast.Body]], env: Mapping[str, str]) -> None:
        self.env = env
        self.variables: dict[str, Located] = {}
        self.constants: dict[str, Located] = {}
        self.functions: dict[str, Located] = {}
        self.targets: list[Located] = []
        self.groups: list[Located] = []
        self.values: dict[str, Any] = {}
        self.evaluating: list[str] = []
        for fname, body in files:
            self._collect(fname, body)
        fns: dict[str, Any] = dict(STDLIB)
        for name, loc in self.functions.items():
            fns[name] = user_function(
                loc.node, self._global_scope, lambda p, loc=loc: _fail(loc, p)
            )
        self.fns = fns

    def _collect(self, fname: str, body: ast.Body) -> None:
        for attr in body.attributes:
            self.constants[attr.name] = Located(fname, None, attr)
        for b in body.blocks:
            if b.type in ("variable", "function", "target", "group") and len(b.labels) != 1:
                raise BakeError(
                    f'{fname}:{b.line}: {b.type}: needs exactly one label, like {b.type} "name"'
                )
            loc = Located(fname, b, b)
            if b.type == "variable":
                self.variables[b.labels[0]] = loc
            elif b.type == "function":
                self.functions[b.labels[0]] = loc
            elif b.type == "target":
                self.targets.append(loc)
            elif b.type == "group":
                self.groups.append(loc)
            else:
                raise BakeError(
                    f"{fname}:{b.line}: {b.type}: unsupported block type "
                    "(valid: variable, function, target, group)"
                )

    # -- names ----------------------------------------------------------------------------------
    def _global_scope(self) -> Scope:
        return Scope(self.lookup, self.fns)

    def lookup(self, name: str, line: int) -> Any:
        if name in self.values:
            return self.values[name]
        if name == "target":
            return _TargetRefs(self)
        if name not in self.variables and name not in self.constants:
            if name in BUILTINS and name in self.env:
                return self.env[name]
            raise EvalProblem(f'There is no variable named "{name}".', line)
        if name in self.evaluating:
            cycle = " -> ".join([*self.evaluating[self.evaluating.index(name) :], name])
            raise EvalProblem(f"variable cycle: {cycle}", line)
        self.evaluating.append(name)
        try:
            value = self._variable(name) if name in self.variables else self._constant(name)
        finally:
            self.evaluating.pop()
        self.values[name] = value
        return value

    def _constant(self, name: str) -> Any:
        loc = self.constants[name]
        try:
            return evaluate(loc.node.expr, self._global_scope())
        except EvalProblem as p:
            raise _fail(loc, p) from None

    def _variable(self, name: str) -> Any:
        loc = self.variables[name]
        body = loc.node.body
        scope = self._global_scope()
        try:
            typ = body.attr("type")
            default_attr = body.attr("default")
            default = evaluate(default_attr.expr, scope) if default_attr else None
            if typ is None and default_attr is None:
                default = ""
            found, value = env_override(
                name, self.env, self.variables, typ and typ.expr, default, loc.node.line
            )
            if not found:
                value = default
            if typ is not None and value is not None:
                value = validate_type(name, value, typ.expr)
        except EvalProblem as p:
            raise _fail(loc, p) from None
        self.values[name] = value
        for v in body.blocks:
            if v.type != "validation":
                continue
            try:
                cond = v.body.attr("condition")
                if cond and not to_bool(evaluate(cond.expr, scope), v.line):
                    msg_attr = v.body.attr("error_message")
                    msg = evaluate(msg_attr.expr, scope) if msg_attr else "validation failed"
                    raise EvalProblem(f"validation failed: {msg}", v.line)
            except EvalProblem as p:
                raise _fail(loc, p) from None
        return value

    # -- targets --------------------------------------------------------------------------------
    def raw_target_attr(self, name: str, attr: str, line: int) -> Any:
        """`target.NAME.ATTR`: the attribute as written in the last block declaring it."""
        for loc in reversed(self.targets):
            if loc.node.labels[0] == name:
                a = loc.node.body.attr(attr)
                if a is not None:
                    key = f"\0target.{name}.{attr}"
                    if key in self.evaluating:
                        raise EvalProblem(f"target.{name}.{attr} refers to itself", line)
                    self.evaluating.append(key)
                    try:
                        return evaluate(a.expr, self._global_scope())
                    finally:
                        self.evaluating.pop()
        raise EvalProblem(f'target "{name}" has no attribute "{attr}"', line)

    def _eval_block(self, loc: Located, scope: Scope) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for a in loc.node.body.attributes:
            if a.name in _TARGET_META:
                continue
            try:
                attrs[a.name] = convert(a.name, evaluate(a.expr, scope))
            except EvalProblem as p:
                raise _fail(loc, p) from None
            except FieldError as e:
                raise _fail(loc, Problem(str(e), a.line)) from None
        if loc.node.body.blocks:
            b = loc.node.body.blocks[0]
            raise _fail(loc, Problem(f'blocks of type "{b.type}" are not expected here', b.line))
        return attrs

    def _matrix(self, loc: Located) -> list[dict[str, Any]] | None:
        m = loc.node.body.attr("matrix")
        if m is None:
            return None
        try:
            value = evaluate(m.expr, self._global_scope())
        except EvalProblem as p:
            raise _fail(loc, p) from None
        if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
            what = (
                "matrix must be a map"
                if not isinstance(value, dict)
                else "matrix values must be a list"
            )
            raise _fail(loc, Problem(what, m.line))
        keys = list(value)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*value.values())]

    def definition(self, defn: Definition) -> None:
        """Fold every group and target block into `defn`, in file order.

        Every variable and constant is evaluated first, used or not, as buildx does: a failing
        validation or a bad environment value is an error even for a variable no target reads.
        """
        for name in [*self.variables, *self.constants]:
            self.lookup(name, 0)
        for fname, kind, loc in self._ordered():
            if kind == "group":
                self._group(defn, loc)
            else:
                self._target(defn, loc)
            if fname not in defn.files:
                defn.files.append(fname)

    def _ordered(self) -> list[tuple[str, str, Located]]:
        items = [(loc.file, "group", loc) for loc in self.groups]
        items += [(loc.file, "target", loc) for loc in self.targets]
        return sorted(items, key=lambda i: (self._file_index(i[0]), i[2].node.line))

    def _file_index(self, fname: str) -> int:
        order = list(dict.fromkeys(loc.file for loc in [*self.groups, *self.targets]))
        return order.index(fname)

    def _group(self, defn: Definition, loc: Located) -> None:
        attrs: dict[str, Any] = {}
        for a in loc.node.body.attributes:
            if a.name in ("matrix", "name"):
                raise _fail(loc, Problem(f"{a.name} is not supported for groups", a.line))
            if a.name not in ("targets", "description"):
                raise _fail(
                    loc, Problem(f'an argument named "{a.name}" is not expected here', a.line)
                )
            try:
                value = evaluate(a.expr, self._global_scope())
                attrs[a.name] = convert("inherits", value) if a.name == "targets" else value
            except EvalProblem as p:
                raise _fail(loc, p) from None
            except FieldError as e:
                raise _fail(loc, Problem(str(e).replace("inherits", "targets"), a.line)) from None
        defn.add_group(loc.node.labels[0], attrs.get("targets") or [], loc.origin())

    def _target(self, defn: Definition, loc: Located) -> None:
        label = loc.node.labels[0]
        combos = self._matrix(loc)
        if combos is None:
            name_attr = loc.node.body.attr("name")
            if name_attr is not None:
                raise _fail(loc, Problem("name requires matrix", name_attr.line))
            self._check_name(loc, label, loc.node.line)
            defn.add_target(label, self._eval_block(loc, self._global_scope()), loc.origin())
            return
        names: list[str] = []
        for combo in combos:
            scope = self._global_scope().child(combo)
            name_attr = loc.node.body.attr("name")
            if name_attr is None:
                raise _fail(loc, Problem("a target with a matrix needs a name", loc.node.line))
            try:
                name = evaluate(name_attr.expr, scope)
            except EvalProblem as p:
                raise _fail(loc, p) from None
            if not isinstance(name, str):
                raise _fail(loc, Problem("name must be a string", name_attr.line))
            self._check_name(loc, name, name_attr.line)
            if name in names:
                raise _fail(loc, Problem(f'duplicate name "{name}"', name_attr.line))
            names.append(name)
            origin = Origin(loc.file, loc.node.line, f'target "{name}"')
            defn.add_target(name, self._eval_block(loc, scope), origin)
        defn.add_group(label, names, loc.origin())

    def _check_name(self, loc: Located, name: str, line: int) -> None:
        if not _NAME.match(name):
            raise _fail(loc, Problem(
                f'invalid target name "{name}": only letters, digits, "_" and "-" are allowed', line
            ))  # fmt: skip


class _TargetRefs(dict):  # type: ignore[type-arg]
    """`target` as a value: `target.NAME.ATTR` reads NAME's attribute lazily."""

    def __init__(self, doc: Document) -> None:
        super().__init__()
        self.doc = doc

    def __contains__(self, name: object) -> bool:
        return True

    def __getitem__(self, name: str) -> Any:
        return _TargetAttrs(self.doc, name)


class _TargetAttrs(dict):  # type: ignore[type-arg]
    def __init__(self, doc: Document, name: str) -> None:
        super().__init__()
        self.doc, self.name = doc, name

    def __contains__(self, attr: object) -> bool:
        return True

    def __getitem__(self, attr: str) -> Any:
        return self.doc.raw_target_attr(self.name, attr, 0)
