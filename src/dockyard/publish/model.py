"""What publish takes and what it returns: plain data, its JSON and its summary rows.

    PublishItem       one target: the source index, one repository per registry, its tags
    PlannedAction     one thing a dry run found (a blob, manifest, record or tag)
    RepositoryResult  one target on one repository after the run: state, tags, counts
    PublishResult     every RepositoryResult; to_json() and summary_rows()

The states a repository ends in (RepositoryResult.state) are the constants
below; which one applies is decided in publish/slot.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.digest import Digest
from dockyard.oci.copy import BlobCounts, ManifestCounts
from dockyard.oci.store import Store
from dockyard.publish import journal as jn
from dockyard.publish.journal import TagOutcome
from dockyard.publish.summary import SummaryRow
from dockyard.ref import Reference
from dockyard.verify.record import Record

# A repository's state after publish (RepositoryResult.state).
PUBLISHED = "published"  # something was written and every tag is at the new index
UNCHANGED = "unchanged"  # it already had everything: nothing written
FAILED = "failed"  # phase 1 failed here
UNTAGGED = "pushed by digest, no tag moved"  # phase 1 done here, failed elsewhere
ROLLED_BACK = "rolled back"  # phase 2 failed; every tag is as before (or removed again)
PARTLY_ROLLED_BACK = "partly rolled back"  # some tag is left on the new index (see its outcome)
DRY_RUN = "dry run"



@dataclass(frozen=True)
class PublishItem:
    """One target's index to publish: where it is read from, the repositories and the tags."""

    target: str
    source: Store
    reference: str  # the index in the source (a layout tag, a digest)
    repositories: tuple[Reference, ...]  # one per registry, no tag
    tags: tuple[str, ...]  # bare tag names, moved on every repository
    record: Record | None = None  # the verification record to attach (verified in this run)


@dataclass(frozen=True)
class PlannedAction:
    """One thing a dry run found: what would be written where, or that it exists."""

    repository: str
    kind: str  # blob | manifest | index | tag
    name: str  # digest, or the tag
    status: str  # exists | would upload | unchanged | would move | would create
    size: int = 0
    previous: str = ""  # a tag's current digest

    def line(self) -> str:
        extra = f" ({self.size} bytes)" if self.size and self.kind == "blob" else ""
        if self.kind == "tag" and self.status == jn.WOULD_MOVE:
            extra = f" (from {self.previous})"
        return f"{self.repository}  {self.kind} {self.name}  {self.status}{extra}"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"kind": self.kind, "name": self.name, "status": self.status}
        if self.kind == "blob":
            doc["size"] = self.size
        if self.previous:
            doc["previous"] = self.previous
        return doc


@dataclass(frozen=True)
class RepositoryResult:
    target: str
    repository: str
    digest: Digest | None
    platforms: tuple[str, ...]
    size: int  # bytes of every manifest and blob of the image
    state: str
    tags: tuple[TagOutcome, ...]
    blobs: BlobCounts = field(default_factory=BlobCounts)
    manifests: ManifestCounts = field(default_factory=ManifestCounts)
    seconds: float = 0.0
    error: str = ""
    actions: tuple[PlannedAction, ...] = ()  # dry run only
    record: str = ""  # the verification record: attached | present | would attach | ""
    # Signatures written between the phases, by outcome ({"signed": 2, "present": 1});
    # None when the publish did not sign.
    signatures: Mapping[str, int] | None = None

    @property
    def tags_moved(self) -> tuple[str, ...]:
        return tuple(t.tag for t in self.tags if t.outcome == jn.MOVED)

    @property
    def tags_unchanged(self) -> tuple[str, ...]:
        return tuple(t.tag for t in self.tags if t.outcome == jn.UNCHANGED)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "target": self.target,
            "repository": self.repository,
            "digest": str(self.digest) if self.digest else None,
            "platforms": list(self.platforms),
            "size": self.size,
            "state": self.state,
            "tags": [t.to_json() for t in self.tags],
            "blobs": {
                "uploaded": self.blobs.copied,
                "mounted": self.blobs.mounted,
                "skipped": self.blobs.skipped,
                "bytes": self.blobs.bytes,
            },
            "manifests": {"uploaded": self.manifests.copied, "skipped": self.manifests.skipped},
            "seconds": round(self.seconds, 3),
        }
        doc["record"] = self.record or None
        doc["signatures"] = dict(self.signatures) if self.signatures is not None else None
        if self.error:
            doc["error"] = self.error
        if self.actions:
            doc["actions"] = [a.to_json() for a in self.actions]
        return doc


@dataclass(frozen=True)
class PublishResult:
    """What publish did in every repository: content by digest, and where every tag is."""

    repositories: tuple[RepositoryResult, ...]
    dry_run: bool = False
    seconds: float = 0.0
    ok: bool = True

    @property
    def actions(self) -> tuple[PlannedAction, ...]:
        return tuple(a for r in self.repositories for a in r.actions)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "repositories": [r.to_json() for r in self.repositories],
        }

    def summary_rows(self, *, verify: Mapping[str, str] | None = None) -> list[SummaryRow]:
        """One summary row per target and repository; `verify` maps target -> its verify result."""
        verify = verify or {}
        return [
            SummaryRow(
                target=r.target,
                repository=r.repository,
                tags=tuple(t.tag for t in r.tags),
                digest=str(r.digest) if r.digest else "",
                platforms=r.platforms,
                size=r.size,
                verify=verify.get(r.target, ""),
                seconds=r.seconds,
                state=r.state,
            )
            for r in self.repositories
        ]

