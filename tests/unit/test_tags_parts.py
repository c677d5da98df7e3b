"""The tag engine's parts: rule grammar, Handlebars subset, moment dates, version grammars."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dockyard.context import GitContext
from dockyard.tags import compute_tags, parse_flavor, parse_rule, parse_rules, sanitize_tag
from dockyard.tags.dates import format_moment, zone
from dockyard.tags.rules import Flavor, entry_lines, js_number, sort_rules
from dockyard.tags.template import is_raw_statement, render
from dockyard.tags.versions import is_strict_v_semver, parse_pep440, parse_semver

# -- rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("type=ref,event=pr", "type=ref,enable=true,event=pr,prefix=pr-,priority=600"),
        ("type=sha", "type=sha,enable=true,format=short,prefix=sha-,priority=100"),
        ("type=schedule", "type=schedule,enable=true,pattern=nightly,priority=1000"),
        ("foo", "type=raw,enable=true,priority=200,value=foo"),
        ("type=raw,foo", "type=raw,enable=true,priority=200,value=foo"),
        (" TYPE = raw , Value = x ", "type=raw,enable=true,priority=200,value=x"),
        ("type=raw,value=a=b", "type=raw,enable=true,priority=200,value=a=b"),
        (
            'type=match,"pattern=\\d{1,3}"',
            'type=match,enable=true,group=0,"pattern=\\d{1,3}",priority=800,value=',
        ),
        ("type=edge", "type=edge,branch=,enable=true,priority=700"),
        (
            "type=semver,pattern={{version}}",
            "type=semver,enable=true,match=,pattern={{version}},priority=900,value=",
        ),
    ],
)
def test_rule_canonical_form_round_trips(entry, canonical):
    rule = parse_rule(entry)
    assert str(rule) == canonical
    assert parse_rule(str(rule)) == rule


def test_a_pasted_block_skips_blank_lines_and_comments():
    block = """
        # semver for releases
        type=semver,pattern={{version}}

        type=raw,foo   # not a comment: only whole lines are
    """
    rules = parse_rules([block])
    assert [r.type for r in rules] == ["semver", "raw"]
    assert rules[1].get("value") == "foo   # not a comment: only whole lines are"
    assert entry_lines(["a\n  \n#b\nc"]) == ["a", "c"]


def test_only_comments_means_the_default_rules():
    ctx = GitContext(event="push", ref="refs/heads/dev", sha="860c1904a1ce")
    assert compute_tags(ctx, images=["x/y"], rules=["# nothing"]).tags == ("x/y:dev",)


def test_equal_priorities_keep_input_order():
    rules = parse_rules(["type=raw,a", "type=sha", "type=raw,b,priority=100", "type=raw,c"])
    assert [r.get("value") or r.type for r in sort_rules(rules)] == ["a", "c", "sha", "b"]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("", 0.0),
        (" 12 ", 12.0),
        ("1e3", 1000.0),
        ("0x10", 16.0),
        ("-5", -5.0),
        (".5", 0.5),
        ("Infinity", float("inf")),
        ("abc", None),
        ("1_0", None),
        ("12px", None),
    ],
)
def test_js_number(text, number):
    assert js_number(text) == number


def test_flavor_parsing():
    assert parse_flavor([]) == Flavor()
    assert parse_flavor(["latest=false", "prefix=a-,onlatest=true", "suffix=-b"]) == Flavor(
        latest="false", prefix="a-", prefix_latest=True, suffix="-b"
    )
    # onlatest before any prefix/suffix in its entry is ignored, as metadata-action does.
    assert parse_flavor(["onlatest=true,suffix=-b"]) == Flavor(suffix="-b")


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("my/branch", "my-branch"),
        ("a  b##c", "a-b-c"),
        ("-leading", "-leading"),
        (".hidden", ".hidden"),
        ("x" * 200, "x" * 200),
        ("Ünïcode", "-n-code"),
        ("ok_1.2-3", "ok_1.2-3"),
        ("---", "---"),
    ],
)
def test_sanitize_tag_replaces_runs_of_invalid_characters_only(raw, tag):
    # metadata-action's sanitizeTag; whether the result is a valid tag is check_tag's question.
    assert sanitize_tag(raw) == tag


def test_a_repeated_image_and_a_rules_own_latest_are_listed_as_the_action_lists_them():
    ctx = GitContext(event="push", ref="refs/tags/v1.2.3", sha="860c1904a1ce")
    result = compute_tags(
        ctx, images=["x/y", "X/Y"], rules=["type=ref,event=tag", "type=raw,latest"]
    )
    once = ("x/y:v1.2.3", "x/y:latest", "x/y:latest")
    assert result.tags == once + once


@pytest.mark.parametrize(
    ("ref", "tags"),
    [
        ("refs/tags/api/v1.0.0-rc.1", ("api-v1.0.0-rc.1",)),
        ("refs/tags/api/1.0rc1", ("api-1.0rc1",)),
        ("refs/tags/api/1.0.dev4", ("api-1.0.dev4",)),
        ("refs/tags/api/v1.0.0", ("api-v1.0.0", "latest")),
        (
            "refs/tags/api/1.2.post1",
            ("api-1.2.post1", "latest"),
        ),  # a post-release fixes a stable one
        (
            "refs/tags/v1.0.0-rc.1/api",
            ("v1.0.0-rc.1-api", "latest"),
        ),  # only the last segment counts
    ],
)
def test_latest_only_stable_reads_the_last_path_segment_of_the_tag(ref, tags):
    ctx = GitContext(event="push", ref=ref, sha="860c1904a1ce")
    assert (
        compute_tags(ctx, images=[], rules=["type=ref,event=tag"], latest_only_stable=True).tags
        == tags
    )
    # Without the option, the action's answer: type=ref,event=tag gives every tag `latest`.
    assert compute_tags(ctx, images=[], rules=["type=ref,event=tag"]).tags[-1] == "latest"


# -- Handlebars ----------------------------------------------------------------


def _echo(params, hash_):
    return "|".join([*map(str, params), *(f"{k}={v}" for k, v in sorted(hash_.items()))])


@pytest.mark.parametrize(
    ("template", "output"),
    [
        ("plain", "plain"),
        ("{{x}}", "a&amp;b&lt;&#x27;&#x3D;&quot;&#x60;&gt;"),
        ("{{{x}}}", "a&b<'=\"`>"),
        ("{{&x}}", "a&b<'=\"`>"),
        ("{{ name }}-{{missing}}", "dock-"),
        ("{{nested.key}}", "v"),
        ("{{nested}}", "[object Object]"),
        (r"\{{name}}", "{{name}}"),
        (r"\\{{name}}", "\\dock"),
        (r"\{{name}} {{name}}", "{{name}} dock"),
        ("a{{! comment }}b", "ab"),
        ("a{{!-- }} --}}b", "ab"),
        ("a  {{~name~}}  b", "adockb"),
        ("{{echo 'x' \"y\" 3 true null k='v'}}", "x|y|3.0|True|None|k&#x3D;v"),
        ("{{n}}-{{t}}-{{f}}", "3-true-false"),
        ("{ name }} }}", "{ name }} }}"),
    ],
)
def test_handlebars_rendering(template, output):
    scope = {
        "x": "a&b<'=\"`>",
        "name": "dock",
        "nested": {"key": "v"},
        "echo": _echo,
        "n": 3,
        "t": True,
        "f": False,
    }
    assert render(template, scope) == output


@pytest.mark.parametrize(
    ("pattern", "raw"),
    [
        ("{{raw}}", True),
        ("{{ raw }}", True),
        ("{{{raw}}}", True),
        ("v{{raw}}", False),
        ("{{raw}}{{raw}}", False),
        ("{{version}}", False),
        ("{{raw", False),
        ("raw", False),
    ],
)
def test_is_raw_statement(pattern, raw):
    assert is_raw_statement(pattern) is raw


# -- moment dates --------------------------------------------------------------

MOMENT = datetime(2020, 1, 10, 15, 25, 50, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fmt", "output"),
    [
        ("YYYY-MM-DDTHH:mm:ss.SSS[Z]", "2020-01-10T15:25:50.123Z"),
        ("dddd, MMMM Do YYYY, h:mm:ss a", "Friday, January 10th 2020, 3:25:50 pm"),
        ("ddd MMM D YY dd", "Fri Jan 10 20 Fr"),
        ("Q Qo DDD DDDo DDDD d do E e", "1 1st 10 10th 010 5 5th 5 5"),
        ("W WW Wo GGGG GG w ww wo gggg", "2 02 2nd 2020 20 2 02 2nd 2020"),
        ("H HH h hh k kk A a m mm s ss", "15 15 3 03 15 15 PM pm 25 25 50 50"),
        ("S SS SSS SSSS SSSSSS", "1 12 123 1230 123000"),
        ("X x", "1578669950 1578669950123"),
        ("Z ZZ z", "+00:00 +0000 UTC"),
        ("[today is] dddd", "today is Friday"),
        ("\\Y YYYY \\YYYY", "Y 2020 YYYY"),  # a backslash escapes the whole token
        ("Hmm hmmss", "1525 32550"),
        (
            "LT|LTS|L|LL|LLL|LLLL",
            "3:25 PM|3:25:50 PM|01/10/2020|January 10, 2020|January 10, 2020 3:25 PM|"
            "Friday, January 10, 2020 3:25 PM",
        ),
        ("l|ll|lll|llll", "1/10/2020|Jan 10, 2020|Jan 10, 2020 3:25 PM|Fri, Jan 10, 2020 3:25 PM"),
        ("[L] \\L", "L L"),
        ("Y YYYYY YYYYYY N NNNN", "2020 02020 +002020 AD Anno Domini"),
        ("nightly-#", "nig3t1/10/20202020-#"),  # moment formats every token it knows, even here
    ],
)
def test_moment_format(fmt, output):
    assert format_moment(MOMENT, fmt) == output


@pytest.mark.parametrize(
    ("moment", "fmt", "output"),
    [
        # New Year's Day 2021 (a Friday) is in ISO week 53 of 2020, but in week 1 of 2021
        # for moment's English locale (weeks start on Sunday, Jan 1 is always in week 1).
        (datetime(2021, 1, 1, tzinfo=UTC), "W GGGG w gggg", "53 2020 1 2021"),
        (datetime(2019, 12, 30, tzinfo=UTC), "W GGGG w gggg", "1 2020 1 2020"),
        (datetime(2020, 1, 10, 0, 30, tzinfo=UTC), "h A k", "12 AM 24"),
        (datetime(2020, 1, 10, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo")), "Z ZZ z", "+09:00 +0900 JST"),
        (datetime(2020, 1, 10, 9, 30, tzinfo=ZoneInfo("America/St_Johns")), "Z", "-03:30"),
    ],
)
def test_moment_weeks_hours_and_zones(moment, fmt, output):
    assert format_moment(moment, fmt) == output


def test_zone_names_match_case_insensitively_like_moment_timezone():
    assert zone("asia/tokyo").key == "Asia/Tokyo"
    assert zone("UTC").key == "UTC"


# -- versions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("v1.2.3", "1.2.3"),
        ("1.2.3", "1.2.3"),
        (" v1.2.3 ", "1.2.3"),
        ("1.2.3-rc.1+b.5", "1.2.3-rc.1"),
        ("0.0.0", "0.0.0"),
        ("2.0.8-beta.67", "2.0.8-beta.67"),
        ("1.2.3-0a", "1.2.3-0a"),
        ("1.2", None),
        ("01.2.3", None),
        ("v1.2.3.4", None),
        ("=1.2.3", None),
        ("1.2.3-01", None),
        ("V1.2.3", None),
        ("1.2.3-", None),
        ("9007199254740992.0.0", None),
        ("1." + "1" * 300 + ".0", None),
    ],
)
def test_parse_semver_is_node_semver_valid(text, version):
    parsed = parse_semver(text)
    assert (parsed.version if parsed else None) == version


def test_semver_parts():
    v = parse_semver("v2.0.8-beta.67+exp.sha")
    assert (v.major, v.minor, v.patch, v.prerelease, v.build, v.raw) == (
        2,
        0,
        8,
        ("beta", "67"),
        ("exp", "sha"),
        "v2.0.8-beta.67+exp.sha",
    )
    assert str(v) == "2.0.8-beta.67+exp.sha"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("v1.2.3", True),
        ("v1.2.3-rc.1+b", True),
        ("1.2.3", False),
        (" v1.2.3", False),
        ("v1.2", False),
    ],
)
def test_strict_v_semver(text, ok):
    assert is_strict_v_semver(text) is ok


@pytest.mark.parametrize(
    ("text", "normal", "parts", "unstable"),
    [
        ("1.1beta2", "1.1b2", (1, 1, 0), True),
        ("1.0dev4", "1.0.dev4", (1, 0, 0), True),
        ("1.2post1", "1.2.post1", (1, 2, 0), True),
        ("v1.2.3", "1.2.3", (1, 2, 3), False),
        ("1.2", "1.2", (1, 2, 0), False),
        ("1!2.0", "1!2.0", (2, 0, 0), False),
        ("1.2.3+local.7", "1.2.3+local.7", (1, 2, 3), False),
    ],
)
def test_parse_pep440(text, normal, parts, unstable):
    v = parse_pep440(text)
    assert (v.normal, (v.major, v.minor, v.patch), v.unstable) == (normal, parts, unstable)


def test_parse_pep440_refuses_non_versions():
    assert parse_pep440("release1") is None
