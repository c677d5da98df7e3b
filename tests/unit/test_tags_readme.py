"""metadata-action's README, example by example (the section is in each case id).

Each case is one documented example: the event/ref, the `tags:` block, and
the tags the README says come out; dockyard gives exactly those, pre-release
`latest` included (latest-only-stable is dockyard's opt-in, not the default).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dockyard.context import GitContext
from dockyard.tags import compute_tags

SHA = "860c1904a1ce19322e91ac35af1ab07466440c37"
NOW = datetime(2020, 1, 10, 0, 30, tzinfo=UTC)
IMG = "name/app"


def run(
    ref,
    rules=(),
    *,
    event="push",
    images=(IMG,),
    flavor=(),
    sha=SHA,
    payload=None,
    default_branch="master",
    now=NOW,
    labels=(),
    timestamp="",
):
    ctx = GitContext(
        event=event,
        ref=ref,
        sha=sha,
        default_branch=default_branch,
        payload=payload or {},
        timestamp=timestamp,
    )
    return compute_tags(ctx, images=images, rules=rules, flavor=flavor, now=now, labels=labels)


def tags_of(*names):
    return [f"{IMG}:{n}" for n in names]


SEMVER_BLOCK = [
    "type=ref,event=branch",
    "type=ref,event=pr",
    "type=semver,pattern={{version}}",
    "type=semver,pattern={{major}}.{{minor}}",
]

# (id naming the README section, event, ref, rules, expected tag names)
CASES = [
    # "Usage > Basic": no tags input, the default rules.
    ("basic-pull_request", "pull_request", "refs/pull/2/merge", [], ["pr-2"]),
    ("basic-push-master", "push", "refs/heads/master", [], ["master"]),
    ("basic-push-releases/v1", "push", "refs/heads/releases/v1", [], ["releases-v1"]),
    ("basic-push-tag-v1.2.3", "push", "refs/tags/v1.2.3", [], ["v1.2.3", "latest"]),
    # README: `v2.0.8-beta.67`, `latest` (type=ref,event=tag votes latest on any tag).
    (
        "basic-push-tag-prerelease",
        "push",
        "refs/tags/v2.0.8-beta.67",
        [],
        ["v2.0.8-beta.67", "latest"],
    ),
    ("basic-workflow_dispatch", "workflow_dispatch", "refs/heads/master", [], ["master"]),
    # "Usage > Semver"
    ("semver-usage-pull_request", "pull_request", "refs/pull/2/merge", SEMVER_BLOCK, ["pr-2"]),
    ("semver-usage-push-master", "push", "refs/heads/master", SEMVER_BLOCK, ["master"]),
    (
        "semver-usage-push-releases/v1",
        "push",
        "refs/heads/releases/v1",
        SEMVER_BLOCK,
        ["releases-v1"],
    ),
    (
        "semver-usage-tag-v1.2.3",
        "push",
        "refs/tags/v1.2.3",
        SEMVER_BLOCK,
        ["1.2.3", "1.2", "latest"],
    ),
    (
        "semver-usage-tag-prerelease",
        "push",
        "refs/tags/v2.0.8-beta.67",
        SEMVER_BLOCK,
        ["2.0.8-beta.67"],
    ),
    # "type=semver" table
    (
        "type=semver-raw",
        "push",
        "refs/tags/v1.2.3",
        ["type=semver,pattern={{raw}}"],
        ["v1.2.3", "latest"],
    ),
    (
        "type=semver-version",
        "push",
        "refs/tags/v1.2.3",
        ["type=semver,pattern={{version}}"],
        ["1.2.3", "latest"],
    ),
    (
        "type=semver-major.minor",
        "push",
        "refs/tags/v1.2.3",
        ["type=semver,pattern={{major}}.{{minor}}"],
        ["1.2", "latest"],
    ),
    (
        "type=semver-v-major",
        "push",
        "refs/tags/v1.2.3",
        ["type=semver,pattern=v{{major}}"],
        ["v1", "latest"],
    ),
    (
        "type=semver-minor",
        "push",
        "refs/tags/v1.2.3",
        ["type=semver,pattern={{minor}}"],
        ["2", "latest"],
    ),
    (
        "type=semver-patch",
        "push",
        "refs/tags/v1.2.3",
        ["type=semver,pattern={{patch}}"],
        ["3", "latest"],
    ),
    (
        "type=semver-match",
        "push",
        "refs/tags/p1/v1.2.3",
        [r"type=semver,pattern={{version}},match=v(\d.\d.\d)$"],
        ["1.2.3", "latest"],
    ),
    (
        "type=semver-prerelease-raw",
        "push",
        "refs/tags/v2.0.8-beta.67",
        ["type=semver,pattern={{raw}}"],
        ["v2.0.8-beta.67"],
    ),
    (
        "type=semver-prerelease-version",
        "push",
        "refs/tags/v2.0.8-beta.67",
        ["type=semver,pattern={{version}}"],
        ["2.0.8-beta.67"],
    ),
    (
        "type=semver-prerelease-major",
        "push",
        "refs/tags/v2.0.8-beta.67",
        ["type=semver,pattern={{major}}"],
        ["2.0.8-beta.67"],
    ),
    (
        "type=semver-prerelease-major.minor",
        "push",
        "refs/tags/v2.0.8-beta.67",
        ["type=semver,pattern={{major}}.{{minor}}"],
        ["2.0.8-beta.67"],
    ),
    (
        "type=semver-custom-value-on-branch",
        "push",
        "refs/heads/master",
        ["type=semver,pattern={{version}},value=v1.0.0"],
        ["1.0.0", "latest"],
    ),
    (
        "type=semver-custom-value-and-match",
        "push",
        "refs/heads/master",
        [r"type=semver,pattern={{version}},value=p1/v1.0.0,match=v(\d.\d.\d)$"],
        ["1.0.0", "latest"],
    ),
    # "type=pep440" table
    (
        "type=pep440-raw",
        "push",
        "refs/tags/1.2.3",
        ["type=pep440,pattern={{raw}}"],
        ["1.2.3", "latest"],
    ),
    (
        "type=pep440-version",
        "push",
        "refs/tags/1.2.3",
        ["type=pep440,pattern={{version}}"],
        ["1.2.3", "latest"],
    ),
    (
        "type=pep440-version-v",
        "push",
        "refs/tags/v1.2.3",
        ["type=pep440,pattern={{version}}"],
        ["1.2.3", "latest"],
    ),
    (
        "type=pep440-major.minor",
        "push",
        "refs/tags/1.2.3",
        ["type=pep440,pattern={{major}}.{{minor}}"],
        ["1.2", "latest"],
    ),
    (
        "type=pep440-v-major",
        "push",
        "refs/tags/1.2.3",
        ["type=pep440,pattern=v{{major}}"],
        ["v1", "latest"],
    ),
    (
        "type=pep440-rc-raw",
        "push",
        "refs/tags/v1.2.3rc2",
        ["type=pep440,pattern={{raw}}"],
        ["v1.2.3rc2"],
    ),
    (
        "type=pep440-rc-version",
        "push",
        "refs/tags/1.2.3rc2",
        ["type=pep440,pattern={{version}}"],
        ["1.2.3rc2"],
    ),
    (
        "type=pep440-match",
        "push",
        "refs/tags/p1/v1.2.3",
        [r"type=pep440,pattern={{version}},match=v(\d.\d.\d)$"],
        ["1.2.3", "latest"],
    ),
    (
        "type=pep440-rc-major.minor",
        "push",
        "refs/tags/1.2.3rc2",
        ["type=pep440,pattern={{major}}.{{minor}}"],
        ["1.2.3rc2"],
    ),
    (
        "type=pep440-post-major.minor",
        "push",
        "refs/tags/1.2.3post1",
        ["type=pep440,pattern={{major}}.{{minor}}"],
        ["1.2.3.post1"],
    ),
    (
        "type=pep440-beta-major.minor",
        "push",
        "refs/tags/1.2.3beta2",
        ["type=pep440,pattern={{major}}.{{minor}}"],
        ["1.2.3b2"],
    ),
    (
        "type=pep440-dev-major.minor",
        "push",
        "refs/tags/1.0dev4",
        ["type=pep440,pattern={{major}}.{{minor}}"],
        ["1.0.dev4"],
    ),
    (
        "type=pep440-custom-value",
        "push",
        "refs/heads/master",
        ["type=pep440,pattern={{version}},value=1.0.0"],
        ["1.0.0", "latest"],
    ),
    # "type=match" table
    (
        "type=match-group0",
        "push",
        "refs/tags/v1.2.3",
        [r"type=match,pattern=\d.\d.\d"],
        ["1.2.3", "latest"],
    ),
    # README: 2.0.8-beta.67 and latest, as match always votes latest.
    (
        "type=match-group1-prerelease",
        "push",
        "refs/tags/v2.0.8-beta.67",
        ["type=match,pattern=v(.*),group=1"],
        ["2.0.8-beta.67", "latest"],
    ),
    (
        "type=match-partial-prerelease",
        "push",
        "refs/tags/v2.0.8-beta.67",
        [r"type=match,pattern=v(\d.\d),group=1"],
        ["2.0", "latest"],
    ),
    (
        "type=match-digits",
        "push",
        "refs/tags/20200110-RC2",
        [r"type=match,pattern=\d+"],
        ["20200110", "latest"],
    ),
    (
        "type=match-path",
        "push",
        "refs/tags/p1/v1.2.3",
        [r"type=match,pattern=p1/v(\d.\d.\d),group=1"],
        ["1.2.3", "latest"],
    ),
    (
        "type=match-custom-value",
        "push",
        "refs/heads/master",
        ["type=match,pattern=v(.*),group=1,value=v1.0.0"],
        ["1.0.0", "latest"],
    ),
    # "type=ref" table
    ("type=ref-pull_request", "pull_request", "refs/pull/2/merge", ["type=ref,event=pr"], ["pr-2"]),
    ("type=ref-push-master", "push", "refs/heads/master", ["type=ref,event=branch"], ["master"]),
    (
        "type=ref-push-my/branch",
        "push",
        "refs/heads/my/branch",
        ["type=ref,event=branch"],
        ["my-branch"],
    ),
    ("type=ref-push-tag", "push", "refs/tags/v1.2.3", ["type=ref,event=tag"], ["v1.2.3", "latest"]),
    # README: v2.0.8-beta.67 plus latest under auto.
    (
        "type=ref-push-tag-prerelease",
        "push",
        "refs/tags/v2.0.8-beta.67",
        ["type=ref,event=tag"],
        ["v2.0.8-beta.67", "latest"],
    ),
    (
        "type=ref-workflow_dispatch",
        "workflow_dispatch",
        "refs/heads/master",
        ["type=ref,event=branch"],
        ["master"],
    ),
    # "type=raw": three spellings of the same two tags
    (
        "type=raw-value=",
        "push",
        "refs/heads/dev",
        ["type=raw,value=foo", "type=raw,value=bar"],
        ["foo", "bar"],
    ),
    (
        "type=raw-positional",
        "push",
        "refs/heads/dev",
        ["type=raw,foo", "type=raw,bar"],
        ["foo", "bar"],
    ),
    ("type=raw-bare", "push", "refs/heads/dev", ["foo", "bar"], ["foo", "bar"]),
    # "type=sha"
    ("type=sha-short", "push", "refs/heads/dev", ["type=sha"], ["sha-860c190"]),
    ("type=sha-long", "push", "refs/heads/dev", ["type=sha,format=long"], [f"sha-{SHA}"]),
    # "type=edge"
    ("type=edge-default-branch", "push", "refs/heads/master", ["type=edge"], ["edge"]),
    ("type=edge-branch=main", "push", "refs/heads/main", ["type=edge,branch=main"], ["edge"]),
    ("type=edge-other-branch", "push", "refs/heads/dev", ["type=edge"], []),
    # "Latest tag": latest for the default branch only
    (
        "latest-tag-is_default_branch",
        "push",
        "refs/heads/master",
        ["type=raw,value=latest,enable={{is_default_branch}}"],
        ["latest"],
    ),
    (
        "latest-tag-is_default_branch-other",
        "push",
        "refs/heads/dev",
        ["type=raw,value=latest,enable={{is_default_branch}}"],
        [],
    ),
    (
        "latest-tag-github-expression",
        "push",
        "refs/heads/master",
        ["type=raw,value=latest,enable=true"],
        ["latest"],
    ),
    # "priority attribute": the highest priority is first (and the version)
    (
        "priority-sha-first",
        "push",
        "refs/heads/dev",
        ["type=ref,event=branch", "type=sha,priority=1100"],
        ["sha-860c190", "dev"],
    ),
    # "Global expressions"
    (
        "global-expressions-prefix-branch",
        "push",
        "refs/heads/master",
        ["type=sha,prefix={{branch}}-"],
        ["master-860c190"],
    ),
    (
        "global-expressions-raw-branch-sha",
        "push",
        "refs/heads/master",
        ["type=raw,value=mytag-{{branch}}-{{sha}}"],
        ["mytag-master-860c190"],
    ),
    (
        "global-expressions-branch-pull_request",
        "pull_request",
        "refs/pull/2/merge",
        ["type=raw,value=b-{{branch}}"],
        ["b-"],
    ),
    (
        "global-expressions-branch-my/branch",
        "push",
        "refs/heads/my/branch",
        ["type=raw,value={{branch}}"],
        ["my-branch"],
    ),
    (
        "global-expressions-branch-tag",
        "push",
        "refs/tags/v1.2.3",
        ["type=raw,value=b-{{branch}}"],
        ["b-"],
    ),
    ("global-expressions-tag", "push", "refs/tags/v1.2.3", ["type=raw,value={{tag}}"], ["v1.2.3"]),
    (
        "global-expressions-tag-on-branch",
        "push",
        "refs/heads/master",
        ["type=raw,value=t-{{tag}}"],
        ["t-"],
    ),
    (
        "global-expressions-base_ref-branch",
        "push",
        "refs/heads/master",
        ["type=raw,value=base-{{base_ref}}"],
        ["base-"],
    ),
    (
        "global-expressions-is_not_default_branch",
        "push",
        "refs/heads/dev",
        ["type=raw,value=feature,enable={{is_not_default_branch}}"],
        ["feature"],
    ),
    (
        "global-expressions-date",
        "push",
        "refs/heads/dev",
        ["type=raw,value=nightly-{{date 'YYYYMMDD'}}"],
        ["nightly-20200110"],
    ),
    (
        "global-expressions-date-tz",
        "push",
        "refs/heads/dev",
        ["type=raw,value={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}"],
        ["20200110-093000"],
    ),
    # "Major version zero": the {{major}} rule disabled by a GitHub expression (false here)
    (
        "major-version-zero",
        "push",
        "refs/tags/v0.1.2",
        [
            "type=semver,pattern={{version}}",
            "type=semver,pattern={{major}}.{{minor}}",
            "type=semver,pattern={{major}},enable=false",
        ],
        ["0.1.2", "0.1", "latest"],
    ),
    # "type=schedule" table
    ("type=schedule-nightly", "schedule", "refs/heads/master", ["type=schedule"], ["nightly"]),
    (
        "type=schedule-date",
        "schedule",
        "refs/heads/master",
        ["type=schedule,pattern={{date 'YYYYMMDD'}}"],
        ["20200110"],
    ),
    (
        "type=schedule-date-tz",
        "schedule",
        "refs/heads/master",
        ["type=schedule,pattern={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}"],
        ["20200110-093000"],
    ),
    ("type=schedule-not-on-push", "push", "refs/heads/master", ["type=schedule"], []),
]


@pytest.mark.parametrize(
    ("event", "ref", "rules", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_readme_example(event, ref, rules, expected):
    result = run(ref, rules, event=event)
    assert list(result.tags) == tags_of(*expected)
    # "priority attribute": the first tag is the version output.
    assert result.version == (expected[0] if expected else "")


def test_bake_definition_example_tags_and_labels():
    # "Usage > Bake definition": tags and labels of the generated bake file for refs/tags/v1.2.3.
    payload = {
        "repository": {
            "name": "Hello-World",
            "description": "This your first repo!",
            "html_url": "https://github.com/octocat/Hello-World",
            "license": {"spdx_id": "MIT"},
        }
    }
    result = run(
        "refs/tags/v1.2.3",
        [*SEMVER_BLOCK, "type=sha"],
        sha="90dd6032fac8bda1b6c4436a2e65de27961ed071",
        payload=payload,
    )
    assert list(result.tags) == tags_of("1.2.3", "1.2", "sha-90dd603", "latest")
    assert dict(result.labels) == {
        "org.opencontainers.image.created": "2020-01-10T00:30:00.000Z",
        "org.opencontainers.image.description": "This your first repo!",
        "org.opencontainers.image.licenses": "MIT",
        "org.opencontainers.image.revision": "90dd6032fac8bda1b6c4436a2e65de27961ed071",
        "org.opencontainers.image.source": "https://github.com/octocat/Hello-World",
        "org.opencontainers.image.title": "Hello-World",
        "org.opencontainers.image.url": "https://github.com/octocat/Hello-World",
        "org.opencontainers.image.version": "1.2.3",
    }
    # "Annotations": the same keys and values as the labels.
    assert dict(result.annotations) == dict(result.labels)


def test_overwrite_labels_and_annotations_example():
    # "Overwrite labels and annotations": user labels win over the generated ones.
    result = run(
        "refs/heads/master",
        labels=[
            "# a comment line, as in a workflow's labels: | block",
            "maintainer=CrazyMax",
            "org.opencontainers.image.title=MyCustomTitle",
            "org.opencontainers.image.description=Another description",
            "org.opencontainers.image.vendor=MyCompany",
        ],
        payload={"repository": {"name": "Hello-World", "description": "first"}},
    )
    assert result.labels["maintainer"] == "CrazyMax"
    assert result.labels["org.opencontainers.image.title"] == "MyCustomTitle"
    assert result.labels["org.opencontainers.image.description"] == "Another description"
    assert result.labels["org.opencontainers.image.vendor"] == "MyCompany"
    assert result.labels["org.opencontainers.image.version"] == "master"
    assert list(result.labels) == sorted(result.labels, key=str.lower)
    assert result.annotations == result.labels


def test_global_expressions_in_labels_commit_date():
    # "Global expressions": they apply to labels too, e.g. the commit date.
    result = run(
        "refs/heads/master",
        timestamp="2020-01-10T00:30:00Z",
        now=datetime(2024, 5, 6, tzinfo=UTC),
        labels=["org.opencontainers.image.created={{commit_date 'YYYY-MM-DDTHH:mm:ss.SSS[Z]'}}"],
    )
    assert result.labels["org.opencontainers.image.created"] == "2020-01-10T00:30:00.000Z"


@pytest.mark.parametrize(
    ("expression", "output"),
    [
        # "{{date '<format>' tz='<timezone>'}}" table, at 2020-01-10 15:25:50 UTC
        ("{{date 'YYYYMMDD'}}", "20200110"),
        ("{{date 'dddd, MMMM Do YYYY, h:mm:ss a'}}", "Friday, January 10th 2020, 3:25:50 pm"),
        ("{{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}", "20200111-002550"),
        # "{{commit_date '<format>' tz='<timezone>'}}" table: the commit time, not now
        ("{{commit_date 'YYYYMMDD'}}", "20200110"),
        (
            "{{commit_date 'dddd, MMMM Do YYYY, h:mm:ss a'}}",
            "Friday, January 10th 2020, 12:30:00 am",
        ),
        ("{{commit_date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}", "20200110-093000"),
    ],
)
def test_date_expression_tables(expression, output):
    result = run(
        "refs/heads/master",
        now=datetime(2020, 1, 10, 15, 25, 50, tzinfo=UTC),
        timestamp="2020-01-10T00:30:00Z",
        labels=[f"x={expression}"],
    )
    assert result.labels["x"] == output


@pytest.mark.parametrize(
    ("event", "ref", "payload", "expected"),
    [
        # "{{base_ref}}" table
        (
            "pull_request",
            "refs/pull/2/merge",
            {"pull_request": {"base": {"ref": "master"}}},
            "master",
        ),
        ("push", "refs/heads/master", {"base_ref": "refs/heads/master"}, ""),
        ("push", "refs/heads/my/branch", {}, ""),
        ("push", "refs/tags/v1.2.3", {"base_ref": "refs/heads/master"}, "master"),
    ],
    ids=["pull_request", "push-master", "push-my/branch", "push-tag"],
)
def test_base_ref_table(event, ref, payload, expected):
    result = run(ref, event=event, payload=payload, labels=["base={{base_ref}}"])
    assert result.labels["base"] == expected


@pytest.mark.parametrize(
    ("flavor", "expected"),
    [
        # "flavor input": the defaults change nothing
        (["latest=auto", "prefix=", "suffix="], ["1.2.3", "latest"]),
        (["latest=false"], ["1.2.3"]),
        (["prefix=app-"], ["app-1.2.3", "latest"]),
        (["prefix=app-,onlatest=true"], ["app-1.2.3", "app-latest"]),
        (["suffix=-alpine"], ["1.2.3-alpine", "latest"]),
        (["suffix=-alpine,onlatest=true"], ["1.2.3-alpine", "latest-alpine"]),
    ],
    ids=["defaults", "latest=false", "prefix", "prefix-onlatest", "suffix", "suffix-onlatest"],
)
def test_flavor_input(flavor, expected):
    result = run("refs/tags/v1.2.3", ["type=semver,pattern={{version}}"], flavor=flavor)
    assert list(result.tags) == tags_of(*expected)


def test_flavor_latest_true_on_a_branch():
    # "Latest tag": latest=true always adds latest.
    result = run("refs/heads/dev", ["type=ref,event=branch"], flavor=["latest=true"])
    assert list(result.tags) == tags_of("dev", "latest")


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        # "images input"
        (["name/foo", "ghcr.io/name/bar"], ["name/foo:dev", "ghcr.io/name/bar:dev"]),
        (["name=name/foo", "name=ghcr.io/name/bar"], ["name/foo:dev", "ghcr.io/name/bar:dev"]),
        (["name/foo,ghcr.io/name/bar"], ["name/foo:dev", "ghcr.io/name/bar:dev"]),
        (["name=name/foo,enable=true", "name=ghcr.io/name/bar,enable=false"], ["name/foo:dev"]),
        ([], ["dev"]),  # "If images is empty, tags will be generated without base name."
        # "Image name and tag sanitization": image names are lower-cased, tags are not.
        (["ghcr.io/Name/App"], ["ghcr.io/name/app:dev"]),
    ],
    ids=["list", "name=", "one-line-csv", "enable=false", "empty", "lowercased"],
)
def test_images_input(images, expected):
    result = run("refs/heads/dev", ["type=ref,event=branch"], images=images)
    assert list(result.tags) == expected


def test_tag_sanitization():
    # "Image name and tag sanitization": invalid character runs become '-', case is kept.
    result = run("refs/heads/Feature/Foo#12", ["type=ref,event=branch"])
    assert list(result.tags) == tags_of("Feature-Foo-12")


def test_json_output_object_shape():
    # "JSON output object": tags and labels (dockyard adds version and annotations).
    doc = run("refs/tags/v1.2.3").as_dict()
    assert list(doc) == ["version", "tags", "labels", "annotations"]
    assert doc["tags"] == tags_of("v1.2.3", "latest")
