"""Publish phase 2: the tags move, in a stable order, and are rolled back on failure.

It starts only when every registry holds every index (phase 1). Each tag's
current digest and exact bytes are journalled first; then the tags move, in
a stable order with `latest` last (journal.plan_moves), each read back until
it serves our digest (readback.py: bounded). A tag already at the
new index is left alone, so a re-run converges and immutable-tag registries
accept it. If a move still fails after the client's retries, every tag this
run moved (the failed one included: its PUT may have landed) is put back: to
its journalled bytes, or, for a tag this run created, removed only by
deleting the new index by digest when nothing else points at it
(journal.deletable); otherwise it is reported as left on the new, verified
index. The decisions are journal.py's (pure); this module does the reads and
writes they call for.

Before the first move, every tag that would move is checked against what it
points at now (publish/ordercheck.py): a tag at a newer release than this
run's fails the run with every tag left as it was, unless `force`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from dockyard.digest import Digest
from dockyard.errors import OperationError, PublishFailed, Unsupported
from dockyard.publish import journal as jn
from dockyard.publish.journal import TagMove, TagOutcome
from dockyard.publish.order import Release
from dockyard.publish.ordercheck import (
    OrderCheck,
    refusals,
    refused_message,
    release_at,
    release_of,
)
from dockyard.publish.readback import confirm_tag
from dockyard.publish.slot import Slot, publish_result


def check_order(slots: Sequence[Slot], started: float) -> None:
    """PublishFailed when any tag of the run now points at a newer release than the run's.

    publish() calls it before phase 1 (so a refused run writes nothing at
    all) and move_tags again before the first move (another run may have
    finished meanwhile). A tag that cannot be read raises its OperationError."""
    by_key = {(s.item.target, s.name): s for s in slots}
    wanted = [_journal(slot, tag) for slot in slots for tag in slot.item.tags]
    refused = refusals(_order_checks(wanted, by_key))
    if refused:
        raise PublishFailed(refused_message(refused), result=publish_result(slots, None, started, ok=False))


def move_tags(
    slots: Sequence[Slot],
    started: float,
    *,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Journal, check the order, then move every tag of every slot; PublishFailed (after the
    rollback) on failure, or before any move when a tag would go to an older release."""
    by_key = {(s.item.target, s.name): s for s in slots}
    wanted = _journal_all(slots, by_key, started, force=force)
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
        landed = False  # the registry acknowledged the PUT (a lagging read-back may hide it)
        try:
            slot.store.manifest_put(slot.image.root.raw, slot.image.root.media_type, tag=move.tag)
            landed = True
            confirm_tag(slot.store, move.tag, move.digest, sleep=sleep)
        except OperationError as err:
            slot.seconds += time.monotonic() - tick
            _rollback([*done, move], by_key, landed=landed)
            result = publish_result(slots, None, started, ok=False)
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


def _journal(slot: Slot, tag: str) -> TagMove:
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


def _journal_all(
    slots: Sequence[Slot], by_key: Mapping[tuple[str, str], Slot], started: float, *, force: bool
) -> list[TagMove]:
    """Every tag as it is now; PublishFailed when one cannot be read or (unless `force`)
    would move to an older release. Nothing is written."""
    try:
        wanted = [_journal(slot, tag) for slot in slots for tag in slot.item.tags]
        refused = [] if force else refusals(_order_checks(wanted, by_key))
    except OperationError as err:
        result = publish_result(slots, None, started, ok=False)
        raise PublishFailed(
            f"publish failed reading the tags before moving them ({err}); "
            "no tag was changed on any registry; every index is complete by digest, untagged",
            result=result,
        ) from None
    if refused:
        raise PublishFailed(refused_message(refused), result=publish_result(slots, None, started, ok=False))
    return wanted


def _order_checks(
    wanted: Sequence[TagMove], by_key: Mapping[tuple[str, str], Slot]
) -> list[OrderCheck]:
    """An OrderCheck per tag that would move off another manifest (each release read once)."""
    new: dict[tuple[str, str], Release] = {}
    old: dict[tuple[str, object], Release] = {}
    checks = []
    for move in wanted:
        prev = move.previous
        if move.unchanged or prev.data is None:
            continue  # already ours, or a new tag: nothing to be older than
        key = (move.target, move.repository)
        slot = by_key[key]
        if key not in new:
            new[key] = release_of(slot.item.source, slot.image.root)
        if (move.repository, prev.digest) not in old:
            old[(move.repository, prev.digest)] = release_at(slot.store, prev.data, prev.media_type)
        checks.append(OrderCheck(move.name, move.tag, old[(move.repository, prev.digest)], new[key]))
    return checks


def _rollback(
    attempted: Sequence[TagMove], by_key: Mapping[tuple[str, str], Slot], *, landed: bool
) -> None:
    """Put back every tag of `attempted` still on our digest (latest first: reverse order).

    `landed`: the last move's PUT was acknowledged, so it is undone even when a
    lagging registry still shows the old digest.
    """
    created: dict[tuple[str, str], list[TagMove]] = {}
    for i, move in enumerate(reversed(attempted)):
        slot = by_key[(move.target, move.repository)]
        slot.outcomes[move.tag] = outcome = _undo(slot, move, landed=landed and i == 0)
        if outcome is None:
            created.setdefault((move.target, move.repository), []).append(move)
    for key, moves in created.items():
        _remove_created(by_key[key], moves)


def _undo(slot: Slot, move: TagMove, *, landed: bool = False) -> TagOutcome | None:
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
    if landed and action == jn.SKIP:  # ours landed; the registry's read lags behind it
        action = jn.RESTORE if prev.existed else jn.REMOVE
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


def _remove_created(slot: Slot, moves: Sequence[TagMove]) -> None:
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


def _at(slot: Slot, tag: str, digest: Digest) -> bool:
    head = slot.store.manifest_head(tag)
    return head is not None and head[0] == digest
