"""The retention decision (pure): which tags and manifests go, and why the others stay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.digest import sha256_digest
from dockyard.errors import InputError
from dockyard.publish.retain import (
    NEWEST,
    NOT_MATCHED,
    PROTECTED,
    REFERRERS,
    SHARED,
    TagInfo,
    parse_created,
    plan_retention,
)


def d(name: str):
    return sha256_digest(name.encode())


def day(n: int) -> str:
    return f"2026-01-{n:02d}T00:00:00Z"


TAGS = [
    TagInfo("v1", d("i1"), day(1)),
    TagInfo("v2", d("i2"), day(2)),
    TagInfo("v3", d("i3"), day(3)),
    TagInfo("latest", d("i3"), day(3)),
    TagInfo("v3-amd64", d("c3a"), day(3)),  # a tag on a child of i3
]
CHILDREN = {d("i1"): (d("c1a"), d("shared")), d("i2"): (d("c2a"), d("c2b")),
            d("i3"): (d("c3a"), d("shared"))}  # fmt: skip


def kept(plan):
    return [(t.tag, t.reason) for t in plan.kept]


def test_newest_kept_and_orphaned_children_deleted_after_their_index():
    plan = plan_retention(TAGS, keep=1, matched={"v1", "v2", "v3", "v3-amd64"}, children=CHILDREN)
    assert kept(plan) == [("v3-amd64", NEWEST), ("v3", SHARED), ("latest", NOT_MATCHED)]
    assert [t.tag for t in plan.deleted] == ["v2", "v1"]
    assert plan.manifests == (d("i2"), d("i1"), d("c2a"), d("c2b"), d("c1a"))


def test_a_tag_on_a_child_of_a_kept_index_is_kept():
    plan = plan_retention(TAGS, keep=1, matched={t.tag for t in TAGS} - {"v3-amd64"} | {"latest"},
                          children=CHILDREN)  # fmt: skip
    # "v3" and "latest" share i3 ("v3" newest by name order); "v3-amd64" is i3's child: kept.
    assert ("v3-amd64", NOT_MATCHED) in kept(plan)
    assert d("c3a") not in plan.manifests and d("shared") not in plan.manifests


def test_protected_tags_stay_whatever_their_age():
    plan = plan_retention(TAGS, keep=0, matched={"v1", "v2"}, protect={"v1"}, children=CHILDREN)
    assert ("v1", PROTECTED) in kept(plan)
    assert [t.tag for t in plan.deleted] == ["v2"]
    assert plan.manifests == (d("i2"), d("c2a"), d("c2b"))


def test_a_digest_shared_with_a_kept_tag_is_never_deleted():
    tags = [
        TagInfo("old", d("x"), day(1)),
        TagInfo("main", d("x"), day(1)),
        TagInfo("new", d("y"), day(5)),
    ]
    plan = plan_retention(tags, keep=1, matched={"old", "new"})
    assert kept(plan) == [("new", NEWEST), ("old", SHARED), ("main", NOT_MATCHED)]
    assert plan.deleted == () and plan.manifests == ()


def test_unknown_dates_are_oldest_then_names_break_ties():
    tags = [TagInfo("b", d("b")), TagInfo("a", d("a")), TagInfo("c", d("c"), day(1))]
    plan = plan_retention(tags, keep=2, matched={"a", "b", "c"})
    assert [t.tag for t in plan.kept] == ["c", "b"]
    assert [t.tag for t in plan.deleted] == ["a"]


def test_a_referrers_tag_stays_with_its_subject_and_goes_with_it():
    # sha256-<hex>: the distribution spec's fallback list of what is attached to
    # <hex> (verification records). Never a candidate itself, whatever its date.
    def listing(subject: str) -> TagInfo:
        return TagInfo(f"sha256-{d(subject).hex}", d(f"refs-{subject}"))

    children = {**CHILDREN, d("refs-i1"): (d("record1"),), d("refs-i3"): (d("record3"),),
                d("refs-c3a"): (d("sbom3a"),)}  # fmt: skip
    tags = [*TAGS, listing("i1"), listing("i3"), listing("c3a")]
    plan = plan_retention(tags, keep=1, matched={"v1", "v2", "v3"}, children=children)
    kept = {t.tag: t.reason for t in plan.kept}
    assert kept[f"sha256-{d('i3').hex}"] == REFERRERS  # i3 is kept (v3, latest)
    assert kept[f"sha256-{d('c3a').hex}"] == REFERRERS  # a child of a kept index
    assert [t.tag for t in plan.deleted] == ["v2", "v1", f"sha256-{d('i1').hex}"]
    # The list and the record attached to i1 go after i1 itself; nothing of i3's.
    assert plan.manifests[-2:] == (d("refs-i1"), d("record1"))
    assert d("refs-i3") not in plan.manifests and d("record3") not in plan.manifests


def test_a_cosign_signature_tag_stays_with_its_subject_and_goes_with_it():
    # sha256-<hex>.sig: its image's created is Go's zero time, the oldest of all, so
    # as a candidate it would be the first deleted while its image stays.
    def sig(subject: str) -> TagInfo:
        return TagInfo(f"sha256-{d(subject).hex}.sig", d(f"sig-{subject}"), "0001-01-01T00:00:00Z")

    signatures = [sig("i1"), sig("i3"), sig("c3a"), sig("c1a")]
    matched = {"v1", "v2", "v3", *(t.tag for t in signatures)}  # no --match: every tag
    plan = plan_retention([*TAGS, *signatures], keep=1, matched=matched, children=CHILDREN)
    kept = {t.tag: t.reason for t in plan.kept}
    assert kept[f"sha256-{d('i3').hex}.sig"] == REFERRERS
    assert kept[f"sha256-{d('c3a').hex}.sig"] == REFERRERS
    deleted = [t.tag for t in plan.deleted]
    assert f"sha256-{d('i1').hex}.sig" in deleted and f"sha256-{d('c1a').hex}.sig" in deleted
    assert d("sig-i1") in plan.manifests and d("sig-c1a") in plan.manifests
    assert d("sig-i3") not in plan.manifests and d("sig-c3a") not in plan.manifests


def test_a_tag_that_only_looks_like_a_referrers_tag_is_an_ordinary_tag():
    tags = [TagInfo("sha256-abc", d("x"), day(1)), TagInfo("sha256-abc.sig", d("z"), day(1)),
            TagInfo("v2", d("y"), day(2))]  # fmt: skip
    plan = plan_retention(tags, keep=1, matched={"sha256-abc", "sha256-abc.sig", "v2"})
    assert [t.tag for t in plan.deleted] == ["sha256-abc.sig", "sha256-abc"]


def test_negative_keep_is_refused():
    with pytest.raises(InputError) as err:
        plan_retention(TAGS, keep=-1, matched=set())
    assert str(err.value) == "--keep -1: expected 0 or more tags to keep"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05.123456789Z", datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
        ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("", datetime.min.replace(tzinfo=UTC)),
        ("yesterday", datetime.min.replace(tzinfo=UTC)),
    ],
)
def test_parse_created(text, expected):
    assert parse_created(text) == expected


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.integers(1, 28), st.sampled_from("pqrs")),
        unique_by=lambda x: x[0],
        max_size=8,
    ),
    st.integers(0, 5),
    st.sets(st.sampled_from("abcdefgh")),
)
def test_property_nothing_a_kept_tag_needs_is_deleted(rows, keep, protect):
    tags = [TagInfo(t, d(digest), day(n)) for t, n, digest in rows]
    children = {d("p"): (d("q"), d("c")), d("r"): (d("c"),)}
    plan = plan_retention(
        tags, keep=keep, matched={t.tag for t in tags}, protect=protect, children=children
    )
    assert {t.tag for t in plan.kept} | {t.tag for t in plan.deleted} == {t.tag for t in tags}
    needed = {t.digest for t in plan.kept}
    needed |= {c for k in list(needed) for c in children.get(k, ())}
    assert not needed & set(plan.manifests)
    assert {t.tag for t in plan.kept} >= {t.tag for t in tags if t.tag in protect}
    newest = sorted(tags, key=lambda t: (t.created, t.tag), reverse=True)[:keep]
    assert {t.tag for t in plan.kept} >= {t.tag for t in newest}


# cosign's digest tags (sha256-<hex>.sig/.att/.sbom): an image's created is Go's zero
# time, the oldest of all, so as candidates they would be the first deleted while
# their image stays, and, when left out by --match, kept after their image went.
ZERO_TIME = "0001-01-01T00:00:00Z"


def cosign(subject: str, suffix: str) -> TagInfo:
    return TagInfo(f"sha256-{d(subject).hex}.{suffix}", d(f"{suffix}-{subject}"), ZERO_TIME)


@pytest.mark.parametrize("cosign_matched", [True, False])
def test_cosign_tags_stay_with_their_subject_and_go_with_it(cosign_matched):
    signatures = [cosign(s, x) for s in ("i1", "i3", "c3a", "c1a") for x in ("sig", "att", "sbom")]
    tags = [*TAGS, *signatures]
    matched = {"v1", "v2", "v3", *(t.tag for t in signatures if cosign_matched)}
    plan = plan_retention(tags, keep=1, matched=matched, children=CHILDREN)
    reasons = {t.tag: t.reason for t in plan.kept}
    for suffix in ("sig", "att", "sbom"):
        # i3 is kept (v3, latest), c3a is its child; i1 goes, and c1a with it (an orphan).
        assert reasons[f"sha256-{d('i3').hex}.{suffix}"] == REFERRERS
        assert reasons[f"sha256-{d('c3a').hex}.{suffix}"] == REFERRERS
        deleted = {t.tag for t in plan.deleted}
        assert {f"sha256-{d('i1').hex}.{suffix}", f"sha256-{d('c1a').hex}.{suffix}"} <= deleted
        assert d(f"{suffix}-i1") in plan.manifests and d(f"{suffix}-c1a") in plan.manifests
        assert d(f"{suffix}-i3") not in plan.manifests and d(f"{suffix}-c3a") not in plan.manifests
    # The cosign images go after the images they sign: never a tag on a half-deleted image.
    assert plan.manifests.index(d("i1")) < plan.manifests.index(d("sig-i1"))


def test_what_is_attached_to_an_attached_manifest_goes_with_it():
    # i1 goes; its SBOM (listed under sha256-<i1>) goes with the list; the SBOM's own
    # referrers list and cosign signature go with the SBOM. i3's chain stays whole.
    def listing(subject: str) -> TagInfo:
        return TagInfo(f"sha256-{d(subject).hex}", d(f"refs-{subject}"))

    children = {**CHILDREN, d("refs-i1"): (d("sbom1"),), d("refs-sbom1"): (d("notation1"),),
                d("refs-i3"): (d("sbom3"),), d("refs-sbom3"): (d("notation3"),)}  # fmt: skip
    chain = [listing("sbom1"), cosign("sbom1", "sig"), listing("i1"),  # the deepest first
             listing("sbom3"), cosign("sbom3", "sig"), listing("i3")]  # fmt: skip
    plan = plan_retention([*TAGS, *chain], keep=1, matched={"v1", "v2", "v3"}, children=children)
    gone = [d("refs-i1"), d("sbom1"), d("refs-sbom1"), d("notation1"), d("sig-sbom1")]
    assert set(gone) <= set(plan.manifests)
    assert plan.manifests.index(d("sbom1")) < plan.manifests.index(d("refs-sbom1"))
    assert {t.tag for t in plan.kept} >= {t.tag for t in chain[3:]}
    assert not {d("refs-i3"), d("sbom3"), d("refs-sbom3"), d("notation3"), d("sig-sbom3")} & set(
        plan.manifests
    )


@pytest.mark.parametrize(
    "tag",
    ["sha256-abc.sig", f"sha256-{'a' * 64}.sig.old", f"sha256-{'a' * 64}.exe", f"sha256-{'a' * 64}.SIG"],
)
def test_a_tag_that_only_looks_like_a_cosign_tag_is_an_ordinary_tag(tag):
    tags = [TagInfo(tag, d("x"), day(1)), TagInfo("v2", d("y"), day(2))]
    plan = plan_retention(tags, keep=1, matched={tag, "v2"})
    assert [t.tag for t in plan.deleted] == [tag]
