"""Ordered releases, the reads: what a tag points at now against what would replace it.

    refused = refusals(checks)      # [(name, Decision)] of every tag that would move backwards
    message = refused_message(refused)

Publish phase 2 (publish/tagmoves.py) and `dockyard copy` (pipeline/locations.py)
call this for every tag of the run BEFORE moving any, so a refusal moves
nothing. The decision is publish/order.py's (pure); this module reads the
annotations it needs: the manifest's own (dockyard writes version, revision
and created on every index), else the config labels of the image (an index:
its first platform child's), which is where buildah and docker put them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.digest import Digest
from dockyard.errors import NotFound, OperationError
from dockyard.oci.models import MAX_MANIFEST_SIZE, Index, Manifest, parse_config, parse_manifest
from dockyard.publish.order import Decision, Release, decide, has_release


@dataclass(frozen=True)
class OrderCheck:
    """One tag about to move: where it points now and what would replace it."""

    name: str  # repository:tag, for the message
    tag: str
    current: Release
    new: Release


def release_of(store: Any, root: Manifest | Index) -> Release:
    """The release `root` (read from `store`) is: its annotations, else its config's labels."""
    if has_release(root.annotations):
        return Release.from_annotations(root.annotations)
    return Release.from_annotations(_labels(store, root))


def release_at(store: Any, data: bytes, media_type: str | None) -> Release:
    """The release of a manifest given by its exact bytes (a tag's journalled previous); a tag
    on something that is not an image manifest or index (another tool's) has none."""
    try:
        root = parse_manifest(data, media_type)
    except OperationError:
        return Release()  # unknown: not an order to keep, the move goes ahead
    return release_of(store, root)


def copy_guard(src: Any, dst: Any, tag: str, *, name: str) -> Callable[[Digest, Any], None]:
    """`dockyard copy SRC DST:TAG`: the check copy_image runs when TAG already points at
    another manifest (`current`), before it writes anything: OperationError when that is a
    newer release than `root` (read from `src`). It rides on the HEAD of the tag the copy
    makes anyway, so an up-to-date re-copy still asks once."""

    def guard(current: Digest, root: Any) -> None:
        now, now_type = dst.manifest_get(str(current))
        check = OrderCheck(name, tag, release_at(dst, now, now_type), release_of(src, root))
        refused = refusals([check])
        if refused:
            raise OperationError(refused_message(refused))

    return guard


def refusals(checks: Sequence[OrderCheck]) -> list[tuple[OrderCheck, Decision]]:
    """Every check whose move would put an older release on the tag."""
    out = []
    for check in checks:
        decision = decide(check.tag, check.current, check.new)
        if not decision.allowed:
            out.append((check, decision))
    return out


def refused_message(refused: Sequence[tuple[OrderCheck, Decision]]) -> str:
    """One line: each refused tag named with both releases, and how to override."""
    clauses = "; ".join(
        f"{check.name}: now at {check.current}, would move to older {check.new}"
        for check, _ in refused
    )
    return (
        f"refusing to move a tag to an older release ({clauses}); no tag was moved "
        "(pass --force to move them anyway)"
    )


def _labels(store: Any, root: Manifest | Index) -> Mapping[str, str]:
    """The image config's labels (an index: its first platform child's); {} when unreadable."""
    try:
        if isinstance(root, Index):
            children = root.platforms() or list(root.manifests)
            if not children:
                return {}
            data, media_type = store.manifest_get(str(children[0].digest))
            child = parse_manifest(data, media_type)
            if not isinstance(child, Manifest):
                return {}
            root = child
        with contextlib.closing(store.blob_open(root.config.digest)) as stream:
            raw = stream.read(MAX_MANIFEST_SIZE + 1)
        config = parse_config(raw)
    except (NotFound, OperationError):
        return {}  # an artifact, or an unreadable config: nothing to order by
    labels = dict(config.labels)
    if config.created:
        labels.setdefault("org.opencontainers.image.created", config.created)
    return labels
