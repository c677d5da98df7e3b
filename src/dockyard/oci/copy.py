"""copy: an image or an index from any Store to any Store, written once (style.md §4).

    result = copy_image(src, "v1", dst, tag="v1", jobs=4)      # stores already open
    result = copy_location("oci:dist/oci/api:v1", "ghcr.io/acme/api:v1")

Order and atomicity: blobs before the manifests that name them, children
before their index, the tag last. Children are put by digest; the root is put
under the tag as the final request, so a copy that fails anywhere leaves no
tag pointing at something incomplete (a tag that existed keeps its old digest).

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
"""

from __future__ import annotations

import contextlib
import io
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, Protocol, TypeVar

from dockyard.digest import Digest
from dockyard.errors import Cancelled, DigestMismatch, InputError, NotFound, RegistryError
from dockyard.oci import mediatypes as mt
from dockyard.oci.fetch import read_config
from dockyard.oci.models import (
    Descriptor,
    Index,
    Manifest,
    parse_manifest,
)
from dockyard.oci.retry import RetryPolicy, decide, restarts_upload
from dockyard.oci.store import Store
from dockyard.platform import Platform, matches
from dockyard.ref import Reference

log = logging.getLogger("dockyard.copy")

# Parallel blob transfers: enough to fill a fast link with a few large layers
# (skopeo uses up to 6); each holds at most a few MiB of buffers.
DEFAULT_JOBS = 4
# Upper bound for --jobs: the registry session's connection pool size.
MAX_JOBS = 16
CHUNK = 1 << 20

T = TypeVar("T")
R = TypeVar("R")


class Progress(Protocol):
    """What copy reports while it works (called from worker threads)."""

    def blob_started(self, digest: Digest, size: int) -> None:
        """A transfer of `size` bytes begins (again, after a retry)."""

    def blob_advanced(self, digest: Digest, n: int) -> None:
        """`n` more bytes of the blob went through."""

    def blob_done(self, digest: Digest, outcome: str) -> None:
        """The blob is at the destination: outcome is copied, skipped or mounted."""



# ---------------------------------------------------------------- result


@dataclass(frozen=True)
class BlobCounts:
    copied: int = 0
    skipped: int = 0
    mounted: int = 0
    bytes: int = 0  # bytes of the blobs copied (not mounted, not skipped)


@dataclass(frozen=True)
class ManifestCounts:
    copied: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class CopyResult:
    """What a copy moved: the digest, blobs and manifests copied or already there, bytes, time."""

    source: str
    destination: str
    digest: Digest
    media_type: str
    platforms: tuple[str, ...]
    tag: str | None
    up_to_date: bool  # the destination already had it: nothing was written
    blobs: BlobCounts
    manifests: ManifestCounts
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "digest": str(self.digest),
            "media_type": self.media_type,
            "platforms": list(self.platforms),
            "tag": self.tag,
            "up_to_date": self.up_to_date,
            "blobs": {
                "copied": self.blobs.copied,
                "skipped": self.blobs.skipped,
                "mounted": self.blobs.mounted,
                "bytes": self.blobs.bytes,
            },
            "manifests": {"copied": self.manifests.copied, "skipped": self.manifests.skipped},
            "seconds": round(self.seconds, 3),
        }


class _Tally:
    """Counts from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.blobs = {"copied": 0, "skipped": 0, "mounted": 0, "bytes": 0}
        self.manifests = {"copied": 0, "skipped": 0}

    def blob(self, outcome: str, size: int = 0) -> None:
        with self._lock:
            self.blobs[outcome] += 1
            self.blobs["bytes"] += size

    def manifest(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.manifests[outcome] += n


class _NoProgress:
    def blob_started(self, digest: Digest, size: int) -> None:
        pass

    def blob_advanced(self, digest: Digest, n: int) -> None:
        pass

    def blob_done(self, digest: Digest, outcome: str) -> None:
        pass


# ---------------------------------------------------------------- streams


class _Relay(io.RawIOBase):
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


# ---------------------------------------------------------------- copier


class _Copier:
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
        self.tally = _Tally()
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

    def put_tree(self, root: Manifest | Index, *, tag: str | None) -> None:
        """Everything `root` needs, then `root` itself (under `tag`: the last write)."""
        if isinstance(root, Index):
            self.put_children(root)
        else:
            self.copy_blobs(root.blobs)
        self.dst.manifest_put(root.raw, root.media_type, tag=tag)
        self.tally.manifest("copied")

    def put_children(self, index: Index) -> None:
        children = list(index.manifests)
        there = self.map(self.present, children)
        missing = [c for c, ok in zip(children, there, strict=True) if not ok]
        self.tally.manifest("skipped", len(children) - len(missing))
        self.put_missing(missing)

    def restore_children(self, index: Index) -> bool:
        """HEAD every child of an index the destination already names (nested indexes
        too) and put back any it lacks, with its blobs: a registry may serve an index
        whose children are gone (reliability.md). True when nothing was missing."""
        children = list(index.manifests)
        there = self.map(self.present, children)
        missing = [c for c, ok in zip(children, there, strict=True) if not ok]
        whole = not missing
        for child, ok in zip(children, there, strict=True):
            if ok and child.media_type in mt.INDEX_TYPES:
                whole = self.restore_children(self.index_of(child)) and whole
        self.tally.manifest("skipped", len(children) - len(missing))
        self.put_missing(missing)
        return whole

    def index_of(self, desc: Descriptor) -> Index:
        nested = self.fetch(desc)
        if not isinstance(nested, Index):
            raise DigestMismatch(f"{self.src}: {desc.digest} is listed as an index but is not one")
        return nested

    def put_missing(self, missing: Sequence[Descriptor]) -> None:
        """Fetch the children the destination lacks and put them, their blobs first."""
        fetched = self.map(self.fetch, missing)
        for child in fetched:
            if isinstance(child, Index):  # an index of indexes: its children first
                self.put_children(child)
        self.copy_blobs(b for m in fetched if isinstance(m, Manifest) for b in m.blobs)
        self.map(self.put_child, fetched)

    def put_child(self, child: Manifest | Index) -> None:
        self.dst.manifest_put(child.raw, child.media_type)
        self.tally.manifest("copied")

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
            self.dst.blob_put(desc.digest, desc.size, _Relay(raw, advanced, self.stop))

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


# ---------------------------------------------------------------- entry points


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
) -> CopyResult:
    """Copy the image or index `reference` names in `src` to `dst`, under `tag`.

    `tag=None` puts the root by digest only. `digest`, when given, is what the
    destination named: the source must have that digest. `platform` copies
    only the index's child for that platform (as the root, under `tag`).
    `names` are the (source, destination) texts for the result.
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
        copier = _Copier(
            src,
            dst,
            pool,
            retry=retry or RetryPolicy(),
            progress=progress or _NoProgress(),
            sleep=sleep,
        )
        up_to_date = _copy_root(copier, root, tag)
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
    )


def _copy_root(copier: _Copier, root: Manifest | Index, tag: str | None) -> bool:
    """True when the destination already had it all (nothing written)."""
    dst = copier.dst
    if tag is not None:
        current = dst.manifest_head(tag)
        if current is not None and current[0] == root.digest:
            return _children_there(copier, root)
    if copier.present(root.descriptor()):
        whole = _children_there(copier, root)
        if tag is None:
            return whole
        dst.manifest_put(root.raw, root.media_type, tag=tag)
        copier.tally.manifest("copied")
        return False
    copier.put_tree(root, tag=tag)
    return False


def _children_there(copier: _Copier, root: Manifest | Index) -> bool:
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
