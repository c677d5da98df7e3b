"""What a copy reports: the `Progress` protocol while it works, `CopyResult` after.

`Tally` counts blobs, manifests and carried evidence from the copy's worker
threads; the counts become the result's `BlobCounts`, `ManifestCounts` and
`EvidenceCounts`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any, Protocol

from dockyard.digest import Digest


class Progress(Protocol):
    """What copy reports while it works (called from worker threads)."""

    def blob_started(self, digest: Digest, size: int) -> None:
        """A transfer of `size` bytes begins (again, after a retry)."""

    def blob_advanced(self, digest: Digest, n: int) -> None:
        """`n` more bytes of the blob went through."""

    def blob_done(self, digest: Digest, outcome: str) -> None:
        """The blob is at the destination: outcome is copied, skipped or mounted."""


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
class EvidenceCounts:
    """What was carried along with the image (oci/carry.py): referrers and cosign tags."""

    referrers_copied: int = 0
    referrers_skipped: int = 0  # listed and present at the destination already
    tags_copied: int = 0
    tags_skipped: int = 0  # already on the same digest at the destination
    tags_diverged: int = 0  # the destination's holds layers the source's lacks: left as it was

    @property
    def copied(self) -> int:
        return self.referrers_copied + self.tags_copied

    def to_json(self) -> dict[str, Any]:
        return {
            "referrers": {"copied": self.referrers_copied, "skipped": self.referrers_skipped},
            "cosign_tags": {
                "copied": self.tags_copied,
                "skipped": self.tags_skipped,
                "diverged": self.tags_diverged,
            },
        }


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
    evidence: EvidenceCounts | None = None  # None: not carried (--no-referrers)

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
            "evidence": self.evidence.to_json() if self.evidence is not None else None,
            "seconds": round(self.seconds, 3),
        }


class Tally:
    """Counts from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.blobs = {"copied": 0, "skipped": 0, "mounted": 0, "bytes": 0}
        self.manifests = {"copied": 0, "skipped": 0}
        self.evidence = {f.name: 0 for f in fields(EvidenceCounts)}

    def blob(self, outcome: str, size: int = 0) -> None:
        with self._lock:
            self.blobs[outcome] += 1
            self.blobs["bytes"] += size

    def manifest(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.manifests[outcome] += n

    def carried(self, what: str, outcome: str) -> None:
        """One piece of evidence: `what` is referrers or tags, outcome an EvidenceCounts suffix."""
        with self._lock:
            self.evidence[f"{what}_{outcome}"] += 1

    def evidence_copied(self) -> int:
        with self._lock:
            return self.evidence["referrers_copied"] + self.evidence["tags_copied"]


class NoProgress:
    """The Progress of a copy nobody watches."""

    def blob_started(self, digest: Digest, size: int) -> None:
        pass

    def blob_advanced(self, digest: Digest, n: int) -> None:
        pass

    def blob_done(self, digest: Digest, outcome: str) -> None:
        pass
