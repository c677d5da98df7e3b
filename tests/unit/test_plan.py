"""The plan: config + git context -> jobs with their args, images and tags (pure, no I/O)."""

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dockyard.config.model import Config, Policy, Project, TagsConfig, Target
from dockyard.context import GitContext
from dockyard.errors import InputError
from dockyard.plan.model import DEV_VERSION, make_plan, platform_args
from dockyard.platform import parse_platform
from dockyard.ref import parse_repository

AMD64 = parse_platform("linux/amd64")
ARM64 = parse_platform("linux/arm64")
ARMV7 = parse_platform("linux/arm/v7")
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
SHA = "0123456789abcdef0123456789abcdef01234567"


def config(*, registries=("127.0.0.1:5000/fleet",), tags=TagsConfig(), groups=None) -> Config:
    root = Path("/repo")
    targets = {
        "api": Target(
            name="api",
            context=root / "services/api",
            dockerfile=root / "services/api/Dockerfile",
            image="fleet-api",
            args={"BASE_REGISTRY": "127.0.0.1:5000/base"},
            platforms=(AMD64, ARM64),
            policy=Policy(max_size=40_000_000, non_root=True),
            smoke=("/app/api", "-version"),
        ),
        "worker": Target(
            name="worker",
            context=root / "services/worker",
            dockerfile=root / "services/worker/Dockerfile",
            image="fleet-worker",
            platforms=(AMD64, ARM64, ARMV7),
        ),
    }
    return Config(
        path=root / "dockyard.toml",
        root=root,
        project=Project(name="fleet", platforms=(AMD64, ARM64), registries=registries),
        tags=tags,
        targets=targets,
        groups=groups or {},
    )


TAG_CONTEXT = GitContext(event="push", ref="refs/tags/v1.2.3", sha=SHA, default_branch="main")
NO_GIT = GitContext()


def test_every_target_and_platform_becomes_a_job_with_all_build_args():
    plan = make_plan(config(), TAG_CONTEXT, build_platform=AMD64, now=NOW)
    assert [t.name for t in plan.targets] == ["api", "worker"]
    api = plan.targets[0]
    assert [str(j.platform) for j in api.jobs] == ["linux/amd64", "linux/arm64"]
    arm = api.jobs[1]
    assert arm.key == "api-linux-arm64"
    assert arm.args == {
        "BASE_REGISTRY": "127.0.0.1:5000/base",
        "VERSION": "v1.2.3",  # metadata-action default rules keep the tag as written
        "BUILD_DATE": "2026-11-24T12:00:00Z",
        "VCS_REF": SHA,
        "BUILDPLATFORM": "linux/amd64",
        "BUILDOS": "linux",
        "BUILDARCH": "amd64",
        "BUILDVARIANT": "",
        "TARGETPLATFORM": "linux/arm64",
        "TARGETOS": "linux",
        "TARGETARCH": "arm64",
        "TARGETVARIANT": "",
    }


def test_variant_platform_args():
    assert platform_args(build=ARM64, target=ARMV7) == {
        "BUILDPLATFORM": "linux/arm64",
        "BUILDOS": "linux",
        "BUILDARCH": "arm64",
        "BUILDVARIANT": "",
        "TARGETPLATFORM": "linux/arm/v7",
        "TARGETOS": "linux",
        "TARGETARCH": "arm",
        "TARGETVARIANT": "v7",
    }


def test_images_one_per_registry_and_tags_from_the_tag_engine():
    cfg = config(registries=("127.0.0.1:5000/fleet", "ghcr.io/acme"))
    plan = make_plan(cfg, TAG_CONTEXT, build_platform=AMD64, now=NOW)
    api = plan.targets[0]
    assert api.repositories == (
        parse_repository("127.0.0.1:5000/fleet/fleet-api"), parse_repository("ghcr.io/acme/fleet-api"),
    )
    # metadata-action's default rules on a tag push: the tag, then latest, per image.
    assert api.tag_names == ("v1.2.3", "latest")
    assert tuple(str(r) for r in api.references) == (
        "127.0.0.1:5000/fleet/fleet-api:v1.2.3",
        "127.0.0.1:5000/fleet/fleet-api:latest",
        "ghcr.io/acme/fleet-api:v1.2.3",
        "ghcr.io/acme/fleet-api:latest",
    )
    assert plan.version == "v1.2.3"


@pytest.mark.parametrize(
    ("image", "repositories"),
    [
        ("fleet-api", ()),  # would mean Docker Hub: no registry
        ("acme/fleet-api", ()),
        ("docker.io/fleet-api", ()),  # Docker Hub spelled short: not as written, no registry
        ("ghcr.io/acme/fleet-api", ("ghcr.io/acme/fleet-api",)),  # names its registry in full
        ("docker.io/acme/fleet-api", ("docker.io/acme/fleet-api",)),
    ],
)
def test_without_registries_only_an_image_written_in_full_has_a_repository(image, repositories):
    cfg = config(registries=())
    cfg.targets["api"] = replace(cfg.targets["api"], image=image)
    api = make_plan(cfg, TAG_CONTEXT, build_platform=AMD64, now=NOW).targets[0]
    assert tuple(r.name for r in api.repositories) == repositories
    # Shown as written either way; the tags follow the image as the tag engine lists them.
    assert api.shown_images() == (image,)
    assert api.shown_tags() == (f"{image}:v1.2.3", f"{image}:latest")
    assert len(api.references) == 2 * len(repositories)


def test_semver_rules_give_the_version_arg():
    tags = TagsConfig(rules=("type=semver,pattern={{version}}", "type=sha"))
    plan = make_plan(config(tags=tags), TAG_CONTEXT, build_platform=AMD64, now=NOW)
    assert plan.version == "1.2.3"
    assert plan.targets[0].jobs[0].args["VERSION"] == "1.2.3"
    assert "127.0.0.1:5000/fleet/fleet-api:sha-0123456" in [str(r) for r in plan.targets[0].references]


def test_outside_git_the_version_is_dev_and_not_an_error():
    plan = make_plan(config(), NO_GIT, build_platform=AMD64, now=NOW)
    assert plan.version == DEV_VERSION
    assert [str(r) for r in plan.targets[0].references] == ["127.0.0.1:5000/fleet/fleet-api:dev"]
    assert plan.targets[0].jobs[0].args["VCS_REF"] == ""
    assert plan.targets[0].labels["org.opencontainers.image.version"] == "dev"


def test_commit_timestamp_makes_build_date_reproducible():
    ctx = GitContext(ref="refs/heads/main", sha=SHA, timestamp="2026-01-02T03:04:05Z")
    plan = make_plan(config(), ctx, build_platform=AMD64, now=NOW)
    assert plan.created == "2026-01-02T03:04:05Z"
    assert plan.targets[0].jobs[0].args["BUILD_DATE"] == "2026-01-02T03:04:05Z"


def test_selection_by_group_and_platform_filter():
    cfg = config(groups={"default": ("api",), "all": ("default", "worker")})
    assert [t.name for t in make_plan(cfg, NO_GIT, build_platform=AMD64, now=NOW).targets] == ["api"]
    plan = make_plan(cfg, NO_GIT, build_platform=AMD64, now=NOW, select=["all"], platforms=["arm64"])
    assert [(t.name, [str(j.platform) for j in t.jobs]) for t in plan.targets] == [
        ("api", ["linux/arm64"]),
        ("worker", ["linux/arm64"]),
    ]


def test_unknown_target_names_the_known_ones():
    with pytest.raises(InputError) as err:
        make_plan(config(), NO_GIT, build_platform=AMD64, now=NOW, select=["apii"])
    assert str(err.value) == "unknown target or group 'apii' (known: api, worker)"


def test_platform_a_target_is_not_built_for_is_refused():
    with pytest.raises(InputError) as err:
        make_plan(config(), NO_GIT, build_platform=AMD64, now=NOW, select=["api"], platforms=["arm/v7"])
    assert str(err.value) == (
        "--platform linux/arm/v7: target 'api' is not built for it "
        "(configured: linux/amd64, linux/arm64)"
    )


def test_plan_json_is_plain_data():
    import json

    doc = make_plan(config(), TAG_CONTEXT, build_platform=AMD64, now=NOW).to_json()
    assert json.loads(json.dumps(doc)) == doc
    assert doc["targets"][0]["policy"] == {
        "max_size": 40_000_000,
        "non_root": True,
        "healthcheck": False,
        "require_labels": [],
    }
    assert doc["targets"][0]["jobs"][1]["args"]["TARGETARCH"] == "arm64"


def test_empty_labels_of_the_tag_engine_do_not_hide_defaults_but_blank_the_base_s():
    # metadata-action's labels without a repository payload: title, url, … are "".
    plan = make_plan(config(), TAG_CONTEXT, build_platform=AMD64, now=NOW)
    for table in (plan.targets[0].labels, plan.targets[0].annotations):
        assert table["org.opencontainers.image.title"] == "fleet-api"
        assert table["org.opencontainers.image.revision"] == SHA
        # Kept empty: it overrides the description a base image's config carries.
        assert table["org.opencontainers.image.description"] == ""
