"""Signing an index and its children into an OCI layout as cosign stores signatures; each tamper found."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from dockyard.digest import sha256_digest
from dockyard.errors import SignatureInvalid
from dockyard.evidence.sign.image import (
    INVALID_RULE,
    MISSING_RULE,
    PRESENT,
    SIGNED,
    VERIFIED_RULE,
    check_subjects,
    image_subjects,
    sign_subjects,
    signature_findings,
)
from dockyard.evidence.sign.keys import SigningKey
from dockyard.evidence.sign.payload import simple_signing
from dockyard.evidence.sign.storage import (
    SIGNATURE_ANNOTATION,
    SIMPLESIGNING,
    read_signatures,
    signature_layer,
    signature_tag,
    write_signatures,
)
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import build_index, parse_manifest
from dockyard.platform import parse_platform
from tests.helpers.images import make_image, push_image

IDENTITY = "127.0.0.1:5000/acme/api"


def new_key() -> SigningKey:
    return SigningKey(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_key()


@pytest.fixture
def layout(tmp_path) -> LayoutStore:
    """An index of two platform images, named `t`."""
    store = LayoutStore(tmp_path / "oci")
    children = []
    for platform in ("linux/amd64", "linux/arm64"):
        image = make_image((100,))
        push_image(store, image)
        children.append(replace(image.descriptor, platform=parse_platform(platform)))
    raw, _ = build_index(children)
    store.manifest_put(raw, mt.OCI_INDEX, tag="t")
    return store


def signed(store: LayoutStore, key: SigningKey):
    _, subjects = image_subjects(store, "t")
    return subjects, sign_subjects(store, subjects, identity=IDENTITY, key=key)


def checks(store: LayoutStore, key: SigningKey):
    _, subjects = image_subjects(store, "t")
    return {c.subject.platform or "index": c for c in check_subjects(store, subjects, key.public)}


def test_every_manifest_is_signed_children_first_as_cosign_stores_it(layout, key):
    subjects, outcomes = signed(layout, key)
    assert [o.subject.platform or "index" for o in outcomes] == [
        "linux/amd64",
        "linux/arm64",
        "index",
    ]
    assert {o.outcome for o in outcomes} == {SIGNED}
    for subject in subjects:
        tag = signature_tag(subject.digest)
        assert tag == f"sha256-{subject.digest.hex}.sig" and tag in set(layout.tag_list())
        raw, media_type = layout.manifest_get(tag)
        doc = json.loads(raw)
        assert media_type == mt.OCI_MANIFEST and doc["mediaType"] == mt.OCI_MANIFEST
        assert doc["config"]["mediaType"] == mt.OCI_CONFIG and "subject" not in doc
        [layer] = doc["layers"]
        assert layer["mediaType"] == SIMPLESIGNING
        payload = layout.blob_open(sha256_digest(simple_signing(IDENTITY, subject.digest))).read()
        assert layer["digest"] == str(sha256_digest(payload)) and layer["size"] == len(payload)
        assert payload == simple_signing(IDENTITY, subject.digest)
        der = base64.b64decode(layer["annotations"][SIGNATURE_ANNOTATION])
        assert key.public.verify(der, payload)
        config = json.loads(layout.blob_open(parse_manifest(raw).config.digest).read())
        assert config["rootfs"] == {"type": "layers", "diff_ids": [layer["digest"]]}
        assert config["history"] == [{"created": "0001-01-01T00:00:00Z"}]
    assert all(c.ok and c.identity == IDENTITY for c in checks(layout, key).values())


def test_signing_again_with_the_same_key_writes_nothing(layout, key):
    subjects, _ = signed(layout, key)
    before = {s.digest: layout.manifest_head(signature_tag(s.digest)) for s in subjects}
    _, again = signed(layout, key)
    assert {o.outcome for o in again} == {PRESENT}
    assert {s.digest: layout.manifest_head(signature_tag(s.digest)) for s in subjects} == before


def test_another_key_appends_and_keeps_the_first(layout, key):
    subjects, _ = signed(layout, key)
    first = read_signatures(layout, subjects[0].digest).layers
    other = new_key()
    _, outcomes = signed(layout, other)
    assert {o.outcome for o in outcomes} == {SIGNED}
    layers = read_signatures(layout, subjects[0].digest).layers
    assert len(layers) == 2 and layers[0] == first[0]
    assert all(c.ok for c in checks(layout, key).values())
    assert all(c.ok for c in checks(layout, other).values())


def test_the_wrong_key_fails_every_manifest(layout, key):
    signed(layout, key)
    found = checks(layout, new_key())
    assert not any(c.ok for c in found.values())
    assert "does not verify with the key" in found["index"].reason
    assert not found["index"].missing


def test_a_child_left_unsigned_is_missing(layout, key):
    subjects, _ = signed(layout, key)
    arm = next(s for s in subjects if s.platform == "linux/arm64")
    layout.manifest_delete(layout.manifest_head(signature_tag(arm.digest))[0])
    found = checks(layout, key)
    assert found["index"].ok and found["linux/amd64"].ok
    assert found["linux/arm64"].missing and "not found" in found["linux/arm64"].reason
    findings = {f.platform or "index": f for f in signature_findings(list(found.values()))}
    assert findings["linux/arm64"].rule == MISSING_RULE and findings["linux/arm64"].is_error
    assert findings["index"].rule == VERIFIED_RULE and findings["index"].severity == "info"
    assert findings["linux/arm64"].path == str(arm.digest)


def test_a_valid_signature_of_another_digest_is_refused(layout, key):
    # The tampered-manifest case: an image whose digest changed, given the old one's signature.
    subjects, _ = signed(layout, key)
    amd, arm = subjects[0], subjects[1]
    stolen = read_signatures(layout, amd.digest).layers
    write_signatures(layout, arm.digest, stolen, {})
    found = checks(layout, key)["linux/arm64"]
    assert not found.ok and f"signed by the key for {amd.digest}, not this manifest" in found.reason
    assert signature_findings([found])[0].rule == INVALID_RULE


def test_an_edited_payload_fails_under_its_old_signature(layout, key):
    subjects, _ = signed(layout, key)
    index = subjects[-1]
    [layer] = read_signatures(layout, index.digest).layers
    edited = simple_signing("evil.example/acme/api", index.digest)
    forged = replace(layer, digest=sha256_digest(edited), size=len(edited))
    write_signatures(layout, index.digest, [forged], {forged.digest: edited})
    found = checks(layout, key)["index"]
    assert not found.ok and "does not verify with the key" in found.reason


def test_a_payload_blob_edited_on_disk_fails(layout, key):
    subjects, _ = signed(layout, key)
    [layer] = read_signatures(layout, subjects[0].digest).layers
    path = layout.blob_path(layer.digest)
    path.write_bytes(path.read_bytes().replace(b"acme", b"acmf"))
    found = checks(layout, key)["linux/amd64"]
    assert not found.ok and "(edited)" in found.reason


def test_a_signature_tag_holding_an_index_or_too_many_layers_is_refused(layout, key):
    subjects, _ = signed(layout, key)
    digest = subjects[0].digest
    raw, _ = build_index([subjects[1].descriptor])
    layout.manifest_put(raw, mt.OCI_INDEX, tag=signature_tag(digest))
    with pytest.raises(SignatureInvalid, match="holds an index"):
        read_signatures(layout, digest)
    assert "holds an index" in checks(layout, key)["linux/amd64"].reason
    payload = simple_signing(IDENTITY, digest)
    many = [signature_layer(payload, key.sign(payload))] * 1001
    write_signatures(layout, digest, many, {many[0].digest: payload})
    with pytest.raises(SignatureInvalid, match="1001 layers"):
        read_signatures(layout, digest)


def test_a_signature_layer_without_its_annotation_is_no_signature(layout, key):
    subjects, _ = signed(layout, key)
    digest = subjects[0].digest
    [layer] = read_signatures(layout, digest).layers
    write_signatures(layout, digest, [layer.with_annotations({})], {})
    found = checks(layout, key)["linux/amd64"]
    assert not found.ok and f"no {SIGNATURE_ANNOTATION} annotation" in found.reason


def test_a_manifest_with_several_signatures_none_valid_says_why_for_each(layout, key):
    signed(layout, key)
    signed(layout, new_key())
    found = checks(layout, new_key())["index"]
    assert not found.ok and found.signatures == 2
    assert "none of 2 signatures is valid with the key (1: does not verify" in found.reason
    assert "; 2: does not verify" in found.reason
