"""OCI / Docker schema 2 manifests, indexes, configs and descriptors (pure).

Models keep the exact bytes they were parsed from: a manifest's digest is the
sha256 of those bytes, never of a re-serialisation (style.md §3). Building a
manifest or an index is a pure function returning new bytes and the
descriptor that points at them.

JSON is written compact, with keys in the order Go's encoding/json gives the
spec's structs (what skopeo, buildah and crane write), and always with
`schemaVersion: 2` and `mediaType` (ECR needs it; it also pins the type
against manifest confusion).

Malformed or unsafe content (it usually comes from a registry or a layout on
disk, not from the user) raises ManifestInvalid, an OperationError.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dockyard.digest import Digest, parse_digest, sha256_digest
from dockyard.errors import DockyardError, ManifestInvalid
from dockyard.oci import mediatypes as mt
from dockyard.platform import Platform, matches

# Manifests and configs larger than this are refused unread (reliability.md §6:
# the cap containers/image and distribution use).
MAX_MANIFEST_SIZE = 4 * 1024 * 1024

# A Docker attestation manifest sits in the index as platform unknown/unknown
# with this annotation (buildx provenance / SBOM).
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

_EMPTY: Mapping[str, str] = MappingProxyType({})

# The image spec's empty JSON blob: the config (or a layer) of an artifact that
# needs none ("Guidance for an empty descriptor"). Its digest is fixed:
# sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a.
EMPTY_JSON = b"{}"



def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping)) if mapping else _EMPTY


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """Compact JSON bytes in the given key order, UTF-8 (as Go writes them)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


# ---------------------------------------------------------------- descriptor


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    artifact_type: str = ""
    urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Callers may pass a plain dict; keep the model read-only.
        object.__setattr__(self, "annotations", _frozen(self.annotations))

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
            raise ManifestInvalid(f"{where}: expected a JSON object, got {_kind(doc)}")
        media_type = _string(doc, "mediaType", where, required=True)
        digest = _digest(doc.get("digest"), f"{where}.digest")
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
            annotations=_annotations(doc.get("annotations"), f"{where}.annotations"),
            artifact_type=_string(doc, "artifactType", where),
            urls=_strings(doc.get("urls"), f"{where}.urls"),
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


# ---------------------------------------------------------------- manifest / index


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
    annotations: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
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
    annotations: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
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
    doc = _load(raw, "manifest")
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
    declared = _string(doc, "mediaType", "manifest")
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
        raise ManifestInvalid(f"index.manifests: expected a list, got {_kind(children)}")
    return Index(
        raw=raw,
        media_type=media_type,
        manifests=tuple(
            Descriptor.from_json(c, where=f"index.manifests[{i}]") for i, c in enumerate(children)
        ),
        annotations=_annotations(doc.get("annotations"), "index.annotations"),
        subject=_subject(doc.get("subject"), "index.subject"),
    )


def _manifest(raw: bytes, doc: Mapping[str, Any], media_type: str) -> Manifest:
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise ManifestInvalid(f"manifest.layers: expected a list, got {_kind(layers)}")
    return Manifest(
        raw=raw,
        media_type=media_type,
        config=Descriptor.from_json(doc.get("config"), where="manifest.config"),
        layers=tuple(
            Descriptor.from_json(d, where=f"manifest.layers[{i}]") for i, d in enumerate(layers)
        ),
        annotations=_annotations(doc.get("annotations"), "manifest.annotations"),
        subject=_subject(doc.get("subject"), "manifest.subject"),
        artifact_type=_string(doc, "artifactType", "manifest"),
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


# ---------------------------------------------------------------- image config


@dataclass(frozen=True)
class ImageConfig:
    raw: bytes = field(repr=False)
    os: str
    architecture: str
    variant: str = ""
    user: str = ""
    healthcheck: Mapping[str, Any] | None = field(default=None, hash=False)
    labels: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    created: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    diff_ids: tuple[Digest, ...] = ()
    rootfs_type: str = ""  # "layers" in every valid image; "" when absent

    @property
    def digest(self) -> Digest:
        return sha256_digest(self.raw)

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant)


def parse_config(raw: bytes) -> ImageConfig:
    """Parse an image config (OCI or Docker: the same JSON) from its bytes."""
    doc = _load(raw, "config")
    os_name = _string(doc, "os", "config", required=True)
    arch = _string(doc, "architecture", "config", required=True)
    run = doc.get("config")
    run = {} if run is None else run
    if not isinstance(run, Mapping):
        raise ManifestInvalid(f"config.config: expected an object, got {_kind(run)}")
    rootfs = doc.get("rootfs")
    rootfs = {} if rootfs is None else rootfs
    if not isinstance(rootfs, Mapping):
        raise ManifestInvalid(f"config.rootfs: expected an object, got {_kind(rootfs)}")
    diff_ids = _strings(rootfs.get("diff_ids"), "config.rootfs.diff_ids")
    healthcheck = run.get("Healthcheck")
    if healthcheck is not None and not isinstance(healthcheck, Mapping):
        raise ManifestInvalid(
            f"config.config.Healthcheck: expected an object, got {_kind(healthcheck)}"
        )
    return ImageConfig(
        raw=raw,
        os=os_name,
        architecture=arch,
        variant=_string(doc, "variant", "config"),
        user=_string(run, "User", "config.config"),
        healthcheck=MappingProxyType(dict(healthcheck)) if healthcheck else None,
        labels=_annotations(run.get("Labels"), "config.config.Labels"),
        created=_string(doc, "created", "config"),
        env=_strings(run.get("Env"), "config.config.Env"),
        entrypoint=_strings(run.get("Entrypoint"), "config.config.Entrypoint"),
        cmd=_strings(run.get("Cmd"), "config.config.Cmd"),
        working_dir=_string(run, "WorkingDir", "config.config"),
        diff_ids=tuple(_digest(d, f"config.rootfs.diff_ids[{i}]") for i, d in enumerate(diff_ids)),
        rootfs_type=_string(rootfs, "type", "config.rootfs"),
    )


# ---------------------------------------------------------------- field helpers


def _load(raw: bytes, what: str) -> Mapping[str, Any]:
    if len(raw) > MAX_MANIFEST_SIZE:
        raise ManifestInvalid(
            f"{what}: {len(raw)} bytes exceeds the {MAX_MANIFEST_SIZE} byte limit (refused)"
        )
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestInvalid(f"{what}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ManifestInvalid(f"{what}: expected a JSON object, got {_kind(doc)}")
    return doc


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _string(doc: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = doc.get(key)
    if value is None or value == "":
        if required:
            raise ManifestInvalid(f"{where}.{key}: missing (expected a non-empty string)")
        return ""
    if not isinstance(value, str):
        raise ManifestInvalid(f"{where}.{key}: expected a string, got {_kind(value)}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestInvalid(f"{where}: expected a list of strings")
    return tuple(value)


def _annotations(value: Any, where: str) -> Mapping[str, str]:
    if value is None:
        return _EMPTY
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ManifestInvalid(f"{where}: expected an object of strings")
    return _frozen(value)


def _digest(value: Any, where: str) -> Digest:
    if not isinstance(value, str):
        raise ManifestInvalid(f"{where}: expected a digest string, got {_kind(value)}")
    try:
        return parse_digest(value)
    except DockyardError as exc:
        raise ManifestInvalid(f"{where}: {exc}") from None


def _platform(value: Any, where: str) -> Platform | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ManifestInvalid(f"{where}: expected an object, got {_kind(value)}")
    return Platform(
        _string(value, "os", where, required=True),
        _string(value, "architecture", where, required=True),
        _string(value, "variant", where),
    )
