"""rootfs.diff_ids: each layer's decompressed stream is hashed in the scan's one pass and
compared with its diff_id; the count and rootfs.type are checked against the manifest."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from dockyard.digest import Digest, sha256_digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import build_manifest, canonical_json, descriptor_of, parse_config
from dockyard.platform import parse_platform
from dockyard.verify.archscan import ScanLimits, scan_layers
from dockyard.verify.checks import check_rootfs
from dockyard.verify.image import verify_image
from tests.unit.test_archscan import Stream, f, layer, tar_bytes

COMPRESSIONS = ["gzip", "tar", "zstd", "docker", "sniff-gzip", "sniff-tar"]
ENTRIES = ([f("bin/a")], [f("bin/b"), f("etc/x", b"x")])


def diff_id(entries) -> Digest:
    return sha256_digest(tar_bytes(entries))


def diff_findings(result):
    return [x for x in result.findings if x.rule == "config.diff-ids"]


def scan_with(layers, diff_ids, **kwargs):
    streams = [(desc, Stream(blob)) for desc, blob in layers]
    result = scan_layers(
        streams, platform=parse_platform("linux/arm64"), diff_ids=diff_ids, **kwargs
    )
    return result, streams


# ------------------------------------------------------------------ the scan


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_matching_diff_ids_pass_for_every_compression(compression):
    layers = [layer(*e, compression=compression) for e in ENTRIES]
    result, _ = scan_with(layers, [diff_id(e) for e in ENTRIES])
    assert result.ok and diff_findings(result) == []


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_a_wrong_diff_id_names_the_layer_its_digest_and_both_diff_ids(compression):
    layers = [layer(*e, compression=compression) for e in ENTRIES]
    wrong = sha256_digest(b"not the layer")
    result, _ = scan_with(layers, [diff_id(ENTRIES[0]), wrong])
    (found,) = diff_findings(result)
    desc = layers[1][0]
    actual = diff_id(ENTRIES[1])
    assert found.is_error and not result.ok and found.path == str(desc.digest)
    assert found.message == (
        f"layer 1 ({desc.digest}) decompresses to {actual}, but the config's "
        f"rootfs.diff_ids[1] is {wrong} (runtimes refuse this image)"
    )
    assert dict(found.detail) == {
        "kind": "digest",
        "layer": 1,
        "digest": str(desc.digest),
        "expected": str(wrong),
        "actual": str(actual),
    }


def test_a_compressed_layer_is_not_its_own_diff_id():
    # A config listing the compressed digests (a classic tool bug) fails.
    layers = [layer(*e) for e in ENTRIES]
    result, _ = scan_with(layers, [desc.digest for desc, _ in layers])
    assert [x.detail["layer"] for x in diff_findings(result)] == [0, 1]


@pytest.mark.parametrize("compression", ["gzip", "tar"])
def test_a_sha512_diff_id_is_hashed_with_sha512(compression):
    raw = tar_bytes(ENTRIES[0])
    good = Digest("sha512", hashlib.sha512(raw).hexdigest())
    assert scan_with([layer(*ENTRIES[0], compression=compression)], [good])[0].ok
    bad = Digest("sha512", hashlib.sha512(b"x").hexdigest())
    (found,) = diff_findings(scan_with([layer(*ENTRIES[0], compression=compression)], [bad])[0])
    assert found.detail["actual"] == str(good)


def test_one_pass_each_blob_is_read_once():
    layers = [layer(*e) for e in ENTRIES]

    class Counting(Stream):
        read_bytes = 0

        def read(self, n=-1):
            data = super().read(n)
            self.read_bytes += len(data)
            return data

    streams = [(desc, Counting(blob)) for desc, blob in layers]
    result = scan_layers(
        streams, platform=parse_platform("linux/arm64"), diff_ids=[diff_id(e) for e in ENTRIES]
    )
    assert result.ok
    assert [s.read_bytes for _, s in streams] == [len(blob) for _, blob in layers]


def test_without_diff_ids_nothing_is_compared():
    result, _ = scan_with([layer(*ENTRIES[0])], None)
    assert result.ok and diff_findings(result) == []


def test_layers_beyond_the_diff_ids_are_left_to_the_count_check():
    layers = [layer(*e) for e in ENTRIES]
    result, _ = scan_with(layers, [diff_id(ENTRIES[0])])
    assert result.ok and diff_findings(result) == []


def test_a_layer_not_read_to_its_end_is_not_compared_it_already_failed():
    big = layer(f("data/zeros", bytes(3 << 20)))
    result, _ = scan_with(
        [big], [sha256_digest(b"wrong")], limits=ScanLimits(max_uncompressed=1 << 20)
    )
    assert [x.rule for x in result.findings if x.is_error] == ["layer.limit"]


# ------------------------------------------------------------------ count and type


def _config(diff_ids, rootfs_type="layers"):
    doc = {
        "os": "linux",
        "architecture": "arm64",
        "rootfs": {"diff_ids": [str(d) for d in diff_ids]},
    }
    if rootfs_type is not None:
        doc["rootfs"]["type"] = rootfs_type
    return parse_config(json.dumps(doc).encode())


D = sha256_digest(b"layer")


@pytest.mark.parametrize(
    ("diff_ids", "layers", "message"),
    [
        ([D, D], 2, None),
        ([], 0, None),
        ([D], 2, "the manifest has 2 layers but the config's rootfs.diff_ids lists 1"),
        ([D, D, D], 2, "the manifest has 2 layers but the config's rootfs.diff_ids lists 3"),
        ([D], 0, "the manifest has 0 layers but the config's rootfs.diff_ids lists 1"),
        ([], 1, "the manifest has 1 layer but the config's rootfs.diff_ids lists 0"),
    ],
)
def test_one_diff_id_per_layer(diff_ids, layers, message):
    findings = check_rootfs("linux/arm64", _config(diff_ids), layers, path="cfg")
    if message is None:
        assert findings == []
        return
    (found,) = findings
    assert (found.rule, found.severity, found.path) == ("config.diff-ids", "error", "cfg")
    assert found.message == message + " (expected one per layer; runtimes refuse this image)"
    assert dict(found.detail) == {"kind": "count", "layers": layers, "diff_ids": len(diff_ids)}


@pytest.mark.parametrize(
    ("rootfs_type", "message"),
    [
        ("image", "the config's rootfs.type is 'image' (expected 'layers')"),
        (None, "the config's rootfs.type is missing (expected 'layers')"),
    ],
)
def test_rootfs_type_must_be_layers(rootfs_type, message):
    (found,) = check_rootfs("linux/arm64", _config([D], rootfs_type), 1, path="cfg")
    assert found.rule == "config.diff-ids" and found.message == message


# ------------------------------------------------------------------ verify_image on a crafted layout


def crafted(tmp_path, diff_ids, *, rootfs_type="layers", compression="gzip", os="linux"):
    """oci:DIR:t holding one linux/arm64 image of ENTRIES' layers and a config saying `diff_ids`."""
    store = LayoutStore(tmp_path / "oci")
    descs = []
    for entries in ENTRIES:
        desc, blob = layer(*entries, compression=compression)
        store.blob_put(desc.digest, desc.size, io.BytesIO(blob))
        descs.append(desc)
    rootfs = {"type": rootfs_type, "diff_ids": [str(d) for d in diff_ids]}
    config = canonical_json({"os": os, "architecture": "arm64", "rootfs": rootfs})
    config_desc = descriptor_of(config, mt.OCI_CONFIG)
    store.blob_put(config_desc.digest, config_desc.size, io.BytesIO(config))
    raw, _ = build_manifest(config_desc, descs)
    store.manifest_put(raw, mt.OCI_MANIFEST, tag="t")
    return f"oci:{tmp_path / 'oci'}:t", descs


GOOD = [diff_id(e) for e in ENTRIES]


@pytest.mark.parametrize("compression", ["gzip", "tar", "zstd"])
def test_verify_passes_an_image_whose_diff_ids_match(tmp_path, compression):
    location, _ = crafted(tmp_path, GOOD, compression=compression)
    report = verify_image(location)
    assert report.ok, report.findings
    assert "config.diff-ids" in report.platforms[0].checks


@pytest.mark.parametrize(
    ("diff_ids", "kinds"),
    [
        ([GOOD[0], sha256_digest(b"other")], ["digest"]),  # a wrong digest
        (GOOD[:1], ["count"]),  # one fewer
        ([*GOOD, sha256_digest(b"extra")], ["count"]),  # one more
        ([GOOD[1], GOOD[0]], ["digest", "digest"]),  # out of order
    ],
)
def test_verify_fails_an_image_whose_diff_ids_do_not_match(tmp_path, diff_ids, kinds):
    location, descs = crafted(tmp_path, diff_ids)
    report = verify_image(location)
    assert not report.ok
    found = [x for x in report.errors if x.rule == "config.diff-ids"]
    assert [x.detail["kind"] for x in found] == kinds
    assert [x.rule for x in report.errors] == ["config.diff-ids"] * len(kinds)
    if kinds[0] == "digest":
        assert found[-1].path == str(descs[1].digest)


def test_verify_fails_a_rootfs_type_other_than_layers(tmp_path):
    location, _ = crafted(tmp_path, GOOD, rootfs_type="image")
    (found,) = verify_image(location).errors
    assert found.message == "the config's rootfs.type is 'image' (expected 'layers')"


def test_a_platform_without_an_elf_signature_gets_the_count_checked_not_the_values(tmp_path):
    # windows: the layers are not read at all (arch.skipped), so a wrong value goes unseen.
    location, _ = crafted(tmp_path / "wrong", [GOOD[0], sha256_digest(b"other")], os="windows")
    report = verify_image(location)
    assert report.ok and [x.rule for x in report.findings] == ["arch.skipped"]
    location, _ = crafted(tmp_path / "fewer", GOOD[:1], os="windows")
    assert [x.detail["kind"] for x in verify_image(location).errors] == ["count"]
