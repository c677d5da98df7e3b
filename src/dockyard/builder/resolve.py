"""Each stage's base image resolved to the digest of its own platform's manifest (I/O).

design.md "Why per-platform pinning is not optional": buildah 1.28 builds the
final stage of `FROM --platform=$BUILDPLATFORM base AS build` ... `FROM base`
from the build platform's image. So every stage's base is looked up in its
registry, through the Store protocol, for the platform that stage runs on
(build.pinning.base_references says which): an index is resolved to the
child for that platform, a single image is checked to be of that platform.
`pins_for` turns the result into pinning.Pin records for `pin()`, and
`base_annotations` into the OCI base.name/base.digest annotations.

A FROM names a registry image (docker's grammar has no layout form), so the
stores here are registry repositories; `stores=` lets a caller supply any
Store per repository.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.digest import Digest
from dockyard.dockerfile.parse import Dockerfile
from dockyard.dockerfile.pinning import Pin, base_references, resolve_froms
from dockyard.errors import NotFound, OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.fetch import read_config
from dockyard.oci.models import (
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    parse_manifest,
)
from dockyard.oci.store import Store
from dockyard.platform import Platform, matches
from dockyard.ref import Reference, parse_ref

if TYPE_CHECKING:
    from dockyard.oci.registry import RegistryClient

BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name"
BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest"

StoreFactory = Callable[[Reference], Store]


@dataclass(frozen=True)
class ResolvedBase:
    """One stage's base, resolved for the platform that stage runs on."""

    stage: int
    line: int  # the stage's FROM line (what a Pin is checked against)
    base: str  # as written, ARGs expanded
    reference: Reference  # normalised (docker.io/library/..., default tag)
    platform: Platform
    digest: Digest  # of that platform's image manifest
    index_digest: Digest | None  # of the index it was picked from, when the base is one
    media_type: str  # of the image manifest

    def to_json(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "base": self.base,
            "reference": str(self.reference),
            "platform": str(self.platform),
            "digest": str(self.digest),
            "index_digest": None if self.index_digest is None else str(self.index_digest),
            "media_type": self.media_type,
        }


@dataclass(frozen=True)
class _Resolution:
    digest: Digest
    index_digest: Digest | None
    media_type: str


def resolve_bases(
    df: Dockerfile,
    *,
    build: Platform,
    target: Platform,
    args: Mapping[str, str],
    client: RegistryClient | None = None,
    stores: StoreFactory | None = None,
    stage: str | None = None,
    cache: dict | None = None,
) -> list[ResolvedBase]:
    """Resolve every stage's base image (those `stage` needs, with `stage`) in file order.

    Stores come from `stores(reference)` if given, else from `client` (the
    run's RegistryClient; one of the two is required). `cache` (any dict, shared across the jobs of a run) keeps each
    (reference, platform) resolved once.
    """
    wanted = base_references(df, build=build, target=target, args=args, stage=stage)
    if not wanted:
        return []
    cache = {} if cache is None else cache
    if stores is not None:
        open_store = stores
    elif client is not None:
        open_store = client.store
    else:
        raise TypeError("resolve_bases needs client= (the run's RegistryClient) or stores=")
    resolved = []
    for index, base, platform in wanted:
        reference = parse_ref(base)
        key = (str(reference), platform)
        found = cache.get(key)
        if found is None:
            found = _resolve(open_store(reference), reference, base, platform)
            cache[key] = found
        resolved.append(
            ResolvedBase(
                stage=index,
                line=df.stages[index].from_.line,
                base=base,
                reference=reference,
                platform=platform,
                digest=found.digest,
                index_digest=found.index_digest,
                media_type=found.media_type,
            )
        )
    return resolved


def pins_for(resolved: Sequence[ResolvedBase]) -> list[Pin]:
    """The pinning.Pin records that make `pin()` write each stage's FROM as repository@digest."""
    return [Pin(r.stage, r.line, str(r.reference), r.platform, r.digest) for r in resolved]


def base_stage(
    df: Dockerfile,
    *,
    build: Platform,
    target: Platform,
    args: Mapping[str, str],
    stage: str | None = None,
) -> int:
    """The stage whose FROM names the image a build of `stage` (default: the last) starts from.

    `FROM <earlier stage>` is followed back to the stage that names an image
    (or scratch): that stage's base is the image's base.
    """
    froms = resolve_froms(df, build=build, target=target, args=args)
    index = df.target_stage(stage).index
    while froms[index].parent is not None:
        index = froms[index].parent
    return index


def base_annotations(resolved: Sequence[ResolvedBase], final_stage_index: int) -> dict[str, str]:
    """`org.opencontainers.image.base.name`/`.digest` for an image built from that stage.

    Empty when that stage's base was not resolved (FROM scratch). Use
    base_stage() to find the index when the final stage is FROM another stage.
    """
    for r in resolved:
        if r.stage == final_stage_index:
            return {BASE_NAME_ANNOTATION: str(r.reference), BASE_DIGEST_ANNOTATION: str(r.digest)}
    return {}


# ---------------------------------------------------------------- resolving one base


def _resolve(store: Store, reference: Reference, base: str, platform: Platform) -> _Resolution:
    data, media_type = _get_manifest(store, reference.reference, base)
    document = parse_manifest(data, media_type)
    if isinstance(document, Index):
        return _from_index(store, document, base, platform)
    _check_single(store, document, base, platform)
    return _Resolution(document.digest, None, document.media_type)


def _from_index(store: Store, index: Index, base: str, platform: Platform) -> _Resolution:
    child = pick_child(index, platform)
    if child is None:
        raise OperationError(
            f"base {base} has no {platform} image (it has: {_platforms_of(index)})"
        )
    if child.media_type not in mt.MANIFEST_TYPES:
        raise OperationError(
            f"base {base}: the {platform} entry is a {child.media_type}, not an image manifest "
            "(nested indexes are not supported)"
        )
    # Registries have accepted indexes whose children 404 (reliability.md): say so now,
    # not as a pull failure in the middle of a build.
    if store.manifest_head(str(child.digest)) is None:
        raise OperationError(
            f"base {base}: its index lists a {platform} image {child.digest} "
            "that the registry does not have"
        )
    return _Resolution(child.digest, index.digest, child.media_type)


def pick_child(index: Index, platform: Platform) -> Descriptor | None:
    """The index entry for `platform`: an exact match first, else a normalised one.

    Attestation entries (unknown/unknown) never match. An exact match wins so
    that an index listing both linux/arm64 and linux/arm64/v8 resolves to
    the entry spelled as asked.
    """
    children = index.platforms()
    for child in children:
        p = child.platform
        if p is not None and (p.os, p.architecture, p.variant) == (
            platform.os,
            platform.architecture,
            platform.variant,
        ):
            return child
    return index.find(platform)


def _check_single(store: Store, manifest: Manifest, base: str, platform: Platform) -> None:
    config = _read_config(store, manifest, base)
    if not matches(platform, config.platform):
        raise OperationError(
            f"base {base} is a single {config.platform} image; "
            f"{platform} needs a multi-platform base or one built for it"
        )


def _get_manifest(store: Store, reference: str, base: str) -> tuple[bytes, str]:
    try:
        return store.manifest_get(reference)
    except NotFound as exc:
        raise NotFound(f"base {base} was not found ({exc})") from None


def _read_config(store: Store, manifest: Manifest, base: str) -> ImageConfig:
    try:
        return read_config(store, manifest)
    except NotFound as exc:
        raise NotFound(f"base {base}: config missing ({exc})") from None


def _platforms_of(index: Index) -> str:
    seen: list[str] = []
    for child in index.platforms():
        text = str(child.platform)
        if text not in seen:
            seen.append(text)
    return ", ".join(seen) if seen else "no platform images"
