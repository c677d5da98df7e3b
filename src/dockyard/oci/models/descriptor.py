"""The descriptor (pure): what points at a blob or manifest, by media type, digest and size.

    desc = descriptor_of(data, mt.OCI_MANIFEST, platform=platform)   # of exactly these bytes
    desc = Descriptor.from_json(doc, where="index.manifests[0]")    # ManifestInvalid naming it

A platform entry (an index's child) carries its Platform, written in Go's
field order; a Docker attestation manifest is the unknown/unknown child
with ATTESTATION_ANNOTATION. EMPTY_DESCRIPTOR points at the image spec's
empty JSON blob.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.digest import Digest, sha256_digest
from dockyard.errors import ManifestInvalid
from dockyard.oci import mediatypes as mt
from dockyard.oci.models.fields import (
    EMPTY_MAP,
    digest_field,
    frozen_map,
    kind_of,
    string_field,
    string_list,
    string_map,
)
from dockyard.platform import Platform

# A Docker attestation manifest sits in the index as platform unknown/unknown
# with this annotation (buildx provenance / SBOM).
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

# The image spec's empty JSON blob: the config (or a layer) of an artifact that
# needs none ("Guidance for an empty descriptor"). Its digest is fixed:
# sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a.
EMPTY_JSON = b"{}"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAP, hash=False)
    artifact_type: str = ""
    urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Callers may pass a plain dict; keep the model read-only.
        object.__setattr__(self, "annotations", frozen_map(self.annotations))

    @property
    def is_attestation(self) -> bool:
        p = self.platform
        return (
            p is not None
            and p.os == "unknown"
            and p.architecture == "unknown"
            and ATTESTATION_ANNOTATION in self.annotations
        )

    @property
    def ref_name(self) -> str | None:
        """The `org.opencontainers.image.ref.name` annotation (a layout's tag)."""
        return self.annotations.get(REF_NAME_ANNOTATION)

    def with_annotations(self, annotations: Mapping[str, str]) -> Descriptor:
        return Descriptor(
            self.media_type,
            self.digest,
            self.size,
            self.platform,
            annotations,
            self.artifact_type,
            self.urls,
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": str(self.digest),
            "size": self.size,
        }
        if self.urls:
            doc["urls"] = list(self.urls)
        if self.annotations:
            doc["annotations"] = dict(self.annotations)
        if self.platform is not None:
            doc["platform"] = _platform_json(self.platform)
        if self.artifact_type:
            doc["artifactType"] = self.artifact_type
        return doc

    @classmethod
    def from_json(cls, doc: Any, *, where: str = "descriptor") -> Descriptor:
        if not isinstance(doc, Mapping):
            raise ManifestInvalid(f"{where}: expected a JSON object, got {kind_of(doc)}")
        media_type = string_field(doc, "mediaType", where, required=True)
        digest = digest_field(doc.get("digest"), f"{where}.digest")
        size = doc.get("size")
        if type(size) is not int or size < 0:
            raise ManifestInvalid(
                f"{where}.size: {size!r} is not a size (expected an integer >= 0)"
            )
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            platform=_platform(doc.get("platform"), f"{where}.platform"),
            annotations=string_map(doc.get("annotations"), f"{where}.annotations"),
            artifact_type=string_field(doc, "artifactType", where),
            urls=string_list(doc.get("urls"), f"{where}.urls"),
        )


def _platform_json(p: Platform) -> dict[str, str]:
    # Go's field order (architecture, os, variant): what skopeo and buildah write.
    doc = {"architecture": p.architecture, "os": p.os}
    if p.variant:
        doc["variant"] = p.variant
    return doc


def descriptor_of(data: bytes, media_type: str, *, platform: Platform | None = None) -> Descriptor:
    """The descriptor of exactly these bytes."""
    return Descriptor(media_type, sha256_digest(data), len(data), platform)


EMPTY_DESCRIPTOR = descriptor_of(EMPTY_JSON, mt.OCI_EMPTY)


def _platform(value: Any, where: str) -> Platform | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ManifestInvalid(f"{where}: expected an object, got {kind_of(value)}")
    return Platform(
        string_field(value, "os", where, required=True),
        string_field(value, "architecture", where, required=True),
        string_field(value, "variant", where),
    )
