"""Reading a registry's responses: bounded bodies, error bodies, blob streams.

- `read_capped`: a body read to at most a cap (more is an error, or dropped);
- `parse_errors`: the spec error codes and first message of an error body;
- `resolve_location`: a Location header made absolute;
- `ResponseStream` / `blob_reader`: a blob GET's body as the verifying stream
  the Store protocol returns; a connection lost mid-body is a temporary
  RegistryError, so the retry loop sees one exception tree.
"""

from __future__ import annotations

import io
import json
from typing import IO
from urllib.parse import urljoin

import httpx

from dockyard.digest import Digest
from dockyard.errors import RegistryError
from dockyard.oci.deadline import Deadline
from dockyard.oci.verifying import VerifyingReader

# Error bodies are for a message; more than this is noise or an attack.
MAX_ERROR_BODY = 1024 * 1024
# Read size for streamed bodies: large enough to keep syscalls cheap.
CHUNK = 1024 * 1024
# An error message quotes at most this much of the registry's own words.
MAX_QUOTED = 200


def parse_errors(body: bytes) -> tuple[tuple[str, ...], str]:
    """(codes, first message) from an OCI error body; ((), text) for non-JSON bodies."""
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = body[:MAX_QUOTED].decode("utf-8", "replace")
        return (), " ".join(text.split())
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errors, list):
        return (), ""
    codes = tuple(str(e.get("code")) for e in errors if isinstance(e, dict) and e.get("code"))
    messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
    return codes, " ".join((messages[0] if messages else "").split())[:MAX_QUOTED]


def resolve_location(current_url: str, location: str) -> str:
    """An upload or redirect Location, made absolute against the URL that returned it."""
    return urljoin(current_url, location.strip())


def read_capped(
    response: httpx.Response,
    cap: int,
    *,
    what: str,
    strict: bool = True,
    deadline: Deadline | None = None,
) -> bytes:
    """The body, at most `cap` bytes. strict: more is an error; else the rest is dropped.

    A `deadline` that passes while reading is DeadlineExceeded with the bytes read.
    """
    try:
        declared = int(response.headers.get("content-length", "-1"))
    except ValueError:
        declared = -1
    if strict and declared > cap:
        response.close()
        raise RegistryError(f"{what} is {declared} bytes, more than the {cap} allowed")
    buf = bytearray()
    try:
        for chunk in response.iter_bytes():  # as they arrive: `buf` counts what was moved
            buf += chunk
            if len(buf) > cap:
                if strict:
                    raise RegistryError(f"{what} is more than the {cap} bytes allowed")
                return bytes(buf[:cap])
    except httpx.HTTPError as exc:
        if deadline is not None and deadline.expired():
            raise deadline.error(what, moved=len(buf)) from None
        raise RegistryError(
            f"{what}: connection lost while reading ({type(exc).__name__})", temporary=True
        ) from None
    finally:
        response.close()
    return bytes(buf)


class ResponseStream(io.RawIOBase):
    """The body of an HTTP response as a raw stream; the response closes at EOF or close.

    A connection lost mid-body becomes a temporary RegistryError, so callers
    (and the retry loop) see one exception tree.
    """

    def __init__(
        self, response: httpx.Response, *, name: str, deadline: Deadline | None = None
    ) -> None:
        super().__init__()
        self._response = response
        # Chunks as they arrive (no chunk_size): httpx would otherwise buffer up to
        # a full chunk, and a stall after 900 KiB would be reported as "after 0 bytes".
        self._chunks = response.iter_bytes()
        self._pending = b""
        self._name = name
        self._deadline = deadline
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        # Fills the buffer (or reaches EOF) as a file would: callers read a small
        # blob with one read(size + 1), and chunks arrive as the network gives them.
        n = 0
        while n < len(buffer):
            if not self._pending:
                self._pending = self._next()
                if not self._pending:
                    break
            k = min(len(buffer) - n, len(self._pending))
            buffer[n : n + k] = self._pending[:k]
            self._pending = self._pending[k:]
            n += k
        return n

    def _next(self) -> bytes:
        try:
            chunk = next(self._chunks, b"")
        except httpx.HTTPError as exc:
            self._response.close()
            if self._deadline is not None and self._deadline.expired():
                raise self._deadline.error(self._name, moved=self._count, total=self._total()) from None
            raise RegistryError(
                f"{self._name}: connection lost after {self._count} bytes ({type(exc).__name__})",
                temporary=True,
            ) from None
        if not chunk:
            self._response.close()
        self._count += len(chunk)
        return chunk

    def _total(self) -> int | None:
        length = self._response.headers.get("content-length", "")
        return int(length) if length.isdigit() else None

    def close(self) -> None:
        self._response.close()
        super().close()


def blob_reader(
    response: httpx.Response,
    digest: Digest,
    size: int | None,
    *,
    name: str,
    deadline: Deadline | None = None,
) -> IO[bytes]:
    """The verifying stream a blob GET returns: hashed and counted as it arrives."""
    raw = ResponseStream(response, name=name, deadline=deadline)
    return VerifyingReader(raw, digest, size, name=name)
