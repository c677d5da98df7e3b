"""The pure decisions of a build run (build.jobrules)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.builder.backends import get_backend
from dockyard.builder.jobrules import (
    declared_args,
    emulated_platforms,
    hashed_args,
    hashed_labels,
    image_format,
    layout_tag,
    platform_cache,
    platform_tag,
    source_date_epoch,
    target_caches,
)
from dockyard.dockerfile.parse import parse_dockerfile
from dockyard.errors import InputError
from dockyard.oci.layout import check_name
from dockyard.platform import Platform, parse_platform

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
ARMV7 = Platform("linux", "arm", "v7")


@pytest.mark.parametrize(
    ("platform", "tag"),
    [(AMD64, "linux-amd64"), (ARM64, "linux-arm64"), (ARMV7, "linux-arm-v7")],
)
def test_platform_tag(platform, tag):
    assert platform_tag(platform) == tag


@pytest.mark.parametrize(
    ("version", "tag"),
    [
        ("1.2.3", "1.2.3"),
        ("dev", "dev"),
        ("feat/x", "feat-x"),
        ("1.0.0+build.5", "1.0.0-build.5"),
        ("pr-7", "pr-7"),
        ("", "latest"),
        ("///", "latest"),
        ("-x-", "x"),
    ],
)
def test_layout_tag(version, tag):
    assert layout_tag(version) == tag


@given(st.text(max_size=40))
def test_layout_tag_is_always_a_valid_layout_name(version):
    assert check_name(layout_tag(version))


# ---------------------------------------------------------------- cache specs


@pytest.mark.parametrize(
    ("spec", "backend", "platform", "expected"),
    [
        # buildah ignores tags (one tag per step): the repository is per platform.
        ("type=registry,ref=ghcr.io/acme/api:cache", "buildah", ARM64,
         "type=registry,ref=ghcr.io/acme/api-cache-linux-arm64"),
        ("type=registry,ref=ghcr.io/acme/api", "buildah", AMD64,
         "type=registry,ref=ghcr.io/acme/api-linux-amd64"),
        ("127.0.0.1:5000/c/app:cache", "buildah", ARMV7,
         "type=registry,ref=127.0.0.1:5000/c/app-cache-linux-arm-v7"),
        # buildx: the tag is per platform, other fields kept.
        ("type=registry,ref=ghcr.io/acme/api:cache,mode=max", "buildx", ARM64,
         "type=registry,ref=ghcr.io/acme/api:cache-linux-arm64,mode=max"),
        ("ref=ghcr.io/acme/api", "buildx", AMD64,
         "type=registry,ref=ghcr.io/acme/api:linux-amd64"),
        ("type=local,dest=/tmp/cache/", "buildx", ARM64, "type=local,dest=/tmp/cache/linux-arm64"),
        ("type=local,src=c", "buildah", AMD64, "type=local,src=c/linux-amd64"),
        ("type=gha,scope=api", "buildx", AMD64, "type=gha,scope=api"),
        ("type=inline", "buildx", AMD64, "type=inline"),
    ],
)  # fmt: skip
def test_platform_cache(spec, backend, platform, expected):
    assert platform_cache(spec, platform, backend=get_backend(backend)) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("  ", "cache spec is empty (expected type=registry,ref=REPO:TAG)"),
        ("type=registry", "cache spec 'type=registry': no ref= (expected type=registry,ref=REPO:TAG)"),
        ("type=registry,mode", "cache spec 'type=registry,mode': 'mode' is not key=value "
         "(expected e.g. type=registry,ref=REPO:cache)"),
        (f"ghcr.io/a/b@sha256:{'0' * 64}",
         f"cache spec 'ghcr.io/a/b@sha256:{'0' * 64}': a cache cannot be a digest (name REPO:TAG)"),
    ],
)  # fmt: skip
def test_platform_cache_refuses(spec, message):
    with pytest.raises(InputError) as info:
        platform_cache(spec, AMD64, backend=get_backend("buildah"))
    assert str(info.value) == message


def test_target_caches_maps_every_spec():
    specs = ("r.io/a:c", "type=local,dest=d")
    assert target_caches(specs, ARM64, backend=get_backend("buildx")) == (
        "type=registry,ref=r.io/a:c-linux-arm64",
        "type=local,dest=d/linux-arm64",
    )


# ---------------------------------------------------------------- what is hashed

DF = """\
ARG BASE=busybox
ARG UNUSED_DEFAULT=1
FROM $BASE AS build
ARG TARGETARCH VERSION="1 2"
RUN echo $TARGETARCH
FROM $BASE
ARG GOFLAGS=-trimpath
HEALTHCHECK CMD true
"""


def test_declared_args_come_from_the_preamble_and_every_stage():
    df = parse_dockerfile(DF)
    assert declared_args(df) == {"BASE", "UNUSED_DEFAULT", "TARGETARCH", "VERSION", "GOFLAGS"}


def test_only_declared_args_are_hashed():
    df = parse_dockerfile(DF)
    args = {"BASE": "b", "BUILD_DATE": "2024", "VCS_REF": "abc", "VERSION": "1", "TARGETOS": "linux"}
    assert hashed_args(args, df) == {"BASE": "b", "VERSION": "1"}


def test_volatile_labels_are_not_hashed():
    labels = {
        "org.opencontainers.image.created": "2024-01-01T00:00:00Z",
        "org.opencontainers.image.revision": "abc",
        "org.opencontainers.image.version": "1.2.3",
        "org.opencontainers.image.title": "api",
        "team": "core",
    }
    assert hashed_labels(labels) == {"org.opencontainers.image.title": "api", "team": "core"}


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        (DF, "docker"),
        ("FROM a\nHEALTHCHECK CMD true\nFROM b\n", "oci"),  # only the final stage counts
        ("FROM a\nRUN true\n", "oci"),
    ],
)
def test_image_format(text, fmt):
    assert image_format(parse_dockerfile(text)) == fmt


TRAP = """\
ARG BASE
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN echo hi > /tmp/marker
FROM ${BASE}
COPY --from=build /tmp/marker /marker
"""


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        (TRAP, ARM64, ()),  # the RUN is on the build platform
        (TRAP + "RUN true\n", ARM64, (ARM64,)),
        (TRAP + "RUN true\n", AMD64, ()),  # native
        ("FROM b AS unused\nRUN x\nFROM b\nCOPY a /a\n", ARM64, ()),  # stage not needed
        ("FROM b AS dep\nRUN x\nFROM b\nCOPY --from=dep /a /a\n", ARMV7, (ARMV7,)),
        ("FROM --platform=linux/arm64 b\nRUN x\n", AMD64, (ARM64,)),
    ],
)
def test_emulated_platforms(text, target, expected):
    df = parse_dockerfile(text, args={"BASE": "b"})
    got = emulated_platforms(df, build=AMD64, target=target, args={"BASE": "b"}, host=AMD64)
    assert got == expected


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2024-01-02T03:04:05Z", 1704164645),
        ("1970-01-01T00:00:00+00:00", 0),
        ("", None),
        ("yesterday", None),
    ],
)
def test_source_date_epoch(text, epoch):
    assert source_date_epoch(text) == epoch


def test_platform_tags_parse_back():
    for p in (AMD64, ARM64, ARMV7):
        assert parse_platform(platform_tag(p).replace("-", "/")) == p
