"""Verification records in a Store: find the one that matches, attach a new one.

    record = find_record(store, index_digest, settings_hash)   # None: verify again
    attach_record(store, record, index_descriptor)              # blobs, then the referrer

The record model and its checks are verify/record.py (pure). Finding reads
the subject's referrers of the record's artifactType (the referrers API, or
the `sha256-<hex>` fallback tag), then each candidate's manifest and record
blob, digest-checked and size-capped. A candidate that does not parse, names
another subject, or was made with other settings is ignored, never trusted.
"""

from __future__ import annotations

import contextlib
import io

from dockyard.digest import Digest, sha256_digest
from dockyard.errors import ManifestInvalid, OperationError, RecordInvalid
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor, Manifest, parse_manifest
from dockyard.oci.store import Store
from dockyard.verify.record import (
    MAX_RECORD_SIZE,
    RECORD_TYPE,
    SETTINGS_ANNOTATION,
    Record,
    parse_record,
    record_artifact,
    record_layer,
)


def find_record(store: Store, subject: Digest, settings_hash: str) -> Record | None:
    """The newest valid record of `subject` made with `settings_hash`, or None.

    Errors reading the referrers list itself (a registry down) are raised: the
    caller decides (release verifies then).
    """
    found: list[Record] = []
    for entry in store.referrers(subject, artifact_type=RECORD_TYPE):
        # The annotation is a hint that spares fetching records of other settings;
        # what counts is the record's own content, checked below.
        if entry.annotations.get(SETTINGS_ANNOTATION, settings_hash) != settings_hash:
            continue
        try:
            record = read_record(store, entry, subject)
        except (RecordInvalid, ManifestInvalid, OperationError):
            continue  # unreadable, not ours, or gone: ignored
        if record.index == subject and record.settings_hash == settings_hash:
            found.append(record)
    return max(found, key=lambda r: r.verified_at, default=None)


def read_record(store: Store, entry: Descriptor, subject: Digest) -> Record:
    """The record an entry of the referrers list points at, checked against `subject`."""
    where = f"{store}: record {entry.digest}"
    data, media_type = store.manifest_get(str(entry.digest))
    manifest = parse_manifest(data, media_type)
    if manifest.digest != entry.digest or not isinstance(manifest, Manifest):
        raise RecordInvalid(f"{where}: not the image manifest the referrers list names")
    layer = record_layer(manifest, subject, where)
    blob = bytearray()
    with contextlib.closing(store.blob_open(layer.digest)) as stream:
        # To EOF (where a store's verifying stream checks the digest), within the cap.
        while len(blob) <= MAX_RECORD_SIZE and (chunk := stream.read(64 * 1024)):
            blob += chunk
    if len(blob) != layer.size or sha256_digest(bytes(blob)) != layer.digest:
        raise RecordInvalid(f"{where}: record blob is not the {layer.size} bytes of {layer.digest}")
    return parse_record(bytes(blob), where)


def attach_record(store: Store, record: Record, subject: Descriptor) -> Digest:
    """Put the record's blobs, then the record as a referrer of `subject`: its digest."""
    raw, blobs = record_artifact(record, subject)
    for digest, data in blobs.items():
        if store.blob_exists(digest) is None:
            store.blob_put(digest, len(data), io.BytesIO(data))
    return store.referrer_put(raw, mt.OCI_MANIFEST)
