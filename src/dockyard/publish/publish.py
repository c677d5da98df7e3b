"""Atomic publish: image indexes to one or more registries; every tag moves, or none stays moved.

    item = PublishItem("api", layout, "v1", (parse_repository("ghcr.io/acme/api"),
                       parse_repository("docker.io/acme/api")), ("1.2.3", "1.2", "latest"))
    result = publish([item], client=client)          # PublishFailed (exit 1) on failure

Phase 1, every target on every registry: blobs, child manifests and the index,
by digest only (no tag is written), then a HEAD of every child and every index
on every registry; we do not rely on a registry refusing an index whose
children are missing (hosted ones have accepted such indexes). A failure here
leaves every tag as it was, everywhere.

Each item's verification record (when it has one: the index was verified
in this run) is attached to the index on each registry at the end of phase 1,
after those HEADs and before any tag moves, unless a matching record is
there already (publish/records.py); a failure to attach fails phase 1.

Phase 2 starts only when every registry holds every index. Each tag's current
digest and exact bytes are journalled first; then the tags move, in a stable
order with `latest` last (journal.plan_moves). A tag already at the new index
is left alone, so a re-run converges and immutable-tag registries accept it.
If a move still fails after the client's retries, every tag this run moved
(the failed one included: its PUT may have landed) is put back: to its
journalled bytes, or, for a tag this run created, removed only by deleting
the new index by digest when nothing else points at it (journal.deletable);
otherwise it is reported as left on the new, verified index. The one-line
error says where every tag of every repository is; PublishFailed.result
carries the same per repository for the JSON summary.

`dry_run=True` HEADs what exists and returns every blob, manifest and tag that
would move; nothing is written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dockyard.digest import Digest
from dockyard.errors import InputError, OperationError, PublishFailed, Unsupported
from dockyard.oci.copy import (
    DEFAULT_JOBS,
    BlobCounts,
    CopyResult,
    ManifestCounts,
    Progress,
    copy_image,
)
from dockyard.oci.models import Descriptor, Index, Manifest, parse_manifest
from dockyard.oci.store import Store
from dockyard.publish import journal as jn
from dockyard.publish.journal import TagMove, TagOutcome
from dockyard.publish.records import attach_missing, would_attach
from dockyard.publish.summary import SummaryRow, github_outputs, markdown
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

# Targets pushed at once in phase 1 (each copy runs `jobs` transfers itself):
# different registries are different hosts, so this mostly overlaps latency.
PARALLEL_TARGETS = 4


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



# ---------------------------------------------------------------- working state


@dataclass(frozen=True)
class _Image:
    """The image as the source has it: the root and every manifest under it."""

    root: Manifest | Index
    descriptors: tuple[Descriptor, ...]  # every manifest, children first, the root last
    manifests: tuple[Manifest, ...]  # the platform images (for blobs)
    platforms: tuple[str, ...]
    size: int


@dataclass
class _Slot:
    """One target on one repository while the run goes."""

    item: PublishItem
    repository: Reference
    image: _Image
    store: Any
    copy: CopyResult | None = None
    error: str = ""
    seconds: float = 0.0
    outcomes: dict[str, TagOutcome] = field(default_factory=dict)
    actions: list[PlannedAction] = field(default_factory=list)
    record: str = ""

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
        )


# ---------------------------------------------------------------- entry point


def publish(
    items: Sequence[PublishItem],
    *,
    client: Any,
    dry_run: bool = False,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
    sleep: Callable[[float], None] | None = None,
) -> PublishResult:
    """Publish every item to every one of its repositories; see the module docstring.

    `client` is a RegistryClient (its options give the retry policy); `sleep`
    replaces waiting between blob retries (tests).
    """
    started = time.monotonic()
    _check_items(items)
    slots = _open(items, client, push=not dry_run)
    if dry_run:
        for slot in slots:
            _dry_run(slot)
        return _result(slots, DRY_RUN, started, dry_run=True)
    retry = client.options.retry
    _phase1(slots, jobs=jobs, retry=retry, progress=progress, sleep=sleep)
    failed = [s for s in slots if s.error]
    if failed:
        result = _result(slots, None, started, ok=False)
        raise PublishFailed(_phase1_message(slots), result=result)
    _phase2(slots, started)
    return _result(slots, None, started)


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


def _open(items: Sequence[PublishItem], client: Any, *, push: bool) -> list[_Slot]:
    slots = []
    for item in items:
        image = _load(item)
        for repo in item.repositories:
            slots.append(_Slot(item, repo, image, client.store(repo, push=push)))
    return slots


def _load(item: PublishItem) -> _Image:
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
    return _Image(root, tuple(descriptors), tuple(manifests), platforms, size)


def _result(
    slots: Sequence[_Slot], state: str | None, started: float, *, ok: bool = True, dry_run: bool = False
) -> PublishResult:
    repos = tuple(s.result(state or _state(s)) for s in slots)
    return PublishResult(repos, dry_run=dry_run, seconds=time.monotonic() - started, ok=ok)


def _state(slot: _Slot) -> str:
    """The state of a repository at the end of a run."""
    if slot.error:
        return FAILED
    outcomes = [o.outcome for o in slot.outcomes.values()]
    wrote = bool(slot.copy and not slot.copy.up_to_date)
    if outcomes and all(o in (jn.MOVED, jn.UNCHANGED) for o in outcomes) and len(outcomes) == len(
        slot.item.tags
    ):
        return PUBLISHED if wrote or jn.MOVED in outcomes else UNCHANGED
    if not outcomes or all(o in (jn.NOT_MOVED, jn.UNCHANGED) for o in outcomes):
        return UNTAGGED if wrote else UNCHANGED
    if all(o in (jn.RESTORED, jn.DELETED, jn.NOT_MOVED, jn.UNCHANGED) for o in outcomes):
        return ROLLED_BACK
    return PARTLY_ROLLED_BACK


# ---------------------------------------------------------------- phase 1


def _phase1(slots: Sequence[_Slot], *, jobs: int, retry, progress, sleep) -> None:
    def push(slot: _Slot) -> None:
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


def _check_present(slot: _Slot) -> None:
    """HEAD every child and the index: what the registry accepted, it must also serve."""
    for desc in slot.image.descriptors:
        head = slot.store.manifest_head(str(desc.digest))
        if head is None or head[0] != desc.digest:
            what = "index" if desc.digest == slot.image.root.digest else "child manifest"
            raise OperationError(
                f"{slot.name}: {what} {desc.digest} is not served after the push "
                "(the registry accepted it but does not have it)"
            )


def _phase1_message(slots: Sequence[_Slot]) -> str:
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


# ---------------------------------------------------------------- phase 2


def _phase2(slots: Sequence[_Slot], started: float) -> None:
    by_key = {(s.item.target, s.name): s for s in slots}
    try:
        wanted = [_journal(slot, tag) for slot in slots for tag in slot.item.tags]
    except OperationError as err:
        result = _result(slots, None, started, ok=False)
        raise PublishFailed(
            f"publish failed reading the tags before moving them ({err}); "
            "no tag was changed on any registry; every index is complete by digest, untagged",
            result=result,
        ) from None
    for move in wanted:
        if move.unchanged:
            by_key[(move.target, move.repository)].outcomes[move.tag] = TagOutcome(
                move.repository, move.tag, jn.UNCHANGED, move.digest, move.previous.digest
            )
    moves = jn.plan_moves(wanted)
    done: list[TagMove] = []
    for move in moves:
        slot = by_key[(move.target, move.repository)]
        tick = time.monotonic()
        try:
            slot.store.manifest_put(slot.image.root.raw, slot.image.root.media_type, tag=move.tag)
        except OperationError as err:
            slot.seconds += time.monotonic() - tick
            _rollback([*done, move], by_key)
            result = _result(slots, None, started, ok=False)
            states = "; ".join(
                jn.describe(s.name, [s.outcomes[t] for t in s.item.tags if t in s.outcomes])
                for s in slots
            )
            raise PublishFailed(
                f"publish failed moving tag {move.name} ({err}); every tag this run moved "
                f"was rolled back where possible, the state now: {states}",
                result=result,
            ) from None
        slot.seconds += time.monotonic() - tick
        slot.outcomes[move.tag] = TagOutcome(
            move.repository, move.tag, jn.MOVED, move.digest, move.previous.digest
        )
        done.append(move)


def _journal(slot: _Slot, tag: str) -> TagMove:
    """The tag as it is now: its digest and, unless it is already ours, its exact bytes."""
    digest = slot.image.root.digest
    head = slot.store.manifest_head(tag)
    if head is None:
        previous = jn.ABSENT
    elif head[0] == digest:
        previous = jn.Previous(digest)
    else:
        data, media_type = slot.store.manifest_get(str(head[0]))
        previous = jn.Previous(head[0], data, media_type)
    return TagMove(slot.item.target, slot.name, tag, digest, previous)


def _rollback(attempted: Sequence[TagMove], by_key: Mapping[tuple[str, str], _Slot]) -> None:
    """Put back every tag of `attempted` still on our digest (latest first: reverse order)."""
    created: dict[tuple[str, str], list[TagMove]] = {}
    for move in reversed(attempted):
        slot = by_key[(move.target, move.repository)]
        slot.outcomes[move.tag] = outcome = _undo(slot, move)
        if outcome is None:
            created.setdefault((move.target, move.repository), []).append(move)
    for key, moves in created.items():
        _remove_created(by_key[key], moves)


def _undo(slot: _Slot, move: TagMove) -> TagOutcome | None:
    """The outcome of putting one tag back; None for a tag this run created (decided later)."""
    prev = move.previous

    def outcome(kind: str, digest: Digest | None, detail: str = "") -> TagOutcome:
        return TagOutcome(move.repository, move.tag, kind, digest, prev.digest, detail)

    try:
        head = slot.store.manifest_head(move.tag)
    except OperationError as err:
        return outcome(jn.ROLLBACK_FAILED, move.digest, f"could not read the tag: {err}")
    current = head[0] if head else None
    action = jn.undo_action(move, current)
    if action == jn.SKIP:
        return outcome(jn.NOT_MOVED, current)
    if action == jn.CONFLICT:
        return outcome(jn.CONFLICT, current)
    if action == jn.REMOVE:
        return None
    assert prev.data is not None and prev.media_type is not None
    try:
        slot.store.manifest_put(prev.data, prev.media_type, tag=move.tag)
    except OperationError as err:
        return outcome(jn.ROLLBACK_FAILED, move.digest, str(err))
    return outcome(jn.RESTORED, prev.digest)


def _remove_created(slot: _Slot, moves: Sequence[TagMove]) -> None:
    """Tags this run created on `slot`: delete the new index by digest when that removes
    nothing else (journal.deletable), else report them left on the new, verified index."""
    digest = slot.image.root.digest
    created = {m.tag for m in moves}
    existed = bool(slot.copy and slot.copy.up_to_date)
    detail = ""
    if existed:
        detail = "the index was in the repository before this run"
    else:
        try:
            others = sorted(t for t in slot.store.tag_list() if t not in created and _at(slot, t, digest))
        except OperationError as err:
            others, detail = [], f"could not list the repository's tags: {err}"
        if others:
            detail = "deleting the index by digest would also remove tag " + ", ".join(others)
    if not detail and jn.deletable(created=created, tags_on_digest=created, index_existed=existed):
        try:
            slot.store.manifest_delete(digest)
        except Unsupported:
            detail = "the registry refuses deletes"
        except OperationError as err:
            detail = f"deleting the index failed: {err}"
    for move in moves:
        if detail:
            kind, now = jn.LEFT, digest
        else:
            kind, now = jn.DELETED, None
        slot.outcomes[move.tag] = TagOutcome(move.repository, move.tag, kind, now, None, detail)


def _at(slot: _Slot, tag: str, digest: Digest) -> bool:
    head = slot.store.manifest_head(tag)
    return head is not None and head[0] == digest


# ---------------------------------------------------------------- dry run


def _dry_run(slot: _Slot) -> None:
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


# ---------------------------------------------------------------- GitHub files


def write_github(
    rows: Sequence[SummaryRow],
    *,
    document: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    title: str = "dockyard release",
    outputs: bool = True,
) -> None:
    """Append the Markdown summary to $GITHUB_STEP_SUMMARY and the outputs to $GITHUB_OUTPUT
    (each only when set, as GitHub Actions sets them).

    `outputs=False` (nothing was published: a dry run, a stopped release)
    writes the summary only, so no later step reads a digest that is not there.
    """
    env = os.environ if environ is None else environ
    for variable, text in (
        ("GITHUB_STEP_SUMMARY", lambda: markdown(rows, title=title)),
        ("GITHUB_OUTPUT", lambda: github_outputs(rows, document=document)),
    ):
        path = env.get(variable)
        if not path or (variable == "GITHUB_OUTPUT" and not outputs):
            continue
        try:
            with open(path, "a", encoding="utf-8") as out:
                out.write(text())
        except OSError as exc:
            raise OperationError(f"${variable} ({path}): cannot append: {exc.strerror}") from None

