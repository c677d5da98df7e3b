"""Blob uploads to one repository: the POST / PATCH / PUT protocol steps.

`BlobUploads.put` is `RegistryStore.blob_put`:

- a blob up to `RegistryOptions.monolithic_max` is read whole, checked, and
  sent as one POST + one PUT carrying the body; a larger one streams through
  one PATCH (or fixed chunks, `chunk_size`, or `DEFAULT_CHUNK` after a 413),
  hashed as it goes, and is cancelled when the hash does not match;
- an upload session a refused cross-repository mount opened (202) is kept
  and used by the next put of that blob;
- a chunk answered 416 (the registry holds a different range than we
  think) is resumed, not resent: GET the upload URL, read its `Range: 0-N`,
  continue at N+1 (the chunk in hand covers it; else the upload restarts);
- the whole upload restarts with a new session on a temporary failure or a
  lost session (when the stream can seek back), and a HEAD first checks
  whether a PUT whose answer was lost committed anyway.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable, Iterator
from typing import IO

import httpx

from dockyard.digest import Digest
from dockyard.errors import DigestMismatch, RegistryError
from dockyard.oci.responses import CHUNK, resolve_location
from dockyard.oci.retry import restarts_upload
from dockyard.oci.session import Host, RegistrySession, check_location

# Registries (and GHCR in particular) refuse chunks above 4 MiB; ECR wants at
# least 5 MiB and says so in OCI-Chunk-Min-Length. The larger wins.
DEFAULT_CHUNK = 4 * 1024 * 1024
OCTET = "application/octet-stream"


class BlobUploads:
    """The blob uploads of one repository, sent through its store's requests."""

    def __init__(
        self,
        *,
        name: str,
        session: RegistrySession,
        request: Callable[..., httpx.Response],
        url: Callable[[str], str],
        host: Callable[[], Host],
        exists: Callable[[Digest], int | None],
    ) -> None:
        self._name = name  # the repository, for messages
        self._session = session
        # The store's own request, url, host and blob HEAD: its scopes (an upload
        # asks for push) and its registry, resolved when first used.
        self._request = request
        self._url = url
        self._host = host
        self._exists = exists
        # Upload sessions a refused mount opened (202): reused by the next put.
        self._pending: dict[Digest, str] = {}

    def keep(self, digest: Digest, location: str) -> None:
        """An upload session the registry opened for `digest` (a mount it refused)."""
        self._pending[digest] = location

    def put(self, digest: Digest, size: int, stream: IO[bytes]) -> None:
        """Upload a blob; the whole upload restarts with a new session on a temporary failure.

        A stream that cannot seek back is uploaded once (no retry). `size` < 0
        means unknown (a chunked-encoding PATCH).
        """
        start = _tell(stream)
        attempts = self._session.options.retry.attempts
        chunked = self._session.options.chunk_size
        attempt = 0
        while True:
            attempt += 1
            try:
                self._upload(digest, size, stream, chunked)
                return
            except RegistryError as err:
                restart = restarts_upload(err.status, err.codes)
                if err.status == 413 and not chunked:
                    chunked, restart = DEFAULT_CHUNK, True  # one big PATCH refused: use chunks
                if start is None or attempt >= attempts or not (err.temporary or restart):
                    raise
                decision = self._session.decide_again(err, attempt)
                if err.temporary and not decision.retry:
                    raise  # e.g. a Retry-After longer than we wait
                self._session.backoff(
                    decision.delay if decision.retry else 0.0,
                    "upload",
                    f"{self._name}: blob {digest}",
                    decision.reason,
                    attempt,
                )
            # A lost response to a committed PUT: the blob may be there already.
            if (found := self._exists(digest)) is not None and found in (size, -1):
                return
            stream.seek(start)

    def _upload(self, digest: Digest, size: int, stream: IO[bytes], chunked: int | None) -> None:
        small = 0 <= size <= self._session.options.monolithic_max
        if small and not chunked:
            data = _read_verified(stream, digest, size, name=f"{self._name}: blob {digest}")
            location, _ = self._start_upload(digest)
            self._finish_upload(location, digest, data)
            return
        location, min_chunk = self._start_upload(digest)
        hasher = hashlib.new(digest.algorithm)
        if chunked:
            chunk = max(chunked, min_chunk or 0)
            location, sent = self._patch_chunks(location, stream, hasher, chunk)
        else:
            location, sent = self._patch_stream(location, stream, hasher, size)
        if hasher.hexdigest() != digest.hex or (size >= 0 and sent != size):
            self._cancel(location)
            raise DigestMismatch(
                f"{self._name}: blob {digest}: the source gave {sent} bytes hashing to "
                f"{digest.algorithm}:{hasher.hexdigest()}, expected {size} bytes of {digest}"
            )
        self._finish_upload(location, digest, b"")

    def _start_upload(self, digest: Digest) -> tuple[str, int | None]:
        pending = self._pending.pop(digest, None)
        if pending:
            return check_location(pending, self._host(), "upload Location"), None
        url = self._url("blobs/uploads/")
        response = self._request(
            "POST", url, write=True, headers={"Content-Length": "0"}, content=b"", expect=(202,)
        )
        response.close()
        location = response.headers.get("location")
        if not location:
            raise RegistryError(f"{self._name}: upload start answered 202 without a Location")
        min_chunk = response.headers.get("oci-chunk-min-length", "")
        return (
            check_location(resolve_location(url, location), self._host(), "upload Location"),
            int(min_chunk) if min_chunk.isdigit() else None,
        )

    def _patch_stream(self, location: str, stream: IO[bytes], hasher, size: int) -> tuple[str, int]:
        counter = [0]

        def body() -> Iterator[bytes]:
            while chunk := stream.read(CHUNK):
                hasher.update(chunk)
                counter[0] += len(chunk)
                yield chunk

        headers = {"Content-Type": OCTET}
        if size >= 0:
            headers["Content-Length"] = str(size)
        response = self._request(
            "PATCH",
            location,
            write=True,
            headers=headers,
            content=body,
            expect=(202, 201),
            retry=False,
        )
        response.close()
        return self._next_location(location, response), counter[0]

    def _patch_chunks(
        self, location: str, stream: IO[bytes], hasher, chunk: int
    ) -> tuple[str, int]:
        sent = 0
        resumed = False
        pending = b""  # the part of the last chunk the registry does not hold yet
        while data := pending or stream.read(chunk):
            pending = b""
            try:
                location = self._patch_one(location, data, sent)
            except RegistryError as err:
                if err.status != 416 or resumed:
                    raise
                # The registry holds another range than we sent: ask it, once per chunk.
                resumed = True
                location, held = self._upload_status(location)
                if not sent <= held <= sent + len(data):
                    raise  # it lost bytes of earlier chunks: the upload restarts
                hasher.update(data[: held - sent])
                pending, sent = data[held - sent :], held
                continue
            resumed = False
            hasher.update(data)
            sent += len(data)
        return location, sent

    def _patch_one(self, location: str, data: bytes, offset: int) -> str:
        headers = {
            "Content-Type": OCTET,
            "Content-Length": str(len(data)),
            "Content-Range": f"{offset}-{offset + len(data) - 1}",
        }
        response = self._request(
            "PATCH",
            location,
            write=True,
            headers=headers,
            content=data,
            expect=(202, 201),  # ECR answers 201 to a chunk
            retry=False,
        )
        response.close()
        return self._next_location(location, response)

    def _upload_status(self, location: str) -> tuple[str, int]:
        """(Location, bytes held) of an upload session: GET answers 204 with `Range: 0-N`."""
        response = self._request("GET", location, expect=(204,), retry=False)
        response.close()
        held = parse_range_end(response.headers.get("range"))
        if held is None:
            raise RegistryError(f"{self._name}: upload status without a usable Range header")
        return self._next_location(location, response), held

    def _next_location(self, current: str, response: httpx.Response) -> str:
        location = response.headers.get("location")
        if not location:
            return current
        return check_location(resolve_location(current, location), self._host(), "upload Location")

    def _finish_upload(self, location: str, digest: Digest, data: bytes) -> None:
        url = str(httpx.URL(location).copy_merge_params({"digest": str(digest)}))
        headers = {"Content-Type": OCTET, "Content-Length": str(len(data))}
        response = self._request(
            "PUT", url, write=True, headers=headers, content=data, expect=(201, 204), retry=False
        )
        response.close()
        said = response.headers.get("docker-content-digest")
        if said and said != str(digest):
            raise DigestMismatch(f"{self._name}: registry stored blob {said}, we sent {digest}")

    def _cancel(self, location: str) -> None:
        # Best effort: the registry purges abandoned uploads anyway.
        with contextlib.suppress(RegistryError):
            self._request(
                "DELETE", location, write=True, expect=(204, 202, 404), retry=False
            ).close()


def parse_range_end(header: str | None) -> int | None:
    """Bytes an upload holds from its `Range: 0-N` header (N + 1; `0-0` of an empty one is
    ambiguous in the spec, and registries send it for none: 0)."""
    if not header:
        return None
    start, sep, end = header.strip().removeprefix("bytes=").partition("-")
    if not (sep and start == "0" and end.isdigit()):
        return None
    return int(end) + 1 if int(end) > 0 else 0


def _tell(stream: IO[bytes]) -> int | None:
    try:
        return stream.tell() if stream.seekable() else None
    except (OSError, ValueError, AttributeError):
        return None


def _read_verified(stream: IO[bytes], digest: Digest, size: int, *, name: str) -> bytes:
    """A small blob read whole (at most size + 1 bytes) and checked before it is sent."""
    buf = io.BytesIO()
    while buf.tell() <= size and (chunk := stream.read(min(CHUNK, size + 1 - buf.tell()))):
        buf.write(chunk)
    data = buf.getvalue()
    got = hashlib.new(digest.algorithm, data).hexdigest()
    if len(data) != size or got != digest.hex:
        raise DigestMismatch(
            f"{name}: the source gave {len(data)} bytes hashing to {digest.algorithm}:{got}, "
            f"expected {size} bytes of {digest}"
        )
    return data
