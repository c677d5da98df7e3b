"""The private-address guard decides on what a host resolves to (real getaddrinfo, no network:
every host here is an IP in another spelling, which the C library reads itself)."""

from __future__ import annotations

import ipaddress

import pytest

from dockyard.errors import RegistryError
from dockyard.oci.auth.challenge import parse_www_authenticate
from dockyard.oci.auth.credentials.credential import Credential
from dockyard.oci.auth.flow import Authenticator
from dockyard.oci.endpoints import Trust, endpoint_trust
from dockyard.oci.resolver import resolve_host


@pytest.mark.parametrize(
    ("host", "address"),
    [("0x7f000001", "127.0.0.1"), ("2852039166", "169.254.169.254"), ("127.1", "127.0.0.1"),
     ("0177.0.0.1", "127.0.0.1"), ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254")],
)  # fmt: skip
def test_the_resolver_reads_the_spellings_the_socket_does(host, address):
    assert ipaddress.ip_address(address) in resolve_host(host)


def test_an_unresolvable_name_gives_nothing():
    assert resolve_host("no-such-host.invalid") == ()


@pytest.mark.parametrize(
    "url",
    [
        "https://0x7f000001:6006/token",
        "https://2852039166/latest/meta-data/",
        "https://169.254.169.254./latest/meta-data/",
        "https://0xa9fea9fe/latest/meta-data/",
        "https://0251.0376.0251.0376/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/latest/meta-data/",
        "https://0.0.0.0:6006/token",
        "https://127.1:6006/token",
        "https://10.1.2.3./token",
    ],
)
def test_other_spellings_of_private_addresses_are_refused(url):
    decision = endpoint_trust("registry.example", url, insecure=False, resolve=resolve_host)
    assert decision.trust is Trust.REFUSED, url
    assert decision.reason.startswith("points at the private address ")


def test_the_message_names_the_spelling_and_the_address():
    decision = endpoint_trust(
        "127.0.0.1:5000", "https://2852039166/x", insecure=False, resolve=resolve_host
    )
    assert decision.reason == (
        "points at the private address 169.254.169.254 (2852039166 is 169.254.169.254), "
        "which is not the registry 127.0.0.1:5000; refusing"
    )


def test_a_loopback_registry_still_reaches_its_loopback_token_server():
    got = endpoint_trust("127.0.0.1:5000", "http://localhost:5001/t", insecure=False, resolve=resolve_host)
    assert got.trust is Trust.AS_REGISTRY
    # Another spelling of 127.0.0.1 is the same machine, but gets no plain-http allowance.
    got = endpoint_trust("127.0.0.1:5000", "https://0x7f000001:5001/t", insecure=False, resolve=resolve_host)
    assert got.trust is Trust.VERIFIED
    got = endpoint_trust("127.0.0.1:5000", "http://0x7f000001:5001/t", insecure=False, resolve=resolve_host)
    assert got.trust is Trust.REFUSED and "plain http" in got.reason


def test_a_registry_on_a_private_address_may_use_a_private_token_server():
    got = endpoint_trust("10.0.0.5:5000", "https://10.0.0.6/token", insecure=False, resolve=resolve_host)
    assert got.trust is Trust.VERIFIED
    # ... but never the metadata service, however it is spelt.
    got = endpoint_trust("10.0.0.5:5000", "https://2852039166/", insecure=False, resolve=resolve_host)
    assert got.trust is Trust.REFUSED


@pytest.mark.parametrize("realm", ["https://0x7f000001:6006/token", "https://2852039166/token",
                                   "https://169.254.169.254./token"])  # fmt: skip
def test_no_credential_is_sent_to_such_a_realm(realm):
    sent = []
    auth = Authenticator(
        registry_url="https://registry.example",
        credential=Credential(username="alice", password="s3cret-pass", source="env"),
        send=sent.append,
        resolve=resolve_host,
    )
    with pytest.raises(RegistryError, match="points at the private address") as info:
        auth.learn(parse_www_authenticate(f'Bearer realm="{realm}",service="reg"'))
    assert sent == [] and auth.challenge is None
    assert "s3cret" not in str(info.value)
