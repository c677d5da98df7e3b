"""A local stand-in for the two hosted APIs `dockyard retain --api` uses, beside a real registry.

No hosted service is reachable from here, so this server implements exactly the endpoints
dockyard calls, as their documentation describes them, over the storage of a real
docker-registry (tests/helpers/registry.py):

GitHub Packages REST API, https://docs.github.com/en/rest/packages/packages
  - "List package versions for a package owned by an organization":
    GET /orgs/{org}/packages/container/{package_name}/versions?per_page=&page=
  - "List package versions for a package owned by a user":
    GET /users/{username}/packages/container/{package_name}/versions?per_page=&page=
  - "Delete package version for an organization" / "... for a user":
    DELETE /orgs/{org}/packages/container/{package_name}/versions/{package_version_id}
    DELETE /users/{username}/packages/container/{package_name}/versions/{package_version_id}
  Each version is one manifest of the repository: `id`, `name` (the digest),
  `metadata.package_type` "container", `metadata.container.tags`. Deleting one
  deletes the manifest, and with it its tags (here: an OCI DELETE by digest to
  the registry, which untags it). `Authorization: Bearer <token>` or 401. An
  owner not in `orgs` is a user: the /orgs/ endpoints answer 404 for it.

Docker Hub API, https://docs.docker.com/reference/api/hub/latest/
  - "Create an authentication token": POST /v2/auth/token {"identifier", "secret"}
    -> {"access_token": ...}, 401 otherwise
  - "Delete repository tag":
    DELETE /v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}
  Deleting a tag removes that tag only (here: its directory in the registry's
  storage, as registry 2.8 cannot delete a tag); the manifest stays.

`requests` records (method, path, the Authorization header's scheme) of every
call, never the secret, so tests can assert what was asked and how.
"""

from __future__ import annotations

import json
import shutil
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from tests.helpers.registry import RunningRegistry

TOKEN = "ghp_test-token-never-printed"
HUB_USER = "hub-user"
HUB_SECRET = "dckr_pat_test-secret"
_HUB_TOKEN = "hub-access-token-never-printed"


class HostedApi:
    """Both APIs on one loopback port (`url`), over `registry`'s storage."""

    def __init__(self, registry: RunningRegistry, *, orgs: set[str] | None = None) -> None:
        self.registry = registry
        self.orgs = orgs or set()
        self.requests: list[tuple[str, str, str]] = []
        self.redirect = ""  # when set, every GET answers 307 to this URL + the path
        self._ids: dict[str, int] = {}  # digest -> version id, stable for the server's life
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------ the registry's storage

    def _repo_dir(self, path: str) -> Path:
        return self.registry.root / "data/docker/registry/v2/repositories" / path / "_manifests"

    def versions(self, path: str) -> list[dict]:
        """Every manifest of the repository as a GitHub package version, newest id first."""
        base = self._repo_dir(path)
        tags: dict[str, list[str]] = {}
        tag_dir = base / "tags"
        for tag in sorted(tag_dir.iterdir()) if tag_dir.is_dir() else ():
            link = tag / "current" / "link"
            if link.is_file():
                tags.setdefault(link.read_text().strip(), []).append(tag.name)
        out = []
        rev_dir = base / "revisions" / "sha256"
        for rev in sorted(rev_dir.iterdir()) if rev_dir.is_dir() else ():
            if not (rev / "link").is_file():
                continue  # deleted: the registry removes the link
            digest = f"sha256:{rev.name}"
            vid = self._ids.setdefault(digest, 1000 + len(self._ids))
            out.append(
                {
                    "id": vid,
                    "name": digest,
                    "url": f"{self.url}/versions/{vid}",
                    "metadata": {
                        "package_type": "container",
                        "container": {"tags": tags.get(digest, [])},
                    },
                }
            )
        return sorted(out, key=lambda v: -v["id"])

    def delete_version(self, path: str, vid: int) -> bool:
        digest = next((d for d, i in self._ids.items() if i == vid), None)
        if digest is None or not any(v["id"] == vid for v in self.versions(path)):
            return False
        req = urllib.request.Request(
            f"{self.registry.url}/v2/{path}/manifests/{digest}", method="DELETE"
        )
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.status == 202

    def delete_tag(self, path: str, tag: str) -> bool:
        target = self._repo_dir(path) / "tags" / tag
        if not target.is_dir():
            return False
        shutil.rmtree(target)
        return True


class _Handler(BaseHTTPRequestHandler):
    api: HostedApi

    def log_message(self, *args) -> None:  # quiet
        return None

    def _answer(self, status: int, doc: object = None) -> None:
        body = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> str:
        auth = self.headers.get("Authorization", "")
        scheme = auth.split(" ", 1)[0] if auth else ""
        self.api.requests.append((self.command, urlsplit(self.path).path, scheme))
        return auth

    def _github(self) -> tuple[str, str, list[str]] | None:
        """(owner kind, repository path, rest) of /orgs|users/O/packages/container/P/versions[/ID]."""
        parts = urlsplit(self.path).path.strip("/").split("/")
        if (
            len(parts) < 6
            or parts[0] not in ("orgs", "users")
            or parts[2:4] != ["packages", "container"]
        ):
            return None
        if parts[5] != "versions":
            return None
        return parts[0], f"{parts[1]}/{unquote(parts[4])}", parts[6:]

    def do_GET(self) -> None:
        auth = self._record()
        if self.api.redirect:
            self.send_response(307)
            self.send_header("Location", self.api.redirect + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        found = self._github()
        if found is None or found[2]:
            return self._answer(404, {"message": "Not Found"})
        kind, path, _ = found
        if auth != f"Bearer {TOKEN}":
            return self._answer(401, {"message": "Bad credentials"})
        if (kind == "orgs") != (path.split("/")[0] in self.api.orgs):
            return self._answer(404, {"message": "Not Found"})
        query = parse_qs(urlsplit(self.path).query)
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        versions = self.api.versions(path)
        return self._answer(200, versions[(page - 1) * per_page : page * per_page])

    def do_DELETE(self) -> None:
        auth = self._record()
        found = self._github()
        if found is not None:
            kind, path, rest = found
            if auth != f"Bearer {TOKEN}":
                return self._answer(401, {"message": "Bad credentials"})
            if len(rest) != 1 or (kind == "orgs") != (path.split("/")[0] in self.api.orgs):
                return self._answer(404, {"message": "Not Found"})
            ok = self.api.delete_version(path, int(rest[0]))
            return self._answer(204) if ok else self._answer(404, {"message": "Not Found"})
        parts = urlsplit(self.path).path.strip("/").split("/")
        if (
            len(parts) == 7
            and parts[:2] == ["v2", "namespaces"]
            and parts[3] == "repositories"
            and parts[5] == "tags"
        ):
            if auth != f"Bearer {_HUB_TOKEN}":
                return self._answer(401, {"detail": "authentication required"})
            ok = self.api.delete_tag(f"{parts[2]}/{parts[4]}", parts[6])
            return self._answer(204) if ok else self._answer(404, {"detail": "tag not found"})
        return self._answer(404, {"detail": "not found"})

    def do_POST(self) -> None:
        self._record()
        if urlsplit(self.path).path != "/v2/auth/token":
            return self._answer(404, {"detail": "not found"})
        length = int(self.headers.get("Content-Length", "0"))
        try:
            doc = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._answer(400, {"detail": "bad JSON"})
        if doc.get("identifier") != HUB_USER or doc.get("secret") != HUB_SECRET:
            return self._answer(401, {"detail": "incorrect authentication credentials"})
        return self._answer(200, {"access_token": _HUB_TOKEN})
