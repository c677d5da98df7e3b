"""Inspect an image or index in any Store (like `docker buildx imagetools inspect`).

For an index: every child with its platform, digest and size (attestations
marked as such); per platform image: the config's os/arch/variant, user,
healthcheck, labels, created, layer count and compressed size (the sum of
the layer descriptors' sizes). For the index and for each image: what is
attached to it by digest (oci/attached.py: its OCI referrers with their
artifactType and annotations, and cosign's `sha256-<hex>.sig/.att/.sbom`).

The uncompressed size needs every layer streamed through gunzip. It is
computed when asked (`uncompressed=True`); callers default it on for stores
whose blobs are local (`Store.is_local`, a layout) and off for registries,
where it would download the whole image. While streaming, each layer's
uncompressed digest is checked against the config's diff_id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from isal import isal_zlib

from dockyard.digest import Digest, sha256_digest
from dockyard.errors import DigestMismatch, InflateLimitReached
from dockyard.oci import mediatypes as mt
from dockyard.oci.attached import Attached, attached_to
from dockyard.oci.fetch import child_manifest, read_config
from dockyard.oci.inflate import InflateLimits, gunzip
from dockyard.oci.models import (
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    parse_manifest,
)
from dockyard.oci.open import open_location
from dockyard.oci.store import Store

CHUNK = 1 << 20
_GZIP_LAYERS = frozenset({mt.OCI_LAYER_GZIP, mt.DOCKER_LAYER_GZIP, mt.DOCKER_FOREIGN_LAYER})
_PLAIN_LAYERS = frozenset({mt.OCI_LAYER})


@dataclass(frozen=True)
class ImageSummary:
    manifest: Descriptor  # with the index entry's platform, when from an index
    config_digest: Digest
    config: ImageConfig
    layers: tuple[Descriptor, ...]
    uncompressed_size: int | None  # None: not computed, or a compression we cannot read
    attached: Attached | None = None  # None: not looked up

    @property
    def compressed_size(self) -> int:
        return sum(layer.size for layer in self.layers)

    def to_json(self) -> dict[str, Any]:
        c = self.config
        return {
            "platform": str(self.manifest.platform or c.platform),
            "digest": str(self.manifest.digest),
            "media_type": self.manifest.media_type,
            "size": self.manifest.size,
            "config": {
                "digest": str(self.config_digest),
                "os": c.os,
                "architecture": c.architecture,
                "variant": c.variant,
                "user": c.user,
                "healthcheck": dict(c.healthcheck) if c.healthcheck else None,
                "labels": dict(c.labels),
                "created": c.created,
                "entrypoint": list(c.entrypoint),
                "cmd": list(c.cmd),
                "env": list(c.env),
                "working_dir": c.working_dir,
            },
            "layers": len(self.layers),
            "compressed_size": self.compressed_size,
            "uncompressed_size": self.uncompressed_size,
            **_attached_json(self.attached),
        }


@dataclass(frozen=True)
class InspectResult:
    name: str
    descriptor: Descriptor
    raw: bytes
    children: tuple[Descriptor, ...]  # an index's entries, in order; () for an image
    images: tuple[ImageSummary, ...]
    attached: Attached | None = None  # to the root; None: not looked up

    @property
    def is_index(self) -> bool:
        return self.descriptor.media_type in mt.INDEX_TYPES

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": str(self.descriptor.digest),
            "media_type": self.descriptor.media_type,
            "size": self.descriptor.size,
            "manifests": [_child_json(c) for c in self.children],
            **_attached_json(self.attached),
            "images": [i.to_json() for i in self.images],
        }


def _attached_json(found: Attached | None) -> dict[str, Any]:
    if found is None:
        return {"referrers": None, "cosign_tags": None}
    return found.to_json()


def _child_json(d: Descriptor) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "digest": str(d.digest),
        "media_type": d.media_type,
        "size": d.size,
        "platform": str(d.platform) if d.platform else None,
        "attestation": d.is_attestation,
    }
    if d.is_attestation:
        doc["attests"] = d.annotations.get("vnd.docker.reference.digest", "")
    return doc


def inspect_image(
    store: Store,
    reference: str,
    *,
    name: str = "",
    uncompressed: bool | None = None,
    referrers: bool = True,
) -> InspectResult:
    """Read the manifest `reference` names, its children and their configs.

    `uncompressed=None` computes uncompressed sizes only for a local store.
    `referrers`: look up what is attached to the root and to each image.
    """
    if uncompressed is None:
        uncompressed = bool(getattr(store, "is_local", False))
    raw, media_type = store.manifest_get(reference)
    _check_digest(raw, reference)
    top = parse_manifest(raw, media_type)
    descriptor = top.descriptor()
    if isinstance(top, Index):
        children = top.manifests
        images = tuple(
            _summary(store, child, child_manifest(store, child), uncompressed)
            for child in top.platforms()
        )
    else:
        children = ()
        images = (_summary(store, descriptor, top, uncompressed),)
    result = InspectResult(name or reference, descriptor, raw, tuple(children), images)
    return _with_attached(store, result) if referrers else result


def _summary(
    store: Store, desc: Descriptor, manifest: Manifest, uncompressed: bool
) -> ImageSummary:
    config = read_config(store, manifest)
    size = _uncompressed_size(store, manifest, config) if uncompressed else None
    return ImageSummary(desc, manifest.config.digest, config, manifest.layers, size)


def _with_attached(store: Store, result: InspectResult) -> InspectResult:
    """The result with what is attached to the root and to each image (looked up at once)."""
    subjects = [result.descriptor.digest, *(i.manifest.digest for i in result.images)]
    found = attached_to(store, list(dict.fromkeys(subjects)))
    images = tuple(replace(i, attached=found[i.manifest.digest]) for i in result.images)
    return replace(result, images=images, attached=found[result.descriptor.digest])


def _check_digest(raw: bytes, reference: str) -> None:
    # Whatever the store checked, a manifest fetched by digest must be that digest.
    if reference.startswith("sha256:") and str(sha256_digest(raw)) != reference:
        raise DigestMismatch(f"manifest {reference}: content hashes to {sha256_digest(raw)}")


def _uncompressed_size(store: Store, manifest: Manifest, config: ImageConfig) -> int | None:
    total = 0
    limits = InflateLimits()
    for i, layer in enumerate(manifest.layers):
        diff_id = config.diff_ids[i] if i < len(config.diff_ids) else None
        # The image's total cap: what the layers before this one used is spent.
        left = replace(limits, max_uncompressed=limits.max_uncompressed - total)
        size = layer_uncompressed_size(store, layer, diff_id, limits=left)
        if size is None:
            return None
        total += size
    return total


def layer_uncompressed_size(
    store: Store, layer: Descriptor, diff_id: Digest | None, *, limits: InflateLimits = InflateLimits()
) -> int | None:
    """Stream one layer, checking its digest and diff_id; None for a compression we cannot read.

    Inflated under oci/inflate.py's caps: a decompression bomb is InflateLimitReached.
    """
    if layer.media_type not in _PLAIN_LAYERS and layer.media_type not in _GZIP_LAYERS:
        return None
    if layer.size > limits.max_uncompressed and layer.media_type in _PLAIN_LAYERS:
        raise InflateLimitReached(f"layer {layer.digest}: larger than the image's cap")
    packed, plain = hashlib.sha256(), hashlib.sha256()
    count = packed_count = 0
    name = f"layer {layer.digest}"
    with store.blob_open(layer.digest) as f:
        if layer.media_type in _PLAIN_LAYERS:
            while chunk := f.read(CHUNK):
                packed.update(chunk)
                plain.update(chunk)
                count += len(chunk)
            packed_count = count
        else:
            try:
                for raw, out in gunzip(f, name=name, limits=limits):
                    packed_count += len(raw)
                    packed.update(raw)
                    plain.update(out)
                    count += len(out)
            except ValueError:
                raise DigestMismatch(f"{name}: the gzip stream is truncated") from None
            except isal_zlib.error as exc:
                raise DigestMismatch(f"{name}: not a valid gzip stream ({exc})") from None
    if packed_count != layer.size:  # the store's own check knows the file, not the descriptor
        raise DigestMismatch(f"{name}: {packed_count} bytes, the manifest says {layer.size}")
    if packed.hexdigest() != layer.digest.hex:
        raise DigestMismatch(f"{name}: content hashes to sha256:{packed.hexdigest()}")
    if diff_id is not None and plain.hexdigest() != diff_id.hex:
        raise DigestMismatch(
            f"{name}: uncompressed content hashes to sha256:{plain.hexdigest()}, "
            f"config says {diff_id}"
        )
    return count


def inspect_location(
    text: str, *, uncompressed: bool | None = None, **registry: Any
) -> InspectResult:
    """`dockyard inspect REF`: open the location's store and inspect what it names.

    `registry`: RegistryOptions fields (insecure_registries, ca_cert) for a registry REF.
    """
    store, reference = open_location(text, **registry)
    return inspect_image(store, reference, name=text, uncompressed=uncompressed)


def raw_manifest(text: str, **registry: Any) -> bytes:
    """`dockyard inspect --raw REF`: the exact bytes of the manifest the location names."""
    store, reference = open_location(text, **registry)
    raw, _ = store.manifest_get(reference)
    _check_digest(raw, reference)
    return raw
