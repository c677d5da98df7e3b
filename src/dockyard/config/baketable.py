"""dockyard.toml's [bake] table -> BakeFiles (pure; native.py calls it).

    [bake]
    files   = ["docker-bake.hcl", "docker-bake.override.hcl"]   # relative to dockyard.toml
    set     = ["*.platform=linux/amd64,linux/arm64"]            # buildx --set syntax
    targets = ["all"]                                           # what a command naming none builds

dockyard.bake.project reads the files; this only checks the table's shape.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dockyard.config.fields import Fields, index_path
from dockyard.config.model import BakeFiles

BAKE_KEYS = ("files", "set", "targets")


def bake_files(fields: Fields, table: Mapping[str, Any], root: Path) -> BakeFiles:
    """[bake] files = [...] (relative to this file), set = [...] (buildx --set syntax),
    targets = [...] (what a command naming none resolves; default: the bake "default" group)."""
    files = fields.strings(table.get("files", []), "bake.files")
    for i, text in enumerate(files):
        if not text.strip():
            raise fields.error(
                index_path("bake.files", i), 'is empty (expected a file, e.g. "docker-bake.hcl")'
            )
    overrides = fields.strings(table.get("set", []), "bake.set")
    for i, text in enumerate(overrides):
        if "=" not in text:
            raise fields.error(
                index_path("bake.set", i),
                f"{text!r} is not an override (expected TARGET.KEY=VALUE, e.g. *.platform=linux/arm64)",
            )
    targets = fields.strings(table.get("targets", []), "bake.targets")
    return BakeFiles(
        files=tuple(Path(os.path.normpath(root / text)) for text in files),
        overrides=overrides,
        targets=targets,
    )
