"""publish() refuses to move a tag to an older release: before anything is written, and again
just before the first tag moves (a run that finished meanwhile), against a real registry.

The two indexes of make_layout carry no version annotations: they are ordered by their
configs' `created` (v1: 2023, v2: 2027), the fallback for images dockyard did not build.
"""

from __future__ import annotations

import pytest

from dockyard.errors import PublishFailed
from dockyard.oci.registry import RegistryClient
from dockyard.publish.publish import publish
from tests.integration.test_publish import index_digest, item, make_layout, new_repo, tag_state

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    return make_layout(tmp_path_factory.mktemp("order-layout"))


def test_an_older_image_is_refused_before_anything_is_written(layout, registry):
    repo = new_repo()
    with RegistryClient(environ={}) as client:
        publish([item(layout, "v2", [registry.host], repo, ["latest"])], client=client)
        with pytest.raises(PublishFailed) as err:
            publish([item(layout, "v1", [registry.host], repo, ["latest", "v1"])], client=client)
        message = str(err.value)
        assert f"{registry.host}/{repo}:latest" in message and "--force" in message
        assert "2027" in message and "2023" in message  # both releases, by their created time
        assert tag_state(registry, repo, ["latest", "v1"]) == {
            "latest": index_digest(layout, "v2"), "v1": None
        }  # fmt: skip
        store = client.store(f"{registry.host}/{repo}")
        assert store.manifest_head(index_digest(layout, "v1")) is None  # not even by digest

        publish(
            [item(layout, "v1", [registry.host], repo, ["latest", "v1"])], client=client, force=True
        )
        assert tag_state(registry, repo, ["latest", "v1"]) == dict.fromkeys(
            ["latest", "v1"], index_digest(layout, "v1")
        )


def test_a_newer_release_landing_between_the_phases_stops_every_move(layout, registry):
    repo = new_repo()
    v2 = layout.manifest_get("v2")
    with RegistryClient(environ={}) as client:
        publish([item(layout, "v2", [registry.host], repo, ["keep"])], client=client)

        def newer_run_finishes(store, repository, descriptors):
            # Between phase 1 and phase 2 (the sign hook's place): another run moves latest to v2.
            store.manifest_put(v2[0], v2[1], tag="latest")
            return {}

        with pytest.raises(PublishFailed) as err:
            publish(
                [item(layout, "v1", [registry.host], repo, ["v1", "latest"])],
                client=client,
                sign=newer_run_finishes,
            )
        assert f"{registry.host}/{repo}:latest" in str(err.value)
        # v1 comes first in the move order and would have moved forwards: it did not.
        assert tag_state(registry, repo, ["v1", "latest"]) == {
            "v1": None, "latest": index_digest(layout, "v2")
        }  # fmt: skip
