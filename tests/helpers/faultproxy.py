"""A scriptable HTTP fault-injection proxy in a thread, between a client and a real registry.

The client addresses the proxy as if it were the registry (`proxy.host`);
the Host header is passed through unchanged, so the registry builds its
upload Locations with the proxy's address and every request comes back here.

Each request is counted (`proxy.requests`, `proxy.count(...)`, bytes sent up
in `proxy.body_bytes`). Faults match method + a regex on path?query and an
occurrence window (`first`, `times`) counted per fault:

    proxy.add(Fault("PATCH", r"/blobs/uploads/", action="reset", after_bytes=65536))
    proxy.add(Fault("PUT", r"/manifests/", action="status", status=429,
                    headers={"Retry-After": "1"}, times=2))

Actions: `reset` (forward N bytes of the request body, then RST both sides),
`status` (answer this status/headers/body, never reaching the registry),
`stall` (hold the connection `seconds`, then close), `truncate` (forward,
then send only `after_bytes` of the response body), `alter` (forward, flip
one byte of the response body at `offset`), `drop_response` (forward, let
the registry commit, close without answering), `drip` (forward, send the
head and `after_bytes` of the body, then one byte every `seconds`: a
registry that never stalls long enough for a read timeout), `rewrite`
(forward, then answer the registry's response with `headers` added and, when
`status` is not 500, that status instead: ECR's 201 to a PATCH, a POST
announcing OCI-Chunk-Min-Length), `sip` (forward, reading the request body
`after_bytes` at a time, `seconds` apart: a registry that accepts an upload
too slowly for it ever to end, yet never long enough for a write timeout).

Upstream connections are one per request (`Connection: close`), which keeps
framing trivial and counts exact.
"""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HEAD_LIMIT = 64 * 1024
RELAY = 256 * 1024


@dataclass
class Fault:
    method: str  # "*" for any
    path: str  # regex searched in path?query
    action: str = "status"
    first: int = 1  # first matching occurrence affected (1-based)
    times: int | None = 1  # how many consecutive occurrences; None = all from `first`
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    after_bytes: int = 0
    seconds: float = 0.0
    offset: int = 0
    # Called (in the proxy's thread) when the fault fires, before its action: another
    # client acting at that moment (a tag moved between our move and our rollback).
    hook: Callable[[], None] | None = None
    seen: int = 0  # matching requests so far
    fired: int = 0  # times the fault was applied

    def claims(self, method: str, target: str) -> bool:
        if self.method not in ("*", method) or not re.search(self.path, target):
            return False
        self.seen += 1
        last = None if self.times is None else self.first + self.times - 1
        if self.seen < self.first or (last is not None and self.seen > last):
            return False
        self.fired += 1
        return True


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        """`upstream` is the registry's host:port (plain http)."""
        up_host, _, up_port = upstream.rpartition(":")
        self.upstream = (up_host, int(up_port))
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.seen: list[Request] = []  # every request with its headers, in order
        self.body_bytes = 0
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None

    # -- control

    def start(self) -> FaultProxy:
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                owner._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def reset(self) -> None:
        """Forget faults and counts (between tests sharing one proxy)."""
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self.seen.clear()
            self.body_bytes = 0

    def count(self, method: str = "*", path: str = "") -> int:
        with self._lock:
            return sum(1 for m, t in self.requests if method in ("*", m) and re.search(path, t))

    # -- serving

    def _serve(self, client: socket.socket) -> None:
        try:
            while True:
                request, buffered = _read_head(client)
                if request is None:
                    return
                with self._lock:
                    self.requests.append((request.method, request.target))
                    self.seen.append(request)
                    fault = next(
                        (f for f in self.faults if f.claims(request.method, request.target)), None
                    )
                keep = self._handle(client, request, buffered, fault)
                if not keep:
                    return
        except (OSError, ValueError):
            return
        finally:
            client.close()

    def _handle(self, client, request: Request, buffered: bytes, fault: Fault | None) -> bool:
        if fault is None:
            return self._forward(client, request, buffered, None)
        if fault.hook is not None:
            fault.hook()
        if fault.action == "status":
            self._drain(client, request, buffered)
            _answer(client, fault.status, fault.headers, fault.body)
            return False
        if fault.action == "stall":
            time.sleep(fault.seconds)
            return False
        if fault.action == "reset":
            upstream = self._open_upstream(request)
            self._relay_body(client, upstream, request, buffered, limit=fault.after_bytes)
            _rst(upstream)
            _rst(client)
            return False
        return self._forward(client, request, buffered, fault)

    def _open_upstream(self, request: Request) -> socket.socket:
        upstream = socket.create_connection(self.upstream, timeout=120)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "connection"}
        headers["Connection"] = "close"
        head = f"{request.method} {request.target} HTTP/1.1\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        upstream.sendall(head.encode("latin-1"))
        return upstream

    def _forward(self, client, request: Request, buffered: bytes, fault: Fault | None) -> bool:
        upstream = self._open_upstream(request)
        try:
            sip = fault if fault is not None and fault.action == "sip" else None
            self._relay_body(client, upstream, request, buffered, sip=sip)
            if fault is not None and fault.action == "drop_response":
                _recv_all(upstream)  # let the registry finish (and commit)
                _rst(client)
                return False
            if fault is None or sip is not None:
                while data := upstream.recv(RELAY):
                    client.sendall(data)
                return False
            response = _recv_all(upstream)
            head, _, body = response.partition(b"\r\n\r\n")
            if fault.action == "truncate":
                client.sendall(head + b"\r\n\r\n" + body[: fault.after_bytes])
                _rst(client)
            elif fault.action == "rewrite":
                lines = head.decode("latin-1").split("\r\n")
                if fault.status != 500:
                    lines[0] = f"HTTP/1.1 {fault.status} Rewritten"
                lines += [f"{k}: {v}" for k, v in fault.headers.items()]
                client.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
            elif fault.action == "drip":
                client.sendall(head + b"\r\n\r\n" + body[: fault.after_bytes])
                for i in range(fault.after_bytes, len(body)):
                    time.sleep(fault.seconds)
                    client.sendall(body[i : i + 1])  # OSError once the client gave up
            elif fault.action == "alter":
                if fault.offset < len(body):
                    flipped = bytes([body[fault.offset] ^ 0xFF])
                    body = body[: fault.offset] + flipped + body[fault.offset + 1 :]
                client.sendall(head + b"\r\n\r\n" + body)
            return False
        finally:
            upstream.close()

    def _relay_body(
        self, client, upstream, request: Request, buffered: bytes, limit=None, sip=None
    ) -> None:
        """Copy the request body client -> upstream (at most `limit` bytes); with a `sip`
        fault, read it `sip.after_bytes` at a time, `sip.seconds` apart (a slow registry)."""
        sent = 0

        def push(data: bytes) -> bool:
            nonlocal sent
            if limit is not None and sent + len(data) >= limit:
                upstream.sendall(data[: limit - sent])
                self._add_bytes(limit - sent)
                sent = limit
                return False
            upstream.sendall(data)
            self._add_bytes(len(data))
            sent += len(data)
            return True

        for data in _body_chunks(client, request, buffered, size=sip.after_bytes if sip else RELAY):
            if sip is not None:
                time.sleep(sip.seconds)
            if not push(data):
                return

    def _drain(self, client, request: Request, buffered: bytes) -> None:
        for data in _body_chunks(client, request, buffered):
            self._add_bytes(len(data))

    def _add_bytes(self, n: int) -> None:
        with self._lock:
            self.body_bytes += n


def _read_head(sock: socket.socket) -> tuple[Request | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        if not data and not chunk[:1].isalpha():
            return None, b""  # a TLS ClientHello or garbage: not HTTP, just close
        data += chunk
        if len(data) > HEAD_LIMIT:
            return None, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        # Repeated header lines (skopeo sends one Accept per media type) are one
        # comma-joined header (RFC 9110 5.3): keeping only the last loses types.
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return Request(method, target, headers), rest


def _header(request: Request, name: str) -> str | None:
    for key, value in request.headers.items():
        if key.lower() == name:
            return value
    return None


def _body_chunks(sock: socket.socket, request: Request, buffered: bytes, size: int = RELAY):
    """The raw request body bytes as they arrive, at most `size` per read (framing preserved
    for chunked bodies)."""
    length = _header(request, "content-length")
    if length is not None:
        remaining = int(length)
        if buffered:
            yield buffered[:remaining]
            remaining -= len(buffered[:remaining])
        while remaining > 0:
            chunk = sock.recv(min(size, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
        return
    if (_header(request, "transfer-encoding") or "").lower() == "chunked":
        yield from _chunked(sock, buffered)


def _chunked(sock: socket.socket, buffered: bytes):
    """Relay a chunked body verbatim: size line, data, CRLF ... up to the 0 chunk."""
    buf = bytearray(buffered)

    def need(n: int) -> bool:
        while len(buf) < n:
            chunk = sock.recv(RELAY)
            if not chunk:
                return False
            buf.extend(chunk)
        return True

    while True:
        while b"\r\n" not in buf:
            if not need(len(buf) + 1):
                return
        line_end = buf.index(b"\r\n") + 2
        size = int(bytes(buf[: line_end - 2]).split(b";")[0], 16)
        total = line_end + size + 2  # the data and its CRLF (or the final empty line)
        if not need(total):
            return
        yield bytes(buf[:total])
        del buf[:total]
        if size == 0:
            return


def _recv_all(sock: socket.socket) -> bytes:
    parts = []
    while data := sock.recv(RELAY):
        parts.append(data)
    return b"".join(parts)


def _answer(sock: socket.socket, status: int, headers: dict[str, str], body: bytes) -> None:
    head = f"HTTP/1.1 {status} Fault\r\n"
    merged = {"Content-Length": str(len(body)), "Connection": "close", **headers}
    head += "".join(f"{k}: {v}\r\n" for k, v in merged.items()) + "\r\n"
    sock.sendall(head.encode("latin-1") + body)


def _rst(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0): what a dying middlebox does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
