"""A 503 that gives up says the wait; a token server's failure names the token server
(the real registry behind the fault proxy; a second proxy plays the token server)."""

from __future__ import annotations

import socket

import pytest

from dockyard.errors import RegistryError
from dockyard.oci.registry import RegistryClient
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.session import RegistryOptions
from tests.helpers.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(registry):
    with FaultProxy(registry.host) as p:
        yield p


@pytest.fixture
def client(waits):
    options = RegistryOptions(retry=RetryPolicy(attempts=2, max_retry_after=60.0))
    with RegistryClient(options=options, environ={}, sleep=waits.append) as c:
        yield c


def challenge(realm: str) -> Fault:
    header = f'Bearer realm="{realm}",service="registry"'
    return Fault("GET", r"^/v2/", status=401, headers={"WWW-Authenticate": header}, times=None)


@pytest.mark.parametrize(
    ("after", "said"),
    [("7", "; the registry asks to wait 7 s (Retry-After)"),
     ("3600", "; the registry asks to wait 3600 s (Retry-After), more than the 60 s this client waits")],
)  # fmt: skip
def test_a_503_with_retry_after_says_the_wait(proxy, client, waits, after, said):
    proxy.add(Fault("GET", r"/manifests/", status=503, headers={"Retry-After": after}, times=None))
    with pytest.raises(RegistryError) as err:
        client.store(f"{proxy.host}/wait/app").manifest_get("v1")
    assert str(err.value) == (
        f"registry {proxy.host}: GET http://{proxy.host}/v2/wait/app/manifests/v1 failed: HTTP 503{said}"
    )
    assert waits == ([7.0] if after == "7" else [])  # waited as asked, or not at all


def test_a_failing_token_server_is_named_with_its_wait(registry, proxy, client, waits):
    with FaultProxy(registry.host) as tokens:
        tokens.add(Fault("*", r".", status=503, headers={"Retry-After": "4"}, times=None))
        proxy.add(challenge(f"http://{tokens.host}/token"))
        with pytest.raises(RegistryError) as err:
            client.store(f"{proxy.host}/wait/app").manifest_get("v1")
        assert str(err.value) == (
            f"token server http://{tokens.host}/token answered HTTP 503 for "
            "repository:wait/app:pull; it asks to wait 4 s (Retry-After)"
        )
        assert waits == [4.0]  # its Retry-After, not our backoff
        assert tokens.count("GET", r"/token") == 2
        assert proxy.count("GET", r"/manifests/") == 0  # the registry was never blamed or asked


def test_an_unreachable_token_server_is_named(proxy, client):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    proxy.add(challenge(f"http://127.0.0.1:{port}/token"))
    with pytest.raises(RegistryError) as err:
        client.store(f"{proxy.host}/wait/app").manifest_get("v1")
    assert str(err.value) == f"token server http://127.0.0.1:{port}/token unreachable (ConnectError)"
