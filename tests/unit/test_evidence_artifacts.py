"""Artefacts attached by digest as OCI referrers, read back checked (evidence/artifacts.py)."""

from __future__ import annotations

from dockyard.evidence.artifacts import attach, find, find_all
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Index, parse_manifest
from tests.helpers.images import make_image, push_image

SPDX = "application/spdx+json"


def _store_with_image(tmp_path):
    store = LayoutStore(tmp_path / "layout")
    image = make_image(seed=b"x")
    push_image(store, image, tag="v1")
    return store, image.descriptor


def test_an_attached_document_is_found_with_its_annotations(tmp_path):
    store, subject = _store_with_image(tmp_path)
    digest = attach(
        store, subject, artifact_type=SPDX, media_type=SPDX, data=b'{"spdxVersion": "SPDX-2.3"}',
        annotations={"dev.dockyard.platform": "linux/amd64"},
    )  # fmt: skip
    [found] = find(store, subject.digest, artifact_type=SPDX)
    assert found.manifest.digest == digest
    assert found.data == b'{"spdxVersion": "SPDX-2.3"}'
    assert found.manifest.annotations["dev.dockyard.platform"] == "linux/amd64"
    assert found.manifest.subject.digest == subject.digest
    assert find(store, subject.digest, artifact_type="application/other") == []


def test_the_subject_index_gains_no_entry(tmp_path):
    store, subject = _store_with_image(tmp_path)
    before = store.manifest_get("v1")
    attach(store, subject, artifact_type=SPDX, media_type=SPDX, data=b"{}")
    assert store.manifest_get("v1") == before  # the tagged image is untouched
    index = parse_manifest(*store.manifest_get(f"sha256-{subject.digest.hex}"))
    assert isinstance(index, Index) and all(e.platform is None for e in index.manifests)


def test_a_referrer_whose_layer_is_not_the_declared_document_is_skipped_with_the_reason(tmp_path):
    store, subject = _store_with_image(tmp_path)
    attach(store, subject, artifact_type=SPDX, media_type="text/plain", data=b"not an SBOM")
    found, skipped = find_all(store, subject.digest, artifact_type=SPDX)
    assert found == [] and len(skipped) == 1
    assert f"expected one {SPDX} layer" in skipped[0].reason


def test_an_artefact_of_another_subject_is_not_taken(tmp_path):
    store, subject = _store_with_image(tmp_path)
    other = make_image(seed=b"y")
    push_image(store, other, tag="v2")
    attach(store, other.descriptor, artifact_type=SPDX, media_type=SPDX, data=b"{}")
    assert find(store, subject.digest, artifact_type=SPDX) == []
    assert len(find(store, other.descriptor.digest, artifact_type=SPDX)) == 1
