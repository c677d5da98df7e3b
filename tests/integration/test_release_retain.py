"""[retain] after a release: real `dockyard release` runs (buildah) to a real registry, pruned
through the GitHub Packages API of tests/helpers/hostedapi.py (the documented endpoints, served
locally: no hosted service is reachable here). The release's own tags always stay."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from dockyard.oci.registry import RegistryClient
from tests.helpers.hostedapi import TOKEN, HostedApi
from tests.helpers.registry import start_registry
from tests.integration import test_release
from tests.integration.test_release import NON_ROOT, commit, dockyard_release, tag_digests

pytestmark = pytest.mark.integration

base = test_release.base  # the busybox base index, in the session registry
env = test_release.env  # a buildah storage of this module's own


@pytest.fixture(scope="module")
def hosted_registry(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("release-retain-registry"))
    yield reg
    reg.stop()


def retain_project(root: Path, base_ref: str, host: str) -> tuple[str, str]:
    """(commit sha, repository) of a one-target project whose [retain] keeps 1 tag via GitHub."""
    prefix = (
        f"{host}/acme/{uuid.uuid4().hex[:8]}"  # owner acme (an organisation), package <hex>/app
    )
    (root / "app").mkdir(parents=True)
    (root / "app" / "Dockerfile").write_text(NON_ROOT)
    (root / "app" / "file.txt").write_text("app\n")
    (root / "dockyard.toml").write_text(
        "\n".join(
            [
                "[project]",
                'name = "pruned"',
                'platforms = ["linux/amd64"]',
                f"registries = {json.dumps([prefix])}",
                "[tags]",
                'rules = ["type=semver,pattern={{version}}"]',
                'flavor = ["latest=auto"]',
                "[retain]",
                "keep = 1",
                'api = "github"',
                "[targets.app]",
                'context = "app"',
                f'args = {{ BASE = "{base_ref}" }}',
                "",
            ]
        )
    )
    return commit(root), f"{prefix}/app"


def test_a_release_with_retain_prunes_older_releases_through_the_github_api(
    tmp_path, base, hosted_registry, env
):
    api = HostedApi(hosted_registry, orgs={"acme"})
    try:
        sha, repo = retain_project(tmp_path, base, hosted_registry.host)
        extra = {"GITHUB_TOKEN": TOKEN, "DOCKYARD_GITHUB_API_URL": api.url}
        first = dockyard_release(env, tmp_path, sha, "v1.0.0", "--json", **extra)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["retain"][0]["deleted"] == []  # its own tags stay
        old = tag_digests(hosted_registry, repo)["1.0.0"]

        second = dockyard_release(env, tmp_path, sha, "v1.1.0", "--json", **extra)
        assert second.returncode == 0, second.stderr
        assert TOKEN not in second.stdout + second.stderr
        doc = json.loads(second.stdout)
        (pruned,) = doc["retain"]
        assert pruned["api"] == "github"
        assert f"retain {repo}: kept" in second.stderr and "github API" in second.stderr
        assert [t["tag"] for t in pruned["deleted"] if not t["tag"].startswith("sha256-")] == [
            "1.0.0"
        ]
        assert old in pruned["deleted_manifests"]

        tags = tag_digests(hosted_registry, repo)
        assert {t for t in tags if not t.startswith("sha256-")} == {"1.1.0", "latest"}
        assert tags["latest"] == tags["1.1.0"]
        with RegistryClient(environ={}) as client:
            store = client.store(repo)
            assert store.manifest_head(old) is None  # the old index is gone, by the API
            assert all(store.manifest_head(d) is None for d in pruned["deleted_manifests"])
        deletes = [p for m, p, s in api.requests if m == "DELETE" and s == "Bearer"]
        assert (
            len(deletes) == len(pruned["deleted_manifests"]) > 1
        )  # the index and its child at least
        assert all(p.startswith("/orgs/acme/packages/container/") for p in deletes)

        # A retention that fails after the publish: exit 1 at "retain", the release published.
        bad = {**extra, "GITHUB_TOKEN": "not-the-token"}
        third = dockyard_release(env, tmp_path, sha, "v1.2.0", "--json", **bad)
        assert third.returncode == 1
        doc = json.loads(third.stdout)
        assert doc["stopped"] == "retain" and "401" in doc["error"] and "published" in doc["error"]
        now = tag_digests(hosted_registry, repo)
        assert now["latest"] == now["1.2.0"] and "1.1.0" in now
    finally:
        api.stop()
