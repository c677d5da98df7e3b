"""retain on a real registry: old tags and their manifests go, kept indexes keep every child,
protected tags stay, a registry that refuses deletes gets a clear message and exit 1."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid

import pytest

from dockyard.errors import Unsupported
from dockyard.oci import mediatypes as mt
from dockyard.oci.copy import copy_image
from dockyard.oci.imports import ImageSettings, RootfsSource, import_rootfs
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
from dockyard.platform import parse_platform
from dockyard.publish.retain import NEWEST, NOT_MATCHED, PROTECTED, SHARED, retain
from dockyard.ref import parse_repository
from tests.helpers.busybox import busybox_rootfs
from tests.helpers.evidence import put_cosign_tag
from tests.helpers.registry import start_registry
from tests.integration.test_publish import skopeo_pulls_all, storage_snapshot

pytestmark = pytest.mark.integration

DAY = 86_400
BASE = 1_700_000_000


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """A layout with indexes idx0..idx3 (created on days 0..3); idx3 shares its arm64 child with idx1.

    Returns (layout, {name: index digest}, {name: child digest})."""
    tmp = tmp_path_factory.mktemp("retain-src")
    store = LayoutStore(tmp / "oci")
    roots = {a: busybox_rootfs(a, tmp / f"root-{a}") for a in ("amd64", "arm64")}
    child = {}
    for day in range(4):
        for arch in ("amd64", "arm64"):
            source = RootfsSource(parse_platform(f"linux/{arch}"), roots[arch])
            result = import_rootfs([source], store, settings=ImageSettings(labels={"d": str(day)}),
                                   epoch=BASE + day * DAY)  # fmt: skip
            child[f"{arch}{day}"] = result.images[0].manifest
    plan = {"idx0": ("amd640", "arm640"), "idx1": ("amd641", "arm641"),
            "idx2": ("amd642", "arm642"), "idx3": ("amd643", "arm641")}  # fmt: skip
    digests = {}
    for name, parts in plan.items():
        data, desc = build_index([child[p] for p in parts])
        store.manifest_put(data, mt.OCI_INDEX, tag=name)
        digests[name] = desc.digest
    return store, digests, {k: v.digest for k, v in child.items()}


@pytest.fixture
def client():
    with RegistryClient(environ={}) as c:
        yield c


def push(layout, client, host: str, tags: dict[str, str]) -> str:
    repo = f"retain/{uuid.uuid4().hex[:10]}"
    for tag, index in tags.items():
        copy_image(layout, index, client.store(f"{host}/{repo}", push=True), tag=tag)
    return repo


def present(client, host, repo, reference) -> bool:
    return client.store(f"{host}/{repo}").manifest_head(str(reference)) is not None


TAGS = {"v0": "idx0", "v1": "idx1", "v2": "idx2", "v3": "idx3", "latest": "idx3"}


def test_keeps_newest_protected_and_every_child_of_a_kept_index(
    releases, registry, client, tmp_path
):
    layout, idx, child = releases
    repo = push(layout, client, registry.host, TAGS)
    result = retain(parse_repository(f"{registry.host}/{repo}"), keep=1, match=r"^v",
                    protect=("v2",), client=client)  # fmt: skip
    kept = [(t.tag, t.reason) for t in result.plan.kept]
    assert kept == [("v3", NEWEST), ("latest", NOT_MATCHED), ("v2", PROTECTED)]
    assert [t.tag for t in result.plan.deleted] == ["v1", "v0"]
    # Roots first, then the children no kept index references (arm641 is idx3's too).
    assert result.deleted_manifests == (
        idx["idx1"],
        idx["idx0"],
        child["amd641"],
        child["amd640"],
        child["arm640"],
    )
    store = client.store(f"{registry.host}/{repo}")
    assert sorted(store.tag_list()) == ["latest", "v2", "v3"]
    assert present(client, registry.host, repo, child["arm641"])
    for gone in (idx["idx0"], idx["idx1"], child["amd641"], child["amd640"], child["arm640"]):
        assert not present(client, registry.host, repo, gone)
    skopeo_pulls_all(registry, f"{repo}:v3", tmp_path / "v3")
    skopeo_pulls_all(registry, f"{repo}:v2", tmp_path / "v2")


def attach(client, host: str, repo: str, subject_digest, note: str):
    """An OCI 1.1 artifact referring to `subject_digest`, pushed as release attaches records."""
    store = client.store(f"{host}/{repo}", push=True)
    subject_head = store.manifest_head(str(subject_digest))
    subject = Descriptor(subject_head[2], subject_head[0], subject_head[1])
    blob = note.encode()
    layer = descriptor_of(blob, "application/json")
    store.blob_put(layer.digest, len(blob), io.BytesIO(blob))
    store.blob_put(EMPTY_DESCRIPTOR.digest, len(EMPTY_JSON), io.BytesIO(EMPTY_JSON))
    data, _ = build_manifest(
        EMPTY_DESCRIPTOR, [layer], artifact_type="application/vnd.example.note", subject=subject
    )
    return store.referrer_put(data, mt.OCI_MANIFEST)


def test_attached_records_stay_with_a_kept_index_and_go_with_a_deleted_one(
    releases, registry, client
):
    layout, idx, _ = releases
    repo = push(layout, client, registry.host, {"v1": "idx1", "v3": "idx3"})
    kept_note = attach(client, registry.host, repo, idx["idx3"], "kept")
    gone_note = attach(client, registry.host, repo, idx["idx1"], "gone")
    store = client.store(f"{registry.host}/{repo}")
    assert sorted(store.tag_list()) == sorted(
        ["v1", "v3", f"sha256-{idx['idx1'].hex}", f"sha256-{idx['idx3'].hex}"]
    )

    retain(parse_repository(f"{registry.host}/{repo}"), keep=1, match=None, client=client)
    assert sorted(store.tag_list()) == ["sha256-" + idx["idx3"].hex, "v3"]
    assert [d.digest for d in store.referrers(idx["idx3"])] == [kept_note]
    assert not present(client, registry.host, repo, gone_note)
    assert present(client, registry.host, repo, kept_note)


def test_cosign_tags_stay_with_a_kept_image_and_go_with_a_deleted_one(releases, registry, client):
    """sha256-<hex>.sig/.att beside the images they sign (as cosign writes them): a deleted
    image's go with it (its orphaned child's too), a kept image's stay; skopeo agrees."""
    layout, idx, child = releases
    repo = push(layout, client, registry.host, {"v1": "idx1", "v3": "idx3"})
    store = client.store(f"{registry.host}/{repo}", push=True)
    gone = {put_cosign_tag(store, idx["idx1"], ["v1"]): f"sha256-{idx['idx1'].hex}.sig",
            put_cosign_tag(store, child["amd641"], ["v1 amd64"], suffix="att"): f"sha256-{child['amd641'].hex}.att"}  # fmt: skip
    kept = {put_cosign_tag(store, idx["idx3"], ["v3"]): f"sha256-{idx['idx3'].hex}.sig",
            put_cosign_tag(store, child["arm641"], ["shared"]): f"sha256-{child['arm641'].hex}.sig"}  # fmt: skip

    result = retain(parse_repository(f"{registry.host}/{repo}"), keep=1, match=None, client=client)
    assert sorted(t.tag for t in result.plan.deleted) == sorted(["v1", *gone.values()])
    assert sorted(store.tag_list()) == sorted(["v3", *kept.values()])
    for digest in gone:
        assert not present(client, registry.host, repo, digest)
    for digest in kept:
        assert present(client, registry.host, repo, digest)
    listed = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{registry.host}/{repo}"],
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert sorted(json.loads(listed.stdout)["Tags"]) == sorted(["v3", *kept.values()])


def test_a_tag_sharing_a_kept_digest_is_kept(releases, registry, client):
    layout, _, _ = releases
    repo = push(
        layout,
        client,
        registry.host,
        {"v1": "idx1", "v1-again": "idx1", "v3": "idx3", "v0": "idx0"},
    )
    result = retain(parse_repository(f"{registry.host}/{repo}"), keep=2, match=None, client=client)
    assert [(t.tag, t.reason) for t in result.plan.kept] == [
        ("v3", NEWEST),
        ("v1-again", NEWEST),
        ("v1", SHARED),
    ]
    assert [t.tag for t in result.plan.deleted] == ["v0"]
    assert sorted(client.store(f"{registry.host}/{repo}").tag_list()) == ["v1", "v1-again", "v3"]


def test_dry_run_deletes_nothing(releases, registry, client):
    layout, idx, _ = releases
    repo = push(layout, client, registry.host, TAGS)
    before = storage_snapshot(registry)
    result = retain(parse_repository(f"{registry.host}/{repo}"), keep=1, match=r"^v",
                    dry_run=True, client=client)  # fmt: skip
    assert storage_snapshot(registry) == before
    assert result.deleted_manifests == ()
    assert [t.tag for t in result.plan.deleted] == ["v2", "v1", "v0"]
    assert result.plan.manifests[:3] == (idx["idx2"], idx["idx1"], idx["idx0"])
    assert result.to_json()["dry_run"] is True


@pytest.fixture(scope="module")
def no_delete_registry(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("retain-nodelete"), delete=False)
    yield reg
    reg.stop()


def test_registry_refusing_deletes_is_a_clear_error(releases, no_delete_registry, client):
    layout, idx, _ = releases
    host = no_delete_registry.host
    repo = push(layout, client, host, {"v0": "idx0", "v3": "idx3"})
    with pytest.raises(Unsupported) as err:
        retain(parse_repository(f"{host}/{repo}"), keep=1, client=client)
    assert str(err.value) == (
        f"retain {host}/{repo}: the registry refuses to delete manifests, 0 of 3 deleted before "
        f"that: registry {host}: DELETE http://{host}/v2/{repo}/manifests/{idx['idx0']} failed: "
        "HTTP 405 UNSUPPORTED (The operation is unsupported.) (a CNCF distribution registry "
        "needs storage.delete.enabled: true; Docker Hub and GHCR delete only through their own web APIs: --api dockerhub, --api github)"
    )
    assert sorted(client.store(f"{host}/{repo}").tag_list()) == ["v0", "v3"]


def test_cli_exit_codes_and_json(releases, registry, no_delete_registry, client):
    layout, _, _ = releases
    repo = push(layout, client, registry.host, {"v0": "idx0", "v3": "idx3"})
    cli = [sys.executable, "-m", "dockyard", "retain"]
    ok = subprocess.run([*cli, f"{registry.host}/{repo}", "--keep", "1", "--json"],
                        capture_output=True, text=True, timeout=60)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    import json

    doc = json.loads(ok.stdout)
    assert [t["tag"] for t in doc["deleted"]] == ["v0"] and doc["dry_run"] is False
    host = no_delete_registry.host
    repo = push(layout, client, host, {"v0": "idx0", "v3": "idx3"})
    refused = subprocess.run([*cli, f"{host}/{repo}", "--keep", "1"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith(
        f"error: retain {host}/{repo}: the registry refuses to delete manifests"
    )
    assert refused.stderr.count("\n") == 1
    bad = subprocess.run([*cli, f"{registry.host}/{repo}:v1", "--keep", "1"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr == (
        f"error: '{registry.host}/{repo}:v1' is not a repository: it has a tag (':v1') "
        "(expected [registry/]repository, e.g. ghcr.io/acme/api)\n"
    )
