"""docker-archive out (dockersave) and in (dockerarchive): config bytes kept, layers checked."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from dockyard.errors import OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.dockerarchive import import_docker_archive
from dockyard.oci.dockersave import write_docker_archive
from dockyard.oci.imports import ImageSettings, RootfsSource, import_rootfs
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Manifest, parse_manifest
from dockyard.platform import Platform

ARM64 = Platform("linux", "arm64")


def image(tmp_path: Path) -> tuple[LayoutStore, Manifest]:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hello").write_text("hi\n")
    store = LayoutStore(tmp_path / "src")
    settings = ImageSettings(cmd=("/bin/true",), healthcheck="/bin/true")
    result = import_rootfs([RootfsSource(ARM64, root)], store, settings=settings, tag="1")
    manifest = parse_manifest(*store.manifest_get(str(result.images[0].manifest.digest)))
    assert isinstance(manifest, Manifest)
    return store, manifest


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_an_image_goes_out_as_docker_save_writes_it_and_comes_back_byte_for_byte(tmp_path):
    store, manifest = image(tmp_path)
    archive = write_docker_archive(store, manifest, tmp_path / "a.tar", repo_tags=["localhost/x:1"])
    files = members(archive)
    config = store.blob_path(manifest.config.digest).read_bytes()
    (entry,) = json.loads(files["manifest.json"])
    assert entry["RepoTags"] == ["localhost/x:1"]
    assert files[entry["Config"]] == config  # the config's own bytes (HEALTHCHECK in them)
    assert entry["Config"] == f"{manifest.config.digest.hex}.json"
    diff_id = json.loads(config)["rootfs"]["diff_ids"][0]
    assert entry["Layers"] == [f"{diff_id.split(':')[1]}/layer.tar"]

    back = LayoutStore(tmp_path / "back")
    digest = import_docker_archive(archive, back, tag="linux-arm64")
    raw, media_type = back.manifest_get("linux-arm64")
    again = parse_manifest(raw, media_type)
    assert media_type == mt.DOCKER_MANIFEST and again.digest == digest
    assert again.config.digest == manifest.config.digest  # the same config, byte for byte
    assert again.config.media_type == mt.DOCKER_CONFIG
    assert [layer.media_type for layer in again.layers] == [mt.DOCKER_LAYER_GZIP]
    # The same archive gives the same blobs (gzip without a timestamp).
    other = LayoutStore(tmp_path / "other")
    assert import_docker_archive(archive, other, tag="t") == digest


def test_a_layer_that_does_not_match_its_diff_id_is_refused(tmp_path):
    store, manifest = image(tmp_path)
    archive = write_docker_archive(store, manifest, tmp_path / "a.tar", repo_tags=[])
    files = members(archive)
    (entry,) = json.loads(files["manifest.json"])
    files[entry["Layers"][0]] = b"not the layer" + b"\0" * 1011
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target = LayoutStore(tmp_path / "t")
    with pytest.raises(
        OperationError, match=r"layer.tar hashes to sha256:[0-9a-f]{64}, the config says"
    ):
        import_docker_archive(bad, target, tag="x")
    assert not (tmp_path / "t" / "index.json").exists()  # nothing tagged


@pytest.mark.parametrize(
    "manifest_json,message",
    [
        (b"[]", "expected one image in manifest.json, found 0"),
        (b"{}", "expected one image in manifest.json, found no"),
        (b'[{"Config": "c.json"}]', "manifest.json lacks Config or Layers"),
        (b'[{"Config": "../c.json", "Layers": []}]', "unsafe path '../c.json' in manifest.json"),
        (b'[{"Config": "c.json", "Layers": []}]', "c.json is named in manifest.json but missing"),
    ],
)
def test_a_malformed_archive_is_one_operation_error(tmp_path, manifest_json, message):
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest_json)
        tar.addfile(info, io.BytesIO(manifest_json))
    with pytest.raises(OperationError) as caught:
        import_docker_archive(bad, LayoutStore(tmp_path / "t"), tag="x")
    assert str(caught.value) == f"{bad}: {message}"


def test_a_failed_write_leaves_no_archive(tmp_path):
    store, manifest = image(tmp_path)
    store.blob_path(manifest.layers[0].digest).write_bytes(b"corrupt")
    with pytest.raises(OperationError):
        write_docker_archive(store, manifest, tmp_path / "out" / "a.tar", repo_tags=[])
    assert list((tmp_path / "out").iterdir()) == []
