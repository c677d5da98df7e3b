"""OCI 1.1 referrers: the pure decisions, and the fallback index in an OCI layout."""

from __future__ import annotations

import io
import json
import threading

import pytest

from dockyard.digest import parse_digest, sha256_digest
from dockyard.errors import ReferrersInvalid
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import (
    EMPTY_DESCRIPTOR,
    EMPTY_JSON,
    Descriptor,
    Manifest,
    build_index,
    build_manifest,
    descriptor_of,
    parse_manifest,
)
from dockyard.oci.referrers import (
    artifact,
    of_type,
    parse_referrers,
    referrer_entry,
    referrers_tag,
    with_referrer,
)
from tests.helpers.images import make_image, push_image

HEX = "ab" * 32
SUBJECT = Descriptor(mt.OCI_INDEX, parse_digest(f"sha256:{HEX}"), 321)


def referrer(
    text: bytes = b'{"a":1}', *, artifact_type: str = "application/vnd.x+json"
) -> Manifest:
    layer = descriptor_of(text, "application/json")
    raw, _ = build_manifest(
        EMPTY_DESCRIPTOR,
        [layer],
        artifact_type=artifact_type,
        subject=SUBJECT,
        annotations={"k": "v"},
    )
    parsed = parse_manifest(raw)
    assert isinstance(parsed, Manifest)
    return parsed


def test_the_empty_descriptor_is_the_image_specs():
    assert EMPTY_JSON == b"{}"
    assert str(EMPTY_DESCRIPTOR.digest) == (
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )
    assert (EMPTY_DESCRIPTOR.media_type, EMPTY_DESCRIPTOR.size) == (mt.OCI_EMPTY, 2)


def test_an_artifact_manifest_keeps_go_field_order_and_round_trips():
    m = referrer()
    assert list(json.loads(m.raw)) == [
        "schemaVersion", "mediaType", "artifactType", "config", "layers", "subject", "annotations",
    ]  # fmt: skip
    assert m.artifact_type == "application/vnd.x+json"
    assert m.subject == SUBJECT
    # Without the new fields, the bytes are what build_manifest always wrote.
    raw, _ = build_manifest(EMPTY_DESCRIPTOR, [])
    assert list(json.loads(raw)) == ["schemaVersion", "mediaType", "config", "layers"]


def test_referrers_tag_is_alg_dash_hex():
    assert referrers_tag(SUBJECT.digest) == f"sha256-{HEX}"


def test_entry_takes_artifact_type_else_config_media_type_and_annotations():
    m = referrer()
    entry = referrer_entry(m)
    assert (entry.media_type, entry.digest, entry.size) == (mt.OCI_MANIFEST, m.digest, m.size)
    assert entry.artifact_type == "application/vnd.x+json"
    assert dict(entry.annotations) == {"k": "v"}
    untyped = referrer(artifact_type="")
    assert referrer_entry(untyped).artifact_type == mt.OCI_EMPTY


def test_with_referrer_appends_once_and_keeps_existing_entries():
    a, b = referrer_entry(referrer(b"1")), referrer_entry(referrer(b"2"))
    first = with_referrer(None, a)
    assert first is not None
    index = parse_referrers(first, "x")
    assert [d.digest for d in index.manifests] == [a.digest]
    second = parse_referrers(with_referrer(index, b), "x")
    assert [d.digest for d in second.manifests] == [a.digest, b.digest]
    assert second.manifests[0] == a  # fields kept exactly
    assert with_referrer(second, a) is None


def test_of_type_filters_only_when_asked():
    a = referrer_entry(referrer(b"1"))
    b = referrer_entry(referrer(b"2", artifact_type="application/vnd.y+json"))
    assert of_type([a, b], None) == [a, b]
    assert of_type([a, b], "application/vnd.y+json") == [b]


def test_a_tag_that_is_not_an_oci_index_is_refused():
    image = make_image((10,))
    with pytest.raises(ReferrersInvalid, match="not an OCI index of referrers"):
        parse_referrers(image.manifest, "repo:sha256-x")
    raw, _ = build_index([], media_type=mt.DOCKER_LIST)
    with pytest.raises(ReferrersInvalid):
        parse_referrers(raw, "repo:sha256-x")


def test_a_referrer_needs_a_subject():
    image = make_image((10,))
    with pytest.raises(ValueError, match="with a subject"):
        artifact(image.manifest, mt.OCI_MANIFEST, "here")


# ---------------------------------------------------------------- the layout


def put(store: LayoutStore, m: Manifest, text: bytes) -> None:
    store.blob_put(EMPTY_DESCRIPTOR.digest, 2, io.BytesIO(EMPTY_JSON))
    store.blob_put(sha256_digest(text), len(text), io.BytesIO(text))
    store.referrer_put(m.raw, m.media_type)


def test_layout_lists_referrers_under_the_fallback_name(tmp_path):
    store = LayoutStore(tmp_path / "lay")
    image = make_image((20,))
    push_image(store, image, tag="v1")
    subject = image.descriptor
    assert store.referrers(subject.digest) == []
    made = []
    for text in (b"1", b"2"):
        layer = descriptor_of(text, "application/json")
        raw, _ = build_manifest(
            EMPTY_DESCRIPTOR, [layer], artifact_type="application/vnd.x+json", subject=subject
        )
        made.append(parse_manifest(raw))
        put(store, made[-1], text)
    put(store, made[0], b"1")  # again: listed once
    assert [d.digest for d in store.referrers(subject.digest)] == [m.digest for m in made]
    assert store.referrers(subject.digest, artifact_type="application/vnd.other") == []
    assert sorted(store.tag_list()) == sorted(["v1", f"sha256-{subject.digest.hex}"])
    # The image's own name is untouched.
    assert store.manifest_head("v1")[0] == image.digest


def test_layout_referrer_puts_from_threads_lose_nothing(tmp_path):
    """The read-modify-write of the referrers index holds index.json's lock."""
    store = LayoutStore(tmp_path / "lay")
    image = make_image((21,))
    push_image(store, image, tag="v1")
    texts = [str(i).encode() for i in range(8)]
    manifests = []
    for text in texts:
        raw, _ = build_manifest(
            EMPTY_DESCRIPTOR, [descriptor_of(text, "application/json")], subject=image.descriptor
        )
        manifests.append(parse_manifest(raw))
    # Each thread its own store object: as separate processes would be.
    threads = [
        threading.Thread(target=put, args=(LayoutStore(tmp_path / "lay"), m, t))
        for m, t in zip(manifests, texts, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = {d.digest for d in store.referrers(image.digest)}
    assert found == {m.digest for m in manifests}
