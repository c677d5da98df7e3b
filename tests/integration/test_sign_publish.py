"""Publish with a signing key, on two real registries: signatures land between the two phases.

Every registry holds every index by digest before the first signature is
written, every signature is written before the first tag moves, a failed
signature moves no tag anywhere, and a re-run writes nothing.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from dockyard.errors import PublishFailed, RegistryError
from dockyard.evidence.sign.keys import SigningKey
from dockyard.pipeline.sign import check_store, publish_signer
from dockyard.publish.publish import publish
from dockyard.ref import parse_repository
from tests.helpers.registry import start_registry
from tests.integration.test_publish import (
    index_digest,
    item,
    make_client,
    make_layout,
    new_repo,
    storage_snapshot,
    tag_state,
)

pytestmark = pytest.mark.integration

TAGS = ("1.0.0", "latest")


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return make_layout(tmp_path_factory.mktemp("sign-publish-src"))


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("sign-publish-second"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def client():
    with make_client() as c:
        yield c


def test_signatures_land_after_every_index_and_before_any_tag(
    layout, registry, second, client, key
):
    repo = new_repo()
    hosts = (registry.host, second.host)
    digest = index_digest(layout, "v1")
    sign = publish_signer(key)
    seen = []

    def observed(store, repository, descriptors):
        # At this moment: every index is on every registry, and no tag of this run exists.
        for reg in (registry, second):
            assert tag_state(reg, repo, TAGS) == dict.fromkeys(TAGS)
            with make_client() as other:
                assert other.store(f"{reg.host}/{repo}").manifest_head(digest) is not None
        seen.append((str(repository), [str(d.digest) for d in descriptors]))
        return sign(store, repository, descriptors)

    result = publish([item(layout, "v1", hosts, repo, TAGS)], client=client, sign=observed)
    assert sorted(r for r, _ in seen) == sorted(f"{h}/{repo}" for h in hosts)
    assert all(d[-1] == digest and len(d) == 3 for _, d in seen)  # children first, the index last
    for r in result.repositories:
        assert r.state == "published" and dict(r.signatures) == {"signed": 3, "present": 0}
        assert r.to_json()["signatures"] == {"signed": 3, "present": 0}
    for reg in (registry, second):
        assert tag_state(reg, repo, TAGS) == dict.fromkeys(TAGS, digest)
        store = client.store(parse_repository(f"{reg.host}/{repo}"))
        checks = check_store(store, "latest", key.public)
        assert [c.ok for c in checks] == [True, True, True]
        assert {c.identity for c in checks} == {f"{reg.host}/{repo}"}  # each registry its own name

    # The same publish again: every signature is there; nothing is written anywhere.
    before = storage_snapshot(registry), storage_snapshot(second)
    again = publish([item(layout, "v1", hosts, repo, TAGS)], client=client, sign=sign)
    assert {r.state for r in again.repositories} == {"unchanged"}
    assert [dict(r.signatures) for r in again.repositories] == [{"signed": 0, "present": 3}] * 2
    assert (storage_snapshot(registry), storage_snapshot(second)) == before


def test_a_signature_that_fails_on_one_registry_moves_no_tag_anywhere(
    layout, registry, second, client, key
):
    repo = new_repo()
    hosts = (registry.host, second.host)
    sign = publish_signer(key)

    def failing(store, repository, descriptors):
        if repository.registry == second.host:
            raise RegistryError(f"{repository}: manifest PUT answered 500 (injected)", status=500)
        return sign(store, repository, descriptors)

    with pytest.raises(PublishFailed) as err:
        publish([item(layout, "v1", hosts, repo, TAGS)], client=client, sign=failing)
    message = str(err.value)
    assert message.startswith("publish failed before any tag moved")
    assert "no tag was changed on any registry" in message
    assert f"{second.host}/{repo}: failed: signing failed: " in message
    for reg in (registry, second):
        assert tag_state(reg, repo, TAGS) == dict.fromkeys(TAGS)
    states = {r.repository: r.state for r in err.value.result.repositories}
    assert states[f"{second.host}/{repo}"] == "failed"


def test_a_key_added_to_a_published_release_signs_it_without_moving_tags(
    layout, registry, client, key
):
    repo = new_repo()
    items = [item(layout, "v1", (registry.host,), repo, TAGS)]
    publish(items, client=client)
    result = publish(items, client=client, sign=publish_signer(key))
    [r] = result.repositories
    assert r.state == "published" and dict(r.signatures) == {"signed": 3, "present": 0}
    assert [t.outcome for t in r.tags] == ["unchanged", "unchanged"]


def test_without_a_key_nothing_is_signed(layout, registry, client):
    repo = new_repo()
    result = publish([item(layout, "v1", (registry.host,), repo, TAGS)], client=client)
    assert result.repositories[0].signatures is None
    assert result.repositories[0].to_json()["signatures"] is None
    with make_client() as other:
        assert not [
            t for t in other.store(f"{registry.host}/{repo}").tag_list() if t.endswith(".sig")
        ]
