"""SBOMs of an image or index: one document per platform image, and attached by digest.

    images = platform_images(store, reference, platform=None)
    docs = [sbom_document(store, image, name="ghcr.io/acme/api", fmt=get_format("spdx"),
                          syft=find_syft(os.environ)) for image in images]
    docs = [attach_document(store, doc) for doc in docs]      # each now has .attached
    packages = packages_of(store, "sha256:<child>", platform)  # what the scan judges

Every platform image of an index (attestation entries are not platforms),
or the single image a manifest is. Its packages come from syft when there
is one (syft.py), else from dockyard's own readers over its final
filesystem (imagefs.py + readers.py); then an Inventory (inventory.py)
written in the asked format (formats.py). `attach_document` puts the
document on the registry or layout as an OCI referrer of that platform
image (evidence/artifacts.py: artifactType = the format's media type, the
annotation `dev.dockyard.platform`, and the image's `created` as the
artefact's, so attaching the same document again gives the same manifest).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from dockyard import __version__
from dockyard.digest import Digest, sha256_digest
from dockyard.errors import DigestMismatch, InputError, ManifestInvalid
from dockyard.evidence.artifacts import attach
from dockyard.evidence.packages import Package
from dockyard.evidence.sbom.formats import Format
from dockyard.evidence.sbom.imagefs import read_image_files
from dockyard.evidence.sbom.inventory import ImageSubject, make_inventory, parse_created
from dockyard.evidence.sbom.readers import packages_from_files
from dockyard.evidence.sbom.syft import find_syft, syft_packages
from dockyard.oci.fetch import child_manifest, read_config
from dockyard.oci.models import Descriptor, ImageConfig, Index, Manifest, parse_manifest
from dockyard.oci.store import Store
from dockyard.platform import Platform, matches, parse_platform
from dockyard.verify.archscan import ScanLimits

PLATFORM_ANNOTATION = "dev.dockyard.platform"


@dataclass(frozen=True)
class PlatformImage:
    """One platform image: the index entry (or the lone manifest), its manifest and config."""

    platform: Platform
    descriptor: Descriptor
    manifest: Manifest
    config: ImageConfig


@dataclass(frozen=True)
class SbomDocument:
    """One platform image's SBOM: the document's bytes and what it was made from."""

    image: PlatformImage
    format: Format
    data: bytes
    packages: tuple[Package, ...]  # sorted: what the document lists
    tools: tuple[tuple[str, str], ...]
    attached: Digest | None = None  # the artefact manifest, once attached

    def to_json(self) -> dict[str, object]:
        return {
            "platform": str(self.image.platform),
            "digest": str(self.image.descriptor.digest),
            "format": self.format.name,
            "media_type": self.format.media_type,
            "packages": len(self.packages),
            "tools": [f"{name} {version}" for name, version in self.tools],
            "sbom_digest": str(sha256_digest(self.data)),
            "attached": str(self.attached) if self.attached else None,
        }


def platform_images(
    store: Store,
    reference: str,
    *,
    platform: Platform | None = None,
    where: str = "",
    any_single: bool = False,
) -> list[PlatformImage]:
    """The platform images `reference` names (all of an index, or the one asked for).

    InputError (exit 2) when `platform` is given and no image is for it,
    naming what there is. `where` names the location in that message.
    `any_single`: a lone image manifest is taken whatever platform its
    config says (its digest was chosen already, from an index entry).
    """
    where = where or reference
    raw, media_type = store.manifest_get(reference)
    if reference.startswith("sha256:") and str(sha256_digest(raw)) != reference:
        raise DigestMismatch(f"manifest {reference}: content hashes to {sha256_digest(raw)}")
    top = parse_manifest(raw, media_type)
    if isinstance(top, Manifest):
        config = read_config(store, top)
        found = [PlatformImage(_normal(config.platform), top.descriptor(), top, config)]
    else:
        found = [_child(store, top, entry) for entry in _entries(top, platform)]
    if any_single and isinstance(top, Manifest):
        return found
    chosen = [image for image in found if platform is None or matches(platform, image.platform)]
    if not chosen:
        there = ", ".join(sorted({str(i.platform) for i in found} | _listed(top))) or "none"
        raise InputError(f"{where}: no {platform} image (it has {there})")
    return chosen


def _entries(top: Index, platform: Platform | None) -> list[Descriptor]:
    entries = top.platforms()
    if not entries:
        raise ManifestInvalid(f"index {top.digest} lists no platform image")
    return [e for e in entries if platform is None or matches(platform, e.platform)]  # type: ignore[arg-type]


def _listed(top: Manifest | Index) -> set[str]:
    return {str(_normal(d.platform)) for d in top.platforms()} if isinstance(top, Index) else set()  # type: ignore[arg-type]


def _child(store: Store, top: Index, entry: Descriptor) -> PlatformImage:
    manifest = child_manifest(store, entry)
    return PlatformImage(_normal(entry.platform), entry, manifest, read_config(store, manifest))  # type: ignore[arg-type]


def _normal(p: Platform) -> Platform:
    try:
        return parse_platform(str(p))
    except InputError:
        return p  # a platform dockyard does not know: named as the image names it


def image_packages(
    store: Store,
    image: PlatformImage,
    *,
    syft: str | None,
    environ: Mapping[str, str] = os.environ,
    limits: ScanLimits = ScanLimits(),
) -> tuple[list[Package], list[tuple[str, str]]]:
    """(packages, the tools that read them) of one platform image: syft's, or the own readers'."""
    tools = [("dockyard", __version__)]
    if syft is None:
        return packages_from_files(read_image_files(store, image.manifest, limits=limits)), tools
    packages, version = syft_packages(syft, store, image.manifest, environ=environ)
    return packages, [*tools, ("syft", version or "unknown")]


def packages_of(
    store: Store,
    reference: str,
    platform: Platform | None,
    *,
    environ: Mapping[str, str] = os.environ,
) -> list[Package]:
    """The packages of the image `reference` names, exactly as its SBOM lists them (the scan's input).

    A single image is read whatever its config says; of an index, the image
    for `platform`. syft reads it when there is one, else the own readers
    (find_syft: `DOCKYARD_SYFT` decides as for `dockyard sbom`). Sorted.
    """
    images = platform_images(store, reference, platform=platform, any_single=True)
    packages, _ = image_packages(store, images[0], syft=find_syft(environ), environ=environ)
    return sorted(set(packages))


def sbom_document(
    store: Store,
    image: PlatformImage,
    *,
    name: str,
    fmt: Format,
    syft: str | None,
    environ: Mapping[str, str] = os.environ,
    limits: ScanLimits = ScanLimits(),
) -> SbomDocument:
    """The SBOM of one platform image (`name`: the image as the document names it; `syft`:
    the binary to run, None for dockyard's own readers; `environ`: syft's environment)."""
    packages, tools = image_packages(store, image, syft=syft, environ=environ, limits=limits)
    subject = ImageSubject(
        name=name,
        digest=image.descriptor.digest,
        media_type=image.descriptor.media_type,
        size=image.descriptor.size,
        platform=image.platform,
        created=parse_created(image.config.created),
    )
    inventory = make_inventory(subject, packages, tools=tools)
    data = fmt.writer()(inventory)
    return SbomDocument(image, fmt, data, inventory.packages, inventory.tools)


def attach_document(store: Store, document: SbomDocument) -> SbomDocument:
    """Attach `document` to its platform image as a referrer; the same document with .attached."""
    image = document.image
    digest = attach(
        store,
        Descriptor(image.descriptor.media_type, image.descriptor.digest, image.descriptor.size),
        artifact_type=document.format.media_type,
        media_type=document.format.media_type,
        data=document.data,
        annotations={PLATFORM_ANNOTATION: str(image.platform)},
        created=parse_created(image.config.created),
    )
    return replace(document, attached=digest)
