"""Credentials from the environment: `DOCKYARD_REGISTRY_<HOST>_USER` / `_PASSWORD`.

Pure: HOST is the registry's host[:port] upper-cased, every other character
turned into `_` (`127.0.0.1:5000` -> `127_0_0_1_5000`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dockyard.oci.auth.credentials.credential import Credential


def env_credential_names(host: str) -> tuple[str, str]:
    """(`DOCKYARD_REGISTRY_<HOST>_USER`, `..._PASSWORD`): HOST upper-cased, other chars -> `_`."""
    key = re.sub(r"[^A-Z0-9]", "_", host.upper())
    return f"DOCKYARD_REGISTRY_{key}_USER", f"DOCKYARD_REGISTRY_{key}_PASSWORD"


def from_env(host: str, environ: Mapping[str, str]) -> Credential | None:
    """The credential the two variables give, when either is set."""
    user_var, password_var = env_credential_names(host)
    if environ.get(user_var) or environ.get(password_var):
        return Credential(environ.get(user_var, ""), environ.get(password_var, ""), source="env")
    return None
