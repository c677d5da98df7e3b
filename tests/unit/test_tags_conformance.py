"""The 78 metadata-action cases checked against the real action (tests/unit/data).

Each case must give exactly the action's tags (in order) and version, except
where dockyard deliberately differs: those cases assert dockyard's result and
DOCKYARD_DIFFERS says why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dockyard.context import GitContext
from dockyard.tags import compute_tags

DATA = Path(__file__).parent / "data" / "metadata-action.json"
CASES = json.loads(DATA.read_text())
NOW = datetime(2020, 1, 10, 0, 30, tzinfo=UTC)

# dockyard never gives `latest` to a pre-release unless `latest=true` is
# explicit: metadata-action's `type=match` votes latest=true under auto even
# when the git tag is v2.0.8-beta.67 (a semver pre-release), which would move
# `latest` to a beta. dockyard's result is the action's without `latest`.
_PRERELEASE = "pre-release tag v2.0.8-beta.67: dockyard gives no latest under latest=auto"
DOCKYARD_DIFFERS: dict[str, tuple[str, list[str]]] = {
    "match_prerelease_still_latest": (
        _PRERELEASE,
        ["org/app:2.0.8-beta.67", "ghcr.io/user/app:2.0.8-beta.67"],
    ),
    "match_partial_version_on_prerelease": (
        _PRERELEASE,
        ["org/app:2.0", "ghcr.io/user/app:2.0"],
    ),
    "match_two_groups": (
        _PRERELEASE,
        ["org/app:2.0.8", "org/app:67", "ghcr.io/user/app:2.0.8", "ghcr.io/user/app:67"],
    ),
    "match_strips_prerelease_latest": (
        _PRERELEASE,
        ["org/app:2.0.8", "ghcr.io/user/app:2.0.8"],
    ),
    "no_images_match_latest": (_PRERELEASE, ["2.0.8"]),
}


def _context(case: dict) -> GitContext:
    return GitContext(
        event=case["event"], ref=case["ref"], sha=case["sha"], default_branch=case["default_branch"]
    )


def test_there_are_78_cases_and_every_difference_names_one():
    assert len(CASES) == 78
    assert set(DOCKYARD_DIFFERS) <= {case["name"] for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_metadata_action_case(case):
    result = compute_tags(
        _context(case), images=case["images"], rules=case["tags"], flavor=case["flavor"], now=NOW
    )
    expected_tags = case["expected_tags"]
    if case["name"] in DOCKYARD_DIFFERS:
        _why, expected_tags = DOCKYARD_DIFFERS[case["name"]]
        # The action's answer is ours plus `latest`: nothing else differs.
        assert [t for t in case["expected_tags"] if not t.endswith("latest")] == expected_tags
    assert list(result.tags) == expected_tags
    assert result.version == (case["expected_version"] or "")
    assert result.labels["org.opencontainers.image.version"] == (case["expected_version"] or "")


@pytest.mark.parametrize("name", sorted(DOCKYARD_DIFFERS))
def test_explicit_latest_true_still_gives_a_prerelease_latest(name):
    # The difference is only under latest=auto: latest=true is the user's explicit choice.
    case = next(c for c in CASES if c["name"] == name)
    result = compute_tags(
        _context(case), images=case["images"], rules=case["tags"], flavor=["latest=true"], now=NOW
    )
    assert list(result.tags) == case["expected_tags"]
