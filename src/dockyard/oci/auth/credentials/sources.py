"""The credential sources, in lookup order, and the lookup: first hit wins.

`SOURCES` is the one list: a new source (ECR's token flow, say) is a module
with a `CredentialSource` and one line here, at the rank it should have.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dockyard.oci.auth.credentials.credential import Credential, CredentialSource
from dockyard.oci.auth.credentials.env import from_env
from dockyard.oci.auth.credentials.files import (
    DOCKER_CONFIG,
    PODMAN_AUTH_FILE,
    PODMAN_RUNTIME_AUTH,
    ConfigFile,
)

SOURCES: tuple[CredentialSource, ...] = (
    from_env,  # DOCKYARD_REGISTRY_<HOST>_USER / _PASSWORD
    PODMAN_AUTH_FILE,  # $REGISTRY_AUTH_FILE
    PODMAN_RUNTIME_AUTH,  # $XDG_RUNTIME_DIR/containers/auth.json
    DOCKER_CONFIG,  # $DOCKER_CONFIG/config.json, else ~/.docker/config.json
)


def find_credential(host: str, *, environ: Mapping[str, str] | None = None) -> Credential | None:
    """Credentials for registry `host` (host[:port]) from the first source that has some."""
    env = os.environ if environ is None else environ
    for source in SOURCES:
        found = source(host, env)
        if found:
            return found
    return None


def credential_files(environ: Mapping[str, str]) -> list[tuple[str, Path]]:
    """(kind, path) of every credentials file, in lookup order."""
    return [
        (source.kind, path)
        for source in SOURCES
        if isinstance(source, ConfigFile) and (path := source.locate(environ)) is not None
    ]
