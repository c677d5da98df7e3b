"""What is attached to one manifest in one store: its OCI referrers and cosign's digest tags.

    found = attached(store, digest)     # found.referrers (descriptors), found.tags (CosignTag)

Evidence sits beside an image, by digest, without touching it, in two ways:
- OCI 1.1 referrers (oci/referrers.py): manifests whose `subject` is the
  image, listed by the registry's referrers API or the `sha256-<hex>`
  fallback tag;
- cosign's digest tags, older than referrers and still what cosign writes by
  default: `sha256-<hex>.sig` (signatures), `.att` (attestations) and `.sbom`
  (an attached SBOM), images in the subject's own repository found by name.

Both are read through the Store verbs, so a layout and a registry answer
alike; a store or registry without either has nothing attached (no error).
`copy` carries both (oci/carry.py), `inspect` lists both, `retain` deletes
both with their subject (publish/retain.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dockyard.digest import Digest
from dockyard.errors import Unsupported
from dockyard.oci.models import Descriptor, Manifest, parse_manifest
from dockyard.oci.store import Store

# cosign's tag suffixes (pkg/oci/remote: SignatureTagSuffix, AttestationTagSuffix,
# SBOMTagSuffix) and what each holds.
COSIGN_KINDS = {"sig": "signatures", "att": "attestations", "sbom": "sbom"}
# Lookups at once in attached_to: as many as copy's default parallel transfers.
LOOKUPS = 4


def cosign_tag(digest: Digest, suffix: str) -> str:
    """`sha256-<hex>.<suffix>`: where cosign keeps its `suffix` images of `digest`."""
    return f"{digest.algorithm}-{digest.hex}.{suffix}"


def cosign_tags(digest: Digest) -> list[str]:
    """The three cosign tags of `digest`: signatures, attestations, SBOM."""
    return [cosign_tag(digest, suffix) for suffix in COSIGN_KINDS]


@dataclass(frozen=True)
class CosignTag:
    """A cosign digest tag that exists: the manifest it names, and how many layers
    (one per signature or attestation) that manifest has."""

    tag: str
    digest: Digest
    layers: int

    @property
    def kind(self) -> str:
        return COSIGN_KINDS[self.tag.rsplit(".", 1)[1]]

    def to_json(self) -> dict[str, Any]:
        return {"tag": self.tag, "kind": self.kind, "digest": str(self.digest), "layers": self.layers}


@dataclass(frozen=True)
class Attached:
    """Everything attached to `subject` in one store."""

    subject: Digest
    referrers: tuple[Descriptor, ...] = ()
    tags: tuple[CosignTag, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "referrers": [referrer_json(d) for d in self.referrers],
            "cosign_tags": [t.to_json() for t in self.tags],
        }


def referrer_json(d: Descriptor) -> dict[str, Any]:
    """A referrers entry in dockyard's key style (as inspect's `manifests` entries)."""
    return {
        "digest": str(d.digest),
        "artifact_type": d.artifact_type,
        "media_type": d.media_type,
        "size": d.size,
        "annotations": dict(d.annotations),
    }


def referrers_of(store: Store, subject: Digest) -> list[Descriptor]:
    """The referrers of `subject` in `store`; none where the store cannot list them."""
    try:
        return store.referrers(subject)
    except Unsupported:
        return []


def cosign_tag_of(store: Store, tag: str) -> CosignTag | None:
    """The cosign tag `tag` in `store` with its layer count, or None when it is absent."""
    if store.manifest_head(tag) is None:
        return None
    data, media_type = store.manifest_get(tag)
    image = parse_manifest(data, media_type)
    layers = len(image.layers) if isinstance(image, Manifest) else 0
    return CosignTag(tag, image.digest, layers)


def attached(store: Store, subject: Digest) -> Attached:
    """Everything attached to `subject` in `store` (a few requests, one after the other)."""
    tags = (cosign_tag_of(store, t) for t in cosign_tags(subject))
    return Attached(
        subject, tuple(referrers_of(store, subject)), tuple(t for t in tags if t is not None)
    )


def attached_to(
    store: Store, subjects: Sequence[Digest], *, workers: int = LOOKUPS
) -> dict[Digest, Attached]:
    """What is attached to each of `subjects`, its lookups `workers` at a time: four per
    subject against a registry (the referrers, three cosign tags), each a round trip."""
    jobs = [(s, tag) for s in subjects for tag in (None, *cosign_tags(s))]

    def ask(job: tuple[Digest, str | None]) -> list[Descriptor] | CosignTag | None:
        subject, tag = job
        return referrers_of(store, subject) if tag is None else cosign_tag_of(store, tag)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        answers = list(pool.map(ask, jobs))
    referrers: dict[Digest, tuple[Descriptor, ...]] = {}
    tags: dict[Digest, list[CosignTag]] = {s: [] for s in subjects}
    for (subject, _), answer in zip(jobs, answers, strict=True):
        if isinstance(answer, list):
            referrers[subject] = tuple(answer)
        elif answer is not None:
            tags[subject].append(answer)
    return {s: Attached(s, referrers[s], tuple(tags[s])) for s in subjects}
