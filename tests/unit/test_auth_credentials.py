"""Credential sources: env, podman auth.json, docker config.json (auths, helpers)."""

import base64
import json
import os
import stat

import pytest

from dockyard.errors import RegistryError
from dockyard.oci.auth.credentials.credential import Credential
from dockyard.oci.auth.credentials.env import env_credential_names
from dockyard.oci.auth.credentials.files import config_key_for
from dockyard.oci.auth.credentials.helper import run_helper
from dockyard.oci.auth.credentials.sources import credential_files, find_credential

HOST = "127.0.0.1:5000"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def write(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def helper_dir(tmp_path, monkeypatch):
    """A directory on PATH holding fake `docker-credential-*` helpers."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return bindir


def add_helper(bindir, name, script):
    path = bindir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_env_wins():
    env = {
        "DOCKYARD_REGISTRY_127_0_0_1_5000_USER": "bob",
        "DOCKYARD_REGISTRY_127_0_0_1_5000_PASSWORD": "pw",
    }
    assert find_credential(HOST, environ=env) == Credential("bob", "pw", source="env")


def test_docker_config_auths_with_url_keys(tmp_path):
    cfg = write(
        tmp_path / "docker" / "config.json",
        {"auths": {f"http://{HOST}/v1/": {"auth": b64("alice:s3cret:with:colons")}}},
    )
    env = {"DOCKER_CONFIG": str(cfg.parent)}
    assert find_credential(HOST, environ=env) == Credential(
        "alice", "s3cret:with:colons", source=str(cfg)
    )
    assert find_credential("other:5000", environ=env) is None


def test_docker_hub_uses_legacy_key(tmp_path):
    cfg = write(
        tmp_path / ".docker" / "config.json",
        {"auths": {"https://index.docker.io/v1/": {"auth": b64("hub:pw")}}},
    )
    env = {"HOME": str(tmp_path)}
    assert find_credential("docker.io", environ=env) == Credential("hub", "pw", source=str(cfg))


def test_identity_token_entry(tmp_path):
    cfg = write(
        tmp_path / "config.json",
        {"auths": {HOST: {"auth": b64("bob:"), "identitytoken": "refresh-1"}}},
    )
    found = find_credential(HOST, environ={"DOCKER_CONFIG": str(tmp_path)})
    assert found == Credential("bob", identity_token="refresh-1", source=str(cfg))


def test_podman_auth_file_before_docker(tmp_path):
    podman = write(tmp_path / "auth.json", {"auths": {HOST: {"auth": b64("pod:pw1")}}})
    write(tmp_path / "docker" / "config.json", {"auths": {HOST: {"auth": b64("dock:pw2")}}})
    env = {"REGISTRY_AUTH_FILE": str(podman), "DOCKER_CONFIG": str(tmp_path / "docker")}
    assert find_credential(HOST, environ=env) == Credential("pod", "pw1", source=str(podman))


def test_xdg_runtime_auth_file(tmp_path):
    path = write(tmp_path / "containers" / "auth.json", {"auths": {HOST: {"auth": b64("x:y")}}})
    env = {"XDG_RUNTIME_DIR": str(tmp_path)}
    assert find_credential(HOST, environ=env) == Credential("x", "y", source=str(path))


def test_credential_files_order(tmp_path):
    env = {
        "REGISTRY_AUTH_FILE": "/a/auth.json",
        "XDG_RUNTIME_DIR": "/run/user/0",
        "DOCKER_CONFIG": "/d",
        "HOME": "/root",
    }
    assert [str(p) for _, p in credential_files(env)] == [
        "/a/auth.json",
        "/run/user/0/containers/auth.json",
        "/d/config.json",
    ]


def test_cred_helper_for_host(tmp_path, helper_dir):
    add_helper(
        helper_dir,
        "test",
        'read server; printf \'{"ServerURL":"%s","Username":"helper-user","Secret":"helper-pw"}\' "$server"\n',
    )
    write(tmp_path / "config.json", {"credHelpers": {HOST: "test"}})
    found = find_credential(HOST, environ={"DOCKER_CONFIG": str(tmp_path)})
    assert found == Credential("helper-user", "helper-pw", source="helper docker-credential-test")


def test_creds_store_identity_token(tmp_path, helper_dir):
    add_helper(
        helper_dir,
        "store",
        'read server; [ "$server" = "https://index.docker.io/v1/" ] || exit 3\n'
        'echo \'{"ServerURL":"x","Username":"<token>","Secret":"idtok"}\'\n',
    )
    write(tmp_path / "config.json", {"credsStore": "store"})
    found = find_credential("docker.io", environ={"DOCKER_CONFIG": str(tmp_path)})
    assert found == Credential("", identity_token="idtok", source="helper docker-credential-store")


def test_helper_not_found_means_none(tmp_path, helper_dir):
    add_helper(helper_dir, "empty", "echo 'credentials not found in native keychain'; exit 1\n")
    write(tmp_path / "config.json", {"credsStore": "empty"})
    assert find_credential(HOST, environ={"DOCKER_CONFIG": str(tmp_path)}) is None


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "echo 'keychain locked for Bearer abc.def' >&2; exit 1\n",
            "credential helper docker-credential-bad failed for 127.0.0.1:5000: "
            "keychain locked for Bearer REDACTED",
        ),
        (
            "echo not-json\n",
            "credential helper docker-credential-bad printed no Username/Secret JSON",
        ),
    ],
)
def test_helper_failures(helper_dir, script, message):
    add_helper(helper_dir, "bad", script)
    with pytest.raises(RegistryError) as err:
        run_helper("bad", HOST)
    assert str(err.value) == message


def test_helper_timeout(helper_dir):
    add_helper(helper_dir, "slow", "exec sleep 5\n")
    with pytest.raises(RegistryError) as err:
        run_helper("slow", HOST, timeout=0.3)
    assert str(err.value) == "credential helper docker-credential-slow did not answer in 0.3 s"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing", "credential helper docker-credential-missing is not on PATH"),
        ("../evil", "credential helper name '../evil' is not valid"),
    ],
)
def test_helper_name_errors(helper_dir, name, message):
    with pytest.raises(RegistryError) as err:
        run_helper(name, HOST)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "credentials file {p} is not valid JSON (line 1)"),
        ("[1]", "credentials file {p} is not a JSON object"),
        (
            json.dumps({"auths": {HOST: {"auth": "!!notbase64"}}}),
            "{p}: an 'auth' entry is not base64 of 'user:password'",
        ),
        (
            json.dumps({"auths": {HOST: {"auth": b64("nocolon")}}}),
            "{p}: an 'auth' entry is not base64 of 'user:password'",
        ),
    ],
)
def test_bad_config_files(tmp_path, content, message):
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(RegistryError) as err:
        find_credential(HOST, environ={"DOCKER_CONFIG": str(tmp_path)})
    assert str(err.value) == message.format(p=path)


def test_no_sources_no_credential(tmp_path):
    assert find_credential(HOST, environ={"HOME": str(tmp_path)}) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (
            "127.0.0.1:5000",
            ("DOCKYARD_REGISTRY_127_0_0_1_5000_USER", "DOCKYARD_REGISTRY_127_0_0_1_5000_PASSWORD"),
        ),
        ("ghcr.io", ("DOCKYARD_REGISTRY_GHCR_IO_USER", "DOCKYARD_REGISTRY_GHCR_IO_PASSWORD")),
        (
            "my-reg.example.com",
            (
                "DOCKYARD_REGISTRY_MY_REG_EXAMPLE_COM_USER",
                "DOCKYARD_REGISTRY_MY_REG_EXAMPLE_COM_PASSWORD",
            ),
        ),
    ],
)
def test_env_credential_names(host, expected):
    assert env_credential_names(host) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("docker.io", "https://index.docker.io/v1/"),
        ("index.docker.io", "https://index.docker.io/v1/"),
        ("ghcr.io", "ghcr.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_config_key_for(host, expected):
    assert config_key_for(host) == expected


def test_credential_repr_hides_secrets():
    cred = Credential("bob", "hunter22", source="env")
    tok = Credential("", identity_token="refresh-xyz", source="helper")
    assert repr(cred) == "Credential(username='bob', password=REDACTED, source='env')"
    assert str(tok) == "Credential(username='', identity token=REDACTED, source='helper')"
    assert "hunter22" not in repr(cred) and "refresh-xyz" not in repr(tok)
    assert cred.secrets() == ("hunter22", "Ym9iOmh1bnRlcjIy")
