"""A registry credential and the protocol of the places one is found.

Pure: `Credential` holds a username and password or an identity (refresh)
token and where it came from; its repr and str never show a secret.
`CredentialSource` is what every entry of `sources.SOURCES` is.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from dockyard.oci.redact import MASK


@dataclass(frozen=True)
class Credential:
    """A username/password, or an identity (refresh) token. Secrets never show in repr."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    # Where it came from, for `doctor` and error messages ("env", a file path, a helper).
    source: str = ""

    def __repr__(self) -> str:
        kind = "identity token" if self.identity_token else "password"
        return f"Credential(username={self.username!r}, {kind}={MASK}, source={self.source!r})"

    __str__ = __repr__

    def secrets(self) -> tuple[str, ...]:
        """Every string that must be redacted from output, including encoded forms."""
        values = [self.password, self.identity_token]
        if self.password:
            values.append(self.basic_value())
        return tuple(v for v in values if v)

    def basic_value(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return base64.b64encode(pair).decode("ascii")


class CredentialSource(Protocol):
    """One place credentials may be: registry `host` (host[:port]) -> its Credential, or None.

    `environ` is the process environment (a mapping, so tests pass their own);
    a source finds its variables and files through it. None means "not here,
    ask the next source"; a source that is there but broken raises RegistryError.
    """

    def __call__(self, host: str, environ: Mapping[str, str]) -> Credential | None: ...
