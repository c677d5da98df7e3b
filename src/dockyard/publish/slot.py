"""One target on one repository while a publish runs (a Slot), and what it ends as.

    image = load_image(item)                # the index and every manifest under it, from the source
    slot = Slot(item, repository, image, store)
    result = publish_result(slots, None, started)   # each slot's RepositoryResult, its state decided

Phase 1 (publish/content.py), phase 2 (publish/tagmoves.py) and the dry run
(publish/dryrun.py) write what they did into the slots; repository_state
turns a slot into one of the states of publish/model.py.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dockyard.errors import OperationError
from dockyard.oci.copy import BlobCounts, CopyResult, ManifestCounts
from dockyard.oci.models import Descriptor, Index, Manifest, parse_manifest
from dockyard.publish import journal as jn
from dockyard.publish.journal import TagOutcome
from dockyard.publish.model import (
    FAILED,
    PARTLY_ROLLED_BACK,
    PUBLISHED,
    ROLLED_BACK,
    UNCHANGED,
    UNTAGGED,
    PlannedAction,
    PublishItem,
    PublishResult,
    RepositoryResult,
)
from dockyard.ref import Reference


@dataclass(frozen=True)
class SourceImage:
    """The image as the source has it: the root and every manifest under it."""

    root: Manifest | Index
    descriptors: tuple[Descriptor, ...]  # every manifest, children first, the root last
    manifests: tuple[Manifest, ...]  # the platform images (for blobs)
    platforms: tuple[str, ...]
    size: int


@dataclass
class Slot:
    """One target on one repository while the run goes."""

    item: PublishItem
    repository: Reference
    image: SourceImage
    store: Any
    copy: CopyResult | None = None
    error: str = ""
    seconds: float = 0.0
    outcomes: dict[str, TagOutcome] = field(default_factory=dict)
    actions: list[PlannedAction] = field(default_factory=list)
    record: str = ""
    signatures: dict[str, int] | None = None  # sign_content's counts; None: not signed

    @property
    def name(self) -> str:
        return self.repository.name

    def result(self, state: str) -> RepositoryResult:
        copy = self.copy
        return RepositoryResult(
            target=self.item.target,
            repository=self.name,
            digest=self.image.root.digest,
            platforms=self.image.platforms,
            size=self.image.size,
            state=state,
            tags=tuple(
                self.outcomes.get(t)
                or TagOutcome(self.name, t, jn.NOT_MOVED, None)
                for t in self.item.tags
            ),
            blobs=copy.blobs if copy else BlobCounts(),
            manifests=copy.manifests if copy else ManifestCounts(),
            seconds=self.seconds,
            error=self.error,
            actions=tuple(self.actions),
            record=self.record,
            signatures=self.signatures,
        )


def load_image(item: PublishItem) -> SourceImage:
    """The root and its tree from the source (a layout read: cheap), checked as it is read."""
    data, media_type = item.source.manifest_get(item.reference)
    root = parse_manifest(data, media_type)
    descriptors: list[Descriptor] = []
    manifests: list[Manifest] = []
    platforms: tuple[str, ...] = ()

    def walk(index: Index) -> None:
        for child in index.manifests:
            raw, child_type = item.source.manifest_get(str(child.digest))
            node = parse_manifest(raw, child.media_type or child_type)
            if node.digest != child.digest:
                raise OperationError(
                    f"{item.source}: manifest {child.digest} hashes to {node.digest}"
                )
            if isinstance(node, Index):
                walk(node)
            else:
                manifests.append(node)
            descriptors.append(child)

    if isinstance(root, Index):
        walk(root)
        platforms = tuple(str(d.platform) for d in root.platforms())
    else:
        manifests.append(root)
    descriptors.append(Descriptor(root.media_type, root.digest, root.size))
    blobs = {b.digest: b.size for m in manifests for b in m.blobs}
    size = sum(d.size for d in descriptors) + sum(blobs.values())
    return SourceImage(root, tuple(descriptors), tuple(manifests), platforms, size)


def publish_result(
    slots: Sequence[Slot], state: str | None, started: float, *, ok: bool = True, dry_run: bool = False
) -> PublishResult:
    """Every slot's result, in `state` (None: each slot's own, repository_state)."""
    repos = tuple(s.result(state or repository_state(s)) for s in slots)
    return PublishResult(repos, dry_run=dry_run, seconds=time.monotonic() - started, ok=ok)


def repository_state(slot: Slot) -> str:
    """The state of a repository at the end of a run."""
    if slot.error:
        return FAILED
    outcomes = [o.outcome for o in slot.outcomes.values()]
    # New signatures are writes too: a key added to a release already published signs it.
    signed = bool((slot.signatures or {}).get("signed"))
    wrote = bool(slot.copy and not slot.copy.up_to_date) or signed
    if outcomes and all(o in (jn.MOVED, jn.UNCHANGED) for o in outcomes) and len(outcomes) == len(
        slot.item.tags
    ):
        return PUBLISHED if wrote or jn.MOVED in outcomes else UNCHANGED
    if not outcomes or all(o in (jn.NOT_MOVED, jn.UNCHANGED) for o in outcomes):
        return UNTAGGED if wrote else UNCHANGED
    if all(o in (jn.RESTORED, jn.DELETED, jn.NOT_MOVED, jn.UNCHANGED) for o in outcomes):
        return ROLLED_BACK
    return PARTLY_ROLLED_BACK
