"""publish/order.py: may a tag move from one release to another (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.publish.order import CREATED, REVISION, VERSION, Release, decide, has_release
from dockyard.tags.versions import parse_semver

T1 = "2024-05-01T12:00:00Z"
T2 = "2024-05-02T12:00:00Z"


def rel(version: str = "", created: str = "", revision: str = "") -> Release:
    return Release(version, revision, created)


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        ("1.0.0", "1.1.0", True),
        ("1.1.0", "1.0.9", False),
        ("v2.0.0", "v10.0.0", True),  # numeric, not text, order
        ("10.0.0", "9.9.9", False),
        ("1.2.0-rc.1", "1.2.0", True),  # a pre-release is below its release
        ("1.2.0", "1.2.0-rc.1", False),
        ("1.2.0-rc.2", "1.2.0-rc.10", True),  # numeric identifiers compare as numbers
        ("1.2.0-rc.1", "1.2.0-alpha", False),  # alphanumeric identifiers compare as text
        ("1.2.0-alpha", "1.2.0-alpha.1", True),  # a longer list is higher
        ("1.2.0-1", "1.2.0-alpha", True),  # numeric below alphanumeric
    ],
)
def test_semver_orders_both_directions(old, new, allowed):
    # Created times say the opposite: semver wins when both are semver.
    d = decide("latest", rel(old, T2), rel(new, T1) if allowed else rel(new, T2))
    assert d.allowed is allowed
    if not allowed:
        assert "latest" in d.reason and old in d.reason and new in d.reason


def test_build_metadata_is_ignored_and_equal_versions_fall_back_to_created():
    assert decide("1.0", rel("1.0.0+b2", T2), rel("1.0.0+b1", T1)).allowed is False
    assert decide("1.0", rel("1.0.0+b1", T1), rel("1.0.0+b2", T2)).allowed is True
    assert decide("1.0", rel("1.0.0", T1), rel("1.0.0", T1)).allowed is True  # the same again


def test_latest_never_moves_to_a_lower_semver_even_when_built_later():
    d = decide("latest", rel("1.1.0", T1, "aaaa"), rel("1.0.1", T2, "bbbb"))
    assert not d.allowed
    assert "1.1.0" in d.reason and "1.0.1" in d.reason and "semver" in d.reason


def test_branch_builds_are_ordered_by_created():
    assert decide("main", rel("main", T2), rel("main", T1)).allowed is False
    assert decide("main", rel("main", T1), rel("main", T2)).allowed is True
    # One side semver, the other not: the times decide.
    assert decide("edge", rel("1.0.0", T2), rel("edge", T1)).allowed is False
    assert decide("edge", rel("1.0.0", T1), rel("edge", T2)).allowed is True


def test_created_is_read_with_nanoseconds_and_offsets():
    old = rel("main", "2024-05-01T12:00:00.123456789Z")
    assert decide("main", old, rel("main", "2024-05-01T12:00:00.123455Z")).allowed is False
    # 13:30+02:00 is 11:30Z: earlier than 12:00Z
    assert (
        decide("main", rel("main", T1), rel("main", "2024-05-01T13:30:00+02:00")).allowed is False
    )
    assert decide("main", rel("main", T1), rel("main", "2024-05-01T14:30:00+02:00")).allowed is True


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (rel(), rel("1.0.0", T1)),  # what is there has no release annotations
        (rel("1.0.0", T1), rel()),
        (rel("main", "yesterday"), rel("main", T1)),  # unreadable time
    ],
)
def test_what_cannot_be_ordered_is_not_refused(old, new):
    d = decide("latest", old, new)
    assert d.allowed is True
    assert "cannot be ordered" in d.reason


def test_release_from_annotations_and_its_text():
    r = Release.from_annotations({VERSION: "1.2.3", REVISION: "a" * 40, CREATED: T1})
    assert r == Release("1.2.3", "a" * 40, T1)
    assert str(r) == f"1.2.3 (created {T1}, revision {'a' * 12})"
    assert str(Release()) == "an unversioned image"
    assert has_release({CREATED: T1}) and has_release({VERSION: "x"})
    assert not has_release({REVISION: "abc"})


VERSIONS = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 20),
    st.integers(0, 20),
    st.integers(0, 20),
    st.sampled_from(["", "rc.1", "rc.2", "rc.10", "alpha", "beta.1", "1"]),
)


@given(VERSIONS, VERSIONS)
def test_exactly_one_direction_is_refused_between_different_versions(a, b):
    # Antisymmetric: of two different versions (same time), one may replace the other, not both.
    ab = decide("t", rel(a, T1), rel(b, T1)).allowed
    ba = decide("t", rel(b, T1), rel(a, T1)).allowed
    if parse_semver(a).version == parse_semver(b).version:
        assert ab and ba
    else:
        assert ab != ba


def test_a_tag_on_something_that_is_not_a_manifest_has_no_release():
    from dockyard.publish.ordercheck import release_at

    # Another tool's document under the tag: nothing to order by, so nothing refused.
    assert release_at(None, b'{"schemaVersion": 1, "name": "x"}', "application/json") == Release()
    assert release_at(None, b"not json", None) == Release()
