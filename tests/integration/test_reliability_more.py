"""reliability.md scenarios 10, 11, 13, 18 and 19 where no test covered them yet
(the real registry behind the fault proxy; peak RSS measured in the command's process)."""

from __future__ import annotations

# ruff: noqa: F811 (the publish fault tests' fixtures are imported, then requested by name)
import base64
import io
import json
import os
import subprocess
import sys

import pytest

from dockyard.errors import PublishFailed, RegistryError
from dockyard.oci.auth.credentials.env import env_credential_names
from dockyard.oci.layout import LayoutStore
from dockyard.oci.registry import RegistryClient
from dockyard.oci.session import RegistryOptions
from dockyard.publish import journal as jn
from dockyard.publish.publish import publish
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.images import make_image, push_image
from tests.helpers.measure import run as measured
from tests.helpers.relay import this_host
from tests.integration.test_publish import (
    index_digest,
    item,
    new_repo,
    tag_state,
)
from tests.integration.test_publish_faults import (  # noqa: F401 (fixtures)
    client,
    layout,
    proxy,
    second,
)

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


# ---------------------------------------------------------------- 10: not retried


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (401, b"", "HTTP 401; check the credentials"),
        (403, b'{"errors":[{"code":"DENIED","message":"no"}]}', "HTTP 403 DENIED (no); check the credentials"),
        (404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}',
         "HTTP 404 NAME_UNKNOWN (repository name not known)"),
        (405, b'{"errors":[{"code":"UNSUPPORTED","message":"not allowed"}]}', "HTTP 405 UNSUPPORTED (not allowed)"),
        (501, b"", "HTTP 501"),
        (507, b"", "HTTP 507"),
    ],
)  # fmt: skip
def test_10_final_statuses_are_one_request(proxy, client, waits, status, body, said):
    image = make_image((310,))
    store = client.store(f"{proxy.host}/{new_repo()}", push=True)
    for digest, data in image.blobs.items():
        store.blob_put(digest, len(data), io.BytesIO(data))
    proxy.add(Fault("PUT", r"/manifests/v1$", status=status, body=body, times=None))
    with pytest.raises(RegistryError) as err:
        store.manifest_put(image.manifest, image.descriptor.media_type, tag="v1")
    assert f"failed: {said}" in str(err.value)
    assert proxy.count("PUT", r"/manifests/v1$") == 1 and waits == []
    assert not err.value.temporary


# ---------------------------------------------------------------- 11: an unchanged publish


def test_11_an_unchanged_second_publish_only_heads(layout, registry, proxy, client):
    repo = new_repo()
    items = [item(layout, "v1", (registry.host, proxy.host), repo, ("1.0", "latest"))]
    publish(items, client=client)
    proxy.reset()
    again = publish(items, client=client)
    assert all(r.state == "unchanged" for r in again.repositories)
    assert proxy.count("POST", r"/blobs/uploads/") == 0
    assert proxy.count("PATCH") == 0 and proxy.count("PUT") == 0
    assert proxy.count("GET", r"/manifests/") == 0
    assert proxy.count("GET", r"/blobs/") == 0
    assert proxy.count("HEAD", r"/manifests/") > 0


# ---------------------------------------------------------------- 13: a conflict at rollback


def test_13_a_tag_another_client_moved_before_our_rollback_is_kept(layout, registry, second, proxy, client, waits):
    repo = new_repo()
    v1, v2 = index_digest(layout, "v1"), index_digest(layout, "v2")
    publish([item(layout, "v1", (registry.host, proxy.host), repo, ("edge", "latest"))], client=client)
    theirs = make_image((330,))

    def another_client_moves_edge():  # on the second registry, straight, not through the proxy
        with RegistryClient(environ={}) as other:
            push_image(other.store(f"{second.host}/{repo}", push=True), theirs, tag="edge")

    proxy.reset()
    proxy.add(Fault("PUT", r"/manifests/latest$", status=500, times=None, hook=another_client_moves_edge))
    with pytest.raises(PublishFailed) as err:
        publish([item(layout, "v2", (registry.host, proxy.host), repo, ("edge", "latest"))],
                client=client, sleep=waits.append)  # fmt: skip
    x = str(theirs.digest)
    assert tag_state(second, repo, ("edge", "latest")) == {"edge": x, "latest": v1}  # theirs kept
    assert tag_state(registry, repo, ("edge", "latest")) == {"edge": v1, "latest": v1}
    b = {r.repository: r for r in err.value.result.repositories}[f"{proxy.host}/{repo}"]
    edge = next(t for t in b.tags if t.tag == "edge")
    assert (edge.outcome, str(edge.digest)) == (jn.CONFLICT, x)
    assert "edge" in str(err.value) and x[7:19] in str(err.value)
    assert v2 != x


# ---------------------------------------------------------------- 18: bounded reads, low RSS


def test_18_a_50_mib_token_body_and_a_20_mib_error_body_are_read_bounded(registry, tmp_path):
    env_python = [sys.executable, "-m", "dockyard"]
    with FaultProxy(registry.host) as tokens, FaultProxy(registry.host) as proxy:
        tokens.add(Fault("*", r".", status=200, body=b"{" + b" " * (50 * MiB), times=None))
        header = f'Bearer realm="http://{tokens.host}/token",service="r"'
        proxy.add(Fault("GET", r"^/v2/", status=401, headers={"WWW-Authenticate": header}, times=None))
        got = measured([*env_python, "inspect", f"{proxy.host}/big/token:v1"], check=False)
    assert got.returncode == 1, got.stderr
    assert got.stderr.strip().endswith(f"is {50 * MiB + 1} bytes, more than the {MiB} allowed")
    assert "token response from" in got.stderr
    assert got.max_rss_mb < 150, got.max_rss_mb

    with FaultProxy(registry.host) as proxy:
        proxy.add(Fault("GET", r"/manifests/", status=500, body=b"E" * (20 * MiB), times=None))
        got = measured([*env_python, "inspect", f"{proxy.host}/big/error:v1", "--timeout", "2m"], check=False)
    assert got.returncode == 1, got.stderr
    assert "HTTP 500 (EEEE" in got.stderr and len(got.stderr) < 2000  # quoted, not dumped
    assert got.max_rss_mb < 150, got.max_rss_mb


# ---------------------------------------------------------------- 19: no secret in any output


@pytest.mark.parametrize("kind", ["auth_registry", "token_registry"])
def test_19_debug_json_prints_no_credential_token_or_state(request, kind, tmp_path):
    reg = request.getfixturevalue(kind)
    image = make_image((6 * MiB,))  # streamed: the PATCH carries an upload _state
    src = tmp_path / "src"
    push_image(LayoutStore(src), image, tag="v1")
    with FaultProxy(reg.host) as proxy:
        proxy.add(Fault("PATCH", r"/blobs/uploads/", status=500, times=None))
        user, password = env_credential_names(proxy.host)
        env = {**os.environ, user: reg.username, password: reg.password, "DOCKYARD_DEBUG": "1"}
        proc = subprocess.run(
            [sys.executable, "-m", "dockyard", "copy", f"oci:{src}:v1", f"{proxy.host}/secret/app:v1",
             "--json", "--retry-attempts", "2"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
        )  # fmt: skip
        states = [t for m, t in proxy.requests if "_state=" in t]
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    basic = base64.b64encode(f"{reg.username}:{reg.password}".encode()).decode()
    assert reg.password not in out and basic not in out
    assert "eyJ" not in out  # no bearer token (a JWT)
    assert states, "the registry handed out upload sessions with _state"
    for target in states:
        value = target.split("_state=", 1)[1].split("&", 1)[0]
        assert value not in out
    assert "_state=REDACTED" in out
    json.dumps(out)  # printable


# ---------------------------------------------------------------- 20: no http fallback off loopback


def test_20_a_plain_http_registry_under_another_name_needs_insecure_registry(registry):
    """The same plain-http registry, addressed by this machine's name instead of 127.0.0.1:
    no silent fallback to http; --insecure-registry for that name allows it."""
    name = this_host()[0]
    host = f"{name}:{registry.host.rsplit(':', 1)[1]}"
    with RegistryClient(environ={}) as c, pytest.raises(RegistryError) as err:
        c.store(f"{host}/plain/app").manifest_head("v1")
    assert str(err.value) == (
        f"registry {host} does not speak TLS; plain http is only used for loopback hosts "
        f"or with --insecure-registry {host}"
    )
    options = RegistryOptions(insecure_registries=frozenset({host}))
    with RegistryClient(options=options, environ={}) as c:
        assert c.store(f"{host}/plain/app").manifest_head("v1") is None  # reached: no such tag
