"""Content digests: `algorithm:hex`, validated before they ever touch a path.

Only sha256 and sha512 are accepted (the OCI image spec's registered
algorithms); the hex part must be lower-case and of the algorithm's length,
which also keeps `sha256:../..` out of layout paths.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from dockyard.errors import InputError

_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"[a-f0-9]+")


@dataclass(frozen=True, order=True)
class Digest:
    """A content digest, `algorithm:hex` (sha256 or sha512), validated when parsed."""

    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def encoded(self) -> str:
        return self.hex


def parse_digest(text: str) -> Digest:
    """Parse `sha256:<64 hex>`; anything else is an InputError saying what is valid."""
    algorithm, sep, hex_part = text.partition(":")
    if not sep:
        raise InputError(f"'{text}' is not a digest (expected sha256:<64 hex digits>)")
    if algorithm not in _HEX_LENGTH:
        raise InputError(
            f"'{text}': unsupported digest algorithm '{algorithm}' (expected sha256 or sha512)"
        )
    want = _HEX_LENGTH[algorithm]
    if len(hex_part) != want or not _HEX.fullmatch(hex_part):
        raise InputError(
            f"'{text}' is not a digest (expected {algorithm}:<{want} lower-case hex digits>)"
        )
    return Digest(algorithm, hex_part)


def sha256_digest(data: bytes) -> Digest:
    """The sha256 digest of exactly these bytes."""
    return Digest("sha256", hashlib.sha256(data).hexdigest())
