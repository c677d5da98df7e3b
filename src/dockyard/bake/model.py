"""A bake target as buildx keeps it: its fields, how two definitions merge, and the --print shape.

A target is a plain dict keyed by buildx's attribute names (`no-cache`, `cache-from`); values are
`str` (scalars), `bool` (pull, no-cache), `list[str]` (tags, platforms, cache-from, ...) and
`dict[str, str | None]` (args, labels, contexts, extra-hosts; None is a null "not set here").
The merge rules are buildx's `Target.Merge` (bake/bake.go): some lists are replaced by the later
definition, others appended; maps are merged by key and a null value never unsets anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# buildx's Target struct order, which is the order `--print` writes the keys in.
FIELD_ORDER = (
    "description", "context", "contexts", "dockerfile", "dockerfile-inline", "args", "labels",
    "tags", "cache-from", "cache-to", "target", "secret", "ssh", "platforms", "annotations",
    "attest", "output", "pull", "no-cache", "network", "no-cache-filter", "shm-size", "ulimits",
    "call", "entitlements", "extra-hosts",
)  # fmt: skip
SCALARS = frozenset(
    {"description", "context", "dockerfile", "dockerfile-inline", "target", "network",
     "shm-size", "call"}
)  # fmt: skip
BOOLS = frozenset({"pull", "no-cache"})
MAPS = frozenset({"args", "labels", "contexts", "extra-hosts"})
# A later definition replaces these lists (bake.go Target.Merge "replace" branches).
REPLACED_LISTS = frozenset({"tags", "platforms", "cache-to", "output"})
# ... and appends to these (deduplicated when the target is resolved).
APPENDED_LISTS = frozenset(
    {"cache-from", "annotations", "secret", "ssh", "attest", "no-cache-filter", "ulimits",
     "entitlements"}
)  # fmt: skip
LISTS = REPLACED_LISTS | APPENDED_LISTS
# Every attribute a target block may carry; `inherits`, `matrix`, `name` are handled before.
ATTRIBUTES = SCALARS | BOOLS | MAPS | LISTS | {"inherits"}


def merge(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    """Merge `src` over `dst` in place, as buildx's Target.Merge does."""
    for key, value in src.items():
        if key == "inherits":
            continue
        if key in MAPS:
            if value is None:
                continue
            into = dict(dst.get(key) or {})
            for k, v in value.items():
                if v is not None:
                    into[k] = v
                else:
                    into.setdefault(k, None)
            dst[key] = into
        elif key in APPENDED_LISTS:
            if value is not None:
                dst[key] = [*(dst.get(key) or []), *value]
        elif value is not None:
            dst[key] = list(value) if isinstance(value, list) else value


def _dedupe(values: list[str]) -> list[str]:
    # buildx's removeDupesStr: drops empty strings and repeats, keeps first-seen order.
    seen: dict[str, None] = {}
    for v in values:
        if v != "":
            seen.setdefault(v, None)
    return list(seen)


def _is_remote(path: str) -> bool:
    # buildx build.IsRemoteURL, near enough: URLs, git@ remotes, github.com/ shorthands.
    return "://" in path or path.startswith(("git@", "github.com/"))


def clean_path(path: str) -> str:
    """Go's path.Clean, which buildx applies to a local context before --print shows it."""
    if path.startswith("cwd://"):  # BAKE_CMD_CONTEXT's local form: buildx strips it
        path = path.removeprefix("cwd://")
    if not path or _is_remote(path):
        return path or "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part == ".." and rooted:
            continue
        else:
            parts.append(part)
    out = "/".join(parts)
    return ("/" + out) if rooted else (out or ".")


def normalize(target: Mapping[str, Any]) -> dict[str, Any]:
    """The --print form: defaults filled, lists deduplicated, nulls and empties dropped, ordered."""
    t = dict(target)
    t["context"] = clean_path(t.get("context") or ".")
    if t.get("dockerfile") is None:
        t["dockerfile"] = "Dockerfile"
    if t.get("network") == "host":
        t["entitlements"] = [*(t.get("entitlements") or []), "network.host"]
    out: dict[str, Any] = {}
    for key in FIELD_ORDER:
        value = t.get(key)
        if value is None:
            continue
        if key in LISTS:
            value = _dedupe(value)
            if not value:
                continue
        elif key in MAPS:
            value = {k: v for k, v in value.items() if v is not None}
            if key == "contexts":
                value = {k: v for k, v in value.items() if v != ""}
            if not value:
                continue
        out[key] = value
    return out


@dataclass(frozen=True)
class Resolved:
    """What `docker buildx bake --print` shows for the requested targets and groups."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def print_document(self) -> dict[str, Any]:
        """`{"group": {...}, "target": {...}}` in buildx's --print shape (groups sorted as Go
        prints a map: by key)."""
        doc: dict[str, Any] = {}
        if self.groups:
            doc["group"] = {k: {"targets": list(v)} for k, v in sorted(self.groups.items())}
        doc["target"] = {k: dict(v) for k, v in sorted(self.targets.items())}
        return doc
