"""A fresh machine's shortcut: find an image with the same input hash in the target's registries.

For each of the target's tagged references (TargetPlan.references: every
repository the target is published to, with every tag), the index is
HEADed then fetched, once per run however many platforms ask; a child for
the job's platform whose INPUT_HASH_ANNOTATION equals the job's hash is
copied into the local layout by digest instead of being built. A registry
that is down, refuses us or serves junk is not an error: the job builds, and
the registry is not asked again during the run.

Every request retries transient errors (the client's RetryPolicy), as every
other registry call does. A reuse that still fails is never silent: it is
logged as a warning and the job's result keeps the reason
(`JobResult.reuse_error`), so summaries count "reuse failed, built" apart
from "built". Only the registry's own failures mark it down for the run: a
local error (the layout) says nothing about the registry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.builder.targetlayout import child_with
from dockyard.digest import Digest
from dockyard.errors import NotFound, OperationError, RegistryError
from dockyard.oci import mediatypes as mt
from dockyard.oci.copy import copy_image
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Index, parse_manifest
from dockyard.platform import Platform
from dockyard.ref import Reference

if TYPE_CHECKING:
    from dockyard.oci.registry import RegistryClient

log = logging.getLogger("dockyard.build")


class RegistryReuse:
    """Lookups shared by the jobs of one run (thread-safe)."""
    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self.down: set[str] = set()  # registries that failed this run
        self._indexes: dict[str, Index | None] = {}
        self._lock = threading.Lock()
        self._tag_locks: dict[str, threading.Lock] = {}

    def find(
        self, references: Sequence[Reference], platform: Platform, digest: Digest
    ) -> tuple[Reference, Digest] | None:
        """(the tag's reference, the child's digest) of the first match, or None.

        A target without a registry has no references: nothing was published, and
        Docker Hub is not worth a lookup.
        """
        for ref in references:
            index = self.index(ref)
            child = child_with(index, platform, digest) if index is not None else None
            if child is not None:
                return ref, child.digest
        return None

    def copy(self, ref: Reference, digest: Digest, layout: Path, *, tag: str) -> str | None:
        """Copy image `digest` of `ref`'s repository into the layout under `tag`.

        None when it was copied, else the reason it was not (the job builds).
        """
        try:
            copy_image(
                self.client.store(ref), str(digest), LayoutStore(layout), tag=tag, digest=digest
            )
        except OperationError as exc:
            log.warning("reuse of %s@%s failed, building instead: %s", ref.name, digest, exc)
            if isinstance(exc, RegistryError):
                self.down.add(ref.registry)
            return str(exc)
        return None

    def index(self, ref: Reference) -> Index | None:
        """The index `ref` names (None: absent, not an index, or the registry failed)."""
        key = str(ref)
        with self._lock:
            lock = self._tag_locks.setdefault(key, threading.Lock())
        with lock:  # the platforms of a target ask for the same tags at the same time
            if key not in self._indexes:
                self._indexes[key] = self._fetch(ref)
            return self._indexes[key]

    def _fetch(self, ref: Reference) -> Index | None:
        if ref.registry in self.down:
            return None
        try:
            store = self.client.store(ref)
            head = store.manifest_head(ref.reference)
            if head is None or head[2] not in mt.INDEX_TYPES:
                return None
            parsed = parse_manifest(*store.manifest_get(str(head[0])))
        except NotFound:
            return None
        except OperationError as exc:
            log.warning("registry %s not used for reuse: %s", ref.registry, exc)
            self.down.add(ref.registry)
            return None
        return parsed if isinstance(parsed, Index) else None
