"""The copy machinery: one source store, one destination, a pool of transfers.

`Copier` holds the steps `copy.copy_image` composes: HEAD what the
destination has, fetch and put missing child manifests (their blobs first),
and move blobs (mounted within one registry, skipped when present, else
streamed in parallel through a `Relay`). A transfer whose stream cannot be
rewound is retried here as a whole on the temporary errors the retry
classifier names; the first failure stops the other transfers.

A manifest PUT refused with MANIFEST_BLOB_UNKNOWN (the registry lacks a
child or blob we put: a registry that lost it, a proxy that answered 201 for
nothing) gets one repair: HEAD what it references, put back what is
missing, PUT again; a second refusal names the missing digests.
"""

from __future__ import annotations

import contextlib
import io
import logging
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TypeVar

from dockyard.digest import Digest
from dockyard.errors import Cancelled, DeadlineExceeded, DigestMismatch, RegistryError
from dockyard.oci import mediatypes as mt
from dockyard.oci.copyresult import Progress, Tally
from dockyard.oci.models import Descriptor, Index, Manifest, parse_manifest
from dockyard.oci.nesting import check_depth
from dockyard.oci.retry import RetryPolicy, decide, restarts_upload
from dockyard.oci.store import Store
from dockyard.ref import Reference

log = logging.getLogger("dockyard.copy")

# The registry's answer to a manifest whose children or blobs it does not hold.
MANIFEST_BLOB_UNKNOWN = "MANIFEST_BLOB_UNKNOWN"

T = TypeVar("T")
R = TypeVar("R")


class Relay(io.RawIOBase):
    """The source stream as the destination reads it: counted, cancellable, not seekable.

    Not seekable on purpose: a store's blob_put then makes one attempt, and the
    whole transfer (source included) is retried here.
    """

    def __init__(self, raw: IO[bytes], on_bytes: Callable[[int], None], stop: threading.Event):
        super().__init__()
        self._raw = raw
        self._on_bytes = on_bytes
        self._stop = stop

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._stop.is_set():
            raise Cancelled("copy cancelled: another transfer failed")
        if n is None or n < 0:
            return self.readall()
        data = self._raw.read(n)
        if data:
            self._on_bytes(len(data))
        return data

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class Copier:
    """One copy from `src` to `dst`: fetches, HEADs and puts, fanned out over `pool`."""

    def __init__(
        self,
        src: Store,
        dst: Store,
        pool: ThreadPoolExecutor,
        *,
        retry: RetryPolicy,
        progress: Progress,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.src = src
        self.dst = dst
        self.pool = pool
        self.retry = retry
        self.progress = progress
        self.tally = Tally()
        self.stop = threading.Event()
        self._sleep = sleep
        self.mount_from = mount_source(src, dst)

    # -- fan-out

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """fn over items in the pool; the first failure stops the others and is raised."""
        if len(items) <= 1:
            return [fn(x) for x in items]
        futures = [self.pool.submit(fn, x) for x in items]
        try:
            return [f.result() for f in futures]
        except BaseException:
            self.stop.set()
            for f in futures:
                f.cancel()
            for f in futures:  # let running transfers see `stop` and end before we raise
                with contextlib.suppress(BaseException):
                    f.result()
            raise

    # -- manifests

    def fetch(self, desc: Descriptor) -> Manifest | Index:
        """A child manifest from the source, checked against its descriptor."""
        data, media_type = self.src.manifest_get(str(desc.digest))
        if len(data) != desc.size:
            raise DigestMismatch(
                f"{self.src}: manifest {desc.digest} is {len(data)} bytes, the index says {desc.size}"
            )
        return parse_manifest(data, desc.media_type or media_type)

    def present(self, desc: Descriptor) -> bool:
        head = self.dst.manifest_head(str(desc.digest))
        return head is not None and head[0] == desc.digest

    def put_tree(
        self, root: Manifest | Index, *, tag: str | None, before_root: Callable[[], object] | None = None
    ) -> None:
        """Everything `root` needs, then `before_root()` (the evidence), then `root` itself
        (under `tag`: the last write)."""
        if isinstance(root, Index):
            self.put_children(root)
        else:
            self.copy_blobs(root.blobs)
        if before_root is not None:
            before_root()
        self.put_repairing(root, tag=tag)
        self.tally.manifest("copied")

    def put_children(self, index: Index, depth: int = 0) -> None:
        """`depth`: how many indexes `index` is below the root (capped: oci/nesting.py)."""
        children = list(index.manifests)
        there = self.map(self.present, children)
        missing = [c for c, ok in zip(children, there, strict=True) if not ok]
        self.tally.manifest("skipped", len(children) - len(missing))
        self.put_missing(missing, depth + 1)

    def restore_children(self, index: Index, depth: int = 0) -> bool:
        """HEAD every child of an index the destination already names (nested indexes
        too) and put back any it lacks, with its blobs: a registry may serve an index
        whose children are gone (reliability.md). True when nothing was missing."""
        children = list(index.manifests)
        there = self.map(self.present, children)
        missing = [c for c, ok in zip(children, there, strict=True) if not ok]
        whole = not missing
        for child, ok in zip(children, there, strict=True):
            if ok and child.media_type in mt.INDEX_TYPES:
                check_depth(depth + 1, child.digest)
                whole = self.restore_children(self.index_of(child), depth + 1) and whole
        self.tally.manifest("skipped", len(children) - len(missing))
        self.put_missing(missing, depth + 1)
        return whole

    def index_of(self, desc: Descriptor) -> Index:
        nested = self.fetch(desc)
        if not isinstance(nested, Index):
            raise DigestMismatch(f"{self.src}: {desc.digest} is listed as an index but is not one")
        return nested

    def put_missing(self, missing: Sequence[Descriptor], depth: int = 1) -> None:
        """Fetch the children the destination lacks and put them, their blobs first."""
        fetched = self.map(self.fetch, missing)
        for child in fetched:
            if isinstance(child, Index):  # an index of indexes: its children first
                check_depth(depth, child.digest)
                self.put_children(child, depth)
        self.copy_blobs(b for m in fetched if isinstance(m, Manifest) for b in m.blobs)
        self.map(self.put_child, fetched)

    def put_child(self, child: Manifest | Index) -> None:
        self.put_repairing(child, tag=None)
        self.tally.manifest("copied")

    def put_repairing(self, manifest: Manifest | Index, *, tag: str | None) -> None:
        """manifest_put; on MANIFEST_BLOB_UNKNOWN put back what is missing, once, and again."""
        try:
            self.dst.manifest_put(manifest.raw, manifest.media_type, tag=tag)
            return
        except RegistryError as err:
            if MANIFEST_BLOB_UNKNOWN not in err.codes:
                raise
            log.warning("%s: %s; putting back what it lacks, then the manifest again", self.dst, err)
        self.repair(manifest)
        try:
            self.dst.manifest_put(manifest.raw, manifest.media_type, tag=tag)
        except RegistryError as err:
            if MANIFEST_BLOB_UNKNOWN not in err.codes:
                raise
            lacking = ", ".join(str(d) for d in self.missing(manifest)) or "nothing a HEAD finds"
            raise RegistryError(
                f"{self.dst}: the registry refuses manifest {manifest.digest} "
                f"(MANIFEST_BLOB_UNKNOWN) after putting back what it lacked; missing: {lacking}",
                status=err.status,
                codes=err.codes,
                method=err.method,
                url=err.url,
            ) from None

    def repair(self, manifest: Manifest | Index) -> None:
        """Put back the children (with their blobs) or the blobs the destination lacks."""
        if isinstance(manifest, Index):
            self.restore_children(manifest)
        else:
            self.copy_blobs(manifest.blobs)  # a present blob is only HEADed

    def missing(self, manifest: Manifest | Index) -> list[Digest]:
        """What `manifest` references that the destination does not hold (HEAD)."""
        if isinstance(manifest, Index):
            return [c.digest for c in manifest.manifests if not self.present(c)]
        return [b.digest for b in manifest.blobs if not b.urls and self.dst.blob_exists(b.digest) is None]

    # -- blobs

    def copy_blobs(self, blobs: Iterable[Descriptor]) -> None:
        unique: dict[Digest, Descriptor] = {}
        for b in blobs:
            if not b.urls:  # foreign layers stay where their urls say (as skopeo does)
                unique.setdefault(b.digest, b)
        ordered = sorted(unique.values(), key=lambda b: b.size)
        if not ordered:
            return
        # The smallest goes alone first: a store may set itself up on its first
        # write (a LayoutStore creates its directory), which is not safe to race.
        self.copy_blob(ordered[0])
        self.map(self.copy_blob, ordered[1:])

    def copy_blob(self, desc: Descriptor) -> None:
        if self.mount_from is not None:
            # One POST: 201 if the registry linked it (or already had it here).
            if self.dst.blob_mount(desc.digest, self.mount_from):
                self._done(desc, "mounted")
                return
        elif self.dst.blob_exists(desc.digest) is not None:
            self._done(desc, "skipped")
            return
        self._transfer(desc)
        self._done(desc, "copied", desc.size)

    def _done(self, desc: Descriptor, outcome: str, size: int = 0) -> None:
        self.tally.blob(outcome, size)
        self.progress.blob_done(desc.digest, outcome)

    def _transfer(self, desc: Descriptor) -> None:
        attempt = 0
        while True:
            attempt += 1
            self.progress.blob_started(desc.digest, desc.size)
            try:
                self._stream(desc)
                return
            except RegistryError as err:
                self._before_retry(desc, err, attempt)
            if self.dst.blob_exists(desc.digest) is not None:
                return  # the answer to a committed upload was lost: it is there

    def _stream(self, desc: Descriptor) -> None:
        def advanced(n: int) -> None:
            self.progress.blob_advanced(desc.digest, n)

        with contextlib.closing(self.src.blob_open(desc.digest)) as raw:
            self.dst.blob_put(desc.digest, desc.size, Relay(raw, advanced, self.stop))

    def _before_retry(self, desc: Descriptor, err: RegistryError, attempt: int) -> None:
        decision = decide(
            attempt=attempt,
            policy=self.retry,
            status=err.status,
            codes=err.codes,
            retry_after=err.retry_after,
            rand=random.random(),
        )
        lost_session = restarts_upload(err.status, err.codes) and attempt < self.retry.attempts
        if isinstance(err, DeadlineExceeded):
            raise err  # a retry would only pass the deadline again
        if self.stop.is_set() or not (decision.retry or lost_session):
            raise err
        delay = decision.delay if decision.retry else 0.0
        log.warning(
            "blob %s: %s; attempt %d of %d",
            desc.digest,
            decision.reason,
            attempt + 1,
            self.retry.attempts,
        )
        if self._sleep is not None:
            self._sleep(delay)
        elif self.stop.wait(delay):
            raise err  # another transfer failed while we waited


def mount_source(src: Store, dst: Store) -> str | None:
    """The repository to mount blobs from: the source, when it is another repository of
    the destination's registry (both RegistryStores bound to a `ref`)."""
    s, d = getattr(src, "ref", None), getattr(dst, "ref", None)
    if not (isinstance(s, Reference) and isinstance(d, Reference)):
        return None
    if s.registry != d.registry or s.repository == d.repository:
        return None
    return s.name
