"""`--set` overrides with buildx's syntax and precedence (bake/bake.go newOverrides/AddOverrides).

`PATTERN.KEY=VALUE`, `PATTERN.KEY+=VALUE` (lists: append), `PATTERN.args.NAME=VALUE`. PATTERN is a
target name or a Go path.Match glob (`*`, `?`, `[..]`) over the target names. Repeating a list key
accumulates its values; `=` replaces the file's list, `+=` appends to it (the last operator given
for a key decides). An override applies to a target right after its own inherits are merged, so a
parent's override is inherited while a child's own value still wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.errors import BakeError

# --set keys holding a list (the value accumulates), as newOverrides lists them.
_LIST_KEYS = frozenset(
    {"output", "cache-to", "cache-from", "tags", "platform", "secrets", "ssh", "attest",
     "entitlements", "annotations", "no-cache-filter", "ulimits"}
)  # fmt: skip
_MAP_KEYS = frozenset({"args", "labels", "contexts", "extra-hosts"})
_SCALAR_KEYS = {
    "context": "context", "dockerfile": "dockerfile", "target": "target", "call": "call",
    "network": "network", "shm-size": "shm-size",
}  # fmt: skip
_LIST_FIELD = {"platform": "platforms", "secrets": "secret"}
# `=` replaces these lists; annotations always append (AddOverrides).
_REPLACED = _LIST_KEYS - {"annotations"}
# Keys buildx accepts whose effect dockyard models differently: refused by name.
_REFUSED = {"push": "use `dockyard release` to push", "load": "dockyard has no docker daemon"}


@dataclass
class Override:
    value: str | None = None
    values: list[str] = field(default_factory=list)
    append: bool = False


@dataclass(frozen=True)
class SetArg:
    raw: str
    pattern: str
    key: str  # "tags", "args.FOO"
    value: str | None  # None: `--set t.args.FOO` (value from the environment)
    append: bool


def parse_set(raw: str) -> SetArg:
    lhs, eq, value = raw.partition("=")
    append = bool(eq) and lhs.endswith("+")
    if append:
        lhs = lhs[:-1]
    parts = lhs.split(".", 2)
    if len(parts) < 2 or not parts[0]:
        raise BakeError(f"--set {raw}: invalid override key {lhs}, expected target.name")
    key = ".".join(parts[1:])
    base = parts[1]
    if base in _REFUSED:
        raise BakeError(f"--set {raw}: key {base} is not supported here ({_REFUSED[base]})")
    known = _LIST_KEYS | _MAP_KEYS | set(_SCALAR_KEYS) | {"no-cache", "pull"}
    if base not in known:
        raise BakeError(f"--set {raw}: unknown key: {base} (valid: {', '.join(sorted(known))})")
    if base in _MAP_KEYS and len(parts) != 3:
        raise BakeError(f"--set {raw}: invalid format for {base}, expecting {base}.<name>=<value>")
    if base not in _MAP_KEYS and len(parts) == 3:
        raise BakeError(f"--set {raw}: invalid key {lhs}: {base} takes no sub-key")
    return SetArg(raw, parts[0], key, value if eq else None, append)


def _glob(pattern: str) -> re.Pattern[str]:
    # Go path.Match: * and ? never cross '/', [..] classes with ^ or ! negation.
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                raise BakeError(f"--set: could not match targets with '{pattern}': syntax error")
            body = pattern[i + 1 : j]
            if body[:1] in ("^", "!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = j
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def expand(pattern: str, names: Iterable[str]) -> list[str]:
    names = list(names)
    if pattern in names:
        return [pattern]
    rx = _glob(pattern)
    found = [n for n in names if rx.match(n)]
    if not found:
        raise BakeError(f"--set: could not find any target matching '{pattern}'")
    return found


def collect(
    raws: Iterable[str], names: Iterable[str], env: Mapping[str, str]
) -> dict[str, dict[str, Override]]:
    """Target name -> --set key -> the accumulated override, in command-line order."""
    names = list(names)
    out: dict[str, dict[str, Override]] = {}
    for raw in raws:
        s = parse_set(raw)
        base = s.key.split(".", 1)[0]
        value = s.value
        if value is None and base == "args":
            value = env.get(s.key.split(".", 1)[1])
            if value is None:
                continue  # buildx: an unset variable leaves the arg alone
        for name in expand(s.pattern, names):
            o = out.setdefault(name, {}).setdefault(s.key, Override())
            o.append = s.append
            if base in _LIST_KEYS:
                if value is not None:
                    o.values.append(value)
            elif value is not None:
                o.value = value
    return out


def _bool(raw: str, key: str) -> bool:
    # Go strconv.ParseBool
    if raw in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if raw in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise BakeError(f"--set: invalid value {raw} for boolean key {key}")


def apply(target: dict[str, Any], overrides: Mapping[str, Override]) -> None:
    """Apply one target's overrides in place (bake.go Target.AddOverrides)."""
    for key, o in overrides.items():
        base, _, sub = key.partition(".")
        if base in _MAP_KEYS:
            target[base] = {**(target.get(base) or {}), sub: o.value or ""}
        elif base in _LIST_KEYS:
            name = _LIST_FIELD.get(base, base)
            if o.append or base not in _REPLACED:
                target[name] = [*(target.get(name) or []), *o.values]
            else:
                target[name] = list(o.values)
        elif base in ("no-cache", "pull"):
            target[base] = _bool(o.value or "", base)
        else:
            target[_SCALAR_KEYS[base]] = o.value or ""
