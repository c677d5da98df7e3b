"""Evidence written by hand for the carry tests: cosign-style tags and small indexes.

A cosign tag here is the minimal image cosign reads: an OCI manifest tagged
`sha256-<hex>.sig` (or `.att`, `.sbom`) in the subject's repository, one
simple-signing layer per signature whose annotation holds the (here fake)
signature. What the signing code writes is the `sign` branch's business;
copy only has to move it byte for byte.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence

from dockyard.digest import Digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor, build_index, build_manifest, descriptor_of
from dockyard.platform import parse_platform
from tests.helpers.images import TestImage, make_image, push_image

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
SBOM = "application/spdx+json"
NOTE = "application/vnd.example.note"


def cosign_layer(subject: Digest, note: str) -> tuple[Descriptor, bytes]:
    """One signature layer over `subject`: the payload, and a fake signature in its annotation."""
    payload = json.dumps(
        {"critical": {"image": {"docker-manifest-digest": str(subject)}, "type": "cosign container image signature"},
         "optional": {"note": note}},
        separators=(",", ":"),
    ).encode()  # fmt: skip
    layer = descriptor_of(payload, SIMPLESIGNING).with_annotations(
        {SIGNATURE_ANNOTATION: base64.b64encode(f"sig:{note}".encode()).decode()}
    )
    return layer, payload


def put_cosign_tag(store, subject: Digest, notes: Sequence[str], suffix: str = "sig") -> Digest:
    """Write `sha256-<hex>.<suffix>` in `store`: one layer per note; returns its digest."""
    layers, blobs = [], {}
    for note in notes:
        layer, payload = cosign_layer(subject, note)
        layers.append(layer)
        blobs[layer.digest] = payload
    config = json.dumps(
        {"architecture": "", "os": "", "created": "0001-01-01T00:00:00Z", "config": {},
         "rootfs": {"type": "layers", "diff_ids": [str(x.digest) for x in layers]}},
        separators=(",", ":"),
    ).encode()  # fmt: skip
    config_desc = descriptor_of(config, mt.OCI_CONFIG)
    blobs[config_desc.digest] = config
    for digest, data in blobs.items():
        if store.blob_exists(digest) is None:
            store.blob_put(digest, len(data), io.BytesIO(data))
    raw, _ = build_manifest(config_desc, layers)
    return store.manifest_put(raw, mt.OCI_MANIFEST, tag=f"{subject.algorithm}-{subject.hex}.{suffix}")


def push_index(store, *, tag: str, seed: bytes) -> tuple[Descriptor, list[Descriptor]]:
    """A two-platform index of small random-free images in `store` under `tag`:
    (the index's descriptor, its children's)."""
    children: list[Descriptor] = []
    for platform in ("linux/amd64", "linux/arm64"):
        image: TestImage = make_image((300, 200), seed=seed + platform.encode())
        push_image(store, image)
        d = image.descriptor
        children.append(Descriptor(d.media_type, d.digest, d.size, parse_platform(platform)))
    raw, desc = build_index(children)
    store.manifest_put(raw, mt.OCI_INDEX, tag=tag)
    return desc, children
