"""open_store: a location (`oci:DIR[:TAG]` or a registry reference) -> (Store, reference).

The reference is what to pass to `manifest_get`/`manifest_put(tag=)`: the
location's tag or digest, or "" when it names none (a layout's only image).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dockyard.oci.layout import LayoutStore
from dockyard.oci.store import Store
from dockyard.ref import LayoutRef, Reference, parse_location


def open_store(location: Reference | LayoutRef, **options: Any) -> tuple[Store, str]:
    """The store a location names, and the reference within it."""
    if isinstance(location, LayoutRef):
        return LayoutStore(Path(location.path), tag=location.tag), location.tag or ""
    # Imported here, not at the top, on purpose: registry pulls in httpx (~0.15 s
    # of start-up), which a layout location (`dockyard inspect oci:DIR`, copy or
    # import into a layout) never uses; only this function knows which it got.
    from dockyard.oci.registry import RegistryClient, RegistryOptions

    # options: client= (a RegistryClient shared by the run), push= (ask for push
    # tokens up front), or RegistryOptions fields for a client made here.
    client = options.pop("client", None)
    push = bool(options.pop("push", False))
    if client is None:
        client = RegistryClient(options=RegistryOptions(**options))
    reference = location.reference if (location.tag or location.digest) else ""
    return client.store(location, push=push), reference


def open_location(text: str, **options: Any) -> tuple[Store, str]:
    """parse_location + open_store, for commands that take a location string."""
    return open_store(parse_location(text), **options)
