"""Session fixtures: real registries (plain, htpasswd, token, TLS) and skopeo as an independent reader."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers.registry import RunningRegistry, start_registry


def _session_registry(tmp_path_factory, name: str, **kwargs) -> RunningRegistry:
    reg = start_registry(tmp_path_factory.mktemp(name), **kwargs)
    return reg


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A plain-HTTP registry on 127.0.0.1, no auth."""
    reg = _session_registry(tmp_path_factory, "registry")
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory):
    """htpasswd basic auth (`reg.username` / `reg.password`)."""
    reg = _session_registry(tmp_path_factory, "auth-registry", auth="htpasswd")
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory):
    """Bearer-token auth through `reg.token_server` (anonymous pull, user push)."""
    reg = _session_registry(tmp_path_factory, "token-registry", auth="token")
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory):
    """HTTPS with a certificate from a test CA (`reg.ca_cert`) for 127.0.0.1 and localhost."""
    reg = _session_registry(tmp_path_factory, "tls-registry", tls=True)
    yield reg
    reg.stop()


@pytest.fixture
def waits() -> list[float]:
    """The delays a client or copy asked to sleep: pass `sleep=waits.append`, assert the backoff."""
    return []


def skopeo_raw(reg: RunningRegistry, image: str, *, creds: bool = True) -> bytes:
    """`skopeo inspect --raw` of `image` (repo:tag or repo@digest) on `reg`: the manifest bytes."""
    sep = "@" if "@" in image else ":"
    repo, _, ref = image.partition(sep)
    args = ["skopeo", "inspect", "--raw"]
    if reg.ca_cert:
        args += ["--cert-dir", str(_cert_dir(reg))]
    else:
        args += ["--tls-verify=false"]
    if creds and reg.username:
        args += ["--creds", f"{reg.username}:{reg.password}"]
    args.append(f"docker://{reg.host}/{repo}{sep}{ref}")
    proc = subprocess.run(args, capture_output=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"skopeo failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def skopeo_json(reg: RunningRegistry, image: str) -> dict:
    return json.loads(skopeo_raw(reg, image))


def _cert_dir(reg: RunningRegistry):
    path = reg.root / "skopeo-certs"
    if not path.exists():
        path.mkdir()
        (path / "ca.crt").write_bytes(reg.ca_cert.read_bytes())
    return path


@pytest.fixture(scope="session")
def dockerd():
    """A Docker engine of the session's own (tests/helpers/dockerd.py); `dockerd.host` reaches it."""
    from tests.helpers.dockerd import start_dockerd

    engine = start_dockerd()
    yield engine
    engine.stop()
