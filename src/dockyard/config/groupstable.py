"""dockyard.toml's [groups] table: name -> its targets and groups (pure; native.py calls it).

    [groups]
    default = ["api", "web"]
    all     = ["default", "worker"]

Every member must be a target or a group (a close name is suggested), a group
may not share a target's name, and no group may contain itself.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from dockyard.config.fields import NAME_RULE, TARGET_NAME, Fields, index_path, key_path
from dockyard.config.model import Target


def groups_table(
    fields: Fields, value: object, targets: Mapping[str, Target]
) -> dict[str, tuple[str, ...]]:
    table = fields.table(value, "groups")
    groups: dict[str, tuple[str, ...]] = {}
    for name, item in table.items():
        path = key_path("groups", name)
        if not TARGET_NAME.fullmatch(name):
            raise fields.error(path, f"{name!r} is not a group name (expected {NAME_RULE})")
        if name in targets:
            raise fields.error(
                path, f"{name!r} is already a target (a group needs a name of its own)"
            )
        groups[name] = fields.strings(item, path)
    for name, members in groups.items():
        for i, member in enumerate(members):
            if member not in targets and member not in groups:
                raise fields.error(
                    index_path(key_path("groups", name), i),
                    _unknown_member(member, targets, groups),
                )
    cycle = _find_cycle(groups)
    if cycle:
        raise fields.error("groups", f"cycle {' -> '.join(cycle)} (a group cannot contain itself)")
    return groups


def _unknown_member(
    member: str, targets: Mapping[str, Target], groups: Mapping[str, tuple[str, ...]]
) -> str:
    close = difflib.get_close_matches(member, [*targets, *groups], n=1, cutoff=0.6)
    if close:
        return f"unknown target or group {member!r} (did you mean {close[0]!r}?)"
    known = "known: " + ", ".join(targets)
    if groups:
        known += "; groups: " + ", ".join(groups)
    return f"unknown target or group {member!r} ({known})"


def _find_cycle(groups: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The first cycle found walking groups in file order, e.g. [default, all, default]."""
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> list[str]:
        if name in stack:
            return [*stack[stack.index(name) :], name]
        if name in done or name not in groups:
            return []
        for member in groups[name]:
            found = visit(member, [*stack, name])
            if found:
                return found
        done.add(name)
        return []

    for name in groups:
        cycle = visit(name, [])
        if cycle:
            return cycle
    return []
