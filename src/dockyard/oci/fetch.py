"""Verified reads of small documents (configs, child manifests) through any Store.

A store's blob stream checks its digest only at EOF, and a config is read
with a cap rather than to EOF: so the size and hash are checked here, once,
for inspect, verify, base resolution and copy alike.
"""

from __future__ import annotations

from dockyard.digest import sha256_digest
from dockyard.errors import DigestMismatch, ManifestInvalid
from dockyard.oci.models import (
    MAX_MANIFEST_SIZE,
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    parse_config,
    parse_manifest,
)
from dockyard.oci.store import Store


def read_small_blob(store: Store, desc: Descriptor, *, what: str = "config") -> bytes:
    """The exact bytes of a small blob, at most MAX_MANIFEST_SIZE, checked against `desc`."""
    if desc.size > MAX_MANIFEST_SIZE:
        raise ManifestInvalid(
            f"{what} {desc.digest}: {desc.size} bytes exceeds the {MAX_MANIFEST_SIZE} byte limit"
        )
    with store.blob_open(desc.digest) as stream:
        data = stream.read(desc.size + 1)
    if len(data) != desc.size or sha256_digest(data) != desc.digest:
        raise DigestMismatch(
            f"{what} {desc.digest}: got {len(data)} bytes hashing to {sha256_digest(data)}, "
            f"expected {desc.size} bytes"
        )
    return data


def read_config(store: Store, manifest: Manifest) -> ImageConfig:
    """The image config a manifest names, verified."""
    return parse_config(read_small_blob(store, manifest.config))


def child_manifest(store: Store, entry: Descriptor) -> Manifest:
    """The image manifest an index entry names: its bytes must be the entry's digest and size."""
    parsed = _entry_document(store, entry, "manifest", "the index says")
    if not isinstance(parsed, Manifest):
        raise ManifestInvalid(f"index entry {entry.digest} is an index, expected an image manifest")
    return parsed


def child_index(store: Store, entry: Descriptor) -> Index:
    """The nested index an index entry names, checked as child_manifest checks an image's."""
    parsed = _entry_document(store, entry, "index", "the entry says")
    if not isinstance(parsed, Index):
        raise ManifestInvalid(f"index entry {entry.digest} is listed as an index but is not one")
    return parsed


def _entry_document(store: Store, entry: Descriptor, kind: str, says: str) -> Manifest | Index:
    raw, media_type = store.manifest_get(str(entry.digest))
    if len(raw) != entry.size or sha256_digest(raw) != entry.digest:
        raise DigestMismatch(
            f"{kind} {entry.digest}: got {len(raw)} bytes hashing to {sha256_digest(raw)}, "
            f"{says} {entry.size} bytes"
        )
    return parse_manifest(raw, media_type)
