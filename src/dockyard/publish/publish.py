"""Atomic publish: image indexes to one or more registries; every tag moves, or none stays moved.

    item = PublishItem("api", layout, "v1", (parse_repository("ghcr.io/acme/api"),
                       parse_repository("docker.io/acme/api")), ("1.2.3", "1.2", "latest"))
    result = publish([item], client=client)          # PublishFailed (exit 1) on failure

Phase 1 (publish/content.py), every target on every registry: blobs, child
manifests and the index by digest only (no tag is written), each proven by a
HEAD, and each item's verification record attached. A failure here leaves
every tag as it was, everywhere.

Between the phases, when a `sign` hook is given (release's `[sign] key`),
it is called for every target on every registry with the index and its
children (publish/content.py: sign_content): signatures are written only
when every registry holds every index by digest, and no tag moves until
every signature is written, so no tag points at an unsigned image. A
failure there is a phase 1 failure: no tag moves anywhere.

Phase 2 (publish/tagmoves.py) starts only when every registry holds every
index: each tag's current digest and bytes are journalled, then the tags
move, `latest` last; a failed move puts back every tag this run moved. A tag
that points at a newer release than this run's (publish/order.py) fails the
run before anything is written (checked again before the first move: another
run may have finished meanwhile), unless `force=True`. The
one-line error says where every tag of every repository is;
PublishFailed.result carries the same per repository for the JSON summary
(publish/model.py, each repository's state decided in publish/slot.py).

`dry_run=True` HEADs what exists and returns every blob, manifest and tag that
would move; nothing is written (publish/dryrun.py).

This module is the stage's entry point: it exports publish, its input and
result types.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from dockyard.errors import InputError, PublishFailed
from dockyard.oci.copy import DEFAULT_JOBS, Progress
from dockyard.publish.content import SignHook, phase1_message, push_by_digest, sign_content
from dockyard.publish.dryrun import dry_run_slot
from dockyard.publish.model import DRY_RUN, PublishItem, PublishResult
from dockyard.publish.slot import Slot, load_image, publish_result
from dockyard.publish.tagmoves import check_order, move_tags

# Callers import the entry point together with its input and result types.
__all__ = ["PublishItem", "PublishResult", "publish"]


def publish(
    items: Sequence[PublishItem],
    *,
    client: Any,
    dry_run: bool = False,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
    sleep: Callable[[float], None] | None = None,
    sign: SignHook | None = None,
    force: bool = False,
) -> PublishResult:
    """Publish every item to every one of its repositories; see the module docstring.

    `client` is a RegistryClient (its options give the retry policy); `sleep`
    replaces waiting between blob retries (tests); `sign(store, repository,
    descriptors)` signs an index and its children in one repository between
    the phases (not called in a dry run). `force` moves tags that now point at
    a newer release (publish/order.py) instead of refusing the run.
    """
    started = time.monotonic()
    _check_items(items)
    slots = _open(items, client, push=not dry_run)
    if not force:  # before anything is written: a refused run leaves no trace (again in phase 2)
        check_order(slots, started)
    if dry_run:
        for slot in slots:
            dry_run_slot(slot)
        return publish_result(slots, DRY_RUN, started, dry_run=True)
    retry = client.options.retry
    push_by_digest(slots, jobs=jobs, retry=retry, progress=progress, sleep=sleep)
    if sign is not None and not any(s.error for s in slots):
        sign_content(slots, sign)
    failed = [s for s in slots if s.error]
    if failed:
        result = publish_result(slots, None, started, ok=False)
        raise PublishFailed(phase1_message(slots), result=result)
    move_tags(slots, started, force=force, sleep=sleep or time.sleep)
    return publish_result(slots, None, started)


def _check_items(items: Sequence[PublishItem]) -> None:
    for item in items:
        if not item.repositories:
            raise InputError(f"target '{item.target}': no registry to publish to")
        for repo in item.repositories:
            for tag in item.tags:
                repo.with_tag(tag)  # validates the tag (InputError naming it)
            if repo.tag or repo.digest:
                raise InputError(
                    f"target '{item.target}': '{repo}' names a tag or digest "
                    f"(expected a repository: {repo.name}; tags come from the tag rules)"
                )


def _open(items: Sequence[PublishItem], client: Any, *, push: bool) -> list[Slot]:
    slots = []
    for item in items:
        image = load_image(item)
        for repo in item.repositories:
            slots.append(Slot(item, repo, image, client.store(repo, push=push)))
    return slots
