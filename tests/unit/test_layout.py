"""LayoutStore on a temp directory: atomic verified writes, names as skopeo keeps them."""

from __future__ import annotations

import io
import json

import pytest

from dockyard.digest import Digest, sha256_digest
from dockyard.errors import DigestMismatch, InputError, LayoutInvalid, ManifestInvalid, NotFound
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, build_index, build_manifest, descriptor_of
from dockyard.oci.store import Store
from dockyard.platform import Platform

REF = "org.opencontainers.image.ref.name"


def put_blob(store: LayoutStore, data: bytes) -> Digest:
    d = sha256_digest(data)
    store.blob_put(d, len(data), io.BytesIO(data))
    return d


def image(store: LayoutStore, payload: bytes) -> tuple[bytes, Descriptor]:
    """A one-layer manifest whose blobs are in the store."""
    config = b'{"architecture":"amd64","os":"linux"}'
    put_blob(store, config)
    put_blob(store, payload)
    return build_manifest(
        descriptor_of(config, mt.OCI_CONFIG), [descriptor_of(payload, mt.OCI_LAYER_GZIP)]
    )


def index_json(path) -> dict:
    return json.loads((path / "index.json").read_bytes())


def leftovers(path) -> list[str]:
    return sorted(p.name for p in path.rglob(".tmp-*"))


def test_is_a_store(tmp_path):
    assert isinstance(LayoutStore(tmp_path), Store)


def test_blob_round_trip_and_layout_files(tmp_path):
    store = LayoutStore(tmp_path / "l")
    d = put_blob(store, b"hello")
    assert (tmp_path / "l" / "blobs" / "sha256" / d.hex).read_bytes() == b"hello"
    assert (tmp_path / "l" / "oci-layout").read_bytes() == b'{"imageLayoutVersion":"1.0.0"}'
    assert index_json(tmp_path / "l") == {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [],
    }
    assert store.blob_exists(d) == 5
    with store.blob_open(d) as f:
        assert f.read() == b"hello"
    assert store.blob_exists(sha256_digest(b"other")) is None
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("data", "size", "message"),
    [
        (b"hellO", 5, "content hashes to sha256:{got}, expected {want}"),
        (b"hello!", 5, "more than the expected 5 bytes"),
        (b"hell", 5, "4 bytes, expected 5"),
    ],
)
def test_bad_blob_is_refused_and_not_kept(tmp_path, data, size, message):
    store = LayoutStore(tmp_path)
    want = sha256_digest(b"hello")
    with pytest.raises(DigestMismatch) as info:
        store.blob_put(want, size, io.BytesIO(data))
    expected = message.format(got=sha256_digest(data).hex, want=want)
    assert str(info.value) == f"blob {want}: {expected}"
    assert store.blob_exists(want) is None
    assert not store.blob_path(want).exists()
    assert leftovers(tmp_path) == []


def test_unknown_size_checks_digest_only(tmp_path):
    store = LayoutStore(tmp_path)
    d = sha256_digest(b"data")
    store.blob_put(d, -1, io.BytesIO(b"data"))
    assert store.blob_exists(d) == 4


def test_corrupt_blob_on_disk_is_not_trusted_and_is_replaced(tmp_path):
    store = LayoutStore(tmp_path)
    d = put_blob(store, b"hello")
    store.blob_path(d).write_bytes(b"HELLO")  # same size, other content
    fresh = LayoutStore(tmp_path)
    assert fresh.blob_exists(d) is None
    with pytest.raises(DigestMismatch) as info, fresh.blob_open(d) as f:
        f.read()
    assert str(info.value) == (
        f"oci:{tmp_path}: blob {d}: content hashes to {sha256_digest(b'HELLO')}, expected {d}"
    )
    put_blob(fresh, b"hello")
    assert store.blob_path(d).read_bytes() == b"hello"


def test_cached_verification_notices_a_rewrite(tmp_path):
    store = LayoutStore(tmp_path)
    d = put_blob(store, b"hello")
    assert store.blob_exists(d) == 5
    path = store.blob_path(d)
    path.unlink()
    path.write_bytes(b"jello")  # new inode: the cache must not vouch for it
    assert store.blob_exists(d) is None


def test_hand_made_digest_cannot_escape(tmp_path):
    store = LayoutStore(tmp_path)
    with pytest.raises(InputError) as info:
        store.blob_exists(Digest("sha256", "../../etc/passwd"))
    assert str(info.value) == (
        "'sha256:../../etc/passwd' is not a digest (expected sha256:<64 lower-case hex digits>)"
    )


def test_manifest_put_with_tag_records_ref_name(tmp_path):
    store = LayoutStore(tmp_path)
    data, desc = image(store, b"layer")
    assert store.manifest_put(data, mt.OCI_MANIFEST, tag="v1") == desc.digest
    assert index_json(tmp_path)["manifests"] == [
        {
            "mediaType": mt.OCI_MANIFEST,
            "digest": str(desc.digest),
            "size": desc.size,
            "annotations": {REF: "v1"},
        }
    ]
    assert store.manifest_get("v1") == (data, mt.OCI_MANIFEST)
    assert store.manifest_get(str(desc.digest)) == (data, mt.OCI_MANIFEST)
    assert store.manifest_head("v1") == (desc.digest, desc.size, mt.OCI_MANIFEST)
    assert store.manifest_head("nope") is None
    assert list(store.tag_list()) == ["v1"]


def test_retag_moves_the_name_one_entry_per_name(tmp_path):
    store = LayoutStore(tmp_path)
    one, d1 = image(store, b"one")
    two, d2 = image(store, b"two")
    store.manifest_put(one, mt.OCI_MANIFEST, tag="a")
    store.manifest_put(one, mt.OCI_MANIFEST, tag="b")
    store.manifest_put(two, mt.OCI_MANIFEST, tag="a")
    entries = [(e["digest"], e["annotations"][REF]) for e in index_json(tmp_path)["manifests"]]
    assert entries == [(str(d1.digest), "b"), (str(d2.digest), "a")]
    assert sorted(store.tag_list()) == ["a", "b"]
    assert store.manifest_get("a")[0] == two


def test_untagged_put_is_a_blob_only_and_children_resolve_by_digest(tmp_path):
    store = LayoutStore(tmp_path)
    child, cd = image(store, b"layer")
    store.manifest_put(child, mt.OCI_MANIFEST)
    assert index_json(tmp_path)["manifests"] == []
    idx, _ = build_index([Descriptor(cd.media_type, cd.digest, cd.size, Platform("linux", "amd64"))])
    store.manifest_put(idx, mt.OCI_INDEX, tag="latest")
    assert store.manifest_get(str(cd.digest)) == (child, mt.OCI_MANIFEST)
    assert store.manifest_head(str(cd.digest)) == (cd.digest, cd.size, mt.OCI_MANIFEST)
    assert store.manifest_get("") == (idx, mt.OCI_INDEX)  # the only root
    assert LayoutStore(tmp_path, tag="latest").manifest_get("")[0] == idx


def test_default_reference_needs_exactly_one_root(tmp_path):
    store = LayoutStore(tmp_path)
    one, _ = image(store, b"one")
    two, _ = image(store, b"two")
    store.manifest_put(one, mt.OCI_MANIFEST, tag="a")
    store.manifest_put(two, mt.OCI_MANIFEST, tag="b")
    with pytest.raises(InputError) as info:
        store.manifest_get("")
    assert str(info.value) == (
        f"oci:{tmp_path}: the layout holds 2 images; name one with oci:DIR:TAG (one of: a, b)"
    )


def test_missing_things_are_not_found(tmp_path):
    store = LayoutStore(tmp_path / "absent")
    with pytest.raises(NotFound) as info:
        store.manifest_get("v1")
    assert str(info.value) == f"oci:{tmp_path / 'absent'}: no manifest 'v1'"
    with pytest.raises(NotFound):
        store.blob_open(sha256_digest(b"x"))
    assert list(store.tag_list()) == []
    assert not (tmp_path / "absent").exists()  # reads never create the layout


def test_manifest_delete(tmp_path):
    store = LayoutStore(tmp_path)
    data, desc = image(store, b"layer")
    store.manifest_put(data, mt.OCI_MANIFEST, tag="v1")
    store.manifest_delete(desc.digest)
    assert list(store.tag_list()) == []
    assert store.manifest_head(str(desc.digest)) is None
    with pytest.raises(NotFound):
        store.manifest_delete(desc.digest)


@pytest.mark.parametrize(
    ("tag", "ok"), [("latest", True), ("v1.2_rc-3", True), ("a/b+c", True), ("a:b", False), ("", False), ("/x", False)]
)
def test_names(tmp_path, tag, ok):
    store = LayoutStore(tmp_path)
    data, _ = image(store, b"x")
    if ok:
        store.manifest_put(data, mt.OCI_MANIFEST, tag=tag)
        assert list(store.tag_list()) == [tag]
    else:
        with pytest.raises(InputError, match="is not a valid OCI layout name"):
            store.manifest_put(data, mt.OCI_MANIFEST, tag=tag)


def test_garbage_manifest_is_refused(tmp_path):
    store = LayoutStore(tmp_path)
    with pytest.raises(ManifestInvalid):
        store.manifest_put(b'{"schemaVersion":2,"manifests":[],"layers":[]}', mt.OCI_INDEX, tag="x")
    assert list(tmp_path.iterdir()) == []


def test_escaping_digest_in_index_json_is_refused_before_any_open(tmp_path):
    (tmp_path / "oci-layout").write_bytes(b'{"imageLayoutVersion":"1.0.0"}')
    (tmp_path / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": mt.OCI_MANIFEST,
                        "digest": "sha256:../../../etc/passwd",
                        "size": 1,
                        "annotations": {REF: "x"},
                    }
                ],
            }
        )
    )
    with pytest.raises(ManifestInvalid) as info:
        LayoutStore(tmp_path).manifest_get("x")
    assert str(info.value) == (
        "index.manifests[0].digest: 'sha256:../../../etc/passwd' is not a digest "
        "(expected sha256:<64 lower-case hex digits>)"
    )


def test_tampered_manifest_blob_is_refused(tmp_path):
    store = LayoutStore(tmp_path)
    data, desc = image(store, b"layer")
    store.manifest_put(data, mt.OCI_MANIFEST, tag="v1")
    store.blob_path(desc.digest).write_bytes(data.replace(b"layers", b"LAYERS"))
    with pytest.raises(DigestMismatch, match=r"manifest sha256:[0-9a-f]+: content hashes to"):
        store.manifest_get("v1")


def test_a_directory_that_is_not_a_layout_is_refused(tmp_path):
    (tmp_path / "README").write_text("mine")
    store = LayoutStore(tmp_path)
    with pytest.raises(LayoutInvalid) as info:
        put_blob(store, b"x")
    assert str(info.value) == (
        f"oci:{tmp_path}: {tmp_path} is not an OCI image layout (no oci-layout or index.json)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README"]


def test_manifest_naming_missing_content_is_refused(tmp_path):
    store = LayoutStore(tmp_path)
    config = b'{"architecture":"amd64","os":"linux"}'
    put_blob(store, config)
    missing = descriptor_of(b"never stored", mt.OCI_LAYER_GZIP)
    data, desc = build_manifest(descriptor_of(config, mt.OCI_CONFIG), [missing])
    with pytest.raises(NotFound) as info:
        store.manifest_put(data, mt.OCI_MANIFEST, tag="v1")
    assert str(info.value) == (
        f"oci:{tmp_path}: manifest {desc.digest} references {missing.digest}, "
        "which is not in the layout (put blobs and children first)"
    )
    assert list(store.tag_list()) == []
    idx, _ = build_index([desc])
    with pytest.raises(NotFound, match="put blobs and children first"):
        store.manifest_put(idx, mt.OCI_INDEX, tag="v1")


# ---------------------------------------------------------------- inspect over a layout


def tar_gz(files: dict[str, bytes]) -> tuple[bytes, bytes]:
    """(uncompressed tar, gzip of it)."""
    import gzip
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue(), gzip.compress(buf.getvalue(), mtime=0)


def image_with_layer(store: LayoutStore, arch: str, *, diff_id: str | None = None) -> Descriptor:
    plain, packed = tar_gz({"hello": arch.encode() * 100})
    diff = diff_id or str(sha256_digest(plain))
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "config": {"User": "nobody", "Labels": {"k": "v"}},
            "rootfs": {"type": "layers", "diff_ids": [diff]},
        }
    ).encode()
    put_blob(store, config)
    put_blob(store, packed)
    data, desc = build_manifest(
        descriptor_of(config, mt.OCI_CONFIG), [descriptor_of(packed, mt.OCI_LAYER_GZIP)]
    )
    store.manifest_put(data, mt.OCI_MANIFEST)
    return desc


def test_inspect_index_with_attestation(tmp_path):
    from dockyard.oci.inspect import inspect_image

    store = LayoutStore(tmp_path)
    amd = image_with_layer(store, "amd64")
    att = image_with_layer(store, "unknown")
    children = [
        Descriptor(amd.media_type, amd.digest, amd.size, Platform("linux", "amd64")),
        Descriptor(
            att.media_type,
            att.digest,
            att.size,
            Platform("unknown", "unknown"),
            {
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": str(amd.digest),
            },
        ),
    ]
    idx, idx_desc = build_index(children)
    store.manifest_put(idx, mt.OCI_INDEX, tag="v1")
    result = inspect_image(store, "v1")
    doc = result.to_json()
    assert doc["digest"] == str(idx_desc.digest)
    assert [(m["platform"], m["attestation"]) for m in doc["manifests"]] == [
        ("linux/amd64", False),
        ("unknown/unknown", True),
    ]
    assert doc["manifests"][1]["attests"] == str(amd.digest)
    [image] = doc["images"]
    plain, packed = tar_gz({"hello": b"amd64" * 100})
    assert (image["platform"], image["layers"]) == ("linux/amd64", 1)
    assert (image["compressed_size"], image["uncompressed_size"]) == (len(packed), len(plain))
    assert (image["config"]["user"], image["config"]["labels"]) == ("nobody", {"k": "v"})
    assert inspect_image(store, "v1", uncompressed=False).images[0].uncompressed_size is None


def test_inspect_catches_a_layer_that_disagrees_with_its_diff_id(tmp_path):
    from dockyard.oci.inspect import inspect_image

    store = LayoutStore(tmp_path)
    wrong = "sha256:" + "0" * 64
    desc = image_with_layer(store, "arm64", diff_id=wrong)
    data, _ = store.manifest_get(str(desc.digest))
    store.manifest_put(data, mt.OCI_MANIFEST, tag="v1")
    assert inspect_image(store, "v1", uncompressed=False).images[0].config.architecture == "arm64"
    with pytest.raises(DigestMismatch, match=f"uncompressed content hashes to .*, config says {wrong}$"):
        inspect_image(store, "v1")


def test_open_store_for_layouts(tmp_path):
    from dockyard.oci.open import open_location

    store, reference = open_location(f"oci:{tmp_path}:v1")
    assert isinstance(store, LayoutStore)
    assert (store.path, store.tag, reference) == (tmp_path, "v1", "v1")
    assert open_location(f"oci:{tmp_path}")[1] == ""


def test_empty_layout_has_no_default_image(tmp_path):
    with pytest.raises(NotFound) as info:
        LayoutStore(tmp_path / "none").manifest_get("")
    assert str(info.value) == f"oci:{tmp_path / 'none'}: no image in this layout"



def test_a_layout_being_created_by_another_writer_is_not_foreign(tmp_path):
    # copy's blob workers write into a layout that does not exist yet: one of
    # them may find only another's temp file (or blobs/) there, mid-creation.
    # That is a layout being made, not a directory of someone else's files.
    from dockyard.digest import sha256_digest

    (tmp_path / "new").mkdir()
    (tmp_path / "new" / ".tmp-oci-layout-being-written").write_bytes(b"")
    (tmp_path / "new" / "blobs").mkdir()
    store = LayoutStore(tmp_path / "new")
    data = b"first blob"
    store.blob_put(sha256_digest(data), len(data), io.BytesIO(data))
    assert (store.path / "oci-layout").exists()
    assert store.blob_exists(sha256_digest(data)) == len(data)


def test_the_marker_landing_between_the_check_and_the_scan_is_not_foreign(tmp_path, monkeypatch):
    # The race behind issue 18's flaky reuse: two jobs of one target copy into
    # the same fresh layout; one reads index.json (absent), finds no marker, and
    # while it scans the directory the other renames `oci-layout` into place.
    # Deterministically: the marker appears exactly between the look and the scan.
    from pathlib import Path

    layout = tmp_path / "svc"
    layout.mkdir()
    real_is_dir = Path.is_dir

    def is_dir_then_other_writer_lands(self):
        answer = real_is_dir(self)
        if self == layout and not (layout / "oci-layout").exists():
            (layout / "oci-layout").write_bytes(b'{"imageLayoutVersion":"1.0.0"}')
        return answer

    monkeypatch.setattr(Path, "is_dir", is_dir_then_other_writer_lands)
    assert LayoutStore(layout).manifest_head("sha256:" + "0" * 64) is None
