"""Where credentials may travel: token realms off the registry, TLS and the CA, end to end.

A realm "on another host" needs a name the client cannot tell is loopback:
this machine's host name, resolved here and served on the address it
resolves to (dockyard never resolves names for its decision).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from dockyard.digest import sha256_digest
from dockyard.errors import RegistryError, UntrustedCertificate
from dockyard.oci.registry import RegistryClient
from dockyard.oci.session import RegistryOptions
from tests.helpers.certs import self_signed, server_cert
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.images import make_image, push_image
from tests.helpers.registry import PASSWORD, USER, start_registry
from tests.helpers.relay import TcpRelay, this_host
from tests.helpers.tokenserver import TokenServer

pytestmark = pytest.mark.integration


def token_registry_with(tmp_path, server: TokenServer):
    return start_registry(tmp_path / "registry", auth="token", token_server=server)


@pytest.fixture
def plain_realm_registry(tmp_path):
    """A token-auth registry on 127.0.0.1 whose realm is plain http on another host name."""
    name, address = this_host()
    server = TokenServer(users={USER: PASSWORD}, bind=address, realm_host=name)
    reg = token_registry_with(tmp_path, server)
    yield reg
    reg.stop()


def env_credentials(reg) -> dict[str, str]:
    key = reg.host.replace(".", "_").replace(":", "_")
    return {f"DOCKYARD_REGISTRY_{key}_USER": USER, f"DOCKYARD_REGISTRY_{key}_PASSWORD": PASSWORD}


def test_an_off_host_plain_http_realm_is_refused(plain_realm_registry):
    reg = plain_realm_registry
    realm = reg.token_server.realm
    assert realm.startswith("http://") and "127.0.0.1" not in realm
    for insecure in (frozenset(), frozenset({reg.host})):
        options = RegistryOptions(insecure_registries=insecure)
        client = RegistryClient(options=options, environ=env_credentials(reg))
        with client, pytest.raises(RegistryError) as err:
            client.store(f"{reg.host}/tls/refused").manifest_head("v1")
        netloc = realm.split("/")[2]
        assert str(err.value) == (
            f"token realm {realm} is plain http on {netloc}, another host than the registry "
            f"{reg.host}; a realm or redirect off the registry must be https with a verified "
            "certificate"
        )
    assert reg.token_server.requests == []  # the password never left


def test_an_off_host_plain_http_realm_fails_the_command_with_one_line(plain_realm_registry):
    reg = plain_realm_registry
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", "inspect", f"{reg.host}/tls/refused:v1"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env_credentials(reg)},
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "is plain http on" in lines[0], proc.stderr
    assert PASSWORD not in proc.stderr
    assert reg.token_server.requests == []


def test_an_insecure_registry_does_not_make_its_https_realm_unverified(tmp_path):
    name, address = this_host()
    ca = self_signed("dockyard test token CA")
    ca_path, _ = ca.write(tmp_path, "token-ca")
    server = TokenServer(
        users={USER: PASSWORD},
        bind=address,
        realm_host=name,
        tls=server_cert(ca, names=(name,), ips=()),
    )
    reg = token_registry_with(tmp_path, server)
    try:
        image = make_image((7,))
        insecure = frozenset({reg.host})
        options = RegistryOptions(insecure_registries=insecure)
        client = RegistryClient(options=options, environ=env_credentials(reg))
        with client, pytest.raises(UntrustedCertificate) as err:
            push_image(client.store(f"{reg.host}/tls/realm", push=True), image, tag="v1")
        netloc = server.realm.split("/")[2]
        assert str(err.value).startswith(
            f"token server https://{netloc}/token: TLS certificate not trusted ("
        )
        assert str(err.value).endswith(
            f"pass --ca-cert FILE (--insecure-registry {reg.host} does not extend to {netloc}, "
            "another host)"
        )
        assert server.requests == []  # refused in the handshake: no request was sent
        options = RegistryOptions(insecure_registries=insecure, ca_cert=str(ca_path))
        with RegistryClient(options=options, environ=env_credentials(reg)) as client:
            store = client.store(f"{reg.host}/tls/realm", push=True)
            push_image(store, image, tag="v1")
            assert store.manifest_head("v1") is not None
        assert server.requests  # the verified realm was used
    finally:
        reg.stop()


# ------------------------------------------------------------ blob redirects


def redirecting_front(registry_host: str, location: str) -> FaultProxy:
    """A proxy in front of a plain registry whose blob GETs answer 307 to `location`."""
    front = FaultProxy(registry_host).start()
    front.add(
        Fault("GET", r"/blobs/sha256:", status=307, headers={"Location": location}, times=None)
    )
    return front


def test_a_plain_http_redirect_to_another_host_is_refused(registry):
    data = os.urandom(2000)
    digest = sha256_digest(data)
    name, _ = this_host()
    with FaultProxy(registry.host).start() as other:
        port = other.host.rsplit(":", 1)[1]
        location = f"http://{name}:{port}/v2/redir/tls/blobs/{digest}"
        with redirecting_front(registry.host, location) as front:
            options = RegistryOptions(insecure_registries=frozenset({front.host}))
            client = RegistryClient(options=options)
            with client, pytest.raises(RegistryError) as err:
                client.store(f"{front.host}/redir/tls").blob_open(digest)
        assert str(err.value) == (
            f"blob redirect {location} is plain http on {name}:{port}, another host than the "
            f"registry {front.host}; a realm or redirect off the registry must be https with a "
            "verified certificate"
        )
        assert other.seen == []


def test_an_insecure_registrys_https_redirect_is_verified(registry, tls_registry):
    """Front (--insecure-registry) redirects to the TLS registry by name: its CA is needed."""
    data = os.urandom(3000)
    digest = sha256_digest(data)
    ca = str(tls_registry.ca_cert)
    with RegistryClient(options=RegistryOptions(ca_cert=ca)) as client:
        client.store(f"{tls_registry.host}/redir/tls", push=True).blob_put(
            digest, len(data), io.BytesIO(data)
        )
    name, address = this_host()
    with (
        TcpRelay(address, tls_registry.host) as relay,
        redirecting_front(
            registry.host, f"https://{name}:{relay.port}/v2/redir/tls/blobs/{digest}"
        ) as front,
    ):
        location = f"https://{name}:{relay.port}/v2/redir/tls/blobs/{digest}"
        insecure = frozenset({front.host})
        client = RegistryClient(options=RegistryOptions(insecure_registries=insecure))
        with client, pytest.raises(UntrustedCertificate) as err:
            client.store(f"{front.host}/redir/tls").blob_open(digest)
        assert str(err.value).startswith(
            f"registry {front.host}: GET {location}: TLS certificate not trusted ("
        )
        assert front.count("GET", r"/blobs/") == 1  # a CA problem is not retried
        options = RegistryOptions(insecure_registries=insecure, ca_cert=ca)
        with RegistryClient(options=options) as client:
            assert client.store(f"{front.host}/redir/tls").blob_open(digest).read() == data
