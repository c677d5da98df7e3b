"""DSSE envelopes: the spec's own test vector, round trips, and every tamper refused."""

from __future__ import annotations

import base64
import json
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from dockyard.errors import SignatureInvalid
from dockyard.evidence.sign.dsse import (
    IN_TOTO,
    Envelope,
    EnvelopeSignature,
    add_signature,
    pae,
    parse_envelope,
    sign_envelope,
    verify_envelope,
)
from dockyard.evidence.sign.keys import SigningKey, VerifyingKey

# github.com/secure-systems-lab/dsse protocol.md, "Test Vectors": the key (P-256,
# public point X, Y), the body, the type, the PAE and the envelope, as printed there.
SPEC_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SPEC_ENVELOPE = (
    b'{"payload": "aGVsbG8gd29ybGQ=",\n "payloadType": "http://example.com/HelloWorld",\n'
    b' "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}'
)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def other() -> SigningKey:
    return SigningKey(ec.generate_private_key(ec.SECP256R1()))


def test_pae_is_the_specs():
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("", b"") == b"DSSEv1 0  0 "
    assert pae("t\u00e9", b"\x00\xff") == b"DSSEv1 3 t\xc3\xa9 2 \x00\xff"  # byte lengths, UTF-8


def test_the_specs_envelope_verifies_with_the_specs_key():
    public = VerifyingKey(
        ec.EllipticCurvePublicNumbers(SPEC_X, SPEC_Y, ec.SECP256R1()).public_key()
    )
    assert verify_envelope(SPEC_ENVELOPE, public) == b"hello world"
    # …and the same signature over another type does not (the type is inside the PAE).
    doc = json.loads(SPEC_ENVELOPE)
    doc["payloadType"] = "http://example.com/Other"
    with pytest.raises(SignatureInvalid, match="none of the envelope's 1 signature"):
        verify_envelope(json.dumps(doc).encode(), public)


def test_sign_then_verify_round_trips_through_json(key):
    body = b'{"_type":"https://in-toto.io/Statement/v1"}'
    data = sign_envelope(IN_TOTO, body, key).to_bytes()
    doc = json.loads(data)
    assert set(doc) == {"payloadType", "payload", "signatures"}
    assert doc["payloadType"] == IN_TOTO and base64.b64decode(doc["payload"]) == body
    assert doc["signatures"][0]["keyid"] == key.public.keyid
    assert verify_envelope(data, key.public, payload_type=IN_TOTO) == body
    assert verify_envelope(parse_envelope(data), key.public) == body


def test_url_safe_and_unpadded_base64_are_accepted(key):
    env = sign_envelope(IN_TOTO, b"\xfb\xff" * 10, key)
    doc = env.to_json()
    doc["payload"] = base64.urlsafe_b64encode(env.payload).decode().rstrip("=")
    doc["signatures"][0]["sig"] = (
        base64.urlsafe_b64encode(env.signatures[0].sig).decode().rstrip("=")
    )
    assert verify_envelope(json.dumps(doc).encode(), key.public) == env.payload


def test_a_co_signed_envelope_verifies_with_either_key(key, other):
    env = add_signature(sign_envelope(IN_TOTO, b"x", key), other)
    assert len(env.signatures) == 2
    assert verify_envelope(env, key.public) == verify_envelope(env, other.public) == b"x"


def _tampered(env: Envelope, **changes) -> bytes:
    doc = env.to_json()
    doc.update(changes)
    return json.dumps(doc).encode()


def test_every_tamper_is_refused(key, other):
    env = sign_envelope(IN_TOTO, b'{"a":1}', key)
    cases = {
        "edited payload": (
            _tampered(env, payload=base64.b64encode(b'{"a":2}').decode()),
            "verifies",
        ),
        "edited type": (_tampered(env, payloadType="application/json"), "verifies"),
        "no signature": (_tampered(env, signatures=[]), "no signature"),
        "bad base64": (_tampered(env, payload="%%%"), "payload is not base64"),
        "not json": (b"{", "not JSON"),
        "no sig": (_tampered(env, signatures=[{"keyid": "x"}]), "signatures[0] has no sig"),
    }
    for name, (data, why) in cases.items():
        with pytest.raises(SignatureInvalid, match=re.escape(why)):
            verify_envelope(data, key.public)
        assert name
    with pytest.raises(SignatureInvalid, match="verifies with the key"):
        verify_envelope(env, other.public)  # the wrong key, even with the right keyid shown
    forged = Envelope(
        env.payload_type,
        env.payload,
        (EnvelopeSignature(env.signatures[0].sig, other.public.keyid),),
    )
    assert verify_envelope(forged, key.public) == b'{"a":1}'  # keyid is a hint, never a decision


def test_the_type_is_checked_after_the_signature(key):
    env = sign_envelope("application/vnd.dockyard.other+json", b"x", key)
    with pytest.raises(
        SignatureInvalid, match=re.escape("payloadType is 'application/vnd.dockyard.other+json'")
    ):
        verify_envelope(env, key.public, payload_type=IN_TOTO)
    assert verify_envelope(env, key.public, payload_type=(IN_TOTO, env.payload_type)) == b"x"
