"""Sockets that never outlive the run's Deadline: an httpcore network backend.

httpx's timeouts apply to each read, write and connect: a registry that
sends one byte every 20 s (or accepts one) never trips a 60 s read timeout.
Here every socket operation, the response head included, gets at most the
time the Deadline has left, so a drip ends when the deadline does and surfaces
as an ordinary httpx timeout, which the session turns into DeadlineExceeded.
"""

from __future__ import annotations

import ssl
import typing

import httpcore
import httpx

from dockyard.oci.deadline import Deadline

PASSED = "the deadline for registry operations passed"


def _left(deadline: Deadline, timeout: float | None, error: type[Exception]) -> float:
    left = deadline.remaining()
    if left <= 0:
        raise error(PASSED)
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(self._deadline, timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


Pins = typing.Callable[[str], "tuple[typing.Any, ...] | None"]


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(
        self,
        deadline: Deadline,
        inner: httpcore.NetworkBackend | None = None,
        pins: Pins | None = None,
    ) -> None:
        self._deadline = deadline
        self._inner = inner or httpcore.SyncBackend()
        # A host endpoint_trust judged connects to the addresses it judged (resolver.Resolver):
        # asking DNS again here would let a rebinding answer reach a private address.
        self._pins = pins

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._pins(host.strip("[]")) if self._pins is not None else None
        if addresses == ():
            raise httpcore.ConnectError(f"{host} did not resolve when its address was checked")
        if addresses is None:
            left = _left(self._deadline, timeout, httpcore.ConnectTimeout)
            stream = self._inner.connect_tcp(host, port, left, local_address, socket_options)
            return DeadlineStream(stream, self._deadline)
        failure: Exception | None = None
        for address in addresses:  # in the resolver's order, as create_connection would try
            left = _left(self._deadline, timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(
                    str(address), port, left, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return DeadlineStream(stream, self._deadline)
        assert failure is not None
        raise failure

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # not used: registries are TCP
        raise httpcore.ConnectError("unix sockets are not used for registries")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport(
    deadline: Deadline,
    *,
    verify: ssl.SSLContext | bool,
    limits: httpx.Limits,
    pins: Pins | None = None,
) -> httpx.HTTPTransport:
    """httpx's transport with its connection pool on a DeadlineBackend.

    HTTPTransport takes no network backend; its `_pool` is the httpcore
    ConnectionPool it builds from these same arguments, rebuilt here with one.
    """
    transport = httpx.HTTPTransport(verify=verify, limits=limits, trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=DeadlineBackend(deadline, pins=pins),
    )
    return transport
