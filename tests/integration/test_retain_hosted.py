"""retain through the hosted APIs (GHCR's GitHub Packages API, the Docker Hub API).

No hosted service is reachable here: tests/helpers/hostedapi.py implements exactly the
documented endpoints dockyard calls, over a real docker-registry's storage. The repository
is read through the registry's OCI API, as on GHCR and Docker Hub; the deletes go through
the local API server only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from dockyard.errors import OperationError
from dockyard.oci.copy import copy_image
from dockyard.publish.retain import retain
from dockyard.ref import parse_repository
from tests.helpers.hostedapi import HUB_SECRET, HUB_USER, TOKEN, HostedApi
from tests.helpers.registry import start_registry
from tests.integration import test_retain
from tests.integration.test_publish import skopeo_pulls_all
from tests.integration.test_retain import TAGS, present, push

pytestmark = pytest.mark.integration

# test_retain's fixtures: four indexes in a layout (idx3 shares a child with idx1), a client.
releases = test_retain.releases
client = test_retain.client


@pytest.fixture(scope="module")
def hosted_registry(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("hosted-registry"))
    yield reg
    reg.stop()


@pytest.fixture
def hosted(hosted_registry):
    api = HostedApi(hosted_registry, orgs={"acme"})
    yield api
    api.stop()


def test_github_api_deletes_old_versions_and_never_a_kept_index_child(
    releases,
    hosted_registry,
    hosted,
    client,
    tmp_path,
):
    layout, idx, child = releases
    reg = hosted_registry
    repo = push(layout, client, reg.host, TAGS)  # retain/<hex>: a user's package
    env = {
        **os.environ,
        "GITHUB_TOKEN": TOKEN,
        "DOCKYARD_GITHUB_API_URL": hosted.url,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", "retain", f"{reg.host}/{repo}", "--keep", "1",
         "--match", "^v", "--api", "github", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["api"] == "github"
    assert [t["tag"] for t in doc["deleted"]] == ["v2", "v1", "v0"]
    # idx3 (v3, latest) stays with both children; arm641 is idx1's too and stays.
    gone = [idx["idx2"], idx["idx1"], idx["idx0"], child["amd642"], child["arm642"],
            child["amd641"], child["amd640"], child["arm640"]]  # fmt: skip
    assert sorted(doc["deleted_manifests"]) == sorted(str(d) for d in gone)
    for digest in gone:
        assert not present(client, reg.host, repo, digest)
    for digest in (idx["idx3"], child["amd643"], child["arm641"]):
        assert present(client, reg.host, repo, digest)
    assert sorted(client.store(f"{reg.host}/{repo}").tag_list()) == ["latest", "v3"]
    skopeo_pulls_all(reg, f"{repo}:latest", tmp_path / "latest")
    # Not an organisation: the /orgs/ listing answered 404 and the /users/ one was used.
    owner, package = repo.split("/")
    listings = [(m, p) for m, p, _ in hosted.requests if m == "GET"]
    assert listings[0] == ("GET", f"/orgs/{owner}/packages/container/{package}/versions")
    assert listings[1] == ("GET", f"/users/{owner}/packages/container/{package}/versions")
    deletes = [p for m, p, scheme in hosted.requests if m == "DELETE" and scheme == "Bearer"]
    assert len(deletes) == len(gone)
    assert all(
        p.startswith(f"/users/{owner}/packages/container/{package}/versions/") for p in deletes
    )


def test_github_api_with_an_organisation_and_a_nested_package_name(
    releases,
    hosted_registry,
    hosted,
    client,
):
    layout, idx, _ = releases
    reg = hosted_registry
    tags = {"v0": "idx0", "v3": "idx3"}
    repo = f"acme/team/{uuid.uuid4().hex[:10]}"
    for tag, name in tags.items():
        copy_image(layout, name, client.store(f"{reg.host}/{repo}", push=True), tag=tag)
    # No GITHUB_TOKEN: the registry login's password is the token.
    user_var = "DOCKYARD_REGISTRY_" + reg.host.upper().replace(".", "_").replace(":", "_")
    environ = {
        "DOCKYARD_GITHUB_API_URL": hosted.url,
        f"{user_var}_USER": "someone",
        f"{user_var}_PASSWORD": TOKEN,
    }
    result = retain(parse_repository(f"{reg.host}/{repo}"), keep=1, client=client,
                    api="github", environ=environ)  # fmt: skip
    assert idx["idx0"] in result.deleted_manifests
    assert not present(client, reg.host, repo, idx["idx0"])
    assert present(client, reg.host, repo, idx["idx3"])
    package = repo.split("/", 1)[1].replace("/", "%2F")  # the package name, URL-encoded
    assert ("GET", f"/orgs/acme/packages/container/{package}/versions", "Bearer") in hosted.requests
    assert not any(p.startswith("/users/") for _, p, _ in hosted.requests)


def test_dockerhub_api_deletes_old_tags_and_keeps_every_manifest_a_kept_tag_needs(
    releases,
    hosted_registry,
    hosted,
    client,
    tmp_path,
):
    layout, idx, child = releases
    reg = hosted_registry
    repo = push(layout, client, reg.host, TAGS)
    user_var = "DOCKYARD_REGISTRY_" + reg.host.upper().replace(".", "_").replace(":", "_")
    environ = {
        "DOCKYARD_DOCKERHUB_API_URL": hosted.url,
        f"{user_var}_USER": HUB_USER,
        f"{user_var}_PASSWORD": HUB_SECRET,
    }
    result = retain(parse_repository(f"{reg.host}/{repo}"), keep=1, match="^v", client=client,
                    api="dockerhub", environ=environ)  # fmt: skip
    assert result.api == "dockerhub"
    assert result.deleted_tags == ("v2", "v1", "v0")
    assert sorted(client.store(f"{reg.host}/{repo}").tag_list()) == ["latest", "v3"]
    # The Hub API deletes tags: every manifest (the kept index's children above all) stays.
    for digest in (idx["idx3"], child["arm641"], child["amd643"]):
        assert present(client, reg.host, repo, digest)
    skopeo_pulls_all(reg, f"{repo}:v3", tmp_path / "v3")
    calls = [(m, p, s) for m, p, s in hosted.requests]
    assert calls[0] == ("POST", "/v2/auth/token", "")
    namespace, name = repo.split("/")
    assert calls[1:] == [
        ("DELETE", f"/v2/namespaces/{namespace}/repositories/{name}/tags/{t}", "Bearer")
        for t in ("v2", "v1", "v0")
    ]


def test_a_wrong_hub_secret_deletes_nothing_and_says_so(releases, hosted_registry, hosted, client):
    layout, _, _ = releases
    reg = hosted_registry
    repo = push(layout, client, reg.host, TAGS)
    user_var = "DOCKYARD_REGISTRY_" + reg.host.upper().replace(".", "_").replace(":", "_")
    environ = {
        "DOCKYARD_DOCKERHUB_API_URL": hosted.url,
        f"{user_var}_USER": HUB_USER,
        f"{user_var}_PASSWORD": "wrong-secret-value",
    }
    with pytest.raises(OperationError) as err:
        retain(parse_repository(f"{reg.host}/{repo}"), keep=1, client=client,
               api="dockerhub", environ=environ)  # fmt: skip
    assert "401" in str(err.value) and "nothing deleted" in str(err.value)
    assert "wrong-secret-value" not in str(err.value)
    assert sorted(client.store(f"{reg.host}/{repo}").tag_list()) == sorted(TAGS)


def test_a_redirect_is_not_followed_and_the_token_stays_with_the_api(
    releases, hosted_registry, hosted, client
):
    layout, _, _ = releases
    reg = hosted_registry
    repo = push(layout, client, reg.host, TAGS)
    elsewhere = HostedApi(reg)
    try:
        hosted.redirect = elsewhere.url
        environ = {"GITHUB_TOKEN": TOKEN, "DOCKYARD_GITHUB_API_URL": hosted.url}
        with pytest.raises(OperationError) as err:
            retain(parse_repository(f"{reg.host}/{repo}"), keep=1, client=client,
                   api="github", environ=environ)  # fmt: skip
        assert "307" in str(err.value) and TOKEN not in str(err.value)
        assert elsewhere.requests == []  # never asked, so never given the token
        assert sorted(client.store(f"{reg.host}/{repo}").tag_list()) == sorted(TAGS)
    finally:
        elsewhere.stop()
