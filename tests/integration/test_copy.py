"""copy between layouts and real registries (docker-registry 2.8); skopeo reads every result."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dockyard.errors import NotFound, RegistryError
from dockyard.oci.auth.credentials.env import env_credential_names
from dockyard.oci.copy import copy_image
from dockyard.oci.imports import ImportResult, RootfsSource, import_rootfs
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import parse_manifest
from dockyard.oci.registry import RegistryClient
from dockyard.platform import Platform
from tests.helpers.busybox import busybox_rootfs
from tests.helpers.faultproxy import FaultProxy
from tests.helpers.locations import copy_location
from tests.helpers.registry import start_registry
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration

ARM64 = Platform("linux", "arm64")


def make_busybox_layout(base: Path) -> tuple[Path, ImportResult]:
    """oci:base/layout:v1, an index of busybox-static for linux/amd64 and linux/arm64."""
    sources = [
        RootfsSource(Platform("linux", arch), busybox_rootfs(arch, base / arch))
        for arch in ("amd64", "arm64")
    ]
    path = base / "layout"
    return path, import_rootfs(sources, LayoutStore(path), tag="v1")


@pytest.fixture(scope="session")
def busybox(tmp_path_factory) -> tuple[Path, ImportResult]:
    return make_busybox_layout(tmp_path_factory.mktemp("copy-busybox"))


@pytest.fixture(scope="session")
def index_bytes(busybox) -> bytes:
    data, _ = LayoutStore(busybox[0]).manifest_get("v1")
    return data


@pytest.fixture(scope="session")
def pushed(busybox, registry) -> str:
    """The busybox index in the session registry as copy/source:v1."""
    copy_location(f"oci:{busybox[0]}:v1", f"{registry.host}/copy/source:v1")
    return f"{registry.host}/copy/source:v1"


@pytest.fixture(scope="session")
def registry2(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("registry2"))
    yield reg
    reg.stop()


@pytest.fixture
def proxy(registry):
    p = FaultProxy(registry.host).start()
    yield p
    p.stop()


def skopeo(*args: str) -> bytes:
    proc = subprocess.run(["skopeo", "--insecure-policy", *args], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def skopeo_reads_layout(path: Path, tag: str, tmp_path: Path) -> bytes:
    """skopeo copies every blob out of the layout (verifying digests); returns the raw root."""
    skopeo("copy", "--all", f"oci:{path}:{tag}", f"oci:{tmp_path / 'skopeo-out'}:{tag}")
    return skopeo("inspect", "--raw", f"oci:{path}:{tag}")


def child_bytes(busybox, platform: Platform) -> bytes:
    store = LayoutStore(busybox[0])
    image = next(i for i in busybox[1].images if i.platform == platform)
    return store.manifest_get(str(image.manifest.digest))[0]


def blob_total(busybox) -> int:
    return sum(i.layer.size + i.config.size for i in busybox[1].images)


# ---------------------------------------------------------------- directions


def test_layout_to_registry(busybox, index_bytes, registry):
    result = copy_location(f"oci:{busybox[0]}:v1", f"{registry.host}/copy/l2r:v1")
    assert skopeo_raw(registry, "copy/l2r:v1") == index_bytes
    assert result.digest == busybox[1].index.digest
    assert result.platforms == ("linux/amd64", "linux/arm64")
    assert (result.blobs.copied, result.blobs.bytes) == (4, blob_total(busybox))
    assert (result.manifests.copied, result.manifests.skipped) == (3, 0)
    for image in busybox[1].images:
        raw = skopeo_raw(registry, f"copy/l2r@{image.manifest.digest}")
        assert raw == child_bytes(busybox, image.platform)


def test_registry_to_registry_same_registry_mounts_every_blob(
    pushed, busybox, index_bytes, registry, proxy
):
    source = pushed.replace(registry.host, proxy.host)
    result = copy_location(source, f"{proxy.host}/copy/mounted:v1")
    assert skopeo_raw(registry, "copy/mounted:v1") == index_bytes
    assert result.blobs.mounted == 4 and result.blobs.copied == 0 and result.blobs.bytes == 0
    assert proxy.count("POST", r"/v2/copy/mounted/blobs/uploads/\?.*mount=") == 4
    assert proxy.count("PATCH") == 0
    assert proxy.count("PUT", r"/blobs/") == 0
    assert proxy.count("GET", r"/blobs/") == 0
    # Only manifests travelled up: the two children and the index.
    children = sum(i.manifest.size for i in busybox[1].images)
    assert proxy.body_bytes == len(index_bytes) + children


def test_registry_to_registry_across_registries(pushed, index_bytes, registry2, busybox):
    result = copy_location(pushed, f"{registry2.host}/copy/other:v1")
    assert skopeo_raw(registry2, "copy/other:v1") == index_bytes
    assert (result.blobs.copied, result.blobs.mounted) == (4, 0)
    assert result.blobs.bytes == blob_total(busybox)


def test_registry_to_layout(pushed, index_bytes, tmp_path):
    result = copy_location(pushed, f"oci:{tmp_path / 'out'}:got")
    assert skopeo_reads_layout(tmp_path / "out", "got", tmp_path) == index_bytes
    assert result.tag == "got" and result.blobs.copied == 4


def test_registry_to_layout_without_a_tag_keeps_the_source_tag(pushed, index_bytes, tmp_path):
    result = copy_location(pushed, f"oci:{tmp_path / 'out'}")
    assert result.tag == "v1"
    assert skopeo("inspect", "--raw", f"oci:{tmp_path / 'out'}") == index_bytes


def test_layout_to_layout(busybox, index_bytes, tmp_path):
    result = copy_location(f"oci:{busybox[0]}:v1", f"oci:{tmp_path / 'copy'}:v2")
    assert skopeo_reads_layout(tmp_path / "copy", "v2", tmp_path) == index_bytes
    assert result.blobs.copied == 4
    assert list(LayoutStore(tmp_path / "copy").tag_list()) == ["v2"]


# ---------------------------------------------------------------- selection


def test_platform_copies_that_child_as_its_own_tag(busybox, registry):
    result = copy_location(
        f"oci:{busybox[0]}:v1", f"{registry.host}/copy/arm:v1", platform="linux/arm64"
    )
    arm = child_bytes(busybox, ARM64)
    assert skopeo_raw(registry, "copy/arm:v1") == arm
    assert result.platforms == ("linux/arm64",)
    assert result.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert (result.blobs.copied, result.manifests.copied) == (2, 1)


def test_platform_missing_from_the_index_is_refused(busybox, tmp_path):
    with pytest.raises(NotFound) as err:
        copy_location(f"oci:{busybox[0]}:v1", f"oci:{tmp_path / 'x'}", platform="linux/s390x")
    assert str(err.value) == (
        f"oci:{busybox[0]}:v1: no image for linux/s390x (the index has: linux/amd64, linux/arm64)"
    )
    assert not (tmp_path / "x").exists()


def test_platform_of_a_single_image_must_match(busybox, tmp_path):
    arm = f"oci:{tmp_path / 'arm'}:a"
    copy_location(f"oci:{busybox[0]}:v1", arm, platform="linux/arm64")
    result = copy_location(arm, f"oci:{tmp_path / 'again'}:a", platform="linux/arm64/v8")
    assert result.platforms == ("linux/arm64",)
    with pytest.raises(NotFound) as err:
        copy_location(arm, f"oci:{tmp_path / 'no'}:a", platform="linux/amd64")
    assert str(err.value) == f"{arm}: is a single linux/arm64 image, not linux/amd64"


# ---------------------------------------------------------------- doing little


def test_recopy_moves_nothing_and_asks_once(busybox, registry, proxy):
    destination = f"{proxy.host}/copy/again:v1"
    copy_location(f"oci:{busybox[0]}:v1", destination)
    proxy.reset()
    result = copy_location(f"oci:{busybox[0]}:v1", destination)
    assert result.up_to_date and result.blobs.bytes == 0
    assert proxy.body_bytes == 0
    # The tag, then each child: "up to date" is said only when every child answers.
    children = [f"/v2/copy/again/manifests/{i.manifest.digest}" for i in busybox[1].images]
    assert proxy.requests[:2] == [("GET", "/v2/"), ("HEAD", "/v2/copy/again/manifests/v1")]
    assert sorted(proxy.requests[2:]) == sorted(("HEAD", path) for path in children)


def test_registry_recopy_is_heads_and_the_source_s_evidence_lookups(pushed, registry, proxy):
    source = pushed.replace(registry.host, proxy.host)
    copy_location(source, f"{proxy.host}/copy/again2:v1")
    proxy.reset()
    result = copy_location(source, f"{proxy.host}/copy/again2:v1")
    assert result.up_to_date
    assert proxy.requests[:3] == [
        ("GET", "/v2/"),
        ("GET", "/v2/copy/source/manifests/v1"),
        ("HEAD", "/v2/copy/again2/manifests/v1"),
    ]
    index = parse_manifest(skopeo_raw(registry, "copy/again2:v1"))
    rest = proxy.requests[3:]
    at_destination = [r for r in rest if r[1].startswith("/v2/copy/again2/")]
    assert sorted(at_destination) == sorted(
        ("HEAD", f"/v2/copy/again2/manifests/{c.digest}") for c in index.manifests
    )
    # The evidence (oci/carry.py) is looked up at the source: the referrers API (404 on
    # registry 2.8), its fallback tag, cosign's three tags. It has none: the destination
    # is not asked about evidence at all.
    expected = []
    for digest in (index.digest, *(c.digest for c in index.manifests)):
        expected += [("GET", f"/v2/copy/source/referrers/{digest}"),
                     ("GET", f"/v2/copy/source/manifests/sha256-{digest.hex}")]  # fmt: skip
        expected += [("HEAD", f"/v2/copy/source/manifests/sha256-{digest.hex}.{s}") for s in ("sig", "att", "sbom")]
    assert sorted(r for r in rest if r not in at_destination) == sorted(expected)


def test_a_destination_that_lost_a_child_gets_it_back(busybox, index_bytes, registry):
    """The tag still names the index, but one child manifest was deleted: copy HEADs each
    child, puts the missing one back (not up to date), and skopeo reads every platform."""
    destination = f"{registry.host}/copy/lost:v1"
    copy_location(f"oci:{busybox[0]}:v1", destination)
    index = parse_manifest(index_bytes)
    arm = index.find(ARM64)
    with RegistryClient() as client:
        store = client.store(f"{registry.host}/copy/lost", push=True)
        store.manifest_delete(arm.digest)
        assert store.manifest_head(str(arm.digest)) is None
        assert store.manifest_head("v1")[0] == index.digest  # registry 2.8 still serves the index
    result = copy_location(f"oci:{busybox[0]}:v1", destination)
    assert not result.up_to_date
    assert (result.manifests.copied, result.manifests.skipped) == (1, 2)  # the child; index + amd64
    assert result.blobs.bytes == 0  # its blobs were still there
    assert skopeo_raw(registry, "copy/lost:v1") == index_bytes
    for child in index.manifests:
        assert json.loads(skopeo_raw(registry, f"copy/lost@{child.digest}"))["layers"]
    # Now whole: the next copy is up to date.
    assert copy_location(f"oci:{busybox[0]}:v1", destination).up_to_date


def test_new_tag_on_a_present_index_only_puts_the_tag(busybox, index_bytes, registry, proxy):
    copy_location(f"oci:{busybox[0]}:v1", f"{proxy.host}/copy/retag:v1")
    proxy.reset()
    result = copy_location(f"oci:{busybox[0]}:v1", f"{proxy.host}/copy/retag:v2")
    assert not result.up_to_date and result.manifests.copied == 1
    assert proxy.count("PUT") == 1 and proxy.count("POST") == 0
    assert proxy.body_bytes == len(index_bytes)
    assert skopeo_raw(registry, "copy/retag:v2") == index_bytes


def test_present_children_are_not_fetched_again(busybox, index_bytes, registry, proxy):
    client = RegistryClient()
    try:
        dst = client.store(f"{proxy.host}/copy/partial", push=True)
        copy_image(LayoutStore(busybox[0]), "v1", dst, tag="arm", platform=ARM64)
        proxy.reset()
        result = copy_image(LayoutStore(busybox[0]), "v1", dst, tag="v1")
    finally:
        client.close()
    assert result.manifests.skipped == 1 and result.manifests.copied == 2
    assert result.blobs.copied == 2  # only amd64's layer and config
    assert skopeo_raw(registry, "copy/partial:v1") == index_bytes


# ---------------------------------------------------------------- auth and TLS


def test_token_registry_mounts_with_a_pull_scope_on_the_source(
    busybox, index_bytes, token_registry
):
    user_var, password_var = env_credential_names(token_registry.host)
    environ = {user_var: token_registry.username, password_var: token_registry.password}
    host = token_registry.host
    copy_location(f"oci:{busybox[0]}:v1", f"{host}/copy/tok-src:v1", environ=environ)
    result = copy_location(f"{host}/copy/tok-src:v1", f"{host}/copy/tok-dst:v1", environ=environ)
    assert result.blobs.mounted == 4 and result.blobs.copied == 0
    assert skopeo_raw(token_registry, "copy/tok-dst:v1") == index_bytes


def test_tls_registry_needs_the_ca_or_insecure(busybox, index_bytes, tls_registry, tmp_path):
    host = tls_registry.host
    with pytest.raises(RegistryError) as err:
        copy_location(f"oci:{busybox[0]}:v1", f"{host}/copy/tls:v1")
    assert str(err.value).startswith(f"registry {host}: TLS certificate not trusted (")
    assert str(err.value).endswith(
        f"); pass --ca-cert FILE, or --insecure-registry {host} to skip verification"
    )
    copy_location(f"oci:{busybox[0]}:v1", f"{host}/copy/tls:v1", ca_cert=str(tls_registry.ca_cert))
    assert skopeo_raw(tls_registry, "copy/tls:v1") == index_bytes
    result = copy_location(
        f"{host}/copy/tls:v1", f"oci:{tmp_path / 'tls'}", insecure_registries=[host]
    )
    assert result.blobs.copied == 4
