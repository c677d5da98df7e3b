"""Host names to addresses, the way the HTTP client's connect will see them (I/O edge).

endpoints.endpoint_trust decides on addresses; this is the `resolve` the
session hands it. getaddrinfo is what httpcore's connect calls, so
`0x7f000001`, `2852039166` or `127.1` come out as the address the socket
would reach. A name that does not resolve gives () (the request itself will
fail the same way).

DNS rebinding (a name that answers with a public address, or not at all, for
the check and a private one for the connect) is closed by pinning: a
session's Resolver keeps the first answer for each name for the whole run,
and the session's sockets (deadlinenet) connect to exactly those addresses,
never asking DNS again; a name judged while it did not resolve is not
connected to at all until a later check (a retry) resolves it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable

from dockyard.oci.endpoints import Address

Lookup = Callable[..., list]


def resolve_host(host: str, lookup: Lookup | None = None) -> tuple[Address, ...]:
    """Every address `host` resolves to, once each, in getaddrinfo's order."""
    try:
        infos = (lookup or socket.getaddrinfo)(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return ()
    found: dict[Address, None] = {}
    for *_, sockaddr in infos:
        try:
            found[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
        except ValueError:
            continue
    return tuple(found)


class Resolver:
    """resolve_host with memory: the addresses judged are the addresses connected to.

    `resolve` (handed to endpoint_trust) pins a name's first non-empty answer;
    `pinned` (asked by the socket layer before each connect) returns it, () for
    a name judged that has not resolved yet (the connect is refused: DNS may
    answer differently now), or None for a name never judged (the registry
    itself), which connects as usual.
    """

    def __init__(self, lookup: Lookup | None = None) -> None:
        self._lookup = lookup
        self._pins: dict[str, tuple[Address, ...]] = {}
        self._lock = threading.Lock()

    def resolve(self, host: str) -> tuple[Address, ...]:
        key = host.lower()
        with self._lock:
            if self._pins.get(key):
                return self._pins[key]
        found = resolve_host(host, self._lookup)
        with self._lock:
            if not self._pins.get(key):  # the first answer, or the first that resolved
                self._pins[key] = found
            return self._pins[key]

    def pinned(self, host: str) -> tuple[Address, ...] | None:
        with self._lock:
            return self._pins.get(host.lower())
