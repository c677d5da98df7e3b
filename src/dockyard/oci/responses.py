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


def read_capped(response: httpx.Response, cap: int, *, what: str, strict: bool = True) -> bytes:
    """The body, at most `cap` bytes. strict: more is an error; else the rest is dropped."""
    try:
        declared = int(response.headers.get("content-length", "-1"))
    except ValueError:
        declared = -1
    if strict and declared > cap:
        response.close()
        raise RegistryError(f"{what} is {declared} bytes, more than the {cap} allowed")
    buf = bytearray()
    try:
        for chunk in response.iter_bytes(CHUNK):
            buf += chunk
            if len(buf) > cap:
                if strict:
                    raise RegistryError(f"{what} is more than the {cap} bytes allowed")
                return bytes(buf[:cap])
    except httpx.HTTPError as exc:
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

    def __init__(self, response: httpx.Response, *, name: str) -> None:
        super().__init__()
        self._response = response
        self._chunks = response.iter_bytes(CHUNK)
        self._pending = b""
        self._name = name
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if not self._pending:
            self._pending = self._next()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _next(self) -> bytes:
        try:
            chunk = next(self._chunks, b"")
        except httpx.HTTPError as exc:
            self._response.close()
            raise RegistryError(
                f"{self._name}: connection lost after {self._count} bytes ({type(exc).__name__})",
                temporary=True,
            ) from None
        if not chunk:
            self._response.close()
        self._count += len(chunk)
        return chunk

    def close(self) -> None:
        self._response.close()
        super().close()


def blob_reader(
    response: httpx.Response, digest: Digest, size: int | None, *, name: str
) -> IO[bytes]:
    """The verifying stream a blob GET returns: hashed and counted as it arrives."""
    return VerifyingReader(ResponseStream(response, name=name), digest, size, name=name)
