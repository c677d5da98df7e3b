"""Publish phase 1: every target's content by digest on every registry, then proven there.

Blobs, child manifests and the index are copied by digest only (no tag is
written) with the evidence the source attached to them (oci/carry.py; a
record carried along is a record already there), several targets at once;
then a HEAD of every child and every
index on every registry: we do not rely on a registry refusing an index
whose children are missing (hosted ones have accepted such indexes). Each
item's verification record (when it has one: the index was verified in this
run) is attached to the index after those HEADs and before any tag moves,
unless a matching record is there already (publish/records.py); a failure to
attach fails phase 1. A failure here leaves every tag as it was, everywhere:
it is written into its slot, and phase1_message says where each target is.

sign_content runs after all of that succeeded everywhere (publish.py calls
it between the phases): a signing hook per target and registry; its failure
is written into the slot like any other phase 1 failure, so no tag moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from dockyard.errors import OperationError
from dockyard.oci.copy import copy_image
from dockyard.oci.models import Descriptor
from dockyard.oci.store import Store
from dockyard.publish import journal as jn
from dockyard.publish.records import attach_missing
from dockyard.publish.slot import Slot
from dockyard.ref import Reference

# Targets pushed at once in phase 1 (each copy runs `jobs` transfers itself):
# different registries are different hosts, so this mostly overlaps latency.
PARALLEL_TARGETS = 4

# sign(store, repository, descriptors: children first, the index last) -> counts by outcome
# ({"signed": 2, "present": 1}); raises OperationError on failure.
SignHook = Callable[[Store, Reference, Sequence[Descriptor]], Mapping[str, int]]


def push_by_digest(slots: Sequence[Slot], *, jobs: int, retry, progress, sleep) -> None:
    """Copy, HEAD and attach the record of every slot; a failure goes into the slot's `error`."""

    def push(slot: Slot) -> None:
        started = time.monotonic()
        try:
            slot.copy = copy_image(
                slot.item.source,
                slot.item.reference,
                slot.store,
                tag=None,
                digest=slot.image.root.digest,
                jobs=jobs,
                retry=retry,
                progress=progress,
                sleep=sleep,
                names=(f"{slot.item.source}", slot.name),
            )
            _check_present(slot)
            if slot.item.record is not None:
                subject = slot.image.descriptors[-1]
                slot.record = attach_missing(slot.store, slot.item.record, subject)
        except OperationError as err:
            slot.error = str(err)
        finally:
            slot.seconds += time.monotonic() - started

    with ThreadPoolExecutor(max_workers=min(PARALLEL_TARGETS, max(1, len(slots)))) as pool:
        list(pool.map(push, slots))


def sign_content(slots: Sequence[Slot], sign: SignHook) -> None:
    """Sign every slot's index and children in its repository; a failure goes into its `error`."""

    def sign_slot(slot: Slot) -> None:
        started = time.monotonic()
        try:
            slot.signatures = dict(sign(slot.store, slot.repository, slot.image.descriptors))
        except OperationError as err:
            slot.error = f"signing failed: {err}"
        finally:
            slot.seconds += time.monotonic() - started

    with ThreadPoolExecutor(max_workers=min(PARALLEL_TARGETS, max(1, len(slots)))) as pool:
        list(pool.map(sign_slot, slots))


def _check_present(slot: Slot) -> None:
    """HEAD every child and the index: what the registry accepted, it must also serve."""
    for desc in slot.image.descriptors:
        head = slot.store.manifest_head(str(desc.digest))
        if head is None or head[0] != desc.digest:
            what = "index" if desc.digest == slot.image.root.digest else "child manifest"
            raise OperationError(
                f"{slot.name}: {what} {desc.digest} is not served after the push "
                "(the registry accepted it but does not have it)"
            )


def phase1_message(slots: Sequence[Slot]) -> str:
    """The one-line error of a failed phase 1: each repository failed, or complete but untagged."""
    parts = []
    for slot in slots:
        if slot.error:
            parts.append(f"{slot.name}: failed: {slot.error}")
        else:
            parts.append(f"{slot.name}: complete by digest {jn.short(slot.image.root.digest)}, untagged")
    return (
        "publish failed before any tag moved (phase 1, content by digest); "
        "no tag was changed on any registry; " + "; ".join(parts)
    )
