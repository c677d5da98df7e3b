"""The tag journal: move order, rollback decisions, the one-line state of a repository."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.digest import sha256_digest
from dockyard.errors import InputError
from dockyard.publish.journal import (
    ABSENT,
    CONFLICT,
    DELETED,
    LEFT,
    MOVED,
    NOT_MOVED,
    REMOVE,
    RESTORE,
    RESTORED,
    ROLLBACK_FAILED,
    SKIP,
    UNCHANGED,
    Previous,
    TagMove,
    TagOutcome,
    deletable,
    describe,
    plan_moves,
    short,
    undo_action,
)

NEW = sha256_digest(b"new index")
OLD = sha256_digest(b"old index")
OTHER = sha256_digest(b"someone else")
A, B = "a.example/app", "b.example/app"


def move(tag, repo=A, *, prev=None, target="api", digest=NEW):
    previous = Previous(prev, b"{}", "application/vnd.oci.image.index.v1+json") if prev else ABSENT
    return TagMove(target, repo, tag, digest, previous)


def names(moves):
    return [m.name for m in moves]


def test_order_is_tag_major_and_latest_last():
    wanted = [
        move(t, repo) for repo in (A, B) for t in ("latest", "1.2.3", "1.2")
    ]
    assert names(plan_moves(wanted)) == [
        f"{A}:1.2.3", f"{B}:1.2.3", f"{A}:1.2", f"{B}:1.2", f"{A}:latest", f"{B}:latest",
    ]


def test_order_keeps_targets_in_their_order_within_a_tag_position():
    wanted = [move("v1", A, target="api"), move("v1", B, target="web")]
    wanted += [move("latest", A + "-x", target="web"), move("sha-1", A + "-x", target="web")]
    assert names(plan_moves(wanted)) == [
        f"{A}:v1", f"{B}:v1", f"{A}-x:sha-1", f"{A}-x:latest",
    ]


def test_tags_already_at_the_new_index_are_not_moved():
    wanted = [move("v1", prev=NEW), move("v2", prev=OLD), move("latest")]
    assert names(plan_moves(wanted)) == [f"{A}:v2", f"{A}:latest"]


def test_two_targets_wanting_one_tag_is_refused():
    wanted = [move("v1", target="api"), move("v1", target="web")]
    with pytest.raises(InputError) as err:
        plan_moves(wanted)
    assert str(err.value) == (
        f"{A}:v1: wanted by targets 'api' and 'web' (each tag of a repository can name one "
        "image: give the targets different images)"
    )


@given(st.lists(st.sampled_from(["latest", "v1", "v1.2", "sha-abc", "edge"]), unique=True),
       st.permutations([A, B]))
def test_order_property_latest_after_every_other_tag(tags, repos):
    wanted = [move(t, r) for r in repos for t in tags]
    ordered = plan_moves(wanted)
    assert sorted(names(ordered)) == sorted(names(wanted))
    latest = [i for i, m in enumerate(ordered) if m.tag == "latest"]
    others = [i for i, m in enumerate(ordered) if m.tag != "latest"]
    assert not latest or not others or min(latest) > max(others)
    assert plan_moves(list(reversed(wanted))) is not None  # any input order is accepted


@pytest.mark.parametrize(
    ("prev", "current", "expected"),
    [
        (OLD, NEW, RESTORE),  # ours, existed before: put the old bytes back
        (None, NEW, REMOVE),  # ours, created by this run
        (OLD, OLD, SKIP),  # our move never landed
        (None, None, SKIP),  # our move never landed (tag still absent)
        (OLD, OTHER, CONFLICT),  # another client moved it meanwhile
        (None, OTHER, CONFLICT),
        (OLD, None, CONFLICT),  # someone deleted it meanwhile: leave it
    ],
)
def test_undo_touches_only_tags_still_on_our_digest(prev, current, expected):
    assert undo_action(move("v1", prev=prev), current) == expected


@pytest.mark.parametrize(
    ("created", "on_digest", "existed", "expected"),
    [
        ({"v2"}, {"v2"}, False, True),
        ({"v2", "latest"}, {"v2", "latest"}, False, True),
        ({"v2"}, {"v2", "sha-1"}, False, False),  # another tag would go with it
        ({"v2"}, {"v2"}, True, False),  # the index was there before this run
        ({"v2"}, set(), False, True),
    ],
)
def test_deletable_only_when_the_index_and_every_tag_on_it_are_ours(created, on_digest, existed, expected):
    assert deletable(created=created, tags_on_digest=on_digest, index_existed=existed) is expected


def test_describe_says_what_each_tag_is():
    outcomes = [
        TagOutcome(A, "1.2.3", RESTORED, OLD, NEW),
        TagOutcome(A, "v2", LEFT, NEW, None, "another tag points at it"),
        TagOutcome(A, "v3", DELETED, None, None),
        TagOutcome(A, "edge", CONFLICT, OTHER, OLD),
        TagOutcome(A, "main", ROLLBACK_FAILED, NEW, OLD, "HTTP 500"),
        TagOutcome(A, "latest", NOT_MOVED, OLD, OLD),
        TagOutcome(A, "sha-1", UNCHANGED, NEW, NEW),
    ]
    assert describe(A, outcomes) == (
        f"{A}: 1.2.3 restored to {short(OLD)}, "
        f"v2 (new) left pointing at the new, verified index {short(NEW)} (another tag points at it), "
        "v3 (new) removed again, "
        f"edge moved by another client to {short(OTHER)} (kept), "
        f"main still at the new, verified index {short(NEW)} (restoring {short(OLD)} failed: HTTP 500)"
    )


@pytest.mark.parametrize("outcome", [NOT_MOVED, UNCHANGED])
def test_describe_untouched_repository(outcome):
    assert describe(B, [TagOutcome(B, "v1", outcome, OLD, OLD)]) == f"{B}: no tag changed"


def test_describe_moved():
    assert describe(B, [TagOutcome(B, "v1", MOVED, NEW, OLD)]) == (
        f"{B}: v1 at the new, verified index {short(NEW)}"
    )


def test_short_digest():
    assert short(NEW) == "sha256:" + NEW.hex[:12]
    assert short(None) == "nothing"
