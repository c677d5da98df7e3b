"""DNS rebinding: the addresses the private-address guard judged are the ones the socket reaches.

A name that answers with a public address when endpoint_trust asks and with
127.0.0.1 (or 169.254.169.254) a moment later for the connect would carry a
token request, credentials included, to a private service. The session's
Resolver pins the first answer and its sockets connect to exactly it.
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading

import httpcore
import pytest

from dockyard.errors import RegistryError
from dockyard.oci.deadline import Deadline
from dockyard.oci.deadlinenet import DeadlineBackend
from dockyard.oci.registry import RegistryClient
from dockyard.oci.resolver import Resolver
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.session import RegistryOptions

PUBLIC = "93.184.216.34"  # what the rebinding name answers first (a global address)


def answers(*addresses: str):
    """A getaddrinfo that gives each address in turn (None: no answer), then the last for ever."""
    calls = []

    def lookup(host, port, *args, **kwargs):
        calls.append(host)
        address = addresses[min(len(calls), len(addresses)) - 1]
        if address is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]

    return lookup, calls


def test_the_resolver_keeps_its_first_answer_for_the_run():
    lookup, calls = answers(PUBLIC, "127.0.0.1")
    resolver = Resolver(lookup)
    assert resolver.pinned("rebind.test") is None  # never judged: connects as usual
    assert resolver.resolve("rebind.test") == (ipaddress.ip_address(PUBLIC),)
    assert resolver.resolve("Rebind.TEST") == (ipaddress.ip_address(PUBLIC),)
    assert resolver.pinned("rebind.test") == (ipaddress.ip_address(PUBLIC),)
    assert calls == ["rebind.test"]  # asked once: the second answer is never seen


def test_a_name_judged_unresolved_is_refused_until_it_resolves_at_a_check():
    lookup, calls = answers(None, PUBLIC, "127.0.0.1")
    resolver = Resolver(lookup)
    assert resolver.resolve("rebind.test") == ()
    assert resolver.pinned("rebind.test") == ()  # judged, no address: no connect at all
    assert resolver.resolve("rebind.test") == (ipaddress.ip_address(PUBLIC),)  # a retry's check
    assert resolver.resolve("rebind.test") == (ipaddress.ip_address(PUBLIC),)
    assert resolver.pinned("rebind.test") == (ipaddress.ip_address(PUBLIC),)
    assert len(calls) == 2


def test_the_socket_connects_to_the_pinned_address_without_asking_dns():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        pins = {"pinned.invalid": (ipaddress.ip_address("127.0.0.1"),)}
        backend = DeadlineBackend(Deadline(30), pins=pins.get)
        stream = backend.connect_tcp("pinned.invalid", port, timeout=5)  # .invalid never resolves
        peer, _ = server.accept()
        stream.write(b"ping")
        assert peer.recv(4) == b"ping"
        peer.close()
        stream.close()
        with pytest.raises(httpcore.ConnectError):  # the same name, not pinned: DNS fails
            DeadlineBackend(Deadline(30), pins={}.get).connect_tcp("pinned.invalid", port, timeout=5)
        judged = {"localhost": ()}  # judged when it did not resolve: refused, DNS not asked
        with pytest.raises(httpcore.ConnectError, match="did not resolve when its address was checked"):
            DeadlineBackend(Deadline(30), pins=judged.get).connect_tcp("localhost", port, timeout=5)


class Challenger(http.server.BaseHTTPRequestHandler):
    """A registry whose every answer is 401, naming a token realm on the rebinding name."""

    def do_GET(self):  # http.server's name for it
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Bearer realm="https://rebind.test/token",service="r"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(
    ("dns", "connects"),
    [((PUBLIC, "169.254.169.254"), [(PUBLIC, 443)]), ((None,), [])],
    ids=["public-then-metadata", "no-answer-to-the-checks"],
)
def test_a_token_realm_is_reached_only_at_the_address_the_guard_judged(monkeypatch, dns, connects):
    """Without pinning, the connect asked DNS once more: ("rebind.test", 443) was reached,
    wherever DNS then pointed it (169.254.169.254 is refused even for a loopback registry)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Challenger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    registry = f"127.0.0.1:{server.server_address[1]}"
    real_lookup, real_connect = socket.getaddrinfo, socket.create_connection
    rebinding, _ = answers(*dns)
    off_registry: list[tuple[str, int]] = []

    def lookup(host, *args, **kwargs):
        return rebinding(host, *args, **kwargs) if host == "rebind.test" else real_lookup(host, *args, **kwargs)

    def connect(address, *args, **kwargs):
        if address[0] == "127.0.0.1" and address[1] == server.server_address[1]:
            return real_connect(address, *args, **kwargs)  # the registry itself
        off_registry.append(address)  # no network here: every other connect is refused
        raise ConnectionRefusedError(111, "refused")

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket, "create_connection", connect)
    options = RegistryOptions(retry=RetryPolicy(attempts=1))
    try:
        with RegistryClient(options=options, environ={}) as client, pytest.raises(RegistryError) as err:
            client.store(f"{registry}/app").manifest_head("v1")
    finally:
        server.shutdown()
        server.server_close()
    assert "token server https://rebind.test/token unreachable" in str(err.value)
    # The connect went where the guard looked (or nowhere), never to DNS's next answer.
    assert off_registry == connects
