"""cosign's simple-signing payload: the exact bytes, the identity cosign names, the claim read back."""

from __future__ import annotations

import json

import pytest

from dockyard.digest import parse_digest
from dockyard.errors import SignatureInvalid
from dockyard.evidence.sign.payload import (
    Claim,
    cosign_identity,
    parse_simple_signing,
    simple_signing,
)
from dockyard.ref import parse_ref, parse_repository

DIGEST = parse_digest("sha256:" + "d34db33f" * 8)


def test_the_bytes_are_those_sigstores_payload_marshals():
    # sigstore/sigstore pkg/signature/payload: Go's json.Marshal of SimpleContainerImage,
    # fields in declaration order, compact, `optional` null without annotations.
    expected = (
        '{"critical":{"identity":{"docker-reference":"example.com/test/image"},'
        '"image":{"docker-manifest-digest":"sha256:' + "d34db33f" * 8 + '"},'
        '"type":"cosign container image signature"},"optional":null}'
    )
    assert simple_signing("example.com/test/image", DIGEST) == expected.encode()


@pytest.mark.parametrize(
    ("reference", "identity"),
    [
        ("ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api"),
        ("127.0.0.1:5000/fleet/api@sha256:" + "a" * 64, "127.0.0.1:5000/fleet/api"),
        ("alpine", "index.docker.io/library/alpine"),  # go-containerregistry's Docker Hub name
        ("docker.io/acme/api:1", "index.docker.io/acme/api"),
    ],
)
def test_the_identity_is_the_repository_as_cosign_names_it(reference, identity):
    assert cosign_identity(parse_ref(reference).repository_ref) == identity
    assert cosign_identity(parse_repository(identity)) == identity  # a name cosign wrote, read back


def test_a_payload_reads_back_as_its_claim():
    data = simple_signing("ghcr.io/acme/api", DIGEST)
    assert parse_simple_signing(data) == Claim("ghcr.io/acme/api", DIGEST)


def _doc(**critical) -> bytes:
    base = {
        "identity": {"docker-reference": "x.io/a"},
        "image": {"docker-manifest-digest": str(DIGEST)},
        "type": "cosign container image signature",
    }
    return json.dumps({"critical": {**base, **critical}, "optional": {"a": 1}}).encode()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"not json", "not JSON"),
        (b"[]", "critical is not an object"),
        (_doc(type="atomic container signature"), "critical.type is 'atomic container signature'"),
        (_doc(image={"docker-manifest-digest": "sha256:abc"}), "is not a digest"),
        (_doc(identity={}), "lacks critical.identity.docker-reference"),
        (b"{" + b" " * (70 * 1024) + b"}", "bytes (at most"),
    ],
)
def test_what_is_not_a_cosign_payload_is_refused_saying_why(data, why):
    with pytest.raises(SignatureInvalid, match=why.replace("(", r"\(").replace(".", r"\.")):
        parse_simple_signing(data)


def test_other_field_orders_and_annotations_are_read():
    # Only the signature binds the bytes; the reader accepts any JSON with the claim.
    claim = parse_simple_signing(_doc())
    assert claim.digest == DIGEST and claim.identity == "x.io/a"
