"""Fault injection through the proxy: transient faults heal, permanent ones fail cleanly, bad bytes never land."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from dockyard.digest import sha256_digest
from dockyard.errors import DigestMismatch, RegistryError
from dockyard.oci import mediatypes as mt
from dockyard.oci.auth.credentials.env import env_credential_names
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import (
    EMPTY_DESCRIPTOR,
    EMPTY_JSON,
    Descriptor,
    build_index,
    build_manifest,
    descriptor_of,
)
from dockyard.oci.registry import RegistryClient
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.session import RegistryOptions, Timeouts
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.images import make_image, push_image
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
UPLOADS = r"/blobs/uploads/"


@pytest.fixture
def proxy(registry):
    with FaultProxy(registry.host) as p:
        yield p


@pytest.fixture
def client(waits):
    options = RegistryOptions(retry=RetryPolicy(attempts=3, base_delay=0.5, max_retry_after=60.0))
    with RegistryClient(options=options, environ={}, sleep=waits.append, now=lambda: NOW) as c:
        yield c


def creds(host, user, password):
    if not user:
        return {}
    user_var, password_var = env_credential_names(host)
    return {user_var: user, password_var: password}


def blob(size):
    data = os.urandom(size)
    return sha256_digest(data), data


def test_reset_mid_upload_restarts_with_a_new_session(proxy, client, registry, waits):
    image = make_image((6 * 1024 * 1024, 300))
    proxy.add(Fault("PATCH", UPLOADS, action="reset", after_bytes=1024 * 1024))
    store = client.store(f"{proxy.host}/faults/reset", push=True)
    push_image(store, image, tag="v1")
    assert skopeo_raw(registry, "faults/reset:v1") == image.manifest
    assert proxy.count("PATCH", UPLOADS) == 2  # the broken one, then one new session
    assert proxy.count("POST", UPLOADS) == 4  # 2 for the big blob, 1 each for the small ones
    total = sum(len(b) for b in image.blobs.values())
    assert proxy.body_bytes <= 2 * total + len(image.manifest)
    assert len(waits) == 1


def test_503_then_ok_is_retried_with_backoff(proxy, client, registry, waits):
    image = make_image((400,))
    proxy.add(Fault("PUT", r"/manifests/", status=503, times=2))
    push_image(client.store(f"{proxy.host}/faults/503", push=True), image, tag="v1")
    assert skopeo_raw(registry, "faults/503:v1") == image.manifest
    assert proxy.count("PUT", r"/manifests/") == 3
    assert len(waits) == 2
    assert 0.45 <= waits[0] <= 0.55 and 0.9 <= waits[1] <= 1.1  # jittered 0.5 s, 1 s


@pytest.mark.parametrize(
    "retry_after", ["2", format_datetime(NOW + timedelta(seconds=2), usegmt=True)]
)
def test_429_retry_after_is_honoured(proxy, client, registry, waits, retry_after):
    image = make_image((410,))
    proxy.add(
        Fault("PUT", r"/manifests/", status=429, headers={"Retry-After": retry_after}, times=2)
    )
    push_image(client.store(f"{proxy.host}/faults/429", push=True), image, tag="v1")
    assert skopeo_raw(registry, "faults/429:v1") == image.manifest
    assert waits == [2.0, 2.0]


def test_429_with_a_long_wait_fails_fast(proxy, client, waits):
    image = make_image((420,))
    store = client.store(f"{proxy.host}/faults/429-long", push=True)
    for digest, data in image.blobs.items():
        store.blob_put(digest, len(data), io.BytesIO(data))
    proxy.add(
        Fault(
            "PUT",
            r"/manifests/",
            status=429,
            headers={"Retry-After": "3600"},
            body=b"HAP429",
            times=None,
        )
    )
    with pytest.raises(RegistryError) as err:
        store.manifest_put(image.manifest, image.descriptor.media_type, tag="v1")
    assert str(err.value) == (
        f"registry {proxy.host}: PUT http://{proxy.host}/v2/faults/429-long/manifests/v1 failed: "
        "HTTP 429 (HAP429); the registry asks to wait 3600 s (Retry-After), more than the 60 s "
        "this client waits"
    )
    assert proxy.count("PUT", r"/manifests/") == 1
    assert waits == []


def test_permanent_500_fails_after_the_configured_attempts(proxy, client, waits):
    image = make_image((430,))
    store = client.store(f"{proxy.host}/faults/500", push=True)
    for digest, data in image.blobs.items():
        store.blob_put(digest, len(data), io.BytesIO(data))
    proxy.add(Fault("PUT", r"/manifests/", status=500, times=None))
    with pytest.raises(RegistryError) as err:
        store.manifest_put(image.manifest, image.descriptor.media_type, tag="v1")
    assert err.value.status == 500 and err.value.temporary
    assert str(err.value) == (
        f"registry {proxy.host}: PUT http://{proxy.host}/v2/faults/500/manifests/v1 failed: HTTP 500"
    )
    assert proxy.count("PUT", r"/manifests/") == 3
    assert len(waits) == 2
    assert store.manifest_head("v1") is None


def test_permanent_500_on_blob_commit_restarts_whole_uploads(proxy, client):
    digest, data = blob(5000)
    store = client.store(f"{proxy.host}/faults/500-blob", push=True)
    proxy.add(Fault("PUT", UPLOADS, status=500, times=None))
    with pytest.raises(RegistryError) as err:
        store.blob_put(digest, len(data), io.BytesIO(data))
    assert err.value.status == 500
    assert proxy.count("POST", UPLOADS) == 3  # a new session per attempt
    assert store.blob_exists(digest) is None


def test_501_is_not_retried(proxy, client, waits):
    store = client.store(f"{proxy.host}/faults/501")
    proxy.add(Fault("GET", r"/tags/list", status=501, times=None))
    with pytest.raises(RegistryError) as err:
        list(store.tag_list())
    assert err.value.status == 501 and not err.value.temporary
    assert proxy.count("GET", r"/tags/list") == 1 and waits == []


def test_lost_response_after_commit_is_not_reuploaded(proxy, client):
    digest, data = blob(7000)
    store = client.store(f"{proxy.host}/faults/lost", push=True)
    proxy.add(Fault("PUT", UPLOADS, action="drop_response"))
    store.blob_put(digest, len(data), io.BytesIO(data))
    assert store.blob_exists(digest) == 7000
    assert proxy.count("POST", UPLOADS) == 1


def test_upload_session_lost_starts_a_new_one(proxy, client):
    digest, data = blob(5 * 1024 * 1024)
    body = b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown"}]}'
    proxy.add(Fault("PATCH", UPLOADS, status=404, body=body))
    store = client.store(f"{proxy.host}/faults/unknown-upload", push=True)
    store.blob_put(digest, len(data), io.BytesIO(data))
    assert store.blob_exists(digest) == len(data)
    assert proxy.count("POST", UPLOADS) == 2


def test_stall_past_the_read_timeout_is_retried(registry, waits):
    proxy = FaultProxy(registry.host).start()
    try:
        digest, data = blob(100)
        options = RegistryOptions(timeouts=Timeouts(read=0.5), retry=RetryPolicy(base_delay=0.01))
        with RegistryClient(options=options, environ={}, sleep=waits.append) as c:
            store = c.store(f"{proxy.host}/faults/stall", push=True)
            store.blob_put(digest, len(data), io.BytesIO(data))
            proxy.add(Fault("HEAD", r"/blobs/sha256:", action="stall", seconds=1.5))
            assert store.blob_exists(digest) == 100
        assert proxy.count("HEAD", r"/blobs/") == 2 and len(waits) == 1
    finally:
        proxy.stop()


def test_altered_blob_bytes_are_never_stored(proxy, client, registry, tmp_path):
    digest, data = blob(3000)
    client.store(f"{registry.host}/faults/alter", push=True).blob_put(
        digest, len(data), io.BytesIO(data)
    )
    proxy.add(Fault("GET", r"/blobs/sha256:", action="alter", offset=1234))
    source = client.store(f"{proxy.host}/faults/alter")
    layout = LayoutStore(tmp_path / "oci")
    with pytest.raises(DigestMismatch) as err:
        layout.blob_put(digest, len(data), source.blob_open(digest, size=len(data)))
    assert "hashes to sha256:" in str(err.value) and str(digest) in str(err.value)
    assert layout.blob_exists(digest) is None


def test_truncated_blob_body_is_an_error(proxy, client, registry):
    digest, data = blob(200_000)
    client.store(f"{registry.host}/faults/trunc", push=True).blob_put(
        digest, len(data), io.BytesIO(data)
    )
    proxy.add(Fault("GET", r"/blobs/sha256:", action="truncate", after_bytes=1000))
    with pytest.raises((RegistryError, DigestMismatch)):
        client.store(f"{proxy.host}/faults/trunc").blob_open(digest).read()


def test_altered_manifest_is_refused(proxy, client, registry):
    image = make_image((440,))
    push_image(client.store(f"{registry.host}/faults/alter-m", push=True), image, tag="v1")
    proxy.add(Fault("GET", r"/manifests/", action="alter", offset=20, times=None))
    store = client.store(f"{proxy.host}/faults/alter-m")
    with pytest.raises(DigestMismatch):
        store.manifest_get(str(image.digest))
    with pytest.raises(DigestMismatch):
        store.manifest_get("v1")  # checked against Docker-Content-Digest


def test_blob_redirect_to_another_host_gets_no_authorization(token_registry, registry, tmp_path):
    """Bearer-authenticated GET on A answers 307 to B: B must never see Authorization."""
    digest, data = blob(4000)
    for reg in (token_registry, registry):
        with RegistryClient(environ=creds(reg.host, reg.username, reg.password)) as c:
            c.store(f"{reg.host}/redir/app", push=True).blob_put(digest, 4000, io.BytesIO(data))
    front, other = FaultProxy(token_registry.host).start(), FaultProxy(registry.host).start()
    try:
        target = f"http://{other.host}/v2/redir/app/blobs/{digest}"
        front.add(Fault("GET", r"/blobs/sha256:", status=307, headers={"Location": target}))
        env = creds(front.host, token_registry.username, token_registry.password)
        with RegistryClient(environ=env) as c:
            assert c.store(f"{front.host}/redir/app").blob_open(digest).read() == data
        blob_gets = [r for r in front.seen if r.method == "GET" and "/blobs/" in r.target]
        assert any(k.lower() == "authorization" for k in blob_gets[0].headers)
        assert other.count("GET", r"/blobs/") == 1
        assert not any(k.lower() == "authorization" for r in other.seen for k in r.headers)
    finally:
        front.stop()
        other.stop()


@pytest.mark.parametrize(
    ("location", "message"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "blob redirect http://169.254.169.254/latest/meta-data/ points at the private "
            "address 169.254.169.254, which is not the registry {host}; refusing",
        ),
        (
            "http://10.1.2.3:5000/v2/x?X-Amz-Signature=abc",
            "blob redirect http://10.1.2.3:5000/v2/x?X-Amz-Signature=REDACTED points at the "
            "private address 10.1.2.3, which is not the registry {host}; refusing",
        ),
    ],
)
def test_redirect_to_private_address_is_refused(proxy, client, location, message):
    digest, _ = blob(10)
    proxy.add(Fault("GET", r"/blobs/sha256:", status=307, headers={"Location": location}))
    with pytest.raises(RegistryError) as err:
        client.store(f"{proxy.host}/faults/redirect").blob_open(digest)
    assert str(err.value) == message.format(host=proxy.host)


def test_oversized_manifest_is_refused(proxy, client):
    big = b'{"schemaVersion":2,"x":"' + b"a" * (5 * 1024 * 1024) + b'"}'
    proxy.add(
        Fault(
            "GET",
            r"/manifests/",
            status=200,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
            body=big,
        )
    )
    with pytest.raises(RegistryError) as err:
        client.store(f"{proxy.host}/faults/huge").manifest_get("v1")
    assert str(err.value) == (
        f"{proxy.host}/faults/huge: manifest 'v1' is {len(big)} bytes, more than the "
        "4194304 allowed"
    )


# ---------------------------------------------------------------- a registry with the referrers API

EXAMPLE = "application/vnd.example+json"


def _artifact(subject, note: bytes):
    layer = descriptor_of(note, "application/json")
    raw, desc = build_manifest(
        EMPTY_DESCRIPTOR, [layer], artifact_type=EXAMPLE, subject=subject
    )
    return raw, desc, {EMPTY_DESCRIPTOR.digest: EMPTY_JSON, layer.digest: note}


def test_a_registry_with_the_referrers_api_is_asked_and_trusted(registry, proxy, client):
    """Registry 2.8 has no referrers API; the proxy plays one on top of it: GET referrers
    answers 200 with an index (filtered client-side, as the filter is optional), and a
    manifest PUT answered with OCI-Subject means no fallback tag is written."""
    store = client.store(f"{proxy.host}/faults/refapi", push=True)
    image = make_image((90,))
    push_image(store, image, tag="v1")
    raw, desc, blobs = _artifact(image.descriptor, b"{}")
    for digest, data in blobs.items():
        store.blob_put(digest, len(data), io.BytesIO(data))
    listed = Descriptor(desc.media_type, desc.digest, desc.size, artifact_type=EXAMPLE)
    other = Descriptor(mt.OCI_MANIFEST, image.digest, image.descriptor.size, artifact_type="a/b")
    body, _ = build_index([listed, other])
    proxy.add(
        Fault("GET", r"/referrers/", status=200, headers={"Content-Type": mt.OCI_INDEX}, body=body, times=None),
        Fault(
            "PUT", rf"/manifests/{desc.digest}", status=201,
            headers={"OCI-Subject": str(image.digest), "Docker-Content-Digest": str(desc.digest)},
        ),
    )  # fmt: skip
    assert store.referrer_put(raw, mt.OCI_MANIFEST) == desc.digest
    assert proxy.count("PUT", r"/manifests/sha256-") == 0  # the registry keeps the list
    assert proxy.count("GET", r"/manifests/sha256-") == 0
    found = store.referrers(image.digest, artifact_type=EXAMPLE)
    assert [d.digest for d in found] == [desc.digest]
    assert proxy.count("GET", r"/referrers/") == 1 and proxy.count("GET", r"/manifests/sha256-") == 0


def test_without_oci_subject_the_fallback_tag_is_written(registry, proxy, client):
    store = client.store(f"{proxy.host}/faults/refnoapi", push=True)
    image = make_image((91,))
    push_image(store, image, tag="v1")
    raw, desc, blobs = _artifact(image.descriptor, b"[]")
    for digest, data in blobs.items():
        store.blob_put(digest, len(data), io.BytesIO(data))
    proxy.reset()
    store.referrer_put(raw, mt.OCI_MANIFEST)
    assert proxy.count("PUT", rf"/manifests/sha256-{image.digest.hex}") == 1
    assert [d.digest for d in store.referrers(image.digest)] == [desc.digest]
    assert proxy.count("GET", r"/referrers/") == 1  # asked first: 404 from registry 2.8
