"""copy: an image or an index from any Store to any Store, written once (style.md §4).

    result = copy_image(src, "v1", dst, tag="v1", jobs=4)      # stores already open

Order and atomicity: blobs before the manifests that name them, children
before their index, then the evidence attached to the root and to every
manifest under it (its referrers and cosign's `sha256-<hex>.sig/.att/.sbom`
tags: oci/carry.py; `referrers=False` leaves it), the tag last. Children are
put by digest; the root is put under the tag as the final request, so a copy
that fails anywhere leaves no tag pointing at something incomplete or at an
image whose evidence did not arrive (a tag that existed keeps its old digest).

Doing as little as possible:
- the destination tag is HEADed first: already the source digest -> each
  child of the index (and of nested indexes) is HEADed, and only when all are
  there is it up to date (a missing child is put back, with its blobs); the
  root already there by digest -> the same check, then only the tag is put;
- a child manifest already at the destination is neither fetched nor put,
  and its blobs are not looked at (a registry holds a manifest only with its
  blobs);
- between two repositories of one registry, blobs are mounted (one POST
  each, no bytes), otherwise HEADed and skipped when present;
- what is left streams source -> destination in `jobs` parallel transfers,
  never held whole in memory.

A blob transfer whose stream cannot be rewound is retried here as a whole
(reopen the source, new upload session) on the temporary errors the retry
classifier names, honouring Retry-After; after a failure, a HEAD first
checks whether the upload committed anyway.

Here: `copy_image` (the order above). The steps are `copier.Copier`, the
evidence's `carry.carry_evidence`; the `Progress` protocol and `CopyResult`
are in copyresult.py. `dockyard copy
SRC DST` (locations parsed, stores opened) is `pipeline.locations.copy_location`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from dockyard.digest import Digest
from dockyard.errors import InputError, NotFound
from dockyard.oci import mediatypes as mt
from dockyard.oci.carry import carry_evidence
from dockyard.oci.copier import Copier
from dockyard.oci.copyresult import (
    BlobCounts,
    CopyResult,
    EvidenceCounts,
    ManifestCounts,
    NoProgress,
    Progress,
)
from dockyard.oci.fetch import read_config
from dockyard.oci.models import Index, Manifest, parse_manifest
from dockyard.oci.nesting import check_depth
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.store import Store
from dockyard.platform import Platform, matches

# Parallel blob transfers: enough to fill a fast link with a few large layers
# (skopeo uses up to 6); each holds at most a few MiB of buffers.
DEFAULT_JOBS = 4
# Upper bound for --jobs: the registry session's connection pool size.
MAX_JOBS = 16


def copy_image(
    src: Store,
    reference: str,
    dst: Store,
    *,
    tag: str | None,
    digest: Digest | None = None,
    platform: Platform | None = None,
    jobs: int = DEFAULT_JOBS,
    retry: RetryPolicy | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] | None = None,
    names: tuple[str, str] | None = None,
    referrers: bool = True,
    before_move: Callable[[Digest, Manifest | Index], None] | None = None,
) -> CopyResult:
    """Copy the image or index `reference` names in `src` to `dst`, under `tag`.

    `tag=None` puts the root by digest only. `digest`, when given, is what the
    destination named: the source must have that digest. `platform` copies
    only the index's child for that platform (as the root, under `tag`).
    `names` are the (source, destination) texts for the result. `referrers`
    carries the evidence attached to what is copied (oci/carry.py). `before_move(current,
    root)` runs when `tag` already points at another manifest, before anything is written
    (the release order check, publish/ordercheck.py): raising stops the copy.
    """
    if not 1 <= jobs <= MAX_JOBS:
        raise InputError(f"--jobs {jobs}: expected a number from 1 to {MAX_JOBS}")
    started = time.monotonic()
    source, destination = names or (str(src), str(dst))
    root, platforms = _root(src, reference, platform, source)
    if digest is not None and digest != root.digest:
        raise InputError(
            f"{destination}: names {digest}, but {source} is {root.digest} "
            "(name a tag, or the source's digest)"
        )
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="copy") as pool:
        copier = Copier(
            src,
            dst,
            pool,
            retry=retry or RetryPolicy(),
            progress=progress or NoProgress(),
            sleep=sleep,
        )
        carry = partial(_carry, copier, root) if referrers else _nothing
        up_to_date = _copy_root(copier, root, tag, carry, before_move)
    tally = copier.tally
    return CopyResult(
        source=source,
        destination=destination,
        digest=root.digest,
        media_type=root.media_type,
        platforms=platforms,
        tag=tag,
        up_to_date=up_to_date,
        blobs=BlobCounts(**tally.blobs),
        manifests=ManifestCounts(**tally.manifests),
        seconds=time.monotonic() - started,
        evidence=EvidenceCounts(**tally.evidence) if referrers else None,
    )


def _copy_root(
    copier: Copier,
    root: Manifest | Index,
    tag: str | None,
    carry: Callable[[], bool],
    before_move: Callable[[Digest, Manifest | Index], None] | None = None,
) -> bool:
    """True when the destination already had it all (nothing written). `carry()` puts the
    evidence once the children are there, before the root's tag (True: nothing sent)."""
    dst = copier.dst
    if tag is not None:
        current = dst.manifest_head(tag)
        if current is not None and current[0] == root.digest:
            whole = _children_there(copier, root)
            return carry() and whole
        if current is not None and before_move is not None:
            before_move(current[0], root)
    if copier.present(root.descriptor()):
        whole = _children_there(copier, root)
        quiet = carry()
        if tag is None:
            return whole and quiet
        dst.manifest_put(root.raw, root.media_type, tag=tag)
        copier.tally.manifest("copied")
        return False
    copier.put_tree(root, tag=tag, before_root=carry)
    return False


def _nothing() -> bool:
    return True


def _carry(copier: Copier, root: Manifest | Index) -> bool:
    """The evidence of the root and of every manifest under it (oci/carry.py)."""
    return carry_evidence(copier, [*_under(copier, root), root.digest])


def _under(copier: Copier, root: Manifest | Index, depth: int = 0) -> list[Digest]:
    """The digests of every manifest under `root` (nested indexes read from the source)."""
    if not isinstance(root, Index):
        return []
    out: list[Digest] = []
    for child in root.manifests:
        out.append(child.digest)
        if child.media_type in mt.INDEX_TYPES:
            check_depth(depth + 1, child.digest)
            out.extend(_under(copier, copier.index_of(child), depth + 1))
    return out


def _children_there(copier: Copier, root: Manifest | Index) -> bool:
    """The root is at the destination: True when every child (HEADed, nested indexes too)
    is there as well; a missing one is put back first. The root counts as skipped."""
    copier.tally.manifest("skipped")
    return copier.restore_children(root) if isinstance(root, Index) else True


def _root(
    src: Store, reference: str, platform: Platform | None, source: str
) -> tuple[Manifest | Index, tuple[str, ...]]:
    """The manifest to copy (the platform's child when asked) and the platforms it covers."""
    data, media_type = src.manifest_get(reference)
    top = parse_manifest(data, media_type)
    if platform is None:
        names = tuple(str(d.platform) for d in top.platforms()) if isinstance(top, Index) else ()
        return top, names
    if isinstance(top, Index):
        child = top.find(platform)
        if child is None:
            have = ", ".join(str(d.platform) for d in top.platforms()) or "none"
            raise NotFound(f"{source}: no image for {platform} (the index has: {have})")
        data, media_type = src.manifest_get(str(child.digest))
        return parse_manifest(data, child.media_type or media_type), (str(platform),)
    found = read_config(src, top).platform
    if not matches(platform, found):
        raise NotFound(f"{source}: is a single {found} image, not {platform}")
    return top, (str(found),)
