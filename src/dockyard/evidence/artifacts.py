"""Attach one document to an image as an OCI referrer, and read such documents back.

    digest = attach(store, subject, artifact_type=SPDX, media_type=SPDX, data=doc,
                    annotations={"dev.dockyard.platform": "linux/arm64"})
    for found in find(store, subject.digest, artifact_type=SPDX):
        found.data, found.manifest.annotations

The artefact manifest: `artifactType` the document's type, config the empty
descriptor, one layer (the document), `subject` the image, and a created
annotation. Reading checks what a registry could get wrong or an attacker
could swap: the manifest is the one the referrers list names, its subject
is the image asked about, the layer is the one declared type, within a size
cap, and the bytes hash to its digest. A candidate failing any of these is
skipped (reported by `find_all` with the reason), never trusted.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from dockyard.digest import Digest, sha256_digest
from dockyard.errors import ManifestInvalid, OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import (
    EMPTY_DESCRIPTOR,
    EMPTY_JSON,
    Descriptor,
    Manifest,
    build_manifest,
    descriptor_of,
    parse_manifest,
)
from dockyard.oci.store import Store

CREATED = "org.opencontainers.image.created"
# Documents larger than this are not read back (an SBOM of a large image is a few MB).
MAX_ARTIFACT_SIZE = 64 * 1024 * 1024


@dataclass(frozen=True)
class Found:
    """One artefact read back: its manifest (digest, annotations) and its document's bytes."""

    manifest: Manifest
    layer: Descriptor
    data: bytes


@dataclass(frozen=True)
class Skipped:
    """A referrer of the asked type that was not usable, and why."""

    digest: Digest
    reason: str


def artifact_manifest(
    subject: Descriptor,
    *,
    artifact_type: str,
    media_type: str,
    data: bytes,
    annotations: Mapping[str, str] | None = None,
    created: datetime | None = None,
) -> tuple[bytes, dict[Digest, bytes]]:
    """(manifest bytes, {digest: blob}) of `data` attached to `subject` (pure)."""
    layer = descriptor_of(data, media_type)
    when = (created or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw, _ = build_manifest(
        EMPTY_DESCRIPTOR,
        [layer],
        artifact_type=artifact_type,
        subject=Descriptor(subject.media_type, subject.digest, subject.size),
        annotations={CREATED: when, **(annotations or {})},
    )
    return raw, {EMPTY_DESCRIPTOR.digest: EMPTY_JSON, layer.digest: data}


def attach(
    store: Store,
    subject: Descriptor,
    *,
    artifact_type: str,
    media_type: str,
    data: bytes,
    annotations: Mapping[str, str] | None = None,
    created: datetime | None = None,
) -> Digest:
    """Put the document's blobs, then its manifest as a referrer of `subject`: the manifest digest."""
    raw, blobs = artifact_manifest(
        subject,
        artifact_type=artifact_type,
        media_type=media_type,
        data=data,
        annotations=annotations,
        created=created,
    )
    for digest, blob in blobs.items():
        if store.blob_exists(digest) is None:
            store.blob_put(digest, len(blob), io.BytesIO(blob))
    return store.referrer_put(raw, mt.OCI_MANIFEST)


def find_all(
    store: Store, subject: Digest, *, artifact_type: str, media_type: str | None = None
) -> tuple[list[Found], list[Skipped]]:
    """Every usable artefact of `artifact_type` attached to `subject`, and the ones skipped.

    `media_type`: the layer's type when it differs from the artifact type.
    Errors reading the referrers list itself (a registry down) are raised.
    """
    wanted = media_type or artifact_type
    found: list[Found] = []
    skipped: list[Skipped] = []
    for entry in store.referrers(subject, artifact_type=artifact_type):
        try:
            found.append(read(store, entry, subject, wanted))
        except (ManifestInvalid, OperationError) as exc:
            skipped.append(Skipped(entry.digest, str(exc)))
    return found, skipped


def find(
    store: Store, subject: Digest, *, artifact_type: str, media_type: str | None = None
) -> list[Found]:
    """Every usable artefact of `artifact_type` attached to `subject` (the unusable skipped)."""
    return find_all(store, subject, artifact_type=artifact_type, media_type=media_type)[0]


def read(store: Store, entry: Descriptor, subject: Digest, media_type: str) -> Found:
    """The artefact a referrers entry names, checked against `subject` (ManifestInvalid if not)."""
    where = f"{store}: artefact {entry.digest}"
    data, manifest_type = store.manifest_get(str(entry.digest))
    manifest = parse_manifest(data, manifest_type)
    if not isinstance(manifest, Manifest) or manifest.digest != entry.digest:
        raise ManifestInvalid(f"{where}: not the image manifest the referrers list names")
    if manifest.subject is None or manifest.subject.digest != subject:
        raise ManifestInvalid(f"{where}: its subject is not {subject}")
    layers = [d for d in manifest.layers if d.media_type == media_type]
    if len(layers) != 1 or layers[0].size > MAX_ARTIFACT_SIZE:
        raise ManifestInvalid(
            f"{where}: expected one {media_type} layer of at most {MAX_ARTIFACT_SIZE} bytes"
        )
    layer = layers[0]
    blob = bytearray()
    with contextlib.closing(store.blob_open(layer.digest)) as stream:
        while len(blob) <= layer.size and (chunk := stream.read(1024 * 1024)):
            blob += chunk
    if len(blob) != layer.size or sha256_digest(bytes(blob)) != layer.digest:
        raise ManifestInvalid(f"{where}: its document is not the {layer.size} bytes of {layer.digest}")
    return Found(manifest, layer, bytes(blob))
