"""copy through the fault proxy: transient faults heal, permanent ones leave no tag, bad bytes land nowhere."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from dockyard.errors import DigestMismatch, RegistryError
from dockyard.oci import mediatypes as mt
from dockyard.oci.copy import copy_image
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import build_index
from dockyard.oci.registry import RegistryClient
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.session import RegistryOptions
from dockyard.platform import Platform
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.images import make_image
from tests.helpers.registry import start_registry
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration

UPLOADS = r"/blobs/uploads/"
MiB = 1024 * 1024


def random_index(path: Path, tag: str = "v1") -> tuple[LayoutStore, bytes]:
    """A two-platform index of random layers (one of 6 MiB: a streamed PATCH) in a layout."""
    store = LayoutStore(path)
    children = []
    for arch, sizes in (("amd64", (6 * MiB, 3000)), ("arm64", (2000,))):
        image = make_image(sizes)
        for digest, data in image.blobs.items():
            store.blob_put(digest, len(data), io.BytesIO(data))
        store.manifest_put(image.manifest, mt.OCI_MANIFEST)
        d = image.descriptor
        children.append(type(d)(d.media_type, d.digest, d.size, Platform("linux", arch)))
    data, _ = build_index(children)
    store.manifest_put(data, mt.OCI_INDEX, tag=tag)
    return store, data


@pytest.fixture
def source(tmp_path) -> tuple[LayoutStore, bytes]:
    return random_index(tmp_path / "src")


@pytest.fixture
def proxy(registry):
    with FaultProxy(registry.host) as p:
        yield p


@pytest.fixture
def client(waits):
    options = RegistryOptions(retry=RetryPolicy(attempts=3, base_delay=0.5))
    with RegistryClient(options=options, environ={}, sleep=waits.append) as c:
        yield c


def copy(src, dst, waits, *, tag="v1", reference="v1"):
    policy = RetryPolicy(attempts=3, base_delay=0.5)
    return copy_image(src, reference, dst, tag=tag, retry=policy, sleep=waits.append)


def skopeo_pulls(registry, image: str, tmp_path: Path) -> None:
    """skopeo copies every blob out (checking each digest) into a layout."""
    proc = subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "--all", "--src-tls-verify=false",
         f"docker://{registry.host}/{image}", f"oci:{tmp_path / 'pulled'}:x"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()


# ---------------------------------------------------------------- transient


def test_reset_mid_upload_restarts_the_transfer(source, proxy, client, registry, waits, tmp_path):
    proxy.add(Fault("PATCH", UPLOADS, action="reset", after_bytes=MiB))
    dst = client.store(f"{proxy.host}/copyfault/reset", push=True)
    result = copy(source[0], dst, waits)
    assert skopeo_raw(registry, "copyfault/reset:v1") == source[1]
    skopeo_pulls(registry, "copyfault/reset:v1", tmp_path)
    assert proxy.count("PATCH", UPLOADS) == 2
    assert result.blobs.copied == 5 and len(waits) == 1


def test_503_on_blob_commit_is_retried(source, proxy, client, registry, waits, tmp_path):
    proxy.add(Fault("PUT", UPLOADS, status=503, times=2))
    dst = client.store(f"{proxy.host}/copyfault/503", push=True)
    copy(source[0], dst, waits)
    assert skopeo_raw(registry, "copyfault/503:v1") == source[1]
    skopeo_pulls(registry, "copyfault/503:v1", tmp_path)
    assert len(waits) == 2


def test_429_retry_after_on_the_stream_is_honoured(source, proxy, client, registry, waits):
    proxy.add(Fault("PATCH", UPLOADS, status=429, headers={"Retry-After": "1"}))
    dst = client.store(f"{proxy.host}/copyfault/429", push=True)
    copy(source[0], dst, waits)
    assert skopeo_raw(registry, "copyfault/429:v1") == source[1]
    assert waits == [1.0]


# ---------------------------------------------------------------- permanent


def test_500_on_the_index_put_leaves_no_tag(source, proxy, client, waits):
    proxy.add(Fault("PUT", r"/manifests/v1$", status=500, times=None))
    dst = client.store(f"{proxy.host}/copyfault/index500", push=True)
    with pytest.raises(RegistryError) as err:
        copy(source[0], dst, waits)
    assert str(err.value) == (
        f"registry {proxy.host}: PUT http://{proxy.host}/v2/copyfault/index500/manifests/v1 "
        "failed: HTTP 500"
    )
    assert dst.manifest_head("v1") is None
    assert proxy.count("PUT", r"/manifests/v1$") == 3


def test_500_on_the_index_put_keeps_the_old_tag(source, proxy, client, registry, waits, tmp_path):
    old, old_bytes = random_index(tmp_path / "old")
    dst = client.store(f"{proxy.host}/copyfault/keep", push=True)
    copy(old, dst, waits)
    proxy.add(Fault("PUT", r"/manifests/v1$", status=500, times=None))
    with pytest.raises(RegistryError):
        copy(source[0], dst, waits)
    assert skopeo_raw(registry, "copyfault/keep:v1") == old_bytes


def test_500_on_a_blob_puts_no_manifest(source, proxy, client, waits):
    proxy.add(Fault("PUT", UPLOADS, status=500, times=None))
    dst = client.store(f"{proxy.host}/copyfault/blob500", push=True)
    with pytest.raises(RegistryError) as err:
        copy(source[0], dst, waits)
    assert err.value.status == 500
    assert str(err.value).startswith(f"registry {proxy.host}: PUT http://{proxy.host}/v2/")
    assert str(err.value).endswith("failed: HTTP 500")
    assert proxy.count("PUT", r"/manifests/") == 0
    assert dst.manifest_head("v1") is None


# ---------------------------------------------------------------- bad bytes


@pytest.fixture(scope="module")
def registry2(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("copy-faults-registry2"))
    yield reg
    reg.stop()


@pytest.mark.parametrize("offset", [100, 5 * MiB])
def test_altered_source_bytes_are_refused_and_nothing_is_tagged(
    source, proxy, client, registry, registry2, waits, tmp_path, offset
):
    src = client.store(f"{registry.host}/copyfault/altered-src-{offset}", push=True)
    copy(source[0], src, waits)
    via_proxy = client.store(f"{proxy.host}/copyfault/altered-src-{offset}")
    # offset 100 breaks every blob (the first, smallest, is read whole before
    # upload); 5 MiB only the 6 MiB layer, caught at the end of a streamed PATCH.
    proxy.add(Fault("GET", r"/blobs/sha256:", action="alter", offset=offset, times=None))
    to_registry = client.store(f"{registry2.host}/copyfault/altered", push=True)
    to_layout = LayoutStore(tmp_path / "altered")
    for dst in (to_registry, to_layout):
        with pytest.raises(DigestMismatch) as err:
            copy(via_proxy, dst, waits)
        assert "content hashes to sha256:" in str(err.value)
        assert dst.manifest_head("v1") is None
    assert list(to_layout.tag_list()) == []
