"""bake/convert.py: buildx --print fields -> dockyard targets, with warnings and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.bake.convert import convert
from dockyard.config.model import Policy
from dockyard.errors import InputError
from dockyard.platform import parse_platform

ROOT = Path("/repo")
AMD64 = parse_platform("linux/amd64")
ARM64 = parse_platform("linux/arm64")


def run(targets, groups=None, **kw):
    options = {
        "root": ROOT, "platforms": (AMD64,), "policy": Policy(max_size=10), "source": "docker-bake.hcl",
    }  # fmt: skip
    options.update(kw)
    return convert(targets, groups or {}, **options)


def test_every_field_dockyard_acts_on_lands_in_the_target():
    out = run({
        "api": {
            "context": "services/api", "dockerfile": "build/Dockerfile", "target": "runtime",
            "args": {"A": "1", "UNSET": None}, "labels": {"team": "core"},
            "annotations": ["index:org.opencontainers.image.vendor=acme"],
            "tags": ["127.0.0.1:5000/acme/api:1.2.3", "127.0.0.1:5000/acme/api:latest"],
            "platforms": ["linux/amd64", "linux/arm64"],
            "cache-from": ["type=registry,ref=127.0.0.1:5000/cache/api:buildcache"],
            "cache-to": ["type=local,dest=/tmp/cache"],
        },
    })  # fmt: skip
    api = out.targets["api"]
    assert api.context == Path("/repo/services/api")
    assert api.dockerfile == Path("/repo/services/api/build/Dockerfile")
    assert api.stage == "runtime"
    assert dict(api.args) == {"A": "1"}  # a null arg is left out, as buildx leaves it out
    assert dict(api.labels) == {"team": "core"}
    assert dict(api.annotations) == {"org.opencontainers.image.vendor": "acme"}
    assert api.platforms == (AMD64, ARM64)
    assert api.image == "api"
    assert api.policy == Policy(max_size=10)
    assert api.cache_from == ("type=registry,ref=127.0.0.1:5000/cache/api:buildcache",)
    assert api.cache_to == ("type=local,dest=/tmp/cache",)
    assert out.registries == ("127.0.0.1:5000/acme",)
    assert out.tag_names == ("1.2.3", "latest")
    assert out.warnings == ()


def test_defaults_context_dockerfile_platforms_and_image():
    api = run({"api": {}}).targets["api"]
    assert (api.context, api.dockerfile) == (ROOT, ROOT / "Dockerfile")
    assert api.platforms == (AMD64,)
    assert api.image == "api" and api.stage is None


def test_attributes_not_acted_on_are_one_warning_naming_target_and_attributes():
    out = run({
        "api": {
            "output": ["type=docker"], "attest": ["type=provenance"], "pull": True,
            "no-cache": True, "secret": ["id=s,env=S"], "contexts": {"a": "docker-image://x"},
            "annotations": ["manifest:k=v", "index:i=j"],
            "cache-from": ["type=gha,scope=api", "type=registry,ref=r.example/c:api"],
            "ssh": [], "description": "", "network": None,
        },
    })  # fmt: skip
    (warning,) = out.warnings
    assert warning.startswith('docker-bake.hcl: target "api": not acted on by dockyard: ')
    for name in ("output", "attest", "pull", "no-cache", "secret", "contexts",
                 "annotations manifest:k=v", "cache-from type=gha,scope=api"):  # fmt: skip
        assert name in warning
    # Empty or false values ask for nothing: not reported.
    assert "ssh" not in warning and "description" not in warning and "network" not in warning
    assert out.targets["api"].cache_from == ("type=registry,ref=r.example/c:api",)
    assert dict(out.targets["api"].annotations) == {"i": "j"}


def test_pull_false_is_not_a_warning():
    assert run({"api": {"pull": False, "no-cache": False}}).warnings == ()


@pytest.mark.parametrize(
    "context",
    ["https://github.com/acme/api.git", "git@github.com:acme/api.git", "github.com/acme/api", "-",
     "git://host/repo"],
)  # fmt: skip
def test_a_remote_context_is_refused_naming_target_and_attribute(context):
    with pytest.raises(
        InputError, match=r'docker-bake.hcl: target "api": context .* not a local path'
    ):
        run({"api": {"context": context}})


def test_dockerfile_inline_is_refused():
    with pytest.raises(InputError, match=r'target "api": dockerfile-inline is not supported'):
        run({"api": {"dockerfile-inline": "FROM scratch\n"}})


def test_a_bad_platform_names_target_and_attribute():
    with pytest.raises(InputError, match=r'target "api": platforms: '):
        run({"api": {"platforms": ["linux/nosuch"]}})


def test_tags_under_several_registries_become_the_registries():
    out = run({
        "api": {"tags": ["ghcr.io/acme/api:1", "127.0.0.1:5000/acme/api:1"]},
        "ui": {"tags": ["127.0.0.1:5000/acme/ui:1", "ghcr.io/acme/ui:1"]},
        "tools": {},
    })  # fmt: skip
    assert out.registries == ("ghcr.io/acme", "127.0.0.1:5000/acme")
    assert out.tag_names == ("1",)
    assert out.targets["ui"].image == "ui" and out.targets["tools"].image == "tools"


def test_an_untagged_reference_is_latest_and_hub_names_are_normalised():
    out = run({"api": {"tags": ["acme/api"]}})
    assert out.registries == ("docker.io/acme",)
    assert out.tag_names == ("latest",)


def test_two_image_names_in_one_target_are_refused():
    with pytest.raises(
        InputError, match=r'target "api": tags name repositories .* different image names'
    ):
        run({"api": {"tags": ["r.example/acme/api:1", "r.example/acme/api-legacy:1"]}})


def test_different_tags_per_repository_are_refused():
    with pytest.raises(InputError, match=r"different tags"):
        run({"api": {"tags": ["r.example/a/api:1", "q.example/a/api:2"]}})


def test_targets_under_different_registries_are_refused():
    with pytest.raises(
        InputError,
        match=r'target "ui" is tagged under q.example/a but target "api" under r.example/a',
    ):
        run({"api": {"tags": ["r.example/a/api:1"]}, "ui": {"tags": ["q.example/a/ui:1"]}})


def test_targets_with_different_tag_names_are_refused_without_tag_rules():
    targets = {"api": {"tags": ["r.example/a/api:1"]}, "ui": {"tags": ["r.example/a/ui:2"]}}
    with pytest.raises(InputError, match=r'target "ui" has tags 2 but target "api" has 1'):
        run(targets)
    # With dockyard.toml [tags] rules the names are replaced, and that is reported.
    out = run(targets, tag_rules=True)
    assert out.tag_names == () and out.registries == ("r.example/a",)
    assert any("[tags] rules name the tags" in w for w in out.warnings)


def test_a_tag_by_digest_is_refused():
    with pytest.raises(InputError, match=r"names a digest"):
        run({"api": {"tags": ["r.example/a/api@sha256:" + "a" * 64]}})


def test_groups_keep_members_that_exist_and_drop_a_group_named_like_a_target():
    out = run({"api": {}, "ui": {}}, {"default": ["api", "ui"], "api": ["api"]})
    assert dict(out.groups) == {"default": ("api", "ui")}


def test_a_target_name_that_is_no_image_name_needs_tags():
    with pytest.raises(InputError, match=r'target "_x": has no tags'):
        run({"_x": {}})


def test_the_local_platform_is_the_one_passed_in():
    out = run({"api": {"platforms": ["local", "linux/amd64"]}}, local=ARM64)
    assert out.targets["api"].platforms == (ARM64, AMD64)
    with pytest.raises(InputError, match=r'target "api": platforms: '):
        run({"api": {"platforms": ["local"]}})  # nothing passed in: not a platform


def test_a_remote_dockerfile_is_refused_too():
    with pytest.raises(InputError, match=r'target "api": dockerfile .* not a local path'):
        run({"api": {"dockerfile": "https://example.com/Dockerfile"}})
