"""A publish dry run: HEADs only, every blob, manifest, record and tag that would move.

Nothing is written. Per repository the slot collects PlannedActions and the
tag outcomes (would create, would move, unchanged) the real run would start
from.
"""

from __future__ import annotations

import time
from typing import Any

from dockyard.digest import Digest
from dockyard.publish import journal as jn
from dockyard.publish.journal import TagOutcome
from dockyard.publish.model import PlannedAction
from dockyard.publish.records import would_attach
from dockyard.publish.slot import Slot


def dry_run_slot(slot: Slot) -> None:
    """What publish would write to this repository: HEADs only."""
    started = time.monotonic()
    store, image, name = slot.store, slot.image, slot.name
    add = slot.actions.append
    root = image.root
    if _present(store, root.digest):
        for desc in image.descriptors:
            kind = "index" if desc.digest == root.digest else "manifest"
            add(PlannedAction(name, kind, str(desc.digest), "exists"))
    else:
        seen: set[Digest] = set()
        for manifest in image.manifests:
            if _present(store, manifest.digest):
                continue
            for blob in manifest.blobs:
                if blob.digest in seen or blob.urls:
                    continue
                seen.add(blob.digest)
                status = "exists" if store.blob_exists(blob.digest) is not None else "would upload"
                add(PlannedAction(name, "blob", str(blob.digest), status, blob.size))
        for desc in image.descriptors:
            kind = "index" if desc.digest == root.digest else "manifest"
            status = "exists" if _present(store, desc.digest) else "would upload"
            add(PlannedAction(name, kind, str(desc.digest), status))
    if slot.item.record is not None:
        slot.record = would_attach(store, slot.item.record)
        add(PlannedAction(name, "record", slot.item.record.settings_hash, slot.record))
    for tag in slot.item.tags:
        head = store.manifest_head(tag)
        if head is None:
            add(PlannedAction(name, "tag", tag, jn.WOULD_CREATE))
            outcome = TagOutcome(name, tag, jn.WOULD_CREATE, None)
        elif head[0] == root.digest:
            add(PlannedAction(name, "tag", tag, jn.UNCHANGED))
            outcome = TagOutcome(name, tag, jn.UNCHANGED, head[0], head[0])
        else:
            add(PlannedAction(name, "tag", tag, jn.WOULD_MOVE, previous=str(head[0])))
            outcome = TagOutcome(name, tag, jn.WOULD_MOVE, head[0], head[0])
        slot.outcomes[tag] = outcome
    slot.seconds += time.monotonic() - started


def _present(store: Any, digest: Digest) -> bool:
    head = store.manifest_head(str(digest))
    return head is not None and head[0] == digest
