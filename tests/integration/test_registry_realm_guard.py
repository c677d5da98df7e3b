"""A registry (the real one behind the fault proxy) whose challenge names a realm on the
metadata service in another spelling: refused before any token request, credentials kept."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dockyard.oci.auth.credentials.env import env_credential_names
from tests.helpers.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("realm", "address"),
    [("https://2852039166/token", "169.254.169.254"),
     ("https://169.254.169.254./token", "169.254.169.254"),
     ("https://0xa9fea9fe/token", "169.254.169.254")],
)  # fmt: skip
def test_a_realm_on_the_metadata_service_is_refused(registry, tmp_path, realm, address):
    with FaultProxy(registry.host) as proxy:
        challenge = f'Bearer realm="{realm}",service="reg"'
        proxy.add(Fault("GET", r"^/v2/", status=401, headers={"WWW-Authenticate": challenge}, times=None))
        user, password = env_credential_names(proxy.host)
        env = {**os.environ, user: "alice", password: "s3cret-pass-123"}
        proc = subprocess.run(
            [sys.executable, "-m", "dockyard", "inspect", f"{proxy.host}/guard/app:v1"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"error: token realm {realm} points at the private address {address}"
            + ("" if realm.split("/")[2] == address else f" ({realm.split('/')[2]} is {address})")
            + f", which is not the registry {proxy.host}; refusing"
        ]
        assert "s3cret" not in proc.stdout + proc.stderr
        assert proxy.count("*", r"token") == 0
