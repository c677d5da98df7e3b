"""`${NAME}` interpolation for config strings (pure).

Grammar (the subset of HCL's template syntax bake users know):
`${NAME}` with NAME of letters, digits and `_` (not starting with a digit) is
replaced by the variable's value; `$${` is a literal `${`; any other `$` is
kept as written, so `$HOME` or `$$` in a smoke command pass through untouched.
A `${` that does not form `${NAME}` is refused rather than kept, because it is
almost always a typo that would otherwise reach a build unexpanded.

Errors raised here are `VariableError`s whose message has no field path; the
schema code adds the file and field in front.

Bounded (issue 17): a few hundred bytes of variables that each reference the
previous one several times expand exponentially (605 bytes gave 10 GB), and
a chain thousands deep overflowed Python's stack. A value may expand to at
most MAX_EXPANDED characters and reference chains may be MAX_DEPTH deep.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Far above any real build arg, tag or path, far below what hurts memory.
MAX_EXPANDED = 256 * 1024
# Real configs chain a handful of variables; Python's recursion limit is ~1000.
MAX_DEPTH = 64

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Alternatives in order: the escape, a well-formed reference, a malformed one.
_TOKEN = re.compile(r"\$(\$\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{([^}]{0,40}\}?)")


class VariableError(Exception):
    """A reference could not be expanded; the caller names the field.

    `variable` is set when the fault lies in a [variables] entry (that entry's name).
    """

    def __init__(self, message: str, *, variable: str = "") -> None:
        super().__init__(message)
        self.variable = variable


def references(text: str) -> list[str]:
    """Names referenced by `text`, in order (malformed references raise)."""
    names: list[str] = []
    for match in _TOKEN.finditer(text):
        _check(match)
        if match.group(2):
            names.append(match.group(2))
    return names


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """`text` with every ${NAME} replaced by variables[NAME], at most MAX_EXPANDED long."""
    size = len(text)

    def replace(match: re.Match[str]) -> str:
        nonlocal size
        _check(match)
        if match.group(1):
            return "${"
        name = match.group(2)
        if name not in variables:
            raise _undefined(name, variables)
        size += len(variables[name])
        if size > MAX_EXPANDED:  # counted before the string is built
            raise VariableError(
                f"expands to more than {MAX_EXPANDED} characters at ${{{name}}} "
                "(nested references multiply; the limit is 256 KiB)"
            )
        return variables[name]

    return _TOKEN.sub(replace, text)


def resolve(declared: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """Values of the declared variables, in declaration order.

    An override (the environment) wins and is taken literally; a declared value
    may reference other declared variables. Raises VariableError naming the
    variable at fault (undefined or malformed reference, or a cycle).
    """
    values: dict[str, str] = {}

    def value_of(name: str, stack: tuple[str, ...]) -> str:
        if name in values:
            return values[name]
        if name in overrides:
            values[name] = overrides[name]
            return values[name]
        if name in stack:
            cycle = " -> ".join([*stack[stack.index(name) :], name])
            raise VariableError(
                f"cycle {cycle} (a variable cannot depend on itself)", variable=stack[0]
            )
        if len(stack) >= MAX_DEPTH:
            raise VariableError(
                f"${{{stack[0]}}} references a chain of variables more than {MAX_DEPTH} deep "
                f"(at ${{{name}}})",
                variable=stack[0],
            )
        text = declared[name]
        try:
            refs = references(text)
        except VariableError as exc:
            raise VariableError(str(exc), variable=name) from None
        known: dict[str, str] = {}
        for ref in refs:
            if ref not in declared:
                raise VariableError(str(_undefined(ref, declared)), variable=name)
            known[ref] = value_of(ref, (*stack, name))
        try:
            values[name] = interpolate(text, known)
        except VariableError as exc:
            raise VariableError(f"${{{name}}} {exc}", variable=name) from None
        return values[name]

    for name in declared:
        value_of(name, ())
    return {name: values[name] for name in declared}


def _undefined(name: str, defined: Mapping[str, str]) -> VariableError:
    names = ", ".join(defined) or "none"
    return VariableError(f"undefined variable ${{{name}}} (defined in [variables]: {names})")


def _check(match: re.Match[str]) -> None:
    if match.group(3) is not None:
        raise VariableError(
            f"'${{{match.group(3)}' is not a variable reference "
            "(expected ${NAME} with NAME of letters, digits and _, or $${ for a literal ${)"
        )
