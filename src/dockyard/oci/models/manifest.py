"""Manifests and indexes (pure): parsed from their exact bytes, built as new bytes.

    node = parse_manifest(raw, content_type)          # a Manifest or an Index
    raw, desc = build_index(children)                 # new bytes and their descriptor

A Manifest or Index keeps the bytes it was parsed from: its digest is the
sha256 of those bytes, never of a re-serialisation (style.md §3). Building
one is a pure function returning new bytes and the descriptor that points
at them, always with `schemaVersion: 2` and `mediaType` (ECR needs it; it
also pins the type against manifest confusion).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dockyard.digest import Digest, sha256_digest
from dockyard.errors import ManifestInvalid
from dockyard.oci import mediatypes as mt
from dockyard.oci.models.descriptor import Descriptor, descriptor_of
from dockyard.oci.models.fields import (
    EMPTY_MAP,
    canonical_json,
    kind_of,
    load_document,
    string_field,
    string_map,
)
from dockyard.platform import Platform, matches


class _Document:
    """A manifest or index: its digest and size are those of its exact bytes."""

    raw: bytes

    @functools.cached_property
    def digest(self) -> Digest:
        # Hashed once: verify and publish ask for it many times.
        return sha256_digest(self.raw)

    @property
    def size(self) -> int:
        return len(self.raw)


@dataclass(frozen=True)
class Manifest(_Document):
    raw: bytes = field(repr=False)
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAP, hash=False)
    subject: Descriptor | None = None
    artifact_type: str = ""

    def descriptor(self, platform: Platform | None = None) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size, platform)

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        """Config then layers: what must exist before this manifest is put."""
        return (self.config, *self.layers)


@dataclass(frozen=True)
class Index(_Document):
    raw: bytes = field(repr=False)
    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAP, hash=False)
    subject: Descriptor | None = None

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size)

    def platforms(self) -> list[Descriptor]:
        """Children that are images for a platform (attestations excluded)."""
        return [d for d in self.manifests if d.platform is not None and not d.is_attestation]

    def attestations(self) -> list[Descriptor]:
        return [d for d in self.manifests if d.is_attestation]

    def find(self, platform: Platform) -> Descriptor | None:
        """The first child whose platform matches `platform` (attestations never match)."""
        for child in self.platforms():
            if matches(platform, child.platform):
                return child
        return None


def parse_manifest(raw: bytes, content_type: str | None = None) -> Manifest | Index:
    """Parse a manifest or index from its exact bytes.

    Refuses what containers/image refuses after CVE-2021-41190: a document
    with both `manifests` and `config`/`layers`, and a `mediaType` field that
    disagrees with the Content-Type it was served with. `content_type` may
    carry parameters (`; charset=...`); generic JSON types are not a claim.
    """
    doc = load_document(raw, "manifest")
    if "manifests" in doc and ("layers" in doc or "config" in doc):
        raise ManifestInvalid(
            "manifest has both 'manifests' and 'config'/'layers' (ambiguous: refused)"
        )
    if doc.get("schemaVersion") != 2:
        raise ManifestInvalid(
            f"manifest: schemaVersion {doc.get('schemaVersion')!r} is not supported (expected 2)"
        )
    media_type = _media_type(doc, content_type)
    if media_type in mt.INDEX_TYPES:
        return _index(raw, doc, media_type)
    return _manifest(raw, doc, media_type)


def _media_type(doc: Mapping[str, Any], content_type: str | None) -> str:
    declared = string_field(doc, "mediaType", "manifest")
    served = (content_type or "").split(";", 1)[0].strip().lower()
    if served and served not in mt.ALL_MANIFEST_TYPES:
        served = ""  # application/json, octet-stream: no claim either way
    if declared and served and declared != served:
        raise ManifestInvalid(
            f"manifest: mediaType '{declared}' differs from Content-Type '{served}' (refused)"
        )
    media_type = declared or served or _infer(doc)
    if media_type not in mt.ALL_MANIFEST_TYPES:
        raise ManifestInvalid(
            f"manifest: media type '{media_type}' is not supported "
            f"(expected one of {', '.join(sorted(mt.ALL_MANIFEST_TYPES))})"
        )
    if (media_type in mt.INDEX_TYPES) != ("manifests" in doc):
        raise ManifestInvalid(f"manifest: content does not match media type '{media_type}'")
    return media_type


def _infer(doc: Mapping[str, Any]) -> str:
    # An OCI document may omit mediaType (image-spec 1.0); its shape decides.
    return mt.OCI_INDEX if "manifests" in doc else mt.OCI_MANIFEST


def _index(raw: bytes, doc: Mapping[str, Any], media_type: str) -> Index:
    children = doc.get("manifests")
    if not isinstance(children, list):
        raise ManifestInvalid(f"index.manifests: expected a list, got {kind_of(children)}")
    return Index(
        raw=raw,
        media_type=media_type,
        manifests=tuple(
            Descriptor.from_json(c, where=f"index.manifests[{i}]") for i, c in enumerate(children)
        ),
        annotations=string_map(doc.get("annotations"), "index.annotations"),
        subject=_subject(doc.get("subject"), "index.subject"),
    )


def _manifest(raw: bytes, doc: Mapping[str, Any], media_type: str) -> Manifest:
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise ManifestInvalid(f"manifest.layers: expected a list, got {kind_of(layers)}")
    return Manifest(
        raw=raw,
        media_type=media_type,
        config=Descriptor.from_json(doc.get("config"), where="manifest.config"),
        layers=tuple(
            Descriptor.from_json(d, where=f"manifest.layers[{i}]") for i, d in enumerate(layers)
        ),
        annotations=string_map(doc.get("annotations"), "manifest.annotations"),
        subject=_subject(doc.get("subject"), "manifest.subject"),
        artifact_type=string_field(doc, "artifactType", "manifest"),
    )


def _subject(doc: Any, where: str) -> Descriptor | None:
    return None if doc is None else Descriptor.from_json(doc, where=where)


# ---------------------------------------------------------------- building


def build_manifest(
    config: Descriptor,
    layers: Sequence[Descriptor],
    *,
    annotations: Mapping[str, str] | None = None,
    artifact_type: str = "",
    subject: Descriptor | None = None,
) -> tuple[bytes, Descriptor]:
    """An OCI image manifest over `config` and `layers`: (bytes, its descriptor).

    `artifact_type` and `subject` make it an OCI 1.1 artifact that refers to
    `subject` (image-spec "Guidelines for Artifact Usage"; field order as Go's
    v1.Manifest struct writes them).
    """
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = config.to_json()
    doc["layers"] = [layer.to_json() for layer in layers]
    if subject is not None:
        doc["subject"] = subject.to_json()
    if annotations:
        doc["annotations"] = dict(annotations)
    raw = canonical_json(doc)
    return raw, descriptor_of(raw, mt.OCI_MANIFEST)


def build_index(
    children: Sequence[Descriptor],
    *,
    annotations: Mapping[str, str] | None = None,
    media_type: str = mt.OCI_INDEX,
) -> tuple[bytes, Descriptor]:
    """An index (OCI, or a Docker manifest list) over `children`: (bytes, its descriptor)."""
    if media_type not in mt.INDEX_TYPES:
        raise ValueError(f"build_index: {media_type!r} is not an index media type")
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [child.to_json() for child in children],
    }
    if annotations:
        doc["annotations"] = dict(annotations)
    raw = canonical_json(doc)
    return raw, descriptor_of(raw, media_type)
