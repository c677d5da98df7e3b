"""Issue 17 item 2: every path that inflates a layer has the decompression caps.

Real gzip bombs: members of 64 MiB of zeros (each ~64 KiB compressed)
concatenated, a valid multi-member gzip stream as pigz writes. inspect had
no cap (a 10 MB bomb took 2.1 GB and 26 s, then exit 0); verify judged the
ratio only past 1 MiB compressed.
"""

from __future__ import annotations

import gzip
import io
import json

import pytest

from dockyard.digest import sha256_digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, build_manifest
from tests.integration.hostile import dockyard, one_error_line

pytestmark = pytest.mark.integration

MiB = 1 << 20
RSS_CAP_MB = 300  # generous: the interpreter and imports take ~60 MB; the bomb took 2.1 GB

_MEMBER = gzip.compress(bytes(64 * MiB), compresslevel=9, mtime=0)


def bomb(compressed: int) -> bytes:
    """About `compressed` bytes of gzip inflating to ~1000x as many zeros."""
    return _MEMBER * max(1, compressed // len(_MEMBER))


def _bomb_image(tmp_path, blob: bytes) -> str:
    store = LayoutStore(tmp_path / "bomb")
    layer = Descriptor(mt.OCI_LAYER_GZIP, sha256_digest(blob), len(blob))
    store.blob_put(layer.digest, layer.size, io.BytesIO(blob))
    # The diff_id cannot be known without inflating it all: any value; the cap comes first.
    config = json.dumps(
        {"architecture": "amd64", "os": "linux",
         "rootfs": {"type": "layers", "diff_ids": [str(sha256_digest(b"unknown"))]}}
    ).encode()  # fmt: skip
    config_desc = Descriptor(mt.OCI_CONFIG, sha256_digest(config), len(config))
    store.blob_put(config_desc.digest, config_desc.size, io.BytesIO(config))
    raw, _ = build_manifest(config_desc, [layer])
    store.manifest_put(raw, mt.OCI_MANIFEST, tag="bomb")
    return f"oci:{store.path}:bomb"


def test_inspect_stops_a_gzip_bomb_in_bounded_memory(tmp_path):
    ref = _bomb_image(tmp_path, bomb(2 * MiB))  # ~2 GiB of zeros
    result = dockyard("inspect", ref)
    line = one_error_line(result)
    assert result.returncode == 1
    assert "decompresses more than 200x" in line and "a decompression bomb?" in line
    assert result.max_rss_mb < RSS_CAP_MB, result.max_rss_mb


def test_verify_judges_the_ratio_below_1mib_compressed(tmp_path):
    blob = bomb(512 * 1024)
    assert len(blob) < MiB
    result = dockyard("verify", "--json", _bomb_image(tmp_path, blob))
    assert result.returncode == 1
    limits = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "layer.limit"]
    assert limits and "decompresses more than 200x" in limits[0]["message"]
    assert result.max_rss_mb < RSS_CAP_MB, result.max_rss_mb


def test_a_small_layer_of_zeros_still_passes_inspect(tmp_path):
    # 8 MiB of zeros in ~8 KiB: under the ratio floor (256 KiB x 200), a legitimate layer.
    plain = bytes(8 * MiB)
    blob = gzip.compress(plain, mtime=0)
    store = LayoutStore(tmp_path / "zeros")
    layer = Descriptor(mt.OCI_LAYER_GZIP, sha256_digest(blob), len(blob))
    store.blob_put(layer.digest, layer.size, io.BytesIO(blob))
    config = json.dumps(
        {"architecture": "amd64", "os": "linux",
         "rootfs": {"type": "layers", "diff_ids": [str(sha256_digest(plain))]}}
    ).encode()  # fmt: skip
    config_desc = Descriptor(mt.OCI_CONFIG, sha256_digest(config), len(config))
    store.blob_put(config_desc.digest, config_desc.size, io.BytesIO(config))
    raw, _ = build_manifest(config_desc, [layer])
    store.manifest_put(raw, mt.OCI_MANIFEST, tag="z")
    result = dockyard("inspect", "--json", f"oci:{store.path}:z")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["images"][0]["uncompressed_size"] == 8 * MiB
