"""Retention through the hosted APIs of GHCR and Docker Hub: the HTTP edge of publish/hosted.py.

    deleted, tags = delete_hosted(GITHUB, repository, manifests=plan.manifests,
                                  kept=kept_tags, deleted=deleted_tags, environ=os.environ)

GitHub Packages REST API (https://docs.github.com/en/rest/packages/packages):
    GET    {api}/orgs/{org}/packages/container/{package}/versions?per_page=100&page=N
           (on 404: {api}/users/{user}/packages/container/{package}/versions)
    DELETE {api}/orgs/{org}/packages/container/{package}/versions/{version_id}
           (or /users/{user}/...)
    Authorization: Bearer <GITHUB_TOKEN, else the registry credential's password>
Docker Hub API (https://docs.docker.com/reference/api/hub/latest/):
    POST   {api}/v2/auth/token  {"identifier": user, "secret": password or PAT}
           -> {"access_token": ...}
    DELETE {api}/v2/namespaces/{namespace}/repositories/{repository}/tags/{tag}
    Authorization: Bearer <access_token>

Redirects are not followed (a token goes to the API host only) and no token
is ever part of a message. A failure stops the run and says how many of the
deletions were done before it (OperationError, exit 1).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import httpx

from dockyard.digest import Digest
from dockyard.errors import InputError, OperationError
from dockyard.oci.auth.credentials.sources import find_credential
from dockyard.publish.hosted import (
    DOCKERHUB,
    GITHUB,
    PackageVersion,
    api_url,
    digests,
    dockerhub_deletions,
    github_deletions,
    github_package,
    hub_repository,
    version_from_json,
)
from dockyard.ref import Reference

# The GitHub API's page size limit; a package with more versions takes more pages.
PAGE = 100
# Seconds for one API request: these are small JSON exchanges.
TIMEOUT = 30.0
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
# Answer bodies read for an error message, at most.
_DETAIL = 300


def delete_hosted(
    api: str,
    repository: Reference,
    *,
    manifests: Sequence[Digest],
    kept: Collection[str],
    deleted: Sequence[str],
    environ: Mapping[str, str],
) -> tuple[tuple[Digest, ...], tuple[str, ...]]:
    """Delete what the retention plan says through `api`: (manifests deleted, tags deleted)."""
    base = api_url(environ, api)
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
        if api == GITHUB:
            if not manifests:
                return (), ()  # nothing to delete: no call at all
            token = _github_token(repository, environ)
            done = _github(http, base, token, repository, manifests, kept)
            return digests(done), ()
        if api == DOCKERHUB:
            return (), _dockerhub(
                http, base, repository, dockerhub_deletions(deleted, kept), environ
            )
    raise InputError(f"--api {api!r}: not a hosted API")


# ---------------------------------------------------------------- GitHub Packages


def _github_token(repository: Reference, environ: Mapping[str, str]) -> str:
    token = environ.get("GITHUB_TOKEN", "")
    if token:
        return token
    cred = find_credential(repository.registry, environ=environ)
    if cred is not None and (cred.password or cred.identity_token):
        return cred.password or cred.identity_token
    raise InputError(
        f"retain {repository.name} through the GitHub Packages API needs a token: set GITHUB_TOKEN "
        f"(with the delete:packages scope) or log in to {repository.registry}"
    )


def _github(
    http: httpx.Client,
    base: str,
    token: str,
    repository: Reference,
    manifests: Sequence[Digest],
    kept: Collection[str],
) -> list[PackageVersion]:
    owner, package = github_package(repository.repository)
    headers = {**GITHUB_HEADERS, "Authorization": f"Bearer {token}"}
    scope, versions = _github_versions(http, base, headers, owner, package)
    chosen = github_deletions(manifests, kept, versions)
    done: list[PackageVersion] = []
    for version in chosen:
        url = f"{base}/{scope}/packages/container/{package}/versions/{version.id}"
        answer = _send(http, "DELETE", url, headers=headers)
        if answer.status_code not in (204, 404):  # 404: deleted meanwhile
            raise _failed(
                "GitHub Packages API",
                answer,
                f"{len(done)} of {len(chosen)} versions deleted before that",
            )
        done.append(version)
    return done


def _github_versions(
    http: httpx.Client, base: str, headers: Mapping[str, str], owner: str, package: str
) -> tuple[str, list[PackageVersion]]:
    """(`orgs/OWNER` or `users/OWNER`, every version of the package): an organisation's
    package first, a user's when the organisation endpoint answers 404."""
    for scope in (f"orgs/{owner}", f"users/{owner}"):
        versions: list[PackageVersion] = []
        page = 1
        while True:
            url = f"{base}/{scope}/packages/container/{package}/versions"
            answer = _send(
                http, "GET", url, headers=headers, params={"per_page": PAGE, "page": page}
            )
            if answer.status_code == 404 and page == 1:
                break  # not an organisation (or no such package there): try the user
            if answer.status_code != 200:
                raise _failed("GitHub Packages API", answer, "nothing deleted")
            listed = _json(answer, "GitHub Packages API")
            if not isinstance(listed, list):
                raise OperationError(f"GitHub Packages API: GET {url}: expected a list of versions")
            versions.extend(v for v in map(version_from_json, listed) if v is not None)
            if len(listed) < PAGE:
                return scope, versions
            page += 1
    raise OperationError(
        f"GitHub Packages API: no container package {package} of {owner} "
        "(neither an organisation's nor a user's, or the token cannot read it)"
    )


# ---------------------------------------------------------------- Docker Hub


def _dockerhub(
    http: httpx.Client,
    base: str,
    repository: Reference,
    tags: Sequence[str],
    environ: Mapping[str, str],
) -> tuple[str, ...]:
    namespace, name = hub_repository(repository.repository)
    if not tags:
        return ()
    cred = find_credential(repository.registry, environ=environ)
    if cred is None or not cred.username or not cred.password:
        raise InputError(
            f"retain {repository.name} through the Docker Hub API needs a login: docker login "
            f"{repository.registry} (a personal access token as the password), or "
            "DOCKYARD_REGISTRY_<HOST>_USER / _PASSWORD"
        )
    url = f"{base}/v2/auth/token"
    answer = _send(http, "POST", url, json={"identifier": cred.username, "secret": cred.password})
    if answer.status_code != 200:
        raise _failed("Docker Hub API", answer, "nothing deleted")
    token = (_json(answer, "Docker Hub API") or {}).get("access_token")
    if not isinstance(token, str) or not token:
        raise OperationError(f"Docker Hub API: POST {url}: no access_token in the answer")
    headers = {"Authorization": f"Bearer {token}"}
    done: list[str] = []
    for tag in tags:
        url = f"{base}/v2/namespaces/{namespace}/repositories/{name}/tags/{tag}"
        answer = _send(http, "DELETE", url, headers=headers)
        if answer.status_code not in (200, 202, 204, 404):  # 404: deleted meanwhile
            raise _failed(
                "Docker Hub API", answer, f"{len(done)} of {len(tags)} tags deleted before that"
            )
        done.append(tag)
    return tuple(done)


# ---------------------------------------------------------------- HTTP


def _send(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise OperationError(f"{method} {url}: {type(exc).__name__}: {exc}") from None


def _json(answer: httpx.Response, api: str) -> Any:
    try:
        return answer.json()
    except ValueError:
        raise OperationError(
            f"{api}: {answer.request.method} {answer.request.url}: the answer is not JSON"
        ) from None


def _failed(api: str, answer: httpx.Response, progress: str) -> OperationError:
    """One line: the request, the status, the API's own message (never a header)."""
    detail = ""
    try:
        doc = answer.json()
        if isinstance(doc, Mapping):
            detail = str(doc.get("message") or doc.get("detail") or doc.get("errinfo") or "")
    except ValueError:
        detail = answer.text[:_DETAIL]
    request = answer.request
    why = f": {detail[:_DETAIL]}" if detail else ""
    return OperationError(
        f"{api}: {request.method} {request.url} answered {answer.status_code}{why} ({progress})"
    )
