"""A TCP relay: a registry on 127.0.0.1 reached under this machine's host name.

dockyard treats a name other than `localhost` as another host (it never
resolves names to decide), so tests use the machine's host name to stand for
a remote registry. The name may resolve to 127.0.1.1 (Debian's default) or a
LAN address, where the registry does not listen: the relay listens on
whatever the name resolves to and pipes each connection, bytes unchanged
(TLS included), to the registry.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading


def this_host() -> tuple[str, str]:
    """(a name for this machine that is not 'localhost', the address it resolves to)."""
    name = socket.gethostname()
    address = socket.gethostbyname(name)
    if name in ("localhost", address):
        raise AssertionError(f"host name {name!r} cannot stand for another host")
    return name, address


class TcpRelay:
    """Listens on (`address`, a free port); each connection is piped to `upstream` host:port."""

    def __init__(self, address: str, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.address = address
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> TcpRelay:
        upstream = self.upstream

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                with socket.create_connection(upstream, timeout=30) as far:
                    back = threading.Thread(target=_pipe, args=(far, self.request), daemon=True)
                    back.start()
                    _pipe(self.request, far)
                    back.join(timeout=30)

        self._server = socketserver.ThreadingTCPServer((self.address, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> TcpRelay:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _pipe(source: socket.socket, dest: socket.socket) -> None:
    """Copy until `source` ends, then end `dest`'s writing side."""
    with contextlib.suppress(OSError):  # either side gone: the connection is over
        while data := source.recv(65536):
            dest.sendall(data)
    with contextlib.suppress(OSError):
        dest.shutdown(socket.SHUT_WR)
