"""Host names to addresses, the way the HTTP client's connect will see them (I/O edge).

endpoints.endpoint_trust decides on addresses; this is the `resolve` the
session hands it. getaddrinfo is what httpcore's connect calls, so
`0x7f000001`, `2852039166` or `127.1` come out as the address the socket
would reach. A name that does not resolve gives () (the request itself will
fail the same way). A DNS answer that changes between this check and the
connect (rebinding) is not covered here.
"""

from __future__ import annotations

import ipaddress
import socket

from dockyard.oci.endpoints import Address


def resolve_host(host: str) -> tuple[Address, ...]:
    """Every address `host` resolves to, once each, in getaddrinfo's order."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return ()
    found: dict[Address, None] = {}
    for *_, sockaddr in infos:
        try:
            found[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
        except ValueError:
            continue
    return tuple(found)
