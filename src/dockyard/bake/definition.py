"""The merged definition of every file: groups and (unresolved) targets, with where each came from.

Files are folded in one at a time, as buildx's hclparser does: a target declared again (same file
or a later one) is merged into the earlier declaration with Target.Merge rules; a group declared
again replaces the earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.bake.model import merge
from dockyard.errors import BakeError


@dataclass(frozen=True)
class Origin:
    """Where a block was declared: for error messages `FILE:LINE: target "x": ...`."""

    file: str
    line: int
    block: str  # `target "api"`, `group "default"`, `variable "TAG"`

    def error(self, message: str) -> BakeError:
        return BakeError(f"{self.file}:{self.line}: {self.block}: {message}")


@dataclass
class Definition:
    files: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)  # "target:x" / "group:x"

    def add_group(self, name: str, targets: list[str], origin: Origin) -> None:
        self.groups.pop(name, None)  # a redeclared group moves to the end, replaced
        self.groups[name] = list(targets)
        self.origins[f"group:{name}"] = origin

    def add_target(self, name: str, attrs: dict[str, Any], origin: Origin) -> None:
        if name in self.targets:
            earlier = self.targets[name]
            if "inherits" in attrs:
                earlier["inherits"] = list(attrs["inherits"])
            merge(earlier, attrs)
        else:
            self.targets[name] = dict(attrs)
            self.origins[f"target:{name}"] = origin

    def error(self, message: str) -> BakeError:
        """An error about the definition as a whole (no one block to point at)."""
        return BakeError(f"{', '.join(self.files) or '<no files>'}: {message}")

    def origin(self, kind: str, name: str) -> Origin | None:
        return self.origins.get(f"{kind}:{name}")
