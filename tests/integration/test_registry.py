"""RegistryStore against real docker-registry 2.8 instances, with skopeo as the independent reader."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys

import pytest

from dockyard.digest import sha256_digest
from dockyard.errors import DigestMismatch, NotFound, ReferrersInvalid, RegistryError
from dockyard.oci import mediatypes as mt
from dockyard.oci.auth.credentials.env import env_credential_names
from dockyard.oci.models import (
    EMPTY_DESCRIPTOR,
    EMPTY_JSON,
    build_index,
    build_manifest,
    descriptor_of,
    parse_manifest,
)
from dockyard.oci.registry import RegistryClient, RegistryStore
from dockyard.oci.session import RegistryOptions
from dockyard.oci.store import Store
from tests.helpers.images import make_image, push_image
from tests.integration.conftest import skopeo_json, skopeo_raw

pytestmark = pytest.mark.integration


def env_for(reg, user=None, password=None):
    """Credentials for `reg` through the DOCKYARD_REGISTRY_<HOST>_* variables only."""
    if not reg.username and user is None:
        return {}
    user_var, password_var = env_credential_names(reg.host)
    return {user_var: user or reg.username, password_var: password or reg.password}


def client_for(reg, environ=None, **options):
    if reg.ca_cert:
        options.setdefault("ca_cert", str(reg.ca_cert))
    env = env_for(reg) if environ is None else environ
    return RegistryClient(options=RegistryOptions(**options), environ=env)


@pytest.fixture(params=["registry", "auth_registry", "token_registry", "tls_registry"])
def any_registry(request):
    return request.getfixturevalue(request.param)


def test_store_protocol():
    assert issubclass(RegistryStore, Store)


def test_push_pull_each_variant_read_by_skopeo(any_registry):
    reg = any_registry
    image = make_image((1000, 5 * 1024 * 1024))  # one monolithic, one streamed upload
    with client_for(reg) as client:
        store = client.store(f"{reg.host}/team/app", push=True)
        digest = push_image(store, image, tag="v1")
        assert digest == image.digest
        assert store.manifest_head("v1") == (image.digest, len(image.manifest), mt.OCI_MANIFEST)
        assert store.manifest_get(str(image.digest)) == (image.manifest, mt.OCI_MANIFEST)
        for blob_digest, data in image.blobs.items():
            assert store.blob_exists(blob_digest) == len(data)
            with store.blob_open(blob_digest) as stream:
                assert stream.read() == data
    assert skopeo_raw(reg, "team/app:v1") == image.manifest


def test_index_push_and_tag_listing_with_pagination(registry):
    images = [make_image((100 + i,)) for i in range(2)]
    with client_for(registry) as client:
        store = client.store(f"{registry.host}/team/index", push=True)
        children = [img.descriptor for img in images]
        for img in images:
            push_image(store, img)
        raw, desc = build_index(children)
        for tag in ("a", "b", "c", "d", "e"):
            assert store.manifest_put(raw, desc.media_type, tag=tag) == desc.digest
        assert sorted(store.tag_list(page_size=2)) == ["a", "b", "c", "d", "e"]
        assert sorted(store.tag_list()) == ["a", "b", "c", "d", "e"]
        assert list(client.store(f"{registry.host}/team/never-pushed").tag_list()) == []
    doc = skopeo_json(registry, "team/index:c")
    assert [m["digest"] for m in doc["manifests"]] == [str(i.digest) for i in images]


def test_missing_things(registry):
    image = make_image((10,))
    with client_for(registry) as client:
        store = client.store(f"{registry.host}/team/missing")
        assert store.blob_exists(image.digest) is None
        assert store.manifest_head("nope") is None
        with pytest.raises(NotFound) as err:
            store.manifest_get("nope")
        assert str(err.value) == f"{registry.host}/team/missing: no manifest 'nope'"
        with pytest.raises(NotFound):
            store.blob_open(image.digest)


def test_mount_across_repositories(registry):
    image = make_image((2000,))
    layer = next(d for d, b in image.blobs.items() if len(b) == 2000)
    with client_for(registry) as client:
        source = client.store(f"{registry.host}/team/mount-src", push=True)
        push_image(source, image, tag="v1")
        dest = client.store(f"{registry.host}/team/mount-dst", push=True)
        assert dest.blob_exists(layer) is None
        assert dest.blob_mount(layer, "team/mount-src") is True
        assert dest.blob_exists(layer) == 2000
        # A blob the source lacks: 202, the session is kept and used by blob_put.
        data = os.urandom(300)
        digest = sha256_digest(data)
        assert dest.blob_mount(digest, f"{registry.host}/team/mount-src") is False
        dest.blob_put(digest, len(data), io.BytesIO(data))
        assert dest.blob_exists(digest) == 300
        assert dest.blob_mount(digest, "other.example/team/x") is False


def test_mount_with_token_auth_needs_pull_on_source(token_registry):
    reg = token_registry
    image = make_image((500,))
    layer = next(d for d, b in image.blobs.items() if len(b) == 500)
    with client_for(reg) as client:
        push_image(client.store(f"{reg.host}/a/src", push=True), image, tag="v1")
        assert client.store(f"{reg.host}/a/dst", push=True).blob_mount(layer, "a/src") is True
    scopes = [t for _, t in reg.token_server.requests if "a%2Fsrc" in t and "a%2Fdst" in t]
    assert scopes, "the mount token asks for both repositories"


def test_large_blob_streams_through(registry):
    size = 20 * 1024 * 1024
    data = os.urandom(size)
    digest = sha256_digest(data)
    with client_for(registry) as client:
        store = client.store(f"{registry.host}/team/big", push=True)
        store.blob_put(digest, size, io.BytesIO(data))
        assert store.blob_exists(digest) == size
        h = hashlib.sha256()
        with store.blob_open(digest, size=size) as stream:
            while chunk := stream.read(1024 * 1024):
                h.update(chunk)
        assert h.hexdigest() == digest.hex


def test_chunked_upload_fallback(registry):
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest = sha256_digest(data)
    with client_for(registry, chunk_size=1024 * 1024) as client:
        store = client.store(f"{registry.host}/team/chunked", push=True)
        store.blob_put(digest, len(data), io.BytesIO(data))
        assert store.blob_open(digest).read() == data


def test_source_bytes_not_matching_digest_are_refused(registry):
    data = os.urandom(5 * 1024 * 1024)
    wrong = sha256_digest(b"something else")
    with client_for(registry) as client:
        store = client.store(f"{registry.host}/team/refuse", push=True)
        with pytest.raises(DigestMismatch):
            store.blob_put(wrong, len(data), io.BytesIO(data))
        with pytest.raises(DigestMismatch) as err:
            store.blob_put(wrong, 10, io.BytesIO(b"0123456789"))
        assert str(err.value) == (
            f"{registry.host}/team/refuse: blob {wrong}: the source gave 10 bytes hashing to "
            f"{sha256_digest(b'0123456789')}, expected 10 bytes of {wrong}"
        )
        assert store.blob_exists(wrong) is None


def test_manifest_delete(registry):
    image = make_image((50,))
    with client_for(registry) as client:
        store = client.store(f"{registry.host}/team/delete", push=True)
        push_image(store, image, tag="gone")
        store.manifest_delete(image.digest)
        assert store.manifest_head(str(image.digest)) is None
        with pytest.raises(NotFound):
            store.manifest_delete(image.digest)


def make_referrer(subject, text: bytes, artifact_type: str = "application/vnd.example+json"):
    """An OCI 1.1 artifact referring to `subject`: empty config, one JSON layer. (manifest, blobs)"""
    layer = descriptor_of(text, "application/json")
    raw, _ = build_manifest(
        EMPTY_DESCRIPTOR, [layer], artifact_type=artifact_type, subject=subject.descriptor,
        annotations={"org.example.note": text.decode()},
    )  # fmt: skip
    return raw, {EMPTY_DESCRIPTOR.digest: EMPTY_JSON, layer.digest: text}


def put_referrer(store, subject, text: bytes, artifact_type: str = "application/vnd.example+json"):
    raw, blobs = make_referrer(subject, text, artifact_type)
    for digest, data in blobs.items():
        store.blob_put(digest, len(data), io.BytesIO(data))
    return store.referrer_put(raw, mt.OCI_MANIFEST)


def test_referrers_through_the_fallback_tag_on_registry_2_8(any_registry):
    """Registry 2.8 has no referrers API: referrer_put keeps the `sha256-<hex>` index
    (read-modify-write, no duplicates) and referrers() reads it; skopeo reads it too."""
    reg = any_registry
    subject = make_image((60,))
    with client_for(reg) as client:
        store = client.store(f"{reg.host}/team/refs", push=True)
        push_image(store, subject, tag="v1")
        assert store.referrers(subject.digest) == []
        first = put_referrer(store, subject, b'{"n":1}')
        second = put_referrer(store, subject, b'{"n":2}', "application/vnd.other+json")
        assert put_referrer(store, subject, b'{"n":1}') == first  # listed once
        found = store.referrers(subject.digest)
        assert [d.digest for d in found] == [first, second]
        assert [d.artifact_type for d in found] == [
            "application/vnd.example+json", "application/vnd.other+json",
        ]  # fmt: skip
        assert found[0].annotations == {"org.example.note": '{"n":1}'}
        assert [
            d.digest
            for d in store.referrers(subject.digest, artifact_type="application/vnd.other+json")
        ] == [second]
        # The referrer itself is stored by digest, its subject intact.
        raw, _ = store.manifest_get(str(first))
        assert parse_manifest(raw).subject.digest == subject.digest
    # skopeo reads the fallback tag as an OCI index of the two referrers.
    listed = skopeo_json(reg, f"team/refs:sha256-{subject.digest.hex}")
    assert listed["mediaType"] == mt.OCI_INDEX
    assert [m["digest"] for m in listed["manifests"]] == [str(first), str(second)]
    assert listed["manifests"][1]["artifactType"] == "application/vnd.other+json"


def test_referrers_refuses_a_fallback_tag_that_is_not_an_index(registry):
    subject = make_image((62,))
    with client_for(registry) as client:
        store = client.store(f"{registry.host}/team/refs-bad", push=True)
        push_image(store, subject, tag="v1")
        push_image(store, make_image((63,)), tag=f"sha256-{subject.digest.hex}")
        with pytest.raises(ReferrersInvalid, match="not an OCI index of referrers"):
            store.referrers(subject.digest)
        with pytest.raises(ReferrersInvalid):
            put_referrer(store, subject, b"{}")


def test_anonymous_token_pulls_but_cannot_push(token_registry):
    reg = token_registry
    image = make_image((70,))
    with client_for(reg) as client:
        push_image(client.store(f"{reg.host}/anon/app", push=True), image, tag="v1")
    with client_for(reg, environ={}) as anonymous:
        store = anonymous.store(f"{reg.host}/anon/app")
        assert store.manifest_get("v1")[0] == image.manifest
        data = b"x" * 100
        with pytest.raises(RegistryError) as err:
            store.blob_put(sha256_digest(data), 100, io.BytesIO(data))
        assert err.value.status == 401
        assert f"check the credentials for {reg.host}" in str(err.value)


def test_token_cached_per_scope(token_registry):
    reg = token_registry
    image = make_image((80, 81))
    before = len(reg.token_server.requests)
    with client_for(reg) as client:
        push_image(client.store(f"{reg.host}/cache/app", push=True), image, tag="v1")
    assert len(reg.token_server.requests) - before == 1


@pytest.mark.parametrize("variant", ["auth_registry", "token_registry"])
def test_bad_credentials_fail_without_leaking(request, variant):
    reg = request.getfixturevalue(variant)
    wrong = "wr0ng-Secret-value"
    env = env_for(reg, user=reg.username, password=wrong)
    with client_for(reg, environ=env) as client, pytest.raises(RegistryError) as err:
        list(client.store(f"{reg.host}/team/app").tag_list())
    message = str(err.value)
    assert wrong not in message and "d3Jvbmct" not in message
    if variant == "auth_registry":
        assert message == (
            f"registry {reg.host}: GET http://{reg.host}/v2/team/app/tags/list failed: "
            f"HTTP 401 UNAUTHORIZED (authentication required); check the credentials for {reg.host}"
        )
    else:
        realm = reg.token_server.realm
        assert message == (
            f"token server {realm} answered HTTP 401 for repository:team/app:pull "
            "(check the credentials)"
        )


def test_cli_bad_credentials_exit_1_no_secret(auth_registry):
    reg = auth_registry
    wrong = "cli-wr0ng-Secret"
    env = {**os.environ, **env_for(reg, user=reg.username, password=wrong)}
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", "inspect", "--raw", f"{reg.host}/team/app:v1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"error: registry {reg.host}: GET ")
    assert "HTTP 401 UNAUTHORIZED" in proc.stderr
    assert wrong not in proc.stderr + proc.stdout


def test_tls_registry_needs_its_ca(tls_registry):
    reg = tls_registry
    with RegistryClient(environ={}) as client, pytest.raises(RegistryError) as err:
        client.store(f"{reg.host}/team/app").blob_exists(sha256_digest(b""))
    assert str(err.value).startswith(f"registry {reg.host}: TLS certificate not trusted (")
    assert str(err.value).endswith(
        f"pass --ca-cert FILE, or --insecure-registry {reg.host} to skip verification"
    )
    with RegistryClient(
        options=RegistryOptions(insecure_registries=frozenset({reg.host})), environ={}
    ) as client:
        assert client.store(f"{reg.host}/team/app").blob_exists(sha256_digest(b"")) is None


def test_plain_http_on_loopback_without_flags(registry):
    with RegistryClient(environ={}) as client:
        store = client.store(f"{registry.host}/team/plain")
        assert store.manifest_head("nothing") is None
        assert client.session.host(registry.host).base_url == f"http://{registry.host}"
