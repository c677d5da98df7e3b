"""Carry an image's evidence with it: copy_image's step after the children, before the root's tag.

    carry_evidence(copier, subjects)    # the root and every manifest under it; True: nothing sent

What goes (see oci/attached.py for the two conventions):
- every referrer of each subject at the source, by digest, its blobs first,
  through the destination's `referrer_put`, so that its list (the referrers
  API, or the `sha256-<hex>` fallback tag it keeps) names it; then the
  referrers of those referrers (a signature on an SBOM), MAX_DEPTH deep, as
  `oras cp -r` does;
- cosign's `sha256-<hex>.sig`, `.att` and `.sbom` of each subject, under the
  same tag, as `cosign copy` does.
It all lands before the root is tagged, so a tag never names an image whose
evidence has not arrived (a referrer's subject need not exist yet: OCI 1.1).

Doing little: the source is asked first, in parallel; the destination only
about what the source has (a source without evidence costs the destination
nothing). A referrer the destination already lists and answers a HEAD for
is not sent again, nor a cosign tag already on the same digest.

Losing nothing at the destination: referrers only add to its list. A cosign
tag there on another digest is replaced only when the source's image holds
every layer of the destination's (signatures added since the last copy);
otherwise the destination's stays, counted `diverged` and logged (cosign
copy refuses such a tag without -f; merging two signature images is the
signing code's business, not a copy's).

A referrer the source lists but no longer holds, or one that is not an
image manifest whose subject is the image, is skipped with a warning: the
fallback list is kept by clients, and any of them can write it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from dockyard.digest import Digest
from dockyard.errors import NotFound
from dockyard.oci.attached import cosign_tags, referrers_of
from dockyard.oci.copier import Copier
from dockyard.oci.models import Descriptor, Manifest, parse_manifest

log = logging.getLogger("dockyard.copy")

# Levels of referrers followed: the image's, theirs (a signature or an
# attestation of an SBOM), and one more. Each level costs a referrers query
# per manifest found at the level before, and real chains stop at two.
MAX_DEPTH = 3


def carry_evidence(copier: Copier, subjects: Sequence[Digest]) -> bool:
    """Copy what is attached to `subjects` from copier.src to copier.dst; True when nothing was sent."""
    before = copier.tally.evidence_copied()
    tags = [t for s in subjects for t in cosign_tags(s)]
    heads = copier.map(copier.src.manifest_head, tags)
    for tag, head in zip(tags, heads, strict=True):
        if head is not None:
            _carry_tag(copier, tag, head[0])
    seen = set(subjects)
    level = list(subjects)
    for _ in range(MAX_DEPTH):
        lists = copier.map(lambda s: referrers_of(copier.src, s), level)
        following: list[Digest] = []
        for subject, entries in zip(level, lists, strict=True):
            fresh = []
            for entry in entries:  # once each, even when listed twice or under two subjects
                if entry.digest not in seen:
                    seen.add(entry.digest)
                    fresh.append(entry)
            if fresh:
                _carry_referrers(copier, subject, fresh)
                following.extend(e.digest for e in fresh)
        if not following:
            break
        level = following
    return copier.tally.evidence_copied() == before


def _carry_referrers(copier: Copier, subject: Digest, entries: Sequence[Descriptor]) -> None:
    """Put the referrers of `subject` the destination lacks, one after the other: each
    put may rewrite the subject's fallback list (read-modify-write, no parallel writers)."""
    listed = {e.digest for e in referrers_of(copier.dst, subject)}
    known = [e for e in entries if e.digest in listed]
    there = {e.digest for e, ok in zip(known, copier.map(copier.present, known), strict=True) if ok}
    for entry in entries:
        if entry.digest in there:
            copier.tally.carried("referrers", "skipped")
        else:
            _put_referrer(copier, subject, entry)


def _put_referrer(copier: Copier, subject: Digest, entry: Descriptor) -> None:
    try:
        manifest = copier.fetch(entry)
    except NotFound:
        log.warning("%s: referrer %s of %s is listed but absent: not carried", copier.src, entry.digest, subject)
        return
    if not (
        isinstance(manifest, Manifest)
        and manifest.subject is not None
        and manifest.subject.digest == subject
    ):
        log.warning(
            "%s: referrer %s is not an image manifest whose subject is %s: not carried",
            copier.src,
            entry.digest,
            subject,
        )
        return
    copier.copy_blobs(manifest.blobs)
    copier.dst.referrer_put(manifest.raw, manifest.media_type)
    copier.tally.carried("referrers", "copied")


def _carry_tag(copier: Copier, tag: str, digest: Digest) -> None:
    there = copier.dst.manifest_head(tag)
    if there is not None and there[0] == digest:
        copier.tally.carried("tags", "skipped")
        return
    data, media_type = copier.src.manifest_get(tag)
    image = parse_manifest(data, media_type)
    if not isinstance(image, Manifest):
        log.warning("%s: %s holds an index, not a cosign image: not carried", copier.src, tag)
        return
    if there is not None:
        theirs = parse_manifest(*copier.dst.manifest_get(tag))
        if not covers(image, theirs):
            log.warning(
                "%s: %s names %s, which holds layers the source's %s lacks: left as it is",
                copier.dst,
                tag,
                theirs.digest,
                image.digest,
            )
            copier.tally.carried("tags", "diverged")
            return
    copier.copy_blobs(image.blobs)
    copier.dst.manifest_put(data, media_type, tag=tag)
    copier.tally.carried("tags", "copied")


def covers(ours: Manifest, theirs: object) -> bool:
    """Whether `ours` holds every layer of `theirs` (digest, type and annotations alike: a
    cosign signature lives in its layer's annotation), so replacing theirs loses nothing."""
    if not isinstance(theirs, Manifest):
        return False
    have = {_layer_key(layer) for layer in ours.layers}
    return all(_layer_key(layer) in have for layer in theirs.layers)


def _layer_key(layer: Descriptor) -> tuple:
    return (layer.digest, layer.media_type, tuple(sorted(layer.annotations.items())))
