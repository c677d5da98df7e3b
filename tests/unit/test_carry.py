"""copy carries an image's evidence: OCI referrers and cosign's digest tags (oci/carry.py).

Layout to layout here (real stores, no registry); registries in
tests/integration/test_carry.py.
"""

from __future__ import annotations

import logging

import pytest

from dockyard.evidence.artifacts import attach, find
from dockyard.oci import mediatypes as mt
from dockyard.oci.attached import attached, cosign_tag
from dockyard.oci.carry import covers
from dockyard.oci.copy import copy_image
from dockyard.oci.inspect import inspect_image
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Manifest, build_manifest, descriptor_of, parse_manifest
from dockyard.oci.referrers import referrers_tag
from dockyard.platform import parse_platform
from tests.helpers.evidence import NOTE, SBOM, cosign_layer, push_index, put_cosign_tag


@pytest.fixture
def source(tmp_path):
    """An index with an SBOM on its arm64 child, a note on the index, a signature on the
    SBOM (a referrer of a referrer), and cosign tags: .sig on the index, .att on amd64."""
    store = LayoutStore(tmp_path / "src")
    index, (amd64, arm64) = push_index(store, tag="v1", seed=b"carry")
    sbom = attach(store, arm64, artifact_type=SBOM, media_type=SBOM, data=b'{"spdxVersion":"SPDX-2.3"}')
    sbom_desc = descriptor_of(store.manifest_get(str(sbom))[0], mt.OCI_MANIFEST)
    note = attach(store, index, artifact_type=NOTE, media_type=NOTE, data=b"index note")
    on_sbom = attach(store, sbom_desc, artifact_type=NOTE, media_type=NOTE, data=b"sbom signed")
    sig = put_cosign_tag(store, index.digest, ["ci"])
    att = put_cosign_tag(store, amd64.digest, ["provenance"], suffix="att")
    return store, {"index": index, "amd64": amd64, "arm64": arm64, "sbom": sbom, "note": note,
                   "on_sbom": on_sbom, "sig": sig, "att": att}  # fmt: skip


def test_every_piece_of_evidence_arrives_and_is_found_there(source, tmp_path):
    src, e = source
    dst = LayoutStore(tmp_path / "dst")
    result = copy_image(src, "v1", dst, tag="v1")
    [sbom] = find(dst, e["arm64"].digest, artifact_type=SBOM)
    assert sbom.manifest.digest == e["sbom"] and sbom.data == b'{"spdxVersion":"SPDX-2.3"}'
    assert [f.manifest.digest for f in find(dst, e["index"].digest, artifact_type=NOTE)] == [e["note"]]
    assert [f.data for f in find(dst, e["sbom"], artifact_type=NOTE)] == [b"sbom signed"]
    assert dst.manifest_get(cosign_tag(e["index"].digest, "sig")) == src.manifest_get(
        cosign_tag(e["index"].digest, "sig")
    )
    assert dst.manifest_head(cosign_tag(e["amd64"].digest, "att"))[0] == e["att"]
    ev = result.evidence
    assert (ev.referrers_copied, ev.referrers_skipped) == (3, 0)
    assert (ev.tags_copied, ev.tags_skipped, ev.tags_diverged) == (2, 0, 0)
    assert result.to_json()["evidence"] == {
        "referrers": {"copied": 3, "skipped": 0},
        "cosign_tags": {"copied": 2, "skipped": 0, "diverged": 0},
    }
    assert not result.up_to_date
    # The index never gains an entry for its evidence.
    assert dst.manifest_get("v1") == src.manifest_get("v1")


def test_a_second_copy_sends_nothing_and_is_up_to_date(source, tmp_path):
    src, _ = source
    dst = LayoutStore(tmp_path / "dst")
    copy_image(src, "v1", dst, tag="v1")
    before = (tmp_path / "dst" / "index.json").read_bytes()
    again = copy_image(src, "v1", dst, tag="v1")
    assert again.up_to_date and again.blobs.copied == 0
    ev = again.evidence
    assert (ev.referrers_copied, ev.referrers_skipped, ev.tags_copied, ev.tags_skipped) == (0, 3, 0, 2)
    assert (tmp_path / "dst" / "index.json").read_bytes() == before


def test_evidence_added_at_the_source_later_comes_on_the_next_copy(source, tmp_path):
    src, e = source
    dst = LayoutStore(tmp_path / "dst")
    copy_image(src, "v1", dst, tag="v1")
    later = attach(src, e["amd64"], artifact_type=SBOM, media_type=SBOM, data=b"{}")
    again = copy_image(src, "v1", dst, tag="v1")
    assert not again.up_to_date and again.evidence.referrers_copied == 1
    assert [f.manifest.digest for f in find(dst, e["amd64"].digest, artifact_type=SBOM)] == [later]


def test_no_referrers_leaves_the_evidence_behind(source, tmp_path):
    src, e = source
    dst = LayoutStore(tmp_path / "dst")
    result = copy_image(src, "v1", dst, tag="v1", referrers=False)
    assert result.evidence is None and result.to_json()["evidence"] is None
    assert sorted(dst.tag_list()) == ["v1"]
    for part in ("index", "amd64", "arm64"):
        assert attached(dst, e[part].digest).referrers == ()


def test_a_platform_copy_carries_that_image_s_evidence_only(source, tmp_path):
    src, e = source
    dst = LayoutStore(tmp_path / "dst")
    copy_image(src, "v1", dst, tag="arm", platform=parse_platform("linux/arm64"))
    assert sorted(dst.tag_list()) == sorted(
        ["arm", referrers_tag(e["arm64"].digest), referrers_tag(e["sbom"])]
    )


def test_a_source_without_evidence_copies_as_before(tmp_path):
    src = LayoutStore(tmp_path / "src")
    push_index(src, tag="v1", seed=b"bare")
    dst = LayoutStore(tmp_path / "dst")
    result = copy_image(src, "v1", dst, tag="v1")
    assert result.evidence.copied == 0 and sorted(dst.tag_list()) == ["v1"]


def test_a_cosign_tag_with_a_signature_the_source_lacks_is_left_as_it_is(source, tmp_path, caplog):
    src, e = source
    dst = LayoutStore(tmp_path / "dst")
    copy_image(src, "v1", dst, tag="v1")
    tag = cosign_tag(e["index"].digest, "sig")
    theirs = put_cosign_tag(dst, e["index"].digest, ["prod key"])  # signed at the destination
    with caplog.at_level(logging.WARNING, logger="dockyard.copy"):
        result = copy_image(src, "v1", dst, tag="v1")
    assert result.evidence.tags_diverged == 1 and dst.manifest_head(tag)[0] == theirs
    assert f"{tag} names {theirs}, which holds layers the source's" in caplog.text


def test_a_cosign_tag_the_source_has_grown_replaces_the_older_one(source, tmp_path):
    src, e = source
    dst = LayoutStore(tmp_path / "dst")
    copy_image(src, "v1", dst, tag="v1")
    grown = put_cosign_tag(src, e["index"].digest, ["ci", "release"])  # one more signature
    result = copy_image(src, "v1", dst, tag="v1")
    assert result.evidence.tags_copied == 1
    assert dst.manifest_head(cosign_tag(e["index"].digest, "sig"))[0] == grown


def test_a_referrer_listed_but_gone_at_the_source_is_skipped_with_a_warning(source, tmp_path, caplog):
    src, e = source
    src.manifest_delete(e["note"])  # the fallback list still names it
    dst = LayoutStore(tmp_path / "dst")
    with caplog.at_level(logging.WARNING, logger="dockyard.copy"):
        result = copy_image(src, "v1", dst, tag="v1")
    assert f"referrer {e['note']} of {e['index'].digest} is listed but absent" in caplog.text
    assert result.evidence.referrers_copied == 2
    assert dst.manifest_head("v1")[0] == e["index"].digest


def test_covers_compares_layers_with_their_signature_annotations(source):
    _, e = source
    subject = e["index"].digest
    a, b = cosign_layer(subject, "a")[0], cosign_layer(subject, "b")[0]
    config = descriptor_of(b"{}", mt.OCI_CONFIG)

    def image(*layers) -> Manifest:
        return parse_manifest(build_manifest(config, list(layers))[0])

    assert covers(image(a, b), image(a))
    assert covers(image(a), image())
    assert not covers(image(a), image(a, b))
    forged = a.with_annotations({"dev.cosignproject.cosign/signature": "b3RoZXI="})
    assert not covers(image(a), image(forged))  # same payload, another signature


def test_inspect_lists_what_is_attached_to_the_index_and_to_each_image(source):
    src, e = source
    result = inspect_image(src, "v1", uncompressed=False)
    assert [r.digest for r in result.attached.referrers] == [e["note"]]
    assert [(t.kind, t.digest, t.layers) for t in result.attached.tags] == [("signatures", e["sig"], 1)]
    images = {str(i.manifest.platform): i.attached for i in result.images}
    assert [(r.digest, r.artifact_type) for r in images["linux/arm64"].referrers] == [(e["sbom"], SBOM)]
    assert [t.tag for t in images["linux/amd64"].tags] == [cosign_tag(e["amd64"].digest, "att")]
    # One image named by digest: the root and the image are one, looked up once.
    single = inspect_image(src, str(e["arm64"].digest), uncompressed=False)
    assert single.attached == single.images[0].attached == images["linux/arm64"]
    assert inspect_image(src, "v1", uncompressed=False, referrers=False).to_json()["referrers"] is None
