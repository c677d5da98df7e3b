"""The tag journal of a publish: what each tag pointed at before, the order tags move in,
and what a rollback does with each tag (pure: no I/O).

    moves = plan_moves(wanted)              # stable order, `latest` last, unchanged dropped
    action = undo_action(move, current)     # after a failed move, per tag this run touched
    ok = deletable(...)                     # may a tag this run created be removed again?
    line = describe(repository, outcomes)   # one exact clause per repository for the error

Rolling back a tag means putting the previous manifest's exact bytes back
under it: registry 2.8 cannot delete a tag, only a manifest by digest (which
removes every tag on it), and Docker Hub/GHCR refuse deletes. A tag that did
not exist before is removed only by deleting the new index by digest, and
only when nothing but this run's own new tags points at it and the index was
not in the repository before this run; otherwise it stays where it is, on
the new index, which phase 1 verified complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dockyard.digest import Digest
from dockyard.errors import InputError

LATEST = "latest"

# What happened to one tag (TagOutcome.outcome), as the JSON summary spells it.
MOVED = "moved"  # now at the new index
UNCHANGED = "unchanged"  # was already at the new index: left alone
NOT_MOVED = "not moved"  # this run did not get to it (or its move did not land)
RESTORED = "restored"  # moved, then put back to its previous manifest
DELETED = "deleted"  # created by this run, then removed (the new index deleted by digest)
LEFT = "left at new index"  # created by this run, not removable: on the new, verified index
CONFLICT = "conflict"  # another client moved it meanwhile: theirs is kept
ROLLBACK_FAILED = "rollback failed"  # ours, and putting it back failed
WOULD_MOVE = "would move"  # dry run
WOULD_CREATE = "would create"  # dry run

# undo_action results.
RESTORE = "restore"
REMOVE = "remove"  # created by this run: remove if deletable(), else LEFT
SKIP = "skip"  # not on our digest and not someone else's: our move never landed


@dataclass(frozen=True)
class Previous:
    """A tag as it was before this run: absent, or a digest with its exact bytes."""

    digest: Digest | None = None
    data: bytes | None = field(default=None, repr=False)
    media_type: str | None = None

    @property
    def existed(self) -> bool:
        return self.digest is not None


ABSENT = Previous()


@dataclass(frozen=True)
class TagMove:
    """One tag of one repository, to be pointed at `digest` (the new, verified index)."""

    target: str
    repository: str  # host/path, no tag
    tag: str
    digest: Digest
    previous: Previous = ABSENT

    @property
    def unchanged(self) -> bool:
        return self.previous.digest == self.digest

    @property
    def registry(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def name(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class TagOutcome:
    """Where one tag ended up, for the result and the JSON summary."""

    repository: str
    tag: str
    outcome: str
    digest: Digest | None  # where the tag points now (as far as this run knows)
    previous: Digest | None = None
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "tag": self.tag,
            "outcome": self.outcome,
            "digest": str(self.digest) if self.digest else None,
            "previous": str(self.previous) if self.previous else None,
        }
        if self.detail:
            doc["detail"] = self.detail
        return doc


def plan_moves(wanted: Sequence[TagMove]) -> tuple[TagMove, ...]:
    """The moves to make, in the order to make them; tags already right are dropped.

    `wanted` comes in its natural order (target, repository, tag as configured).
    Tag-major order keeps registries in step (v1.2.3 everywhere, then v1.2 ...)
    and `latest` goes last everywhere, so a consumer tracking `latest` never
    sees it before the version tags. The sort is stable: the same input
    always gives the same order.
    """
    seen: dict[tuple[str, str], str] = {}
    position: list[int] = []
    counters: dict[tuple[str, str], int] = {}
    for move in wanted:
        key = (move.repository, move.tag)
        if key in seen:
            raise InputError(
                f"{move.name}: wanted by targets '{seen[key]}' and '{move.target}' "
                "(each tag of a repository can name one image: give the targets different images)"
            )
        seen[key] = move.target
        group = (move.target, move.repository)
        position.append(counters.get(group, 0))
        counters[group] = position[-1] + 1
    order = sorted(
        range(len(wanted)), key=lambda i: (wanted[i].tag == LATEST, position[i])
    )
    return tuple(wanted[i] for i in order if not wanted[i].unchanged)


def undo_action(move: TagMove, current: Digest | None) -> str:
    """What a rollback does with a tag this run moved (or tried to), given where it is now.

    Only a tag still on our digest is touched: anything else is either our
    move that never landed (SKIP) or another client's newer move (CONFLICT).
    """
    if current == move.digest:
        return RESTORE if move.previous.existed else REMOVE
    if current == move.previous.digest:
        return SKIP
    return CONFLICT


def deletable(
    *, created: Iterable[str], tags_on_digest: Iterable[str], index_existed: bool
) -> bool:
    """May the new index be deleted by digest to remove the tags this run `created` on it?

    Deleting by digest removes every tag on the manifest and the manifest
    itself, so only when the index is this run's own (it was not in the
    repository before) and every tag pointing at it is one this run created.
    """
    return not index_existed and set(tags_on_digest) <= set(created)


def short(digest: Digest | None) -> str:
    return f"{digest.algorithm}:{digest.hex[:12]}" if digest else "nothing"


def describe(repository: str, outcomes: Sequence[TagOutcome]) -> str:
    """One exact clause for a repository's state after a failed publish."""
    parts = [_clause(o) for o in outcomes if o.outcome not in (NOT_MOVED, UNCHANGED)]
    if not parts:
        return f"{repository}: no tag changed"
    return f"{repository}: " + ", ".join(parts)


def _clause(o: TagOutcome) -> str:
    if o.outcome == RESTORED:
        return f"{o.tag} restored to {short(o.digest)}"
    if o.outcome == DELETED:
        return f"{o.tag} (new) removed again"
    if o.outcome == LEFT:
        why = f" ({o.detail})" if o.detail else ""
        return f"{o.tag} (new) left pointing at the new, verified index {short(o.digest)}{why}"
    if o.outcome == CONFLICT:
        return f"{o.tag} moved by another client to {short(o.digest)} (kept)"
    if o.outcome == ROLLBACK_FAILED:
        return (
            f"{o.tag} still at the new, verified index {short(o.digest)} "
            f"(restoring {short(o.previous)} failed: {o.detail})"
        )
    if o.outcome == MOVED:
        return f"{o.tag} at the new, verified index {short(o.digest)}"
    return f"{o.tag} {o.outcome}"
