"""The SBOM formats dockyard writes: one dict, name -> media type and writer (pure).

    fmt = get_format("cyclonedx")        # InputError naming the valid ones otherwise
    data = fmt.writer()(inventory)

The media type is both the artefact's `artifactType` and its layer's media
type when the document is attached to its image. A writer is loaded when
its format is asked for: cyclonedx-python-lib's validator alone takes ~1 s
to import (jsonschema's format checkers), which an SPDX run need not pay.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from dockyard.errors import InputError


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    writer_path: str  # "module:function", the function taking an Inventory, returning bytes

    def writer(self) -> Callable[..., bytes]:
        module, _, function = self.writer_path.partition(":")
        return getattr(importlib.import_module(module), function)


FORMATS: dict[str, Format] = {
    "spdx": Format("spdx", "application/spdx+json", "dockyard.evidence.sbom.spdx:spdx_json"),
    "cyclonedx": Format(
        "cyclonedx",
        "application/vnd.cyclonedx+json",
        "dockyard.evidence.sbom.cyclonedx:cyclonedx_json",
    ),
}
DEFAULT_FORMAT = "spdx"


def get_format(name: str) -> Format:
    """The format called `name`; InputError naming the valid ones if there is none."""
    found = FORMATS.get(name.strip().lower())
    if found is None:
        raise InputError(f"--format {name}: not an SBOM format (expected {' or '.join(FORMATS)})")
    return found
