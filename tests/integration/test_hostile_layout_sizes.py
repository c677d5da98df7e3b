"""Issue 17 item 11 (local part): inspect checks descriptor sizes; a copy killed with
kill -9 leaves `.tmp-<pid>-*` files that the next successful write removes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dockyard.digest import parse_digest, sha256_digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, build_manifest
from tests.helpers.images import make_image, push_image
from tests.integration.hostile import dockyard, env, one_error_line

pytestmark = pytest.mark.integration

MiB = 1 << 20


def test_inspect_refuses_a_root_entry_whose_size_lies(tmp_path):
    store = LayoutStore(tmp_path / "l")
    push_image(store, make_image((1000,)), tag="v1")
    index = json.loads((store.path / "index.json").read_bytes())
    index["manifests"][0]["size"] += 7
    (store.path / "index.json").write_text(json.dumps(index))
    result = dockyard("inspect", f"oci:{store.path}:v1")
    assert result.returncode == 1
    assert "index.json entry" in one_error_line(result) and "bytes, the manifest is" in result.stderr


def test_inspect_refuses_a_layer_whose_size_lies(tmp_path):
    store = LayoutStore(tmp_path / "l")
    image = make_image((3000,))
    push_image(store, image, tag="v1")
    raw, _ = store.manifest_get("v1")
    doc = json.loads(raw)
    layer = doc["layers"][0]
    c = doc["config"]
    config = Descriptor(c["mediaType"], parse_digest(c["digest"]), c["size"])
    lying = Descriptor(layer["mediaType"], parse_digest(layer["digest"]), 2000)  # the blob is 3000 bytes
    data, _ = build_manifest(config, [lying])
    store.manifest_put(data, mt.OCI_MANIFEST, tag="lying")
    result = dockyard("inspect", f"oci:{store.path}:lying")
    assert result.returncode == 1
    assert "3000 bytes, the manifest says 2000" in one_error_line(result)


def _temps(path):
    return sorted(p.name for p in path.iterdir() if p.name.startswith(".tmp-"))


def test_temp_files_of_a_copy_killed_mid_write_are_removed_by_the_next_run(tmp_path):
    src = LayoutStore(tmp_path / "src")
    big = bytes(256 * MiB)  # written, hashed and fsynced: long enough to be caught mid-write
    digest = sha256_digest(big)
    src.blob_put(digest, len(big), io.BytesIO(big))
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [str(digest)]}}).encode()  # fmt: skip
    cdesc = Descriptor(mt.OCI_CONFIG, sha256_digest(config), len(config))
    src.blob_put(cdesc.digest, cdesc.size, io.BytesIO(config))
    raw, _ = build_manifest(cdesc, [Descriptor(mt.OCI_LAYER, digest, len(big))])
    src.manifest_put(raw, mt.OCI_MANIFEST, tag="v1")
    del big
    dst = tmp_path / "dst"
    args = [sys.executable, "-m", "dockyard", "copy", f"oci:{src.path}:v1", f"oci:{dst}:v1"]
    proc = subprocess.Popen(args, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120  # only to end the loop; nothing asserts a duration
        while time.monotonic() < deadline and proc.poll() is None:
            if dst.is_dir() and any(
                (dst / n).stat().st_size > MiB for n in _temps(dst) if (dst / n).exists()
            ):
                break
            time.sleep(0.002)
        assert proc.poll() is None, "the copy ended before it could be killed mid-write"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    left = _temps(dst)
    assert left and all(n.startswith(f".tmp-{proc.pid}-") for n in left), left

    again = dockyard("copy", f"oci:{src.path}:v1", f"oci:{dst}:v1")
    assert again.returncode == 0, again.stderr
    assert _temps(dst) == []
    assert list(LayoutStore(dst).tag_list()) == ["v1"]
