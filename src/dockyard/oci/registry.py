"""RegistryStore: the Store protocol over the OCI Distribution API.

Shape:

    with Workspace(Settings(...)) as ws:        # the run's one client: ws.registry
        store = ws.registry.store(parse_ref("127.0.0.1:5000/team/app"), push=True)
        store.blob_put(digest, size, stream)
        store.manifest_put(data, media_type, tag="v1")

`RegistryClient` owns the one `RegistrySession` (httpx.Client, credentials,
token cache, retry policy; see session.py) and hands out `RegistryStore`s,
each bound to one repository. `push=True` asks for pull+push tokens from the
start, so a destination needs one token, not two.

Each verb is a short sequence of protocol steps; the decisions (scopes,
Location resolution, Link parsing, retry classification) are pure functions.
Reads are digest-checked and size-capped; blob bodies stream both ways.
The upload protocol behind `blob_put` (POST, PATCH, PUT, restarts) is
upload.py; reading responses (caps, error bodies, blob streams) responses.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import IO

import httpx

from dockyard.digest import Digest, parse_digest
from dockyard.errors import DigestMismatch, InputError, NotFound, RegistryError, Unsupported
from dockyard.oci import mediatypes as mt
from dockyard.oci import referrers as refs
from dockyard.oci.auth.challenge import repository_scope
from dockyard.oci.models import MAX_MANIFEST_SIZE, Descriptor, parse_manifest
from dockyard.oci.referrers import referrers_tag
from dockyard.oci.responses import blob_reader, read_capped, resolve_location
from dockyard.oci.session import Host, RegistryOptions, RegistrySession, check_location
from dockyard.oci.upload import BlobUploads
from dockyard.ref import Reference, parse_repository

__all__ = ["RegistryClient", "RegistryOptions", "RegistryStore", "parse_link_next", "referrers_tag"]

# Redirect hops a blob GET may take (registry -> CDN -> signed URL).
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)

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
        self._uploads = BlobUploads(
            name=self.ref.name,
            session=self._session,
            request=self._request,
            url=self._url,
            host=lambda: self._host,
            exists=self.blob_exists,
        )

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
        return blob_reader(
            response, digest, size, name=f"{self}: blob {digest}", deadline=self._session.deadline
        )

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
            self._uploads.keep(digest, resolve_location(url, location))
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
        """Upload a blob (upload.BlobUploads: restarts, chunking, digest checks)."""
        self._uploads.put(digest, size, stream)

    # -- manifests

    def manifest_get(self, reference: str) -> tuple[bytes, str]:
        url = self._url(f"manifests/{reference}")
        response = self._request(
            "GET", url, headers={"Accept": mt.MANIFEST_ACCEPT}, expect=(200, 404)
        )
        if response.status_code == 404:
            response.close()
            raise NotFound(f"{self}: no manifest '{reference}'")
        data = read_capped(
            response,
            MAX_MANIFEST_SIZE,
            what=f"{self}: manifest '{reference}'",
            deadline=self._session.deadline,
        )
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
