"""Endpoint trust: where a request (and credentials) may go on behalf of a registry.

Pure (style.md §5): `endpoint_trust` judges a URL that is not the registry's
own /v2/ API as the registry pointed us at it (a token realm, a blob
redirect, an upload Location, a tag page): reached with verified TLS, reached
the way the registry itself is, or refused. `check_endpoint` raises the
one-line RegistryError for a refusal. The session sends every such URL
through the client this decision names; the token flow checks a realm with it.

Hosts are judged by their addresses, not their spelling: `0x7f000001`,
`2852039166` and `169.254.169.254.` are 127.0.0.1 and the cloud metadata
service to the HTTP client. The caller injects `resolve` (the session's resolver.Resolver:
getaddrinfo, as the client's connect will ask); the pure default reads IP
literals only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from urllib.parse import SplitResult, urlsplit

from dockyard.errors import RegistryError
from dockyard.oci.redact import redact_url


class Trust(Enum):
    """How a token realm or redirect may be reached (`endpoint_trust`)."""

    # https only, the certificate verified against the session's CA bundle.
    VERIFIED = "verified"
    # Plain http allowed; reached the way the registry itself is (unverified
    # TLS only when the registry is an --insecure-registry).
    AS_REGISTRY = "as-registry"
    REFUSED = "refused"


@dataclass(frozen=True)
class EndpointDecision:
    trust: Trust
    reason: str = ""  # why it was refused, for the error message


def default_port(scheme: str) -> int:
    """The port a URL of `scheme` without one is on."""
    return 443 if scheme == "https" else 80


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str], tuple[Address, ...]]


def literal_address(host: str) -> tuple[Address, ...]:
    """The pure resolver: an IP literal as `ipaddress` reads it, else nothing."""
    try:
        return (ipaddress.ip_address(host.strip("[]")),)
    except ValueError:
        return ()


def _kind(ip: Address) -> str:
    """loopback | special (link-local, metadata, multicast, 0.0.0.0, reserved) | private | public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "special"
    return "public" if ip.is_global else "private"


def _addresses(host: str, resolve: Resolve) -> tuple[Address, ...]:
    """What `host` reaches, its trailing-dot spelling included (`a.b.` is `a.b` to DNS)."""
    names = {host, host.rstrip(".")} - {""}
    return tuple(dict.fromkeys(ip for name in sorted(names) for ip in resolve(name)))


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _split_netloc(netloc: str) -> tuple[str, int | None]:
    """(lower-case host without brackets, port or None) of `host[:port]`."""
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port


def _is_registry_itself(registry: str, target: SplitResult) -> bool:
    """`target` is on the registry's host:port as the user named it.

    A registry named without a port is on the scheme's default one, so a
    target on 80 or 443 (or no port) of that host is the registry too.
    """
    host, port = _split_netloc(registry)
    try:
        target_port = target.port
    except ValueError:
        return False
    if (target.hostname or "").lower() != host:
        return False
    if port is None:
        return target_port in (None, 80, 443)
    return target_port == port or (target_port is None and port == default_port(target.scheme))


def endpoint_trust(
    registry: str, url: str, *, insecure: bool, resolve: Resolve = literal_address
) -> EndpointDecision:
    """May dockyard send a request (and credentials) to `url` on behalf of `registry`?

    `registry` is host[:port] as the user named it; `insecure` says it was
    given with --insecure-registry (or `insecure = true`). `url` is a token
    realm, a blob redirect, an upload Location or a tag page. The rules:

    - the registry itself: its own setting (plain http only when insecure
      or loopback; otherwise https, verified);
    - loopback to loopback (a test registry and its token server): plain
      http allowed;
    - a host any of whose addresses (`resolve`) is loopback (unless the
      registry is too), link-local, multicast or unspecified, and is not the
      registry's host: refused
      (cloud metadata at 169.254.169.254 however spelt); a private address
      (10/8, ...) likewise, unless the registry is itself on a private
      address (a company registry and its token server);
    - any other host: https with verified TLS, credentials or not: an
      --insecure-registry never extends to the hosts it points at.
    """
    target = urlsplit(url)
    if target.scheme not in ("http", "https"):
        return EndpointDecision(Trust.REFUSED, "is not an http(s) URL")
    host, _ = _split_netloc(registry)
    target_host = (target.hostname or "").lower()
    if _is_registry_itself(registry, target):
        if insecure or _is_loopback_name(host):
            return EndpointDecision(Trust.AS_REGISTRY)
        if target.scheme == "http":
            return EndpointDecision(
                Trust.REFUSED,
                f"is plain http for the registry {registry}, which is not an --insecure-registry; "
                "refusing to downgrade",
            )
        return EndpointDecision(Trust.VERIFIED)
    # Plain http between loopback names only: another spelling that resolves to
    # 127.0.0.1 is judged below like any other host (https, or refused).
    if _is_loopback_name(target_host) and _is_loopback_name(host):
        return EndpointDecision(Trust.AS_REGISTRY)
    addresses = _addresses(target_host.strip("[]"), resolve)
    if target_host != host and (bad := _forbidden(addresses, host, resolve)) is not None:
        seen = "" if str(bad) == target_host.strip("[]") else f" ({target_host} is {bad})"
        return EndpointDecision(
            Trust.REFUSED,
            f"points at the private address {bad}{seen}, which is not the registry "
            f"{registry}; refusing",
        )
    if target.scheme == "http":
        return EndpointDecision(
            Trust.REFUSED,
            f"is plain http on {target.netloc}, another host than the registry {registry}; "
            "a realm or redirect off the registry must be https with a verified certificate",
        )
    return EndpointDecision(Trust.VERIFIED)


def _forbidden(addresses: tuple[Address, ...], registry_host: str, resolve: Resolve) -> Address | None:
    """The first address a realm or redirect off the registry may not point at, if any."""
    registry_private: bool | None = None
    for ip in addresses:
        kind = _kind(ip)
        if kind == "loopback" and _is_loopback_name(registry_host):
            continue  # a loopback registry's own machine
        if kind in ("loopback", "special"):
            return ip
        if kind == "private":
            if registry_private is None:
                own = {_kind(a) for a in _addresses(registry_host.strip("[]"), resolve)}
                registry_private = bool(own) and own == {"private"}
            if not registry_private:
                return ip
    return None


def check_endpoint(
    url: str, *, registry: str, insecure: bool, what: str, resolve: Resolve = literal_address
) -> Trust:
    """`endpoint_trust`, raising the one-line RegistryError (exit 1) when refused.

    A refusal is the registry's configuration (where its realm or redirects
    point), not the user's input: an OperationError, like any registry failure.
    """
    decision = endpoint_trust(registry, url, insecure=insecure, resolve=resolve)
    if decision.trust is Trust.REFUSED:
        raise RegistryError(f"{what} {redact_url(url)} {decision.reason}")
    return decision.trust
