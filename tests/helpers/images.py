"""Small test images built from random bytes, pushed through any Store."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass

from dockyard.digest import Digest, sha256_digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor, build_manifest


@dataclass(frozen=True)
class TestImage:
    __test__ = False  # not a pytest class

    blobs: dict[Digest, bytes]
    manifest: bytes
    descriptor: Descriptor

    @property
    def digest(self) -> Digest:
        return self.descriptor.digest


def make_image(layer_sizes=(1000,), *, seed: bytes | None = None) -> TestImage:
    layers = [
        os.urandom(n) if seed is None else (seed * (n // len(seed) + 1))[:n] for n in layer_sizes
    ]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [str(sha256_digest(x)) for x in layers]},
        },
        sort_keys=True,
    ).encode()
    config_desc = Descriptor(mt.OCI_CONFIG, sha256_digest(config), len(config))
    layer_descs = [Descriptor(mt.OCI_LAYER, sha256_digest(x), len(x)) for x in layers]
    raw, desc = build_manifest(config_desc, layer_descs)
    blobs = {sha256_digest(b): b for b in [config, *layers]}
    return TestImage(blobs, raw, desc)


def push_image(store, image: TestImage, *, tag: str | None = None) -> Digest:
    for digest, data in image.blobs.items():
        if store.blob_exists(digest) is None:
            store.blob_put(digest, len(data), io.BytesIO(data))
    return store.manifest_put(image.manifest, image.descriptor.media_type, tag=tag)
