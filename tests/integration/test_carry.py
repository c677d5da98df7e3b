"""Evidence travels with the image: copy (layout <-> registry, registry -> registry) and
publish carry referrers and cosign tags; inspect lists them; skopeo reads what arrived.

The source: the busybox index (Debian's busybox-static, amd64 + arm64) with an SBOM
attached to its arm64 child, a note attached to the index, and a cosign signature
tag (`sha256-<index hex>.sig`, written by hand) beside it. Registry 2.8 has no
referrers API: everything goes through the `sha256-<hex>` fallback tags.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest

from dockyard.evidence.artifacts import attach, find
from dockyard.oci.attached import attached, cosign_tag
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import parse_manifest
from dockyard.oci.referrers import referrers_tag
from dockyard.oci.registry import RegistryClient
from dockyard.platform import parse_platform
from dockyard.publish.publish import PublishItem, publish
from dockyard.ref import parse_repository
from dockyard.verify.attach import attach_record
from dockyard.verify.record import RECORD_TYPE, Record, settings_hash
from tests.helpers.evidence import NOTE, SBOM, put_cosign_tag
from tests.helpers.faultproxy import FaultProxy
from tests.helpers.locations import copy_location
from tests.helpers.registry import start_registry
from tests.integration.conftest import skopeo_raw
from tests.integration.test_copy import make_busybox_layout

pytestmark = pytest.mark.integration

ARM64 = parse_platform("linux/arm64")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """(layout path, {name: digest}) of the busybox index and its evidence."""
    path, imported = make_busybox_layout(tmp_path_factory.mktemp("carry-src"))
    store = LayoutStore(path)
    index = imported.index
    arm = next(i.manifest for i in imported.images if i.platform == ARM64)
    sbom = attach(store, arm, artifact_type=SBOM, media_type=SBOM, data=b'{"spdxVersion":"SPDX-2.3"}')
    note = attach(store, index, artifact_type=NOTE, media_type=NOTE, data=b"reviewed")
    sig = put_cosign_tag(store, index.digest, ["ci"])
    return path, {"index": index.digest, "arm64": arm.digest, "sbom": sbom, "note": note, "sig": sig}


@pytest.fixture(scope="module")
def registry2(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("carry-registry2"))
    yield reg
    reg.stop()


@pytest.fixture
def client():
    with RegistryClient(environ={}) as c:
        yield c


def repo() -> str:
    return f"carry/{uuid.uuid4().hex[:10]}"


def list_tags(reg, repository: str) -> set[str]:
    proc = subprocess.run(
        ["skopeo", "list-tags", "--tls-verify=false", f"docker://{reg.host}/{repository}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout)["Tags"])


def evidence_tags(e) -> set[str]:
    return {referrers_tag(e["index"]), referrers_tag(e["arm64"]), cosign_tag(e["index"], "sig")}


def assert_all_there(store, e) -> None:
    """Found through the destination's own referrers list, checked (evidence.artifacts.find)."""
    [sbom] = find(store, e["arm64"], artifact_type=SBOM)
    assert sbom.manifest.digest == e["sbom"] and sbom.data == b'{"spdxVersion":"SPDX-2.3"}'
    [note] = find(store, e["index"], artifact_type=NOTE)
    assert note.manifest.digest == e["note"] and note.data == b"reviewed"
    assert store.manifest_head(cosign_tag(e["index"], "sig"))[0] == e["sig"]


def dockyard(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"}
    return subprocess.run([sys.executable, "-m", "dockyard", *args], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


# ---------------------------------------------------------------- copy, every direction


def test_layout_to_registry_then_registry_to_registry(source, registry, registry2, client):
    path, e = source
    first, second = repo(), repo()
    result = copy_location(f"oci:{path}:v1", f"{registry.host}/{first}:v1")
    ev = result.evidence
    assert (ev.referrers_copied, ev.tags_copied) == (2, 1)
    assert list_tags(registry, first) == {"v1", *evidence_tags(e)}  # skopeo sees the fallback tags
    assert_all_there(client.store(f"{registry.host}/{first}"), e)
    # skopeo reads the fallback list: an OCI index naming the SBOM, and the .sig byte for byte.
    listed = json.loads(skopeo_raw(registry, f"{first}:{referrers_tag(e['arm64'])}"))
    assert [m["digest"] for m in listed["manifests"]] == [str(e["sbom"])]
    assert listed["manifests"][0]["artifactType"] == SBOM
    sig_tag = cosign_tag(e["index"], "sig")
    assert skopeo_raw(registry, f"{first}:{sig_tag}") == LayoutStore(path).manifest_get(sig_tag)[0]

    onward = copy_location(f"{registry.host}/{first}:v1", f"{registry2.host}/{second}:v1")
    assert (onward.evidence.referrers_copied, onward.evidence.tags_copied) == (2, 1)
    assert list_tags(registry2, second) == {"v1", *evidence_tags(e)}
    assert_all_there(client.store(f"{registry2.host}/{second}"), e)


def test_registry_to_layout(source, registry, client, tmp_path):
    path, e = source
    pushed = repo()
    copy_location(f"oci:{path}:v1", f"{registry.host}/{pushed}:v1")
    result = copy_location(f"{registry.host}/{pushed}:v1", f"oci:{tmp_path / 'back'}:v1")
    assert (result.evidence.referrers_copied, result.evidence.tags_copied) == (2, 1)
    back = LayoutStore(tmp_path / "back")
    assert set(back.tag_list()) == {"v1", *evidence_tags(e)}
    assert_all_there(back, e)
    # skopeo reads the cosign image out of the layout too.
    sig = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{tmp_path / 'back'}:{cosign_tag(e['index'], 'sig')}"],
                         capture_output=True, timeout=60, check=True)  # fmt: skip
    assert sig.stdout == LayoutStore(path).manifest_get(cosign_tag(e["index"], "sig"))[0]


def test_within_one_registry_the_evidence_blobs_are_mounted(source, registry, client):
    path, e = source
    first, second = repo(), repo()
    copy_location(f"oci:{path}:v1", f"{registry.host}/{first}:v1")
    result = copy_location(f"{registry.host}/{first}:v1", f"{registry.host}/{second}:v1")
    assert result.blobs.copied == 0 and result.evidence.referrers_copied == 2
    assert_all_there(client.store(f"{registry.host}/{second}"), e)


def test_a_second_copy_sends_no_evidence_again(source, registry):
    path, e = source
    proxy = FaultProxy(registry.host).start()
    try:
        destination = f"{proxy.host}/{repo()}:v1"
        copy_location(f"oci:{path}:v1", destination)
        proxy.reset()
        again = copy_location(f"oci:{path}:v1", destination)
    finally:
        proxy.stop()
    assert again.up_to_date
    assert (again.evidence.referrers_skipped, again.evidence.tags_skipped) == (2, 1)
    assert again.evidence.copied == 0
    assert proxy.count("PUT") == 0 and proxy.count("POST") == 0 and proxy.body_bytes == 0
    # HEAD first: each referrer the destination lists is HEADed, never fetched.
    for digest in (e["sbom"], e["note"]):
        assert proxy.count("HEAD", f"/manifests/{digest}$") == 1
        assert proxy.count("GET", f"/manifests/{digest}$") == 0


def test_no_referrers_copies_none(source, registry):
    path, _ = source
    target = repo()
    proc = dockyard("copy", "--no-referrers", "--json", f"oci:{path}:v1", f"{registry.host}/{target}:v1")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["evidence"] is None
    assert list_tags(registry, target) == {"v1"}


def test_the_cli_line_counts_what_was_carried(source, registry):
    path, _ = source
    proc = dockyard("copy", f"oci:{path}:v1", f"{registry.host}/{repo()}:v1")
    assert proc.returncode == 0, proc.stderr
    assert "evidence: 2 referrers, 1 cosign tags carried;" in proc.stderr


# ---------------------------------------------------------------- inspect


def test_inspect_lists_the_evidence_of_the_index_and_of_each_image(source, registry):
    path, e = source
    target = repo()
    copy_location(f"oci:{path}:v1", f"{registry.host}/{target}:v1")
    proc = dockyard("inspect", "--json", f"{registry.host}/{target}:v1")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    [note] = doc["referrers"]
    assert (note["digest"], note["artifact_type"]) == (str(e["note"]), NOTE)
    assert "org.opencontainers.image.created" in note["annotations"]
    assert doc["cosign_tags"] == [
        {"tag": cosign_tag(e["index"], "sig"), "kind": "signatures", "digest": str(e["sig"]), "layers": 1}
    ]
    images = {i["platform"]: i for i in doc["images"]}
    assert [r["artifact_type"] for r in images["linux/arm64"]["referrers"]] == [SBOM]
    assert images["linux/amd64"]["referrers"] == [] and images["linux/amd64"]["cosign_tags"] == []

    human = dockyard("inspect", f"oci:{path}:v1")
    assert human.returncode == 0, human.stderr
    assert "Attached to the index:" in human.stderr
    assert f"referrer      {NOTE}  {e['note']}" in human.stderr
    assert f"cosign        {cosign_tag(e['index'], 'sig')}  signatures, 1 layers  {e['sig']}" in human.stderr
    assert f"  referrer      {SBOM}  {e['sbom']}" in human.stderr


# ---------------------------------------------------------------- publish


def test_publish_carries_the_layout_s_evidence_and_attaches_the_record_once(
    source, registry, registry2, client, tmp_path
):
    """The layout also holds the verification record publish attaches (as a layout filled by
    a reuse would): each registry ends with it once. A registry added to a later release
    gets what the first one has."""
    path, e = source
    layout = LayoutStore(tmp_path / "oci")
    copy_location(f"oci:{path}:v1", f"oci:{tmp_path / 'oci'}:v1")  # a layout of our own
    counts = {"error": 0, "warning": 0, "info": 0}
    record = Record(e["index"], settings_hash({}), {}, (), counts, "test", datetime(2026, 12, 1, tzinfo=UTC))
    recorded = attach_record(layout, record, parse_manifest(*layout.manifest_get("v1")).descriptor())
    name = repo()

    def release(hosts) -> dict[str, str]:
        repos = tuple(parse_repository(f"{h}/{name}") for h in hosts)
        item = PublishItem("app", layout, "v1", repos, ("1.0",), record=record)
        result = publish([item], client=client)
        assert result.ok, result
        return {r.repository: r.record for r in result.repositories}

    assert release((registry.host,)) == {f"{registry.host}/{name}": "present"}  # carried, not attached again
    assert release((registry.host, registry2.host)) == dict.fromkeys(
        (f"{registry.host}/{name}", f"{registry2.host}/{name}"), "present"
    )
    stores = [client.store(f"{h}/{name}") for h in (registry.host, registry2.host)]
    for store in stores:
        assert_all_there(store, e)
        assert [d.digest for d in store.referrers(e["index"], artifact_type=RECORD_TYPE)] == [recorded]
    first, added = ({d: attached(s, d) for d in (e["index"], e["arm64"])} for s in stores)
    assert first == added


def test_merge_carries_what_the_staging_repository_holds_for_each_child(source, registry, client):
    """The CI path: `build --push-by-digest` puts each platform image (and its evidence) in
    a staging repository; merge publishes an index served from memory over it (_WithIndex),
    and the evidence attached to the children there reaches the release repository."""
    from dockyard.oci.copy import copy_image
    from dockyard.oci.models import build_index
    from dockyard.pipeline.merge import _WithIndex

    path, e = source
    layout = LayoutStore(path)
    staging = client.store(f"{registry.host}/{repo()}", push=True)
    index = parse_manifest(*layout.manifest_get("v1"))
    for child in index.manifests:  # as push-by-digest does: each image by digest, no tag
        copy_image(layout, str(child.digest), staging, tag=None, digest=child.digest)
    assert [d.digest for d in staging.referrers(e["arm64"])] == [e["sbom"]]
    raw, desc = build_index(list(index.manifests))
    released = repo()
    item = PublishItem("app", _WithIndex(staging, raw, desc), str(desc.digest),
                       (parse_repository(f"{registry.host}/{released}"),), ("1.0",))  # fmt: skip
    assert publish([item], client=client).ok
    [sbom] = find(client.store(f"{registry.host}/{released}"), e["arm64"], artifact_type=SBOM)
    assert sbom.manifest.digest == e["sbom"]
