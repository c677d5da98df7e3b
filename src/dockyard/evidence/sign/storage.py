"""cosign's signature storage: an image tagged `sha256-<hex>.sig` beside the signed manifest.

    manifest = read_signatures(store, digest)           # None when the tag is absent
    payload = read_payload(store, layer)                # digest- and size-checked
    layer, blob = signature_layer(payload, der)         # one signature = one layer
    write_signatures(store, digest, [*manifest.layers, layer], {layer.digest: blob})

What cosign writes (sigstore/cosign pkg/oci: empty.Signatures, static.NewSignature,
mutate.AppendSignatures), and so what dockyard writes:
- the tag: the signed digest with ':' made '-' and `.sig` appended, in the
  signed image's own repository (cosign's `triangulate`);
- an OCI image manifest (application/vnd.oci.image.manifest.v1+json) with an
  OCI image config, shaped as go-containerregistry's empty image gives it:
  no architecture or OS, one diff_id and one empty history entry per layer;
- one layer per signature, media type
  `application/vnd.dev.cosign.simplesigning.v1+json`, whose blob is the
  simple-signing payload (payload.py) and whose annotation
  `dev.cosignproject.cosign/signature` is the base64 ASN.1 DER ECDSA signature.

Signing again appends a layer and keeps the others (image.py decides when
a signature is already there). The write is read-modify-write of the tag:
two signers racing can lose one's layer (registry 2.8 has no conditional
PUT); the next sign puts it back. The tag is not an OCI referrer (no
`subject`): cosign finds it by name, so dockyard does too.

Reading checks what a registry could get wrong or an attacker could swap: at
most MAX_LAYERS layers (cosign's own cap), a payload within its size cap
whose bytes hash to the layer's digest.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
from collections.abc import Mapping, Sequence

from dockyard.digest import Digest, sha256_digest
from dockyard.errors import DigestMismatch, NotFound, SignatureInvalid
from dockyard.evidence.sign.payload import MAX_PAYLOAD
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor, Manifest, build_manifest, descriptor_of, parse_manifest
from dockyard.oci.store import Store

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
# cosign refuses a signature image of more layers (pkg/oci/remote/signatures.go maxLayers).
MAX_LAYERS = 1000
# Go's zero time.Time, as go-containerregistry writes an empty image's dates.
ZERO_TIME = "0001-01-01T00:00:00Z"


def signature_tag(digest: Digest) -> str:
    """`sha256-<hex>.sig`: where cosign keeps the signatures of `digest`."""
    return f"{digest.algorithm}-{digest.hex}.sig"


def read_signatures(store: Store, digest: Digest) -> Manifest | None:
    """The signature image of `digest`, or None when there is none (SignatureInvalid when
    the tag holds something else)."""
    tag = signature_tag(digest)
    try:
        data, media_type = store.manifest_get(tag)
    except NotFound:
        return None
    manifest = parse_manifest(data, media_type)
    if not isinstance(manifest, Manifest):
        raise SignatureInvalid(f"{tag} holds an index, not a signature image")
    if len(manifest.layers) > MAX_LAYERS:
        raise SignatureInvalid(f"{tag} has {len(manifest.layers)} layers (at most {MAX_LAYERS})")
    return manifest


def signature_layers(manifest: Manifest | None) -> list[Descriptor]:
    """The simple-signing layers of a signature image (other layer types are not ours to judge)."""
    if manifest is None:
        return []
    return [layer for layer in manifest.layers if layer.media_type == SIMPLESIGNING]


def read_payload(store: Store, layer: Descriptor) -> bytes:
    """The payload blob of a signature layer, size-capped and digest-checked."""
    if layer.size > MAX_PAYLOAD:
        raise SignatureInvalid(f"its payload is {layer.size} bytes (at most {MAX_PAYLOAD})")
    data = bytearray()
    try:
        with contextlib.closing(store.blob_open(layer.digest)) as stream:
            while len(data) <= layer.size and (chunk := stream.read(MAX_PAYLOAD + 1)):
                data += chunk
    except NotFound:
        raise SignatureInvalid(f"its payload blob {layer.digest} is missing") from None
    except DigestMismatch:
        raise SignatureInvalid(
            f"its payload blob does not hash to {layer.digest} (edited)"
        ) from None
    if len(data) != layer.size or sha256_digest(bytes(data)) != layer.digest:
        raise SignatureInvalid(f"its payload is not the {layer.size} bytes of {layer.digest}")
    return bytes(data)


def layer_signature(layer: Descriptor) -> bytes:
    """The DER signature a layer's annotation carries (SignatureInvalid when absent or not base64)."""
    text = layer.annotations.get(SIGNATURE_ANNOTATION)
    if not text:
        raise SignatureInvalid(f"it has no {SIGNATURE_ANNOTATION} annotation")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid(f"its {SIGNATURE_ANNOTATION} annotation is not base64") from None


def signature_layer(payload: bytes, signature: bytes) -> Descriptor:
    """The layer of one signature: the payload's descriptor, the signature in its annotation."""
    desc = descriptor_of(payload, SIMPLESIGNING)
    encoded = base64.standard_b64encode(signature).decode()
    return desc.with_annotations({SIGNATURE_ANNOTATION: encoded})


def signature_image(layers: Sequence[Descriptor]) -> tuple[bytes, bytes]:
    """(manifest bytes, config bytes) of a signature image over `layers` (pure)."""
    config = {
        "architecture": "",
        "created": ZERO_TIME,
        "history": [{"created": ZERO_TIME} for _ in layers],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [str(layer.digest) for layer in layers]},
        "config": {},
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    raw, _ = build_manifest(descriptor_of(config_bytes, mt.OCI_CONFIG), layers)
    return raw, config_bytes


def write_signatures(
    store: Store, digest: Digest, layers: Sequence[Descriptor], blobs: Mapping[Digest, bytes]
) -> Digest:
    """Put the config, the new payload blobs, then the signature image under its tag."""
    raw, config = signature_image(layers)
    for blob_digest, data in {sha256_digest(config): config, **blobs}.items():
        if store.blob_exists(blob_digest) is None:
            store.blob_put(blob_digest, len(data), io.BytesIO(data))
    return store.manifest_put(raw, mt.OCI_MANIFEST, tag=signature_tag(digest))
