"""Property: no rule string, ref or flavor gives anything but a TagResult or an InputError."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.context import GitContext
from dockyard.errors import InputError
from dockyard.tags import Flavor, TagResult, compute_tags, parse_flavor, parse_rule, parse_rules
from dockyard.tags.rules import TYPES

# Random text without regex quantifiers: a generated `(a*)*b` would only test
# Python's backtracking, not the engine. Interesting patterns come from VALUES.
SAFE_TEXT = st.text(alphabet=st.characters(blacklist_characters="*+?{"), max_size=12)
KEYS = [
    "type",
    "pattern",
    "value",
    "match",
    "group",
    "event",
    "branch",
    "format",
    "enable",
    "priority",
    "prefix",
    "suffix",
    "TYPE",
    " Value ",
    "",
    "onlatest",
]
VALUES = [
    *TYPES,
    "bogus",
    "",
    "{{version}}",
    "{{raw}}",
    "{{major}}.{{minor}}",
    "{{ raw }}",
    "{{date 'YYYYMMDD' tz='Asia/Tokyo'}}",
    "{{commit_date 'x'}}",
    "{{date}}",
    "{{branch}}",
    "{{is_default_branch}}",
    "{{sha}}",
    "{{",
    "}}",
    "{{{tag}}}",
    "{{#if x}}",
    "\\{{x}}",
    "v(.*)",
    "(",
    r"\d.\d",
    "/v(.*)/gi",
    "/x/",
    "(?<n>v)",
    "1",
    "-1",
    "1e3",
    "x",
    "true",
    "false",
    "branch",
    "tag",
    "pr",
    "short",
    "long",
    "=",
    '"',
    "'",
    ",",
    "p1/v1.2.3",
]
FIELD = st.one_of(
    st.builds(
        lambda k, v: f"{k}={v}",
        st.sampled_from(KEYS),
        st.one_of(st.sampled_from(VALUES), SAFE_TEXT),
    ),
    st.sampled_from(VALUES),
    SAFE_TEXT,
)
RULE = st.one_of(st.lists(FIELD, max_size=5).map(",".join), SAFE_TEXT)
REF = st.one_of(
    st.builds(
        lambda p, s: p + s,
        st.sampled_from(["refs/tags/", "refs/heads/", "refs/pull/", ""]),
        st.one_of(
            st.sampled_from(
                [
                    "v1.2.3",
                    "v2.0.8-beta.67",
                    "1.2.3rc2",
                    "15/merge",
                    "master",
                    "p1/v1.0.0",
                    "my/feature#1",
                    "release1",
                ]
            ),
            SAFE_TEXT,
        ),
    ),
    SAFE_TEXT,
)
FLAVOR = st.lists(
    st.one_of(
        st.builds(
            lambda k, v: f"{k}={v}",
            st.sampled_from(["latest", "prefix", "suffix", "onlatest", "bogus"]),
            st.one_of(
                st.sampled_from(["auto", "true", "false", "a-", "{{branch}}-", "{{"]), SAFE_TEXT
            ),
        ),
        SAFE_TEXT,
    ),
    max_size=3,
)
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=st.lists(RULE, max_size=4),
    ref=REF,
    flavor=FLAVOR,
    event=st.sampled_from(["push", "pull_request", "schedule", "release", "create"]),
    require_semver=st.booleans(),
    latest_only_stable=st.booleans(),
)
def test_engine_gives_a_result_or_an_input_error(
    rules, ref, flavor, event, require_semver, latest_only_stable
):
    ctx = GitContext(
        event=event,
        ref=ref,
        sha="860c1904a1ce19322e91ac35af1ab07466440c37",
        default_branch="master",
    )
    try:
        result = compute_tags(
            ctx,
            images=["x/app"],
            rules=rules,
            flavor=flavor,
            require_semver=require_semver,
            latest_only_stable=latest_only_stable,
            now=datetime(2020, 1, 10, tzinfo=UTC),
        )
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert isinstance(result, TagResult)
    names = [t.removeprefix("x/app:") for t in result.tags]
    # As the action, a rule's own `latest` is listed again when latest is voted: the one repeat.
    assert len(set(names)) >= len(names) - 1
    assert all(TAG.fullmatch(name) for name in names), names
    assert (names[0] if names else "") == result.version
    assert result.labels["org.opencontainers.image.version"] == result.version


@settings(max_examples=400, deadline=None)
@given(rule=RULE)
def test_a_parsed_rule_round_trips_through_its_canonical_form(rule):
    try:
        parsed = parse_rules([rule])
    except InputError:
        return
    for r in parsed:
        assert parse_rule(str(r)) == r


def _one_line(text: str) -> bool:
    # No '=' in a value: metadata-action would cut it there, so the parser refuses it.
    return (
        text == text.strip()
        and len(text.splitlines()) <= 1
        and "\x00" not in text
        and "=" not in text
    )


AFFIX = st.text(max_size=10).filter(_one_line)


@settings(max_examples=300, deadline=None)
@given(
    flavor=st.builds(
        Flavor,
        latest=st.sampled_from(["auto", "true", "false"]),
        prefix=AFFIX,
        prefix_latest=st.booleans(),
        suffix=AFFIX,
        suffix_latest=st.booleans(),
    )
)
def test_a_flavor_round_trips_through_its_canonical_form(flavor):
    assert parse_flavor([str(flavor)]) == flavor
