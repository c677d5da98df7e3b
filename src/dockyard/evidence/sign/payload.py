"""cosign's "simple signing" payload: what a cosign image signature signs (pure).

    data = simple_signing("ghcr.io/acme/api", digest)     # the exact bytes to sign
    claim = parse_simple_signing(data)                     # SignatureInvalid if not one

The bytes are what sigstore's `payload.Cosign` marshals with Go's
encoding/json: compact, the struct fields in declaration order, `optional`
null when there are no annotations:

    {"critical":{"identity":{"docker-reference":"ghcr.io/acme/api"},
     "image":{"docker-manifest-digest":"sha256:…"},
     "type":"cosign container image signature"},"optional":null}

(one line in the real thing). `docker-reference` is the repository as
go-containerregistry names it (`Repository.Name()`): Docker Hub is
`index.docker.io`, not `docker.io`. cosign verifies the signature over these
exact bytes and then compares `docker-manifest-digest` with the image's
digest; it does not compare `docker-reference` with the repository the
image was read from (a signed image copied elsewhere still verifies), and
neither does dockyard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dockyard.digest import Digest, parse_digest
from dockyard.errors import InputError, SignatureInvalid
from dockyard.ref import Reference

SIGNATURE_TYPE = "cosign container image signature"
# go-containerregistry's name for Docker Hub (name.DefaultRegistry): what cosign writes.
DOCKER_HUB = "index.docker.io"
# A payload is a few hundred bytes; anything much larger is not one (read cap).
MAX_PAYLOAD = 64 * 1024


@dataclass(frozen=True)
class Claim:
    """What a simple-signing payload says: the repository and the manifest digest signed."""

    identity: str  # critical.identity.docker-reference
    digest: Digest  # critical.image.docker-manifest-digest


def cosign_identity(repository: Reference) -> str:
    """The `docker-reference` cosign writes for an image of `repository` (no tag, no digest)."""
    registry = DOCKER_HUB if repository.registry == "docker.io" else repository.registry
    return f"{registry}/{repository.repository}"


def simple_signing(identity: str, digest: Digest) -> bytes:
    """The payload bytes cosign signs for `digest` in repository `identity`."""
    if not identity:
        raise InputError("the signature's identity (docker-reference) is empty")
    doc = {
        "critical": {
            "identity": {"docker-reference": identity},
            "image": {"docker-manifest-digest": str(digest)},
            "type": SIGNATURE_TYPE,
        },
        "optional": None,
    }
    # Go's encoding/json also escapes <, > and & (as \u003c …): a repository name has none.
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def parse_simple_signing(data: bytes) -> Claim:
    """The claim of a payload, checked as cosign checks it (its type, a digest); else SignatureInvalid."""
    if len(data) > MAX_PAYLOAD:
        raise SignatureInvalid(f"the payload is {len(data)} bytes (at most {MAX_PAYLOAD} expected)")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SignatureInvalid(f"the payload is not JSON ({exc})") from None
    critical = _object(doc, "critical", "payload")
    kind = critical.get("type")
    if kind != SIGNATURE_TYPE:
        raise SignatureInvalid(f"the payload's critical.type is {kind!r}, not {SIGNATURE_TYPE!r}")
    identity = _object(critical, "identity", "critical").get("docker-reference")
    digest = _object(critical, "image", "critical").get("docker-manifest-digest")
    if not isinstance(identity, str) or not isinstance(digest, str):
        raise SignatureInvalid(
            "the payload lacks critical.identity.docker-reference or critical.image.docker-manifest-digest"
        )
    try:
        parsed = parse_digest(digest)
    except InputError:
        raise SignatureInvalid(
            f"the payload's docker-manifest-digest {digest!r} is not a digest"
        ) from None
    return Claim(identity, parsed)


def _object(doc: Any, key: str, where: str) -> dict[str, Any]:
    value = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(value, dict):
        raise SignatureInvalid(f"the payload's {where}.{key} is not an object")
    return value
