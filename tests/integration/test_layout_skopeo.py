"""skopeo reads the layouts dockyard writes, and dockyard reads (and extends) skopeo's."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from dockyard.oci import mediatypes as mt
from dockyard.oci.imports import RootfsSource, import_rootfs
from dockyard.oci.inspect import inspect_image
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Index, parse_manifest
from dockyard.platform import Platform
from tests.helpers.busybox import busybox_rootfs

pytestmark = pytest.mark.integration

REF = "org.opencontainers.image.ref.name"


@pytest.fixture(scope="session")
def image_layout(tmp_path_factory) -> Path:
    """A two-platform busybox image written by dockyard at oci:DIR:v1."""
    base = tmp_path_factory.mktemp("layout")
    sources = [
        RootfsSource(Platform("linux", arch), busybox_rootfs(arch, base / arch))
        for arch in ("amd64", "arm64")
    ]
    import_rootfs(sources, LayoutStore(base / "oci"), tag="v1")
    return base / "oci"


def skopeo(*args: str) -> bytes:
    proc = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def test_skopeo_reads_what_dockyard_wrote(image_layout):
    store = LayoutStore(image_layout)
    ours, media_type = store.manifest_get("v1")
    assert media_type == mt.OCI_INDEX
    assert skopeo("inspect", "--raw", f"oci:{image_layout}:v1") == ours
    assert skopeo("inspect", "--raw", f"oci:{image_layout}") == ours  # the only image
    index = parse_manifest(ours)
    assert isinstance(index, Index)
    for child in index.platforms():  # children have no index.json entry: by digest
        assert (
            store.manifest_get(str(child.digest))[0]
            == (image_layout / "blobs" / "sha256" / child.digest.hex).read_bytes()
        )
    info = json.loads(skopeo("inspect", "--override-arch", "arm64", f"oci:{image_layout}:v1"))
    assert (info["Os"], info["Architecture"]) == ("linux", "arm64")


def test_skopeo_copy_of_dockyard_layout_reads_back_identical(image_layout, tmp_path):
    dest = tmp_path / "copy"
    skopeo("copy", "--all", f"oci:{image_layout}:v1", f"oci:{dest}:t")
    theirs = LayoutStore(dest)
    assert list(theirs.tag_list()) == ["t"]
    original = inspect_image(LayoutStore(image_layout), "v1", uncompressed=True)
    copied = inspect_image(theirs, "t", uncompressed=True)  # verifies every blob and diff_id
    assert copied.descriptor == original.descriptor
    assert copied.to_json()["images"] == original.to_json()["images"]
    assert [str(i.config.platform) for i in copied.images] == ["linux/amd64", "linux/arm64"]


def test_dockyard_tags_into_a_skopeo_layout_and_skopeo_sees_both(image_layout, tmp_path):
    dest = tmp_path / "shared"
    skopeo("copy", "--all", f"oci:{image_layout}:v1", f"oci:{dest}:from-skopeo")
    store = LayoutStore(dest)
    data, media_type = store.manifest_get("from-skopeo")
    # Re-tag with dockyard: a second name for the same index, then a move.
    store.manifest_put(data, media_type, tag="from-dockyard")
    assert sorted(store.tag_list()) == ["from-dockyard", "from-skopeo"]
    for tag in ("from-dockyard", "from-skopeo"):
        assert skopeo("inspect", "--raw", f"oci:{dest}:{tag}") == data
    # skopeo adds a single-arch image under a new name; dockyard lists all three.
    skopeo("copy", "--override-arch", "arm64", f"oci:{image_layout}:v1", f"oci:{dest}:arm-only")
    assert sorted(store.tag_list()) == ["arm-only", "from-dockyard", "from-skopeo"]
    arm_only = inspect_image(store, "arm-only")
    assert [str(i.config.platform) for i in arm_only.images] == ["linux/arm64"]
    assert not arm_only.is_index


def test_retag_moves_the_name_for_skopeo_too(image_layout, tmp_path):
    dest = tmp_path / "retag"
    skopeo("copy", "--all", f"oci:{image_layout}:v1", f"oci:{dest}:t")
    skopeo("copy", "--override-arch", "amd64", f"oci:{image_layout}:v1", f"oci:{dest}:single")
    store = LayoutStore(dest)
    single, single_type = store.manifest_get("single")
    store.manifest_put(single, single_type, tag="t")  # t now names the single-arch image
    assert skopeo("inspect", "--raw", f"oci:{dest}:t") == single
    names = [
        e["annotations"][REF] for e in json.loads((dest / "index.json").read_bytes())["manifests"]
    ]
    assert sorted(names) == ["single", "t"]


def test_skopeo_reads_a_layouts_referrers_index_by_its_fallback_name(tmp_path):
    """A referrer put into a layout is listed in index.json as `sha256-<hex>`: skopeo reads
    that name as an OCI index whose entry is the referrer, and reads the referrer by digest."""
    from dockyard.digest import sha256_digest
    from dockyard.oci.models import EMPTY_DESCRIPTOR, EMPTY_JSON, build_manifest, descriptor_of
    from tests.helpers.images import make_image, push_image

    store = LayoutStore(tmp_path / "oci")
    image = make_image((30,))
    push_image(store, image, tag="v1")
    note = b'{"ok":true}'
    store.blob_put(EMPTY_DESCRIPTOR.digest, 2, io.BytesIO(EMPTY_JSON))
    store.blob_put(sha256_digest(note), len(note), io.BytesIO(note))
    raw, desc = build_manifest(
        EMPTY_DESCRIPTOR,
        [descriptor_of(note, "application/json")],
        artifact_type="application/vnd.example+json",
        subject=image.descriptor,
    )
    store.referrer_put(raw, mt.OCI_MANIFEST)
    listed = json.loads(
        skopeo("inspect", "--raw", f"oci:{tmp_path / 'oci'}:sha256-{image.digest.hex}")
    )
    assert listed["mediaType"] == mt.OCI_INDEX
    assert [(m["digest"], m["artifactType"]) for m in listed["manifests"]] == [
        (str(desc.digest), "application/vnd.example+json")
    ]
    # The image's own name still reads as before.
    assert skopeo("inspect", "--raw", f"oci:{tmp_path / 'oci'}:v1") == image.manifest
