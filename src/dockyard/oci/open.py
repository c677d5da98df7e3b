"""open_store: a location (`oci:DIR[:TAG]` or a registry reference) -> (Store, reference).

The reference is what to pass to `manifest_get`/`manifest_put(tag=)`: the
location's tag or digest, or "" when it names none (a layout's only image).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dockyard.errors import Unsupported
from dockyard.oci.store import Store
from dockyard.ref import LayoutRef, Reference, parse_location


def open_store(location: Reference | LayoutRef, **options: Any) -> tuple[Store, str]:
    """The store a location names, and the reference within it."""
    if isinstance(location, LayoutRef):
        from dockyard.oci.layout import LayoutStore

        return LayoutStore(Path(location.path), tag=location.tag), location.tag or ""
    # TODO(registry): return RegistryStore(location, **options), location.reference
    raise Unsupported(
        f"'{location}': registry locations are not supported yet (use oci:DIR[:TAG])"
    )


def open_location(text: str, **options: Any) -> tuple[Store, str]:
    """parse_location + open_store, for commands that take a location string."""
    return open_store(parse_location(text), **options)
