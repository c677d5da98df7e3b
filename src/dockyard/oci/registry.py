"""RegistryStore: the Store protocol over the OCI Distribution API.

Shape:

    with RegistryClient(options=RegistryOptions(...)) as client:   # one per run
        store = client.store(parse_ref("127.0.0.1:5000/team/app"), push=True)
        store.blob_put(digest, size, stream)
        store.manifest_put(data, media_type, tag="v1")

`RegistryClient` owns the one `RegistrySession` (httpx.Client, credentials,
token cache, retry policy; see session.py) and hands out `RegistryStore`s,
each bound to one repository. `push=True` asks for pull+push tokens from the
start, so a destination needs one token, not two.

Each verb is a short sequence of protocol steps; the decisions (scopes,
Location resolution, Link parsing, retry classification) are pure functions.
Reads are digest-checked and size-capped; blob bodies stream both ways.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from typing import IO

import httpx

from dockyard.digest import Digest, parse_digest
from dockyard.errors import DigestMismatch, InputError, NotFound, RegistryError, Unsupported
from dockyard.oci import mediatypes as mt
from dockyard.oci import referrers as refs
from dockyard.oci.challenge import repository_scope
from dockyard.oci.models import MAX_MANIFEST_SIZE, Descriptor, parse_manifest
from dockyard.oci.referrers import referrers_tag
from dockyard.oci.responses import CHUNK, blob_reader, read_capped, resolve_location
from dockyard.oci.retry import restarts_upload
from dockyard.oci.session import Host, RegistryOptions, RegistrySession, check_location
from dockyard.ref import Reference, parse_repository

__all__ = ["RegistryClient", "RegistryOptions", "RegistryStore", "parse_link_next", "referrers_tag"]

# Registries (and GHCR in particular) refuse chunks above 4 MiB; ECR wants at
# least 5 MiB and says so in OCI-Chunk-Min-Length. The larger wins.
DEFAULT_CHUNK = 4 * 1024 * 1024
# Redirect hops a blob GET may take (registry -> CDN -> signed URL).
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
OCTET = "application/octet-stream"

_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*rel="?next"?', re.IGNORECASE)


def parse_link_next(header: str | None) -> str | None:
    """The `rel="next"` target of a Link header (`</v2/x/tags/list?n=2&last=b>; rel="next"`)."""
    if not header:
        return None
    match = _LINK_NEXT.search(header)
    return match.group(1) if match else None


class RegistryClient:
    """One per run: the HTTP session, credentials and token cache; hands out stores."""

    def __init__(
        self,
        *,
        options: RegistryOptions | None = None,
        environ: Mapping[str, str] | None = None,
        **session_kwargs,
    ) -> None:
        self.options = options or RegistryOptions()
        self.session = RegistrySession(self.options, environ=environ, **session_kwargs)

    def store(self, ref: Reference | str, *, push: bool = False) -> RegistryStore:
        if isinstance(ref, str):
            ref = parse_repository(ref)
        return RegistryStore(ref, client=self, push=push)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RegistryStore:
    """One repository on one registry, as a Store."""

    def __init__(self, ref: Reference, *, client: RegistryClient, push: bool = False) -> None:
        self.ref = ref.repository_ref
        self.client = client
        self._session = client.session
        self._write = push
        # Upload sessions a refused mount opened (202): reused by the next blob_put.
        self._pending: dict[Digest, str] = {}

    def __repr__(self) -> str:
        return f"RegistryStore({self.ref.name})"

    def __str__(self) -> str:
        return self.ref.name

    # -- plumbing

    @property
    def _host(self) -> Host:
        return self._session.host(self.ref.registry)

    def _url(self, suffix: str) -> str:
        return self._host.url(f"/v2/{self.ref.repository}/{suffix}")

    def _scopes(self, *, write: bool = False) -> tuple[str, ...]:
        if write:
            self._write = True
        actions = ["pull", "push"] if self._write else ["pull"]
        return (repository_scope(self.ref.repository, actions),)

    def _request(self, method: str, url: str, *, write: bool = False, **kwargs) -> httpx.Response:
        return self._session.request(
            self._host,
            method,
            url,
            scopes=kwargs.pop("scopes", self._scopes(write=write)),
            **kwargs,
        )

    # -- blobs

    def blob_exists(self, digest: Digest) -> int | None:
        response = self._request("HEAD", self._url(f"blobs/{digest}"), expect=(200, 404))
        response.close()
        if response.status_code == 404:
            return None
        try:
            return int(response.headers["content-length"])
        except (KeyError, ValueError):
            return -1  # present, size not said

    def blob_open(self, digest: Digest, *, size: int | None = None) -> IO[bytes]:
        """A verifying stream of the blob (redirects followed; no Authorization off-registry)."""
        url = self._url(f"blobs/{digest}")
        headers = {"Accept-Encoding": "identity"}  # hash the bytes as stored, not re-encoded
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request("GET", url, headers=headers, expect=(200, 404, *REDIRECTS))
            if response.status_code == 404:
                response.close()
                raise NotFound(f"{self}: no blob {digest}")
            if response.status_code == 200:
                break
            location = response.headers.get("location", "")
            response.close()
            url = check_location(resolve_location(url, location), self._host, "blob redirect")
        else:
            raise RegistryError(f"{self}: blob {digest} redirected more than {MAX_REDIRECTS} times")
        if size is None:
            length = response.headers.get("content-length")
            size = int(length) if length and length.isdigit() else None
        return blob_reader(response, digest, size, name=f"{self}: blob {digest}")

    def blob_mount(self, digest: Digest, source: str) -> bool:
        """Cross-repository mount from `source` (a repository on this registry)."""
        source_repo = self._same_registry_repo(source)
        if source_repo is None or source_repo == self.ref.repository:
            return False
        scopes = (
            *self._scopes(write=True),
            repository_scope(source_repo, ["pull"]),
        )
        url = str(
            httpx.URL(self._url("blobs/uploads/")).copy_merge_params(
                {"mount": str(digest), "from": source_repo}
            )
        )
        response = self._request(
            "POST",
            url,
            scopes=scopes,
            headers={"Content-Length": "0"},
            content=b"",
            expect=(201, 202),
        )
        response.close()
        if response.status_code == 201:
            return True
        # 202: the registry opened an upload session instead; keep it for blob_put.
        location = response.headers.get("location")
        if location:
            self._pending[digest] = resolve_location(url, location)
        return False

    def _same_registry_repo(self, source: str) -> str | None:
        prefix = self.ref.registry + "/"
        if source.startswith(prefix):
            return source[len(prefix) :]
        first = source.split("/", 1)[0]
        if "/" in source and ("." in first or ":" in first or first == "localhost"):
            return None  # another registry's name
        return source

    def blob_put(self, digest: Digest, size: int, stream: IO[bytes]) -> None:
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
                    f"{self}: blob {digest}",
                    decision.reason,
                    attempt,
                )
            # A lost response to a committed PUT: the blob may be there already.
            if (found := self.blob_exists(digest)) is not None and found in (size, -1):
                return
            stream.seek(start)

    def _upload(self, digest: Digest, size: int, stream: IO[bytes], chunked: int | None) -> None:
        small = 0 <= size <= self._session.options.monolithic_max
        if small and not chunked:
            data = _read_verified(stream, digest, size, name=f"{self}: blob {digest}")
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
                f"{self}: blob {digest}: the source gave {sent} bytes hashing to "
                f"{digest.algorithm}:{hasher.hexdigest()}, expected {size} bytes of {digest}"
            )
        self._finish_upload(location, digest, b"")

    def _start_upload(self, digest: Digest) -> tuple[str, int | None]:
        pending = self._pending.pop(digest, None)
        if pending:
            return check_location(pending, self._host, "upload Location"), None
        url = self._url("blobs/uploads/")
        response = self._request(
            "POST", url, write=True, headers={"Content-Length": "0"}, content=b"", expect=(202,)
        )
        response.close()
        location = response.headers.get("location")
        if not location:
            raise RegistryError(f"{self}: upload start answered 202 without a Location")
        min_chunk = response.headers.get("oci-chunk-min-length", "")
        return (
            check_location(resolve_location(url, location), self._host, "upload Location"),
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
        while data := stream.read(chunk):
            hasher.update(data)
            headers = {
                "Content-Type": OCTET,
                "Content-Length": str(len(data)),
                "Content-Range": f"{sent}-{sent + len(data) - 1}",
            }
            response = self._request(
                "PATCH",
                location,
                write=True,
                headers=headers,
                content=data,
                expect=(202, 201),
                retry=False,
            )
            response.close()
            location = self._next_location(location, response)
            sent += len(data)
        return location, sent

    def _next_location(self, current: str, response: httpx.Response) -> str:
        location = response.headers.get("location")
        if not location:
            return current
        return check_location(resolve_location(current, location), self._host, "upload Location")

    def _finish_upload(self, location: str, digest: Digest, data: bytes) -> None:
        url = str(httpx.URL(location).copy_merge_params({"digest": str(digest)}))
        headers = {"Content-Type": OCTET, "Content-Length": str(len(data))}
        response = self._request(
            "PUT", url, write=True, headers=headers, content=data, expect=(201, 204), retry=False
        )
        response.close()
        said = response.headers.get("docker-content-digest")
        if said and said != str(digest):
            raise DigestMismatch(f"{self}: registry stored blob {said}, we sent {digest}")

    def _cancel(self, location: str) -> None:
        # Best effort: the registry purges abandoned uploads anyway.
        with contextlib.suppress(RegistryError):
            self._request(
                "DELETE", location, write=True, expect=(204, 202, 404), retry=False
            ).close()

    # -- manifests

    def manifest_get(self, reference: str) -> tuple[bytes, str]:
        url = self._url(f"manifests/{reference}")
        response = self._request(
            "GET", url, headers={"Accept": mt.MANIFEST_ACCEPT}, expect=(200, 404)
        )
        if response.status_code == 404:
            response.close()
            raise NotFound(f"{self}: no manifest '{reference}'")
        data = read_capped(response, MAX_MANIFEST_SIZE, what=f"{self}: manifest '{reference}'")
        self._check_manifest_digest(reference, data, response.headers)
        return data, parse_manifest(data, response.headers.get("content-type")).media_type

    def _check_manifest_digest(self, reference: str, data: bytes, headers) -> None:
        wanted = _as_digest(reference)
        if wanted is None and (said := headers.get("docker-content-digest")):
            wanted = _as_digest(said)
        if wanted is None:
            return
        got = hashlib.new(wanted.algorithm, data).hexdigest()
        if got != wanted.hex:
            raise DigestMismatch(
                f"{self}: manifest '{reference}' hashes to {wanted.algorithm}:{got}, expected {wanted}"
            )

    def manifest_head(self, reference: str) -> tuple[Digest, int, str] | None:
        url = self._url(f"manifests/{reference}")
        response = self._request(
            "HEAD", url, headers={"Accept": mt.MANIFEST_ACCEPT}, expect=(200, 404)
        )
        response.close()
        if response.status_code == 404:
            return None
        said = response.headers.get("docker-content-digest")
        digest = _as_digest(said) if said else _as_digest(reference)
        length = response.headers.get("content-length", "")
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
        if digest is None or not length.isdigit() or media_type not in mt.ALL_MANIFEST_TYPES:
            # A registry that does not say: ask for the bytes and hash them ourselves.
            data, media_type = self.manifest_get(reference)
            return Digest("sha256", hashlib.sha256(data).hexdigest()), len(data), media_type
        return digest, int(length), media_type

    def manifest_put(self, data: bytes, media_type: str, *, tag: str | None = None) -> Digest:
        digest, _ = self._put_manifest(data, media_type, tag)
        return digest

    def _put_manifest(
        self, data: bytes, media_type: str, reference: str | None
    ) -> tuple[Digest, httpx.Headers]:
        """PUT under `reference` (a tag; None: by digest): our digest and the response's headers."""
        if len(data) > MAX_MANIFEST_SIZE:
            raise InputError(
                f"{self}: manifest is {len(data)} bytes, more than the {MAX_MANIFEST_SIZE} allowed"
            )
        digest = Digest("sha256", hashlib.sha256(data).hexdigest())
        url = self._url(f"manifests/{reference or digest}")
        response = self._request(
            "PUT",
            url,
            write=True,
            headers={"Content-Type": media_type, "Content-Length": str(len(data))},
            content=data,
            expect=(201, 200),
        )
        response.close()
        said = response.headers.get("docker-content-digest")
        if said and said != str(digest):
            raise DigestMismatch(f"{self}: registry stored manifest {said}, we sent {digest}")
        return digest, response.headers

    def manifest_delete(self, digest: Digest) -> None:
        url = self._url(f"manifests/{digest}")
        try:
            response = self._request("DELETE", url, write=True, expect=(202, 200, 204, 404))
        except RegistryError as err:
            if err.status == 405 or "UNSUPPORTED" in err.codes:
                raise Unsupported(
                    f"{self}: the registry refuses to delete manifests ({err})"
                ) from None
            raise
        response.close()
        if response.status_code == 404:
            raise NotFound(f"{self}: no manifest {digest} to delete")

    # -- tags and referrers

    def tag_list(self, *, page_size: int | None = None) -> Iterator[str]:
        url: str | None = self._url("tags/list")
        if page_size:
            url = str(httpx.URL(url).copy_merge_params({"n": str(page_size)}))
        while url:
            response = self._request("GET", url, expect=(200, 404))
            if response.status_code == 404:  # a repository with no tags yet
                response.close()
                return
            body = read_capped(response, MAX_MANIFEST_SIZE, what=f"{self}: tag list")
            yield from _tags(body, str(self))
            following = parse_link_next(response.headers.get("link"))
            url = (
                check_location(resolve_location(url, following), self._host, "tag page")
                if following
                else None
            )

    def referrers(self, subject: Digest, *, artifact_type: str | None = None) -> list[Descriptor]:
        """Manifests whose subject is `subject`: the referrers API, else the `sha256-<hex>` tag.

        A registry with the API answers 200 with an index (even for a digest it
        does not hold); 404 means no API (registry 2.8), and the fallback tag is read.
        """
        url = self._url(f"referrers/{subject}")
        if artifact_type:
            url = str(httpx.URL(url).copy_merge_params({"artifactType": artifact_type}))
        response = self._request("GET", url, headers={"Accept": mt.OCI_INDEX}, expect=(200, 404))
        if response.status_code == 404:
            response.close()
            return refs.fallback_list(self, subject, artifact_type)
        data = read_capped(response, MAX_MANIFEST_SIZE, what=f"{self}: referrers of {subject}")
        index = refs.parse_referrers(data, f"{self}: referrers of {subject}")
        # The filter is a SHOULD: OCI-Filters-Applied says whether it was applied; filter anyway.
        return refs.of_type(index.manifests, artifact_type)

    def referrer_put(self, data: bytes, media_type: str) -> Digest:
        """PUT the manifest by digest; unless the registry answers `OCI-Subject` (it keeps
        the list itself), list it under the subject's fallback tag."""
        manifest = refs.artifact(data, media_type, str(self))
        digest, headers = self._put_manifest(data, media_type, str(manifest.digest))
        if not headers.get("oci-subject"):
            refs.fallback_add(self, manifest)
        return digest


def _tags(body: bytes, where: str) -> list[str]:
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RegistryError(f"{where}: tag list is not JSON") from None
    tags = doc.get("tags") if isinstance(doc, dict) else None
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise RegistryError(f"{where}: tag list 'tags' is not a list of strings")
    return tags


def _as_digest(text: str) -> Digest | None:
    if ":" not in text:
        return None
    try:
        return parse_digest(text)
    except InputError:
        return None


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
