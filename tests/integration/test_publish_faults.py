"""publish through the fault proxy: permanent faults leave every tag as it was, transient ones heal,
a failed tag move puts back what this run moved."""

from __future__ import annotations

import pytest

from dockyard.errors import EXIT_FAILED, PublishFailed
from dockyard.oci.copy import copy_image
from dockyard.publish import journal as jn
from dockyard.publish.publish import publish
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.registry import start_registry
from tests.integration.conftest import skopeo_raw
from tests.integration.test_publish import (
    index_digest,
    item,
    make_client,
    make_layout,
    new_repo,
    skopeo_pulls_all,
    tag_state,
)

pytestmark = pytest.mark.integration

OLD_TAGS = ("edge", "latest")
NEW_TAGS = ("2.0", "edge", "latest")
ALL_TAGS = ("2.0", "edge", "latest")


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return make_layout(tmp_path_factory.mktemp("faults-src"))


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("faults-second"))
    yield reg
    reg.stop()


@pytest.fixture
def proxy(second):
    with FaultProxy(second.host) as p:
        yield p


@pytest.fixture
def client(waits):
    with make_client(waits) as c:
        yield c


@pytest.fixture
def released(layout, registry, proxy, client):
    """A repository on both registries with v1 under `edge` and `latest`; returns its name."""
    repo = new_repo()
    publish([item(layout, "v1", (registry.host, proxy.host), repo, OLD_TAGS)], client=client)
    proxy.reset()
    return repo


def run(layout, registry, proxy, client, repo, waits, reference="v2", tags=NEW_TAGS):
    return publish(
        [item(layout, reference, (registry.host, proxy.host), repo, tags)],
        client=client,
        sleep=waits.append,
    )


# ---------------------------------------------------------------- phase 1: permanent


@pytest.mark.parametrize(
    ("method", "path", "what"),
    [
        ("PUT", r"/manifests/sha256:", "manifest PUT by digest"),
        ("PUT", r"/blobs/uploads/", "blob upload"),
    ],
)
def test_second_registry_failing_in_phase1_moves_no_tag_anywhere(
    layout, registry, second, proxy, client, waits, released, method, path, what
):
    before = tag_state(registry, released, ALL_TAGS), tag_state(second, released, ALL_TAGS)
    proxy.add(Fault(method, path, status=500, times=None))
    with pytest.raises(PublishFailed) as err:
        run(layout, registry, proxy, client, released, waits)
    assert (tag_state(registry, released, ALL_TAGS), tag_state(second, released, ALL_TAGS)) == before
    assert proxy.count("PUT", r"/manifests/(2\.0|edge|latest)$") == 0
    assert err.value.exit_code == EXIT_FAILED
    v2 = index_digest(layout, "v2")
    message = str(err.value)
    assert message.startswith(
        "publish failed before any tag moved (phase 1, content by digest); "
        f"no tag was changed on any registry; {registry.host}/{released}: complete by digest "
        f"sha256:{v2[7:19]}, untagged; "
        f"{proxy.host}/{released}: failed: "
    )
    assert "HTTP 500" in message and "\n" not in message
    states = {r.repository: r.state for r in err.value.result.repositories}
    assert states == {
        f"{registry.host}/{released}": "pushed by digest, no tag moved",
        f"{proxy.host}/{released}": "failed",
    }
    assert not err.value.result.ok


def test_rerun_after_phase1_failure_uploads_nothing_again_to_the_first(
    layout, registry, proxy, client, waits, released
):
    proxy.add(Fault("PUT", r"/manifests/sha256:", status=500, times=None))
    with pytest.raises(PublishFailed):
        run(layout, registry, proxy, client, released, waits)
    proxy.reset()
    result = run(layout, registry, proxy, client, released, waits)
    first, other = result.repositories
    assert first.blobs.copied == 0 and first.manifests.copied == 0
    assert first.tags_moved == NEW_TAGS and other.tags_moved == NEW_TAGS


def test_child_accepted_but_not_stored_is_caught_before_any_tag(
    layout, registry, second, proxy, client, waits, released
):
    """The proxy answers 201 to a child manifest PUT that never reaches the registry."""
    v2 = layout.manifest_get("v2")[0]
    from dockyard.oci.models import parse_manifest

    child = parse_manifest(v2).manifests[0].digest
    proxy.add(Fault("PUT", rf"/manifests/{child}$", status=201,
                    headers={"Docker-Content-Digest": str(child)}, times=None))  # fmt: skip
    before = tag_state(second, released, ALL_TAGS)
    with pytest.raises(PublishFailed) as err:
        run(layout, registry, proxy, client, released, waits)
    assert tag_state(second, released, ALL_TAGS) == before
    assert proxy.count("PUT", r"/manifests/(2\.0|edge|latest)$") == 0
    assert f"{proxy.host}/{released}: failed: " in str(err.value)


# ---------------------------------------------------------------- transient


@pytest.mark.parametrize(
    "fault",
    [
        Fault("PUT", r"/blobs/uploads/.*digest=", action="reset", after_bytes=65536),
        Fault("PUT", r"/blobs/uploads/", status=503, times=2),
        Fault("PUT", r"/manifests/sha256:", status=429, headers={"Retry-After": "2"}),
        Fault("PUT", r"/manifests/edge$", status=503),
        Fault("PUT", r"/manifests/latest$", status=429, headers={"Retry-After": "1"}, times=2),
    ],
    ids=["reset", "503-blob", "429-index", "503-tag", "429-tag"],
)
def test_transient_faults_heal(layout, registry, second, proxy, client, waits, released, tmp_path, fault):
    proxy.add(fault)
    result = run(layout, registry, proxy, client, released, waits)
    assert fault.fired >= 1 and waits
    v2 = index_digest(layout, "v2")
    for reg in (registry, second):
        assert tag_state(reg, released, ALL_TAGS) == dict.fromkeys(ALL_TAGS, v2)
    skopeo_pulls_all(second, f"{released}:latest", tmp_path / "pulled")
    assert all(r.tags_moved == NEW_TAGS for r in result.repositories)
    if fault.status == 429 and fault.headers:
        assert float(fault.headers["Retry-After"]) in waits


# ---------------------------------------------------------------- phase 2


def test_tag_move_failing_on_the_second_registry_puts_the_first_back(
    layout, registry, second, proxy, client, waits, released
):
    v1, v2 = index_digest(layout, "v1"), index_digest(layout, "v2")
    proxy.add(Fault("PUT", r"/manifests/edge$", status=500, times=None))
    with pytest.raises(PublishFailed) as err:
        run(layout, registry, proxy, client, released, waits)
    # Moves so far: 2.0@A, 2.0@B, edge@A, then edge@B failed. Pre-existing tags restored;
    # 2.0 was new everywhere and the new index was this run's own: deleted by digest.
    want = {"2.0": None, "edge": v1, "latest": v1}
    assert tag_state(registry, released, ALL_TAGS) == want
    assert tag_state(second, released, ALL_TAGS) == want
    assert skopeo_raw(registry, f"{released}:edge") == layout.manifest_get("v1")[0]
    a, b = f"{registry.host}/{released}", f"{proxy.host}/{released}"
    assert str(err.value) == (
        f"publish failed moving tag {b}:edge (registry {proxy.host}: PUT "
        f"http://{proxy.host}/v2/{released}/manifests/edge failed: HTTP 500); every tag this run "
        f"moved was rolled back where possible, the state now: "
        f"{a}: 2.0 (new) removed again, edge restored to sha256:{v1[7:19]}; "
        f"{b}: 2.0 (new) removed again"
    )
    outcomes = {
        r.repository: [(t.tag, t.outcome) for t in r.tags] for r in err.value.result.repositories
    }
    assert outcomes == {
        a: [("2.0", jn.DELETED), ("edge", jn.RESTORED), ("latest", jn.NOT_MOVED)],
        b: [("2.0", jn.DELETED), ("edge", jn.NOT_MOVED), ("latest", jn.NOT_MOVED)],
    }
    assert {r.state for r in err.value.result.repositories} == {"rolled back"}
    assert v2  # the new index is gone from both: a re-run pushes it again
    proxy.reset()
    again = run(layout, registry, proxy, client, released, waits)
    assert all(r.tags_moved == NEW_TAGS for r in again.repositories)


def test_new_tag_on_an_index_another_tag_holds_is_left_at_the_new_index(
    layout, registry, second, proxy, client, waits, released
):
    """Registry 2.8 cannot delete a tag, only a manifest by digest (every tag on it goes too):
    a new tag on an index that another tag already holds stays, and says so."""
    v1, v2 = index_digest(layout, "v1"), index_digest(layout, "v2")
    first = client.store(f"{registry.host}/{released}", push=True)
    copy_image(layout, "v2", first, tag="sha-2")  # v2 already released there as sha-2
    proxy.add(Fault("PUT", r"/manifests/latest$", status=500, times=None))
    with pytest.raises(PublishFailed) as err:
        run(layout, registry, proxy, client, released, waits)
    tags = (*ALL_TAGS, "sha-2")
    assert tag_state(registry, released, tags) == {"2.0": v2, "edge": v1, "latest": v1, "sha-2": v2}
    assert tag_state(second, released, tags) == {"2.0": None, "edge": v1, "latest": v1, "sha-2": None}
    a, b = f"{registry.host}/{released}", f"{proxy.host}/{released}"
    results = {r.repository: r for r in err.value.result.repositories}
    left = results[a].tags[0]
    assert (left.tag, left.outcome, str(left.digest)) == ("2.0", jn.LEFT, v2)
    assert left.detail == "the index was in the repository before this run"
    assert results[a].state == "partly rolled back" and results[b].state == "rolled back"
    message = str(err.value)
    assert message.endswith(
        f"the state now: {a}: 2.0 (new) left pointing at the new, verified index "
        f"sha256:{v2[7:19]} (the index was in the repository before this run), "
        f"edge restored to sha256:{v1[7:19]}, latest restored to sha256:{v1[7:19]}; "
        f"{b}: 2.0 (new) removed again, edge restored to sha256:{v1[7:19]}"
    )
