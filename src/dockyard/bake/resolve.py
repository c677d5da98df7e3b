"""From a merged definition to the targets buildx would build (bake.go ReadTargets).

Requested names are expanded through groups (nested, each target once, a group shadowing a target
of the same name); each target is resolved by merging its `inherits` in order (transitively),
then its own attributes, then its --set overrides. Unlike buildx, which silently drops an
inheritance cycle, dockyard refuses it: a cycle is always a mistake in the file.
The printed groups are those reached, plus every requested name other than `default` appended
to a `default` group, as `docker buildx bake --print NAME` shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.bake import overrides as ov
from dockyard.bake.definition import Definition
from dockyard.bake.model import Resolved, merge, normalize


def _known(defn: Definition) -> str:
    """What could have been asked for, for an error about a name that is not there."""
    targets = ", ".join(sorted(defn.targets)) or "none"
    groups = ", ".join(sorted(defn.groups)) or "none"
    return f"targets: {targets}; groups: {groups}"


def _dedupe(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def expand_group(defn: Definition, name: str) -> tuple[list[str], list[str]]:
    """(targets, groups) reached from `name`, as buildx's Config.group walks them."""
    visited: dict[str, list[str]] = {}

    def walk(n: str) -> tuple[list[str], list[str]]:
        if n in visited:
            return visited[n], []
        if n not in defn.groups:
            return [n], []
        visited[n] = []  # a group listing itself names the target of that name
        targets: list[str] = []
        groups = [n]
        for t in defn.groups[n]:
            tt, tg = walk(t)
            targets.extend(tt if tt else [t])
            groups.extend(tg)
        visited[n] = targets
        return targets, groups

    targets, groups = walk(name)
    return _dedupe(targets), _dedupe(groups)


def _resolve_target(
    defn: Definition,
    name: str,
    sets: Mapping[str, Mapping[str, ov.Override]],
    cache: dict[str, dict[str, Any]],
    chain: tuple[str, ...],
) -> dict[str, Any]:
    if name in cache:
        return cache[name]
    if name in chain:
        origin = defn.origin("target", chain[-1])
        cycle = " -> ".join([*chain[chain.index(name) :], name])
        message = f"inherits cycle {cycle}"
        raise origin.error(message) if origin else defn.error(message)
    if name not in defn.targets:
        origin = defn.origin("target", chain[-1]) if chain else None
        message = f"failed to find target {name}"
        if origin:
            raise origin.error(message)
        raise defn.error(f"{message} ({_known(defn)})")
    own = defn.targets[name]
    parents: dict[str, Any] = {}
    for parent in own.get("inherits") or []:
        merge(parents, _resolve_target(defn, parent, sets, cache, (*chain, name)))
    t: dict[str, Any] = {}
    merge(t, parents)
    merge(t, own)
    ov.apply(t, sets.get(name, {}))
    cache[name] = t
    return t


def resolve_definition(
    defn: Definition, targets: Sequence[str], overrides: Sequence[str], env: Mapping[str, str]
) -> Resolved:
    sets = ov.collect(overrides, defn.targets, env)
    requested = list(targets) or ["default"]
    out: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[str]] = {}
    for req in requested:
        names, group_names = expand_group(defn, req)
        for name in names:
            if name not in defn.targets:
                # Point at the group that names the missing target, when one does.
                holder = next((g for g in group_names if name in defn.groups[g]), None)
                origin = defn.origin("group", holder) if holder else None
                if origin:
                    raise origin.error(f"failed to find target {name}")
            if name not in out:
                out[name] = normalize(_resolve_target(defn, name, sets, {}, ()))
        for g in group_names:
            groups[g] = list(defn.groups[g])
    for req in requested:
        if req == "default":
            continue
        default = groups.setdefault("default", [])
        if req not in default:
            default.append(req)
    return Resolved(groups=groups, targets=out)
