"""The 78 metadata-action cases checked against the real action (tests/unit/data).

By default every case gives exactly the action's tags (in order) and version:
there is no list of expected differences. `latest_only_stable` (dockyard's
opt-in, `[tags] latest-only-stable`) changes exactly the cases whose git tag
is a pre-release, and in them only drops `latest`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version

from dockyard.context import GitContext
from dockyard.tags import compute_tags

DATA = Path(__file__).parent / "data" / "metadata-action.json"
CASES = json.loads(DATA.read_text())
NOW = datetime(2020, 1, 10, 0, 30, tzinfo=UTC)

# The cases the option changes, named so a change in the engine or the data shows here:
# v2.0.8-beta.67 is a semver pre-release, 20200110-RC2 a PEP 440 one (rc2).
CHANGED_BY_LATEST_ONLY_STABLE = {
    "match_prerelease_still_latest",
    "match_partial_version_on_prerelease",
    "match_two_groups",
    "match_strips_prerelease_latest",
    "no_images_match_latest",
    "tag_default_tags_rc_like_name",
    "match_rc_name_latest",
    "match_digits_latest_auto",
}
# semver.org's pre-release grammar, written out here rather than taken from the engine.
_SEMVER_PRE = re.compile(r"v?\d+\.\d+\.\d+-[0-9A-Za-z.-]+(\+[0-9A-Za-z.-]+)?")


def _context(case: dict) -> GitContext:
    return GitContext(
        event=case["event"], ref=case["ref"], sha=case["sha"], default_branch=case["default_branch"]
    )


def _run(case: dict, **options) -> list[str]:
    result = compute_tags(
        _context(case),
        images=case["images"],
        rules=case["tags"],
        flavor=case["flavor"],
        now=NOW,
        **options,
    )
    return list(result.tags)


def _prerelease_tag(ref: str) -> bool:
    if not ref.startswith("refs/tags/"):
        return False
    name = ref.rsplit("/", 1)[-1]
    if _SEMVER_PRE.fullmatch(name):
        return True
    try:
        return Version(name).is_prerelease
    except InvalidVersion:
        return False


def test_there_are_78_cases():
    assert len(CASES) == 78


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_metadata_action_case(case):
    result = compute_tags(
        _context(case), images=case["images"], rules=case["tags"], flavor=case["flavor"], now=NOW
    )
    assert list(result.tags) == case["expected_tags"]
    assert result.version == (case["expected_version"] or "")
    assert result.labels["org.opencontainers.image.version"] == (case["expected_version"] or "")


def test_latest_only_stable_changes_exactly_the_prerelease_cases():
    changed = {
        case["name"]
        for case in CASES
        if _run(case, latest_only_stable=True) != case["expected_tags"]
    }
    assert changed == CHANGED_BY_LATEST_ONLY_STABLE
    # Each is a pre-release git tag that the action gives `latest`; no other case is one.
    prerelease_with_latest = {
        case["name"]
        for case in CASES
        if _prerelease_tag(case["ref"])
        and any(t.endswith(":latest") or t == "latest" for t in case["expected_tags"])
    }
    assert changed == prerelease_with_latest


@pytest.mark.parametrize("name", sorted(CHANGED_BY_LATEST_ONLY_STABLE))
def test_latest_only_stable_only_drops_latest(name):
    case = next(c for c in CASES if c["name"] == name)
    without = [t for t in case["expected_tags"] if t.rsplit(":", 1)[-1] != "latest"]
    assert _run(case, latest_only_stable=True) == without


@pytest.mark.parametrize("name", sorted(CHANGED_BY_LATEST_ONLY_STABLE))
def test_explicit_latest_true_still_gives_a_prerelease_latest(name):
    # The option narrows latest=auto only: latest=true is the workflow's explicit choice.
    case = next(c for c in CASES if c["name"] == name)
    result = compute_tags(
        _context(case),
        images=case["images"],
        rules=case["tags"],
        flavor=["latest=true"],
        latest_only_stable=True,
        now=NOW,
    )
    assert list(result.tags) == case["expected_tags"]
