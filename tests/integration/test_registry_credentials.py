"""Each credential source, end to end against the htpasswd and token registries."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from dockyard.oci.registry import RegistryClient
from dockyard.oci.session import RegistryOptions
from tests.helpers.images import make_image, push_image
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_json(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def push_with(reg, environ, repo):
    image = make_image((123,))
    options = RegistryOptions(ca_cert=str(reg.ca_cert) if reg.ca_cert else None)
    with RegistryClient(options=options, environ=environ) as client:
        push_image(client.store(f"{reg.host}/{repo}", push=True), image, tag="v1")
    assert skopeo_raw(reg, f"{repo}:v1") == image.manifest


@pytest.fixture(params=["auth_registry", "token_registry"])
def locked_registry(request):
    return request.getfixturevalue(request.param)


def test_docker_config_auths(locked_registry, tmp_path):
    reg = locked_registry
    write_json(
        tmp_path / "docker" / "config.json",
        {"auths": {f"https://{reg.host}": {"auth": b64(f"{reg.username}:{reg.password}")}}},
    )
    push_with(reg, {"DOCKER_CONFIG": str(tmp_path / "docker")}, "creds/docker-config")


def test_home_docker_config(locked_registry, tmp_path):
    reg = locked_registry
    write_json(
        tmp_path / ".docker" / "config.json",
        {"auths": {reg.host: {"auth": b64(f"{reg.username}:{reg.password}")}}},
    )
    push_with(reg, {"HOME": str(tmp_path)}, "creds/home")


def test_podman_auth_file(locked_registry, tmp_path):
    reg = locked_registry
    path = write_json(
        tmp_path / "auth.json",
        {"auths": {reg.host: {"auth": b64(f"{reg.username}:{reg.password}")}}},
    )
    push_with(reg, {"REGISTRY_AUTH_FILE": str(path)}, "creds/podman")


def test_credential_helper_on_path(locked_registry, tmp_path, monkeypatch):
    reg = locked_registry
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-test"
    helper.write_text(
        "#!/bin/sh\n"
        "read server\n"
        f'[ "$server" = "{reg.host}" ] || {{ echo "credentials not found in native keychain"; exit 1; }}\n'
        f'printf \'{{"ServerURL":"%s","Username":"{reg.username}","Secret":"{reg.password}"}}\' "$server"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    write_json(tmp_path / "d" / "config.json", {"credHelpers": {reg.host: "test"}})
    push_with(reg, {"DOCKER_CONFIG": str(tmp_path / "d")}, "creds/helper")
    write_json(tmp_path / "s" / "config.json", {"credsStore": "test"})
    push_with(reg, {"DOCKER_CONFIG": str(tmp_path / "s")}, "creds/store")


def test_identity_token_via_refresh_grant(token_registry, tmp_path):
    reg = token_registry
    reg.token_server.refresh_tokens["refresh-abc"] = reg.username
    write_json(
        tmp_path / "config.json",
        {"auths": {reg.host: {"auth": b64(f"{reg.username}:"), "identitytoken": "refresh-abc"}}},
    )
    push_with(reg, {"DOCKER_CONFIG": str(tmp_path)}, "creds/identity")
    assert any(method == "POST" for method, _ in reg.token_server.requests)
