"""build.resolve against a real registry: busybox-static bases for amd64 and arm64, skopeo as reader."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

import pytest

from dockyard.builder.resolve import (
    BASE_DIGEST_ANNOTATION,
    BASE_NAME_ANNOTATION,
    ResolvedBase,
    base_annotations,
    base_stage,
    pins_for,
    resolve_bases,
)
from dockyard.digest import Digest, parse_digest, sha256_digest
from dockyard.dockerfile.parse import parse_dockerfile
from dockyard.dockerfile.pinning import pin
from dockyard.errors import NotFound, OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.imports import RootfsSource, import_rootfs
from dockyard.oci.models import ATTESTATION_ANNOTATION, Descriptor, build_index
from dockyard.oci.registry import RegistryClient
from dockyard.platform import Platform
from dockyard.ref import parse_ref
from tests.helpers.busybox import busybox_rootfs
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
REPO = "resolve/busybox"

# The trap of design.md / recipes.md: a build stage on the build platform and a
# final stage that must be of the target platform, both FROM the same name.
TRAP = """\
ARG BASE
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN echo hi > /tmp/marker
FROM ${BASE}
COPY --from=build /tmp/marker /marker
"""


@dataclass(frozen=True)
class Bases:
    host: str
    index: Digest  # REPO:multi, amd64 + arm64
    children: dict[Platform, Digest]
    amd64_only_index: Digest  # REPO:amd64only, an index with only amd64

    def ref(self, tag: str) -> str:
        return f"{self.host}/{REPO}:{tag}"


@pytest.fixture(scope="module")
def client():
    with RegistryClient() as c:
        yield c


@pytest.fixture(scope="module")
def bases(registry, client, tmp_path_factory) -> Bases:
    root = tmp_path_factory.mktemp("resolve-busybox")
    store = client.store(parse_ref(f"{registry.host}/{REPO}"), push=True)
    amd64 = RootfsSource(AMD64, busybox_rootfs("amd64", root / "amd64"))
    arm64 = RootfsSource(ARM64, busybox_rootfs("arm64", root / "arm64"))
    multi = import_rootfs([amd64, arm64], store, tag="multi")
    only = import_rootfs([amd64], store, tag="amd64only")
    children = {i.platform: i.manifest.digest for i in multi.images}
    # A single-platform image (a manifest, no index) under its own tag.
    data, media_type = store.manifest_get(str(children[AMD64]))
    store.manifest_put(data, media_type, tag="single")
    # An index that lists an attestation first and arm64 twice (as arm64/v8, then arm64).
    attestation = Descriptor(
        mt.OCI_MANIFEST,
        children[AMD64],
        len(data),
        Platform("unknown", "unknown"),
        {ATTESTATION_ANNOTATION: "attestation-manifest"},
    )
    arm_data, _ = store.manifest_get(str(children[ARM64]))
    tricky, _ = build_index(
        [
            attestation,
            Descriptor(mt.OCI_MANIFEST, children[AMD64], len(data), Platform("linux", "arm64", "v8")),
            Descriptor(mt.OCI_MANIFEST, children[ARM64], len(arm_data), ARM64),
        ]
    )
    store.manifest_put(tricky, mt.OCI_INDEX, tag="tricky")
    attested, _ = build_index(
        [attestation, Descriptor(mt.OCI_MANIFEST, children[AMD64], len(data), AMD64)]
    )
    store.manifest_put(attested, mt.OCI_INDEX, tag="attested")
    return Bases(registry.host, multi.index.digest, children, only.index.digest)


def skopeo_config(host: str, image: str) -> dict:
    proc = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--config", f"docker://{host}/{image}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return json.loads(proc.stdout)


def resolve(text: str, client, *, target: Platform, args=None, **kwargs) -> list[ResolvedBase]:
    df = parse_dockerfile(text)
    return resolve_bases(df, build=AMD64, target=target, args=args or {}, client=client, **kwargs)


def test_skopeo_sees_the_children_we_expect(registry, bases: Bases) -> None:
    index = json.loads(skopeo_raw(registry, f"{REPO}:multi"))
    listed = {
        Platform(m["platform"]["os"], m["platform"]["architecture"]): parse_digest(m["digest"])
        for m in index["manifests"]
    }
    assert listed == bases.children
    assert sha256_digest(skopeo_raw(registry, f"{REPO}:multi")) == bases.index


@pytest.mark.parametrize("platform", [AMD64, ARM64], ids=str)
def test_an_index_resolves_to_the_platforms_child(registry, client, bases, platform) -> None:
    [r] = resolve(f"FROM {bases.ref('multi')}\n", client, target=platform)
    assert r == ResolvedBase(
        stage=0,
        line=1,
        base=bases.ref("multi"),
        reference=parse_ref(bases.ref("multi")),
        platform=platform,
        digest=bases.children[platform],
        index_digest=bases.index,
        media_type=mt.OCI_MANIFEST,
    )
    # skopeo, an independent reader, agrees on the child's bytes and their platform.
    raw = skopeo_raw(registry, f"{REPO}@{r.digest}")
    assert sha256_digest(raw) == r.digest
    config = skopeo_config(registry.host, f"{REPO}@{r.digest}")
    assert (config["os"], config["architecture"]) == (platform.os, platform.architecture)


def test_a_single_image_of_the_right_platform(client, bases) -> None:
    [r] = resolve(f"FROM {bases.ref('single')}\n", client, target=AMD64)
    assert (r.digest, r.index_digest, r.media_type) == (bases.children[AMD64], None, mt.OCI_MANIFEST)


def test_a_single_image_of_another_platform_is_refused(client, bases) -> None:
    with pytest.raises(OperationError) as caught:
        resolve(f"FROM {bases.ref('single')}\n", client, target=ARM64)
    assert str(caught.value) == (
        f"base {bases.ref('single')} is a single linux/amd64 image; "
        "linux/arm64 needs a multi-platform base or one built for it"
    )
    assert caught.value.exit_code == 1


def test_an_index_without_the_platform_is_refused(client, bases) -> None:
    with pytest.raises(OperationError) as caught:
        resolve(f"FROM {bases.ref('amd64only')}\n", client, target=ARM64)
    assert str(caught.value) == (
        f"base {bases.ref('amd64only')} has no linux/arm64 image (it has: linux/amd64)"
    )
    assert caught.value.exit_code == 1


def test_attestations_are_neither_picked_nor_listed(client, bases) -> None:
    with pytest.raises(OperationError) as caught:
        resolve(f"FROM {bases.ref('attested')}\n", client, target=ARM64)
    assert str(caught.value) == (
        f"base {bases.ref('attested')} has no linux/arm64 image (it has: linux/amd64)"
    )
    [r] = resolve(f"FROM {bases.ref('attested')}\n", client, target=AMD64)
    assert r.digest == bases.children[AMD64]


def test_an_exact_platform_entry_wins(client, bases) -> None:
    # linux/arm64/v8 (listed first) also serves linux/arm64; the exact spelling wins.
    [r] = resolve(f"FROM {bases.ref('tricky')}\n", client, target=ARM64)
    assert r.digest == bases.children[ARM64]


def test_a_base_given_by_index_digest(client, bases) -> None:
    base = f"{bases.host}/{REPO}@{bases.index}"
    [r] = resolve(f"FROM {base}\n", client, target=ARM64)
    assert (r.digest, r.index_digest) == (bases.children[ARM64], bases.index)
    assert str(r.reference) == base


def test_a_base_given_by_child_digest(client, bases) -> None:
    base = f"{bases.host}/{REPO}@{bases.children[ARM64]}"
    [r] = resolve(f"FROM {base}\n", client, target=ARM64)
    assert (r.digest, r.index_digest) == (bases.children[ARM64], None)
    with pytest.raises(OperationError) as caught:
        resolve(f"FROM {base}\n", client, target=AMD64)
    assert str(caught.value) == (
        f"base {base} is a single linux/arm64 image; "
        "linux/amd64 needs a multi-platform base or one built for it"
    )


def test_a_missing_base(registry, client) -> None:
    base = f"{registry.host}/resolve/missing:1"
    with pytest.raises(NotFound) as caught:
        resolve(f"FROM {base}\n", client, target=AMD64)
    assert str(caught.value) == (
        f"base {base} was not found ({registry.host}/resolve/missing: no manifest '1')"
    )


def test_the_trap_resolves_each_stage_for_its_own_platform(client, bases) -> None:
    args = {"BASE": bases.ref("multi")}
    df = parse_dockerfile(TRAP)
    resolved = resolve_bases(df, build=AMD64, target=ARM64, args=args, client=client)
    assert [(r.stage, r.line, r.platform, r.digest) for r in resolved] == [
        (0, 2, AMD64, bases.children[AMD64]),
        (1, 4, ARM64, bases.children[ARM64]),
    ]
    name = f"{bases.host}/{REPO}"
    assert pin(df, pins_for(resolved)) == (
        "ARG BASE\n"
        f"FROM --platform=$BUILDPLATFORM {name}@{bases.children[AMD64]} AS build\n"
        "RUN echo hi > /tmp/marker\n"
        f"FROM {name}@{bases.children[ARM64]}\n"
        "COPY --from=build /tmp/marker /marker\n"
    )
    final = base_stage(df, build=AMD64, target=ARM64, args=args)
    assert final == 1
    assert base_annotations(resolved, final) == {
        BASE_NAME_ANNOTATION: bases.ref("multi"),
        BASE_DIGEST_ANNOTATION: str(bases.children[ARM64]),
    }


def test_a_target_stage_resolves_only_what_it_needs(client, bases) -> None:
    args = {"BASE": bases.ref("multi")}
    resolved = resolve(TRAP, client, target=ARM64, args=args, stage="build")
    assert [(r.stage, r.digest) for r in resolved] == [(0, bases.children[AMD64])]


def test_a_final_stage_from_another_stage_takes_that_stages_base(client, bases) -> None:
    text = f"FROM {bases.ref('multi')} AS runtime\nFROM runtime\nRUN true\n"
    df = parse_dockerfile(text)
    resolved = resolve_bases(df, build=AMD64, target=ARM64, args={}, client=client)
    assert [r.stage for r in resolved] == [0]
    final = base_stage(df, build=AMD64, target=ARM64, args={})
    assert base_annotations(resolved, final)[BASE_DIGEST_ANNOTATION] == str(bases.children[ARM64])
    assert base_annotations(resolved, 1) == {}


def test_scratch_needs_no_registry(bases) -> None:
    def no_store(reference):
        raise AssertionError(f"asked for {reference}")

    resolved = resolve_bases(
        parse_dockerfile("FROM scratch\nCOPY a /a\n"), build=AMD64, target=ARM64, args={},
        stores=no_store,
    )
    assert resolved == []
    assert base_annotations(resolved, 0) == {}


def test_the_cache_is_shared_across_jobs(client, bases) -> None:
    asked: list[str] = []

    def counting(reference):
        asked.append(str(reference))
        return client.store(reference)

    cache: dict = {}
    args = {"BASE": bases.ref("multi")}
    df = parse_dockerfile(TRAP)
    for target in (ARM64, AMD64, ARM64):
        resolve_bases(df, build=AMD64, target=target, args=args, stores=counting, cache=cache)
    # (base, amd64) and (base, arm64) once each, however many jobs and stages
    assert asked == [bases.ref("multi"), bases.ref("multi")]
    again = resolve_bases(df, build=AMD64, target=ARM64, args=args, stores=counting, cache=cache)
    assert [r.digest for r in again] == [bases.children[AMD64], bases.children[ARM64]]
    assert len(asked) == 2


def test_without_a_client_the_call_is_refused_before_any_request(bases) -> None:
    # The run's one client (the workspace's) is passed in; resolve makes none of its own.
    with pytest.raises(TypeError, match="needs client="):
        resolve_bases(
            parse_dockerfile(f"FROM {bases.ref('multi')}\n"), build=AMD64, target=ARM64, args={}
        )


def test_to_json(client, bases) -> None:
    [r] = resolve(f"FROM {bases.ref('multi')}\n", client, target=ARM64)
    assert r.to_json() == {
        "stage": 0,
        "base": bases.ref("multi"),
        "reference": bases.ref("multi"),
        "platform": "linux/arm64",
        "digest": str(bases.children[ARM64]),
        "index_digest": str(bases.index),
        "media_type": mt.OCI_MANIFEST,
    }
