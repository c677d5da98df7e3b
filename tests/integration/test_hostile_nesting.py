"""Issue 17 items 3 and 11: verify reads nested indexes; nothing verified is an error;
indexes nested ~1000 deep end in one line, not a RecursionError (verify and copy)."""

from __future__ import annotations

import io
import json

import pytest

from dockyard.digest import sha256_digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, build_index, build_manifest
from dockyard.platform import Platform
from tests.helpers.verifyimages import layer
from tests.integration.hostile import dockyard, one_error_line

pytestmark = pytest.mark.integration

AMD64 = Platform("linux", "amd64")


def _image(store: LayoutStore, *, wrong_diff_id: bool = False) -> Descriptor:
    """A one-layer linux/amd64 image (a text file, no ELF); its config may lie about the layer."""
    desc, blob, diff_id = layer([("etc/motd", b"hello\n")])
    store.blob_put(desc.digest, desc.size, io.BytesIO(blob))
    if wrong_diff_id:
        diff_id = str(sha256_digest(b"something else"))
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    ).encode()
    config_desc = Descriptor(mt.OCI_CONFIG, sha256_digest(config), len(config))
    store.blob_put(config_desc.digest, config_desc.size, io.BytesIO(config))
    raw, manifest = build_manifest(config_desc, [desc])
    store.manifest_put(raw, mt.OCI_MANIFEST)
    return Descriptor(manifest.media_type, manifest.digest, manifest.size, AMD64)


def _index(store: LayoutStore, children, *, tag: str | None = None) -> Descriptor:
    raw, desc = build_index(children)
    store.manifest_put(raw, mt.OCI_INDEX, tag=tag)
    return desc


def test_an_empty_index_fails_verify_unless_allow_empty(tmp_path):
    store = LayoutStore(tmp_path / "l")
    _index(store, [], tag="empty")
    result = dockyard("verify", "--json", f"oci:{store.path}:empty")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [f["rule"] for f in report["findings"]] == ["index.empty"]
    assert "index.empty" in one_error_line(result)

    allowed = dockyard("verify", "--allow-empty", f"oci:{store.path}:empty")
    assert allowed.returncode == 0, allowed.stderr


def test_an_index_of_empty_indexes_is_nothing_verified(tmp_path):
    store = LayoutStore(tmp_path / "l")
    inner = _index(store, [])
    _index(store, [inner], tag="nested")
    result = dockyard("verify", "--json", f"oci:{store.path}:nested")
    assert result.returncode == 1
    rules = [f["rule"] for f in json.loads(result.stdout)["findings"]]
    assert "index.empty" in rules


def test_verify_reads_the_images_of_a_nested_index(tmp_path):
    store = LayoutStore(tmp_path / "l")
    good = _index(store, [_image(store)])
    bad = _index(store, [_image(store, wrong_diff_id=True)])
    _index(store, [good], tag="good")
    _index(store, [bad], tag="bad")

    ok = dockyard("verify", "--json", f"oci:{store.path}:good")
    assert ok.returncode == 0, ok.stderr
    assert [p["platform"] for p in json.loads(ok.stdout)["platforms"]] == ["linux/amd64"]

    broken = dockyard("verify", "--json", f"oci:{store.path}:bad")
    assert broken.returncode == 1
    rules = {f["rule"] for f in json.loads(broken.stdout)["findings"]}
    assert "config.diff-ids" in rules  # the nested image's layer was read and checked


def _deep(store: LayoutStore, depth: int) -> None:
    child = _image(store)
    for _ in range(depth):
        child = _index(store, [child])
    _index(store, [child], tag="deep")


@pytest.mark.parametrize("command", ["verify", "copy"])
def test_indexes_nested_1000_deep_end_in_one_line(tmp_path, command):
    store = LayoutStore(tmp_path / "l")
    _deep(store, 1000)
    src = f"oci:{store.path}:deep"
    args = ["verify", src] if command == "verify" else ["copy", src, f"oci:{tmp_path / 'd'}:x"]
    result = dockyard(*args)
    line = one_error_line(result)
    assert result.returncode == 1
    assert "RecursionError" not in result.stderr
    if command == "verify":
        assert "index.too-deep" in line
    else:
        assert "is nested more than 16 indexes deep" in line
        # Nothing was named at the destination: the root's tag is the last write.
        assert list(LayoutStore(tmp_path / "d").tag_list()) == []
