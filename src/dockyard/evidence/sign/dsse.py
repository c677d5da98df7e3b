"""DSSE envelopes (Dead Simple Signing Envelope, v1): how attestations are signed.

    envelope = sign_envelope(IN_TOTO, statement_bytes, key)      # key: keys.SigningKey
    data = envelope.to_bytes()                                   # the JSON document to attach
    body = verify_envelope(data, key.public, payload_type=IN_TOTO)   # SignatureInvalid if not

The protocol (github.com/secure-systems-lab/dsse, protocol.md and envelope.md):
a signature covers PAE(payloadType, payload), never the payload alone, so a
signature made for one type cannot be replayed as another (cosign's
CVE-2022-35929 was a verifier that checked the type beside the signature):

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

LEN is the byte length in ASCII decimal, type its UTF-8 bytes. The envelope
is `{"payloadType", "payload": base64(body), "signatures": [{"keyid", "sig":
base64(signature)}]}`. Signatures are ECDSA P-256 over SHA-256 in ASN.1 DER
(what cosign and go-securesystemslib write); a verifier also accepts a raw
64-byte r||s (the spec's own test vector is one) and, as the spec requires,
standard or URL-safe base64. `keyid` is the sha256 of the public key's DER:
an unauthenticated hint, never used to decide (the spec: it MUST NOT be).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.errors import SignatureInvalid
from dockyard.evidence.sign.keys import SigningKey, VerifyingKey

IN_TOTO = "application/vnd.in-toto+json"
# An envelope carries one SBOM or provenance statement: tens of MB at most.
MAX_ENVELOPE = 64 * 1024 * 1024


def pae(payload_type: str, body: bytes) -> bytes:
    """The Pre-Authentication Encoding: the exact bytes a DSSE signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


@dataclass(frozen=True)
class EnvelopeSignature:
    sig: bytes
    keyid: str = ""


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope: the body (decoded), its type and its signatures."""

    payload_type: str
    payload: bytes
    signatures: tuple[EnvelopeSignature, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "payloadType": self.payload_type,
            "payload": base64.standard_b64encode(self.payload).decode(),
            "signatures": [
                {"keyid": s.keyid, "sig": base64.standard_b64encode(s.sig).decode()}
                for s in self.signatures
            ],
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":")).encode()


def sign_envelope(payload_type: str, body: bytes, key: SigningKey) -> Envelope:
    """A new envelope of `body` signed by `key`."""
    return add_signature(Envelope(payload_type, body, ()), key)


def add_signature(envelope: Envelope, key: SigningKey) -> Envelope:
    """The envelope with one more signature (another key co-signing the same body)."""
    signature = EnvelopeSignature(
        key.sign(pae(envelope.payload_type, envelope.payload)), key.public.keyid
    )
    return Envelope(envelope.payload_type, envelope.payload, (*envelope.signatures, signature))


def verify_envelope(
    envelope: Envelope | bytes,
    key: VerifyingKey,
    *,
    payload_type: str | Sequence[str] | None = None,
) -> bytes:
    """The body, when a signature verifies with `key` over PAE(type, body) and the type is one
    of `payload_type` (any when None); SignatureInvalid saying which check failed otherwise."""
    env = parse_envelope(envelope) if isinstance(envelope, bytes) else envelope
    if not env.signatures:
        raise SignatureInvalid("the envelope has no signature")
    signed = pae(env.payload_type, env.payload)
    if not any(key.verify(s.sig, signed) or key.verify_raw(s.sig, signed) for s in env.signatures):
        raise SignatureInvalid(
            f"none of the envelope's {len(env.signatures)} signature(s) verifies with the key "
            f"(keyid {key.keyid[:16]})"
        )
    # After the signature, as the protocol orders it: the type is authenticated only now.
    wanted = (payload_type,) if isinstance(payload_type, str) else payload_type
    if wanted is not None and env.payload_type not in wanted:
        raise SignatureInvalid(
            f"the envelope's payloadType is {env.payload_type!r}, expected {' or '.join(wanted)}"
        )
    return env.payload


def parse_envelope(data: bytes) -> Envelope:
    """An envelope from its JSON; SignatureInvalid naming what is malformed."""
    if len(data) > MAX_ENVELOPE:
        raise SignatureInvalid(f"the envelope is {len(data)} bytes (at most {MAX_ENVELOPE})")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SignatureInvalid(f"the envelope is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise SignatureInvalid("the envelope is not a JSON object")
    payload_type, payload, signatures = (
        doc.get("payloadType"),
        doc.get("payload"),
        doc.get("signatures"),
    )
    if not isinstance(payload_type, str) or not isinstance(payload, str):
        raise SignatureInvalid("the envelope lacks a payloadType or payload string")
    if not isinstance(signatures, list):
        raise SignatureInvalid("the envelope's signatures is not a list")
    parsed = []
    for i, item in enumerate(signatures):
        if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
            raise SignatureInvalid(f"the envelope's signatures[{i}] has no sig string")
        keyid = item.get("keyid", "")
        parsed.append(
            EnvelopeSignature(
                _b64(item["sig"], f"signatures[{i}].sig"), keyid if isinstance(keyid, str) else ""
            )
        )
    return Envelope(payload_type, _b64(payload, "payload"), tuple(parsed))


def _b64(text: str, where: str) -> bytes:
    """Standard or URL-safe base64, padded or not (the spec: verifiers MUST accept either)."""
    text = text.translate(str.maketrans("-_", "+/"))
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid(f"the envelope's {where} is not base64") from None
