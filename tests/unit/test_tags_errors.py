"""Every refusal of the tag engine, by its exact one-line message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dockyard.context import GitContext
from dockyard.errors import InputError
from dockyard.tags import compute_tags, parse_rules

SHA = "860c1904a1ce19322e91ac35af1ab07466440c37"
NOW = datetime(2020, 1, 10, 0, 30, tzinfo=UTC)


def run(ref="refs/tags/v1.2.3", *, event="push", **kwargs):
    kwargs.setdefault("images", ["name/app"])
    ctx = GitContext(
        event=event,
        ref=ref,
        sha=SHA,
        default_branch="master",
        timestamp=kwargs.pop("timestamp", ""),
    )
    return compute_tags(ctx, now=NOW, **kwargs)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "type=semver",
            "tag rule 'type=semver': missing pattern attribute "
            "(semver type requires a pattern, e.g. pattern={{version}})",
        ),
        (
            "type=pep440,value=1.0",
            "tag rule 'type=pep440,value=1.0': missing pattern attribute "
            "(pep440 type requires a pattern, e.g. pattern={{version}})",
        ),
        (
            "type=match,group=1",
            "tag rule 'type=match,group=1': missing pattern attribute "
            r"(match type requires a pattern, e.g. pattern=v(\d.\d.\d))",
        ),
        (
            "type=match,pattern=v(.*),group=one",
            "tag rule 'type=match,pattern=v(.*),group=one': invalid match group: one (expected a number, e.g. group=1)",
        ),
        (
            "type=calver",
            "tag rule 'type=calver': unknown tag type attribute: calver "
            "(expected one of schedule, semver, pep440, match, edge, ref, raw, sha)",
        ),
        (
            "type=ref",
            "tag rule 'type=ref': missing event attribute (expected event=branch, event=tag or event=pr)",
        ),
        (
            "type=ref,event=push",
            "tag rule 'type=ref,event=push': invalid event: push (expected branch, tag or pr)",
        ),
        ("type=raw", "tag rule 'type=raw': missing value attribute (e.g. type=raw,value=latest)"),
        (
            "type=sha,format=medium",
            "tag rule 'type=sha,format=medium': invalid format: medium (expected short or long)",
        ),
        (
            "type=raw,foo,priority=high",
            "tag rule 'type=raw,foo,priority=high': invalid priority: high (expected a number, e.g. priority=1000)",
        ),
        ('type=raw,"foo', "tag rule 'type=raw,\"foo': malformed CSV (unexpected end of data)"),
        ("type=raw, =foo", "tag rule 'type=raw, =foo': empty attribute name before '='"),
        ("type=sha, =x", "tag rule 'type=sha, =x': empty attribute name before '='"),
        (
            "type=match,pattern=v(",
            "tag rule 'type=match,pattern=v(': invalid regular expression 'v(': "
            "missing ), unterminated subpattern at position 1",
        ),
        (
            "type=match,pattern=/v(.*)/q",
            "tag rule 'type=match,pattern=/v(.*)/q': invalid regular expression flags 'q' (expected some of dgimsuvy)",
        ),
        (
            "type=semver,pattern={{version}},match=[",
            "tag rule 'type=semver,pattern={{version}},match=[': invalid regular expression '[': "
            "unterminated character set at position 0",
        ),
    ],
    ids=lambda v: v if v.startswith("type") else "",
)
def test_bad_rule_is_refused_naming_the_entry(entry, message):
    with pytest.raises(InputError) as exc:
        parse_rules([entry])
    assert str(exc.value) == message
    with pytest.raises(InputError) as exc:  # and compute_tags refuses it the same way
        run(rules=[entry])
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            ["type=raw,foo,enable=maybe"],
            "tag rule 'type=raw,foo,enable=maybe': invalid value for enable attribute: maybe (expected true or false)",
        ),
        (
            ["type=raw,value={{date 'YYYY' tz='Mars/Olympus'}}"],
            "tag rule \"type=raw,value={{date 'YYYY' tz='Mars/Olympus'}}\": "
            "unknown time zone 'Mars/Olympus' (expected an IANA name such as UTC or Asia/Tokyo)",
        ),
        (
            ["type=raw,value={{date 'YYYY' zone='UTC'}}"],
            "tag rule \"type=raw,value={{date 'YYYY' zone='UTC'}}\": Unknown zone attribute (expected tz='Zone')",
        ),
        (
            ["type=raw,value={{date}}"],
            "tag rule 'type=raw,value={{date}}': {{date}} needs a format string, e.g. {{date 'YYYYMMDD'}}",
        ),
        (
            ["type=raw,value={{shout 'x'}}"],
            'tag rule "type=raw,value={{shout \'x\'}}": Missing helper: "shout"',
        ),
        (
            ["type=raw,value={{#if branch}}x{{/if}}"],
            "tag rule 'type=raw,value={{#if branch}}x{{/if}}': "
            "unsupported Handlebars block in '{{#if branch}}x{{/if}}'",
        ),
        (
            ["type=raw,value=v{{branch"],
            "tag rule 'type=raw,value=v{{branch': unclosed Handlebars expression in 'v{{branch'",
        ),
        (
            ["type=semver,pattern={{> partial}}"],
            "tag rule 'type=semver,pattern={{> partial}}': unsupported Handlebars partial in '{{> partial}}'",
        ),
        (
            ["type=schedule,pattern={{date 'YYYY' tz=9}}"],
            "tag rule \"type=schedule,pattern={{date 'YYYY' tz=9}}\": {{date}} tz must be a string, e.g. tz='Asia/Tokyo'",
        ),
        (
            [
                "type=match,pattern=v(.*),value=x,group=1",
                "type=semver,pattern={{version}},match=v.*",
            ],
            "tag rule 'type=semver,pattern={{version}},match=v.*': match=v.* needs a capture group that "
            r"matches (e.g. match=v(\d.\d.\d)$)",
        ),
    ],
)
def test_bad_expression_is_refused_when_evaluated(rules, message):
    event = "schedule" if rules[0].startswith("type=schedule") else "push"
    with pytest.raises(InputError) as exc:
        run(rules=rules, event=event)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("flavor", "message"),
    [
        (
            ["latest=maybe"],
            "flavor entry 'latest=maybe': invalid latest flavor entry: maybe (expected auto, true or false)",
        ),
        (
            ["labelprefix=x"],
            "flavor entry 'labelprefix=x': unknown flavor entry: labelprefix (expected latest, prefix, suffix or onlatest)",
        ),
        (["prefix"], "flavor entry 'prefix': invalid flavor entry (expected key=value)"),
        (
            ["prefix=a-,onlatest=yes"],
            "flavor entry 'prefix=a-,onlatest=yes': invalid value for onlatest attribute: yes (expected true or false)",
        ),
        (
            ["prefix={{branch"],
            "flavor prefix '{{branch': unclosed Handlebars expression in '{{branch'",
        ),
        # metadata-action splits a flavor field at every '=' and keeps the second piece only.
        (
            ["prefix=a=b"],
            "flavor entry 'prefix=a=b': prefix value 'a=b' holds a second '=' "
            "(metadata-action would keep only 'a'; a tag cannot hold '=')",
        ),
        (
            ["suffix=-{{date 'YYYY' tz='UTC'}}"],
            "flavor entry \"suffix=-{{date 'YYYY' tz='UTC'}}\": suffix value \"-{{date 'YYYY' tz='UTC'}}\" holds a "
            "second '=' (metadata-action would keep only \"-{{date 'YYYY' tz\"; a tag cannot hold '=')",
        ),
        # The action does not expand the flavor on latest: its words would become the tag.
        (
            ["prefix={{sha}}-,onlatest=true"],
            "flavor prefix '{{sha}}-' with onlatest=true: metadata-action puts it on latest unexpanded "
            "('-sha--latest'); drop onlatest=true or the expression",
        ),
        (
            ["suffix=-{{branch}},onlatest=true"],
            "flavor suffix '-{{branch}}' with onlatest=true: metadata-action puts it on latest unexpanded "
            "('latest--branch-'); drop onlatest=true or the expression",
        ),
    ],
)
def test_bad_flavor_is_refused(flavor, message):
    with pytest.raises(InputError) as exc:
        run(rules=["type=ref,event=tag"], flavor=flavor)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (
            ["name=a/b,tag=x"],
            "image 'name=a/b,tag=x': unknown image attribute: tag (expected name or enable)",
        ),
        (
            ["enable=true", "x/y"],
            "image 'enable=true': image name attribute empty (e.g. name=ghcr.io/owner/app)",
        ),
        (
            ["name=a/b,enable=yes"],
            "image 'name=a/b,enable=yes': invalid enable attribute value: yes (expected true or false)",
        ),
    ],
)
def test_bad_image_entry_is_refused(images, message):
    with pytest.raises(InputError) as exc:
        run(rules=["type=ref,event=tag"], images=images)
    assert str(exc.value) == message


def test_label_without_equals_is_refused():
    with pytest.raises(InputError) as exc:
        run(rules=["type=ref,event=tag"], labels=["maintainer"])
    assert str(exc.value) == (
        "label 'maintainer': expected KEY=VALUE (e.g. org.opencontainers.image.vendor=ACME)"
    )


def test_bad_timestamp_is_refused():
    with pytest.raises(InputError) as exc:
        run(rules=["type=ref,event=tag"], timestamp="yesterday")
    assert str(exc.value) == (
        "timestamp 'yesterday' is not an ISO-8601 date and time (e.g. 2020-01-10T00:30:00Z)"
    )


@pytest.mark.parametrize(
    "ref",
    [
        "refs/tags/release1",
        "refs/tags/1.2.3",
        "refs/tags/v1.2",
        "refs/tags/v01.2.3",
        "refs/tags/p1/v1.2.3",
        "refs/tags/v1.2.3-",
        "refs/tags/V1.2.3",
    ],
)
def test_require_semver_refuses_a_non_semver_tag(ref):
    with pytest.raises(InputError) as exc:
        run(ref, rules=["type=ref,event=tag"], require_semver=True)
    assert str(exc.value) == (
        f"ref {ref} is not a semver tag (expected vX.Y.Z[-pre][+build], e.g. v1.2.3)"
    )


@pytest.mark.parametrize(
    "ref",
    [
        "refs/tags/v1.2.3",
        "refs/tags/v0.0.1-rc.1",
        "refs/tags/v1.2.3+build.5",
        "refs/tags/v2.0.8-beta.67+exp.sha.5114f85",
        "refs/heads/main",
        "refs/pull/7/merge",
    ],
)
def test_require_semver_accepts_semver_tags_and_non_tag_refs(ref):
    assert run(ref, rules=["type=sha"], require_semver=True).tags == ("name/app:sha-860c190",)


def test_a_latest_tag_no_registry_accepts_is_refused():
    # The rule's own empty prefix keeps '.' off the version tag; only latest takes it.
    with pytest.raises(InputError) as exc:
        run(rules=["type=ref,event=tag,prefix="], flavor=["prefix=.,onlatest=true"])
    assert str(exc.value) == (
        "flavor (onlatest=true): gives tag '.latest' (7 characters), which no registry accepts "
        "(a tag starts with a letter, digit or _ and has at most 128 characters)"
    )


def test_an_expression_on_latest_is_refused_only_where_latest_is_given():
    # latest=false: the action never makes the latest tag, so the flavor is harmless there.
    flavor = ["latest=false", "prefix={{sha}}-,onlatest=true"]
    assert run(rules=["type=ref,event=tag"], flavor=flavor).tags == ("name/app:860c190-v1.2.3",)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            ["type=raw,value=-x"],
            "tag rule 'type=raw,value=-x': gives tag '-x' (2 characters), which no registry accepts "
            "(a tag starts with a letter, digit or _ and has at most 128 characters)",
        ),
        (
            ["type=raw,value=##"],
            "tag rule 'type=raw,value=##': gives tag '-' (1 characters), which no registry accepts "
            "(a tag starts with a letter, digit or _ and has at most 128 characters)",
        ),
        (
            ["type=ref,event=tag,prefix=."],
            "tag rule 'type=ref,event=tag,prefix=.': gives tag '.v1.2.3' (7 characters), which no registry accepts "
            "(a tag starts with a letter, digit or _ and has at most 128 characters)",
        ),
        (
            [f"type=raw,value={'x' * 129}"],
            f"tag rule 'type=raw,value={'x' * 129}': gives tag '{'x' * 37}...' (129 characters), which no registry "
            "accepts (a tag starts with a letter, digit or _ and has at most 128 characters)",
        ),
    ],
)
def test_a_tag_no_registry_accepts_is_refused(rules, message):
    # metadata-action outputs these (it only replaces invalid characters); the push then fails.
    with pytest.raises(InputError) as exc:
        run(rules=rules)
    assert str(exc.value) == message


def test_a_128_character_tag_is_accepted():
    assert run(rules=[f"type=raw,value={'x' * 128}"]).tags == (f"name/app:{'x' * 128}",)


def test_a_bad_regex_is_refused_on_a_branch_push_too():
    # metadata-action fails on it only where it evaluates the rule (a tag push, or value=);
    # dockyard refuses it on every run, so the branch build finds it before the release does.
    with pytest.raises(InputError) as exc:
        run("refs/heads/main", rules=["type=match,pattern=v(", "type=ref,event=branch"])
    assert str(exc.value) == (
        "tag rule 'type=match,pattern=v(': invalid regular expression 'v(': "
        "missing ), unterminated subpattern at position 1"
    )
