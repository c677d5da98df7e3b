"""Running a docker credential helper: `docker-credential-<name> get`.

docker config.json names helpers in `credHelpers` (per host) and
`credsStore` (for every host); `files` calls `run_helper` for both.
"""

from __future__ import annotations

import json
import re
import subprocess

from dockyard.errors import RegistryError
from dockyard.oci.auth.credentials.credential import Credential
from dockyard.oci.redact import redact_text

# A helper that hangs (waiting for a GUI keychain prompt, say) must not hang us.
HELPER_TIMEOUT = 10.0

_HELPER_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_NOT_FOUND = "credentials not found"


def run_helper(name: str, server: str, *, timeout: float = HELPER_TIMEOUT) -> Credential | None:
    """`docker-credential-<name> get` with `server` on stdin; None when it has nothing."""
    if not _HELPER_NAME.fullmatch(name):
        raise RegistryError(f"credential helper name {name!r} is not valid")
    program = f"docker-credential-{name}"
    try:
        proc = subprocess.run(
            [program, "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise RegistryError(f"credential helper {program} is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise RegistryError(
            f"credential helper {program} did not answer in {timeout:g} s"
        ) from None
    if proc.returncode != 0:
        said = (proc.stdout + proc.stderr).strip()
        if _NOT_FOUND in said.lower():
            return None
        first = redact_text(said.splitlines()[0] if said else "no output")
        raise RegistryError(f"credential helper {program} failed for {server}: {first}")
    try:
        doc = json.loads(proc.stdout)
        user, secret = doc["Username"], doc["Secret"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise RegistryError(
            f"credential helper {program} printed no Username/Secret JSON"
        ) from None
    source = f"helper {program}"
    if user == "<token>":  # docker's convention for an identity token
        return Credential("", identity_token=secret, source=source)
    return Credential(user, secret, source=source)
