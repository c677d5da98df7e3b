"""Retention on registries that refuse OCI DELETE: which hosted API, and what it deletes (pure).

    api = choose_api("auto", "ghcr.io")                        # -> "github"
    url = api_url(environ, GITHUB)                             # https://api.github.com, or the override
    versions = github_deletions(plan.manifests, kept, listed)  # package versions to delete, in order
    tags = dockerhub_deletions(deleted, kept)                  # tags to delete

GHCR and Docker Hub answer reads through the OCI distribution API but refuse
its DELETE; each deletes through its own web API:

- GitHub Packages REST API (https://docs.github.com/en/rest/packages/packages):
  every manifest in a container package is a *package version* (its `name` is
  the digest, `metadata.container.tags` its tags); deleting a version deletes
  that manifest and its tags. The versions deleted are exactly the manifests
  the retention plan deletes (publish/retain.py: never a kept tag's manifest,
  never a child of a kept index), looked up by digest; a version the plan
  does not name is never touched, and a version that carries a kept tag is
  refused even if the plan names it (the API's view disagreeing with the
  registry's means someone pushed meanwhile).
- Docker Hub API (https://docs.docker.com/reference/api/hub/latest/): deletes
  tags, not manifests. The tags deleted are the plan's deleted tags; a kept tag
  never is. A manifest stays while any tag names it (Hub's own clean-up of
  untagged manifests is Hub's), so a kept index's children are never touched.

The endpoints can be pointed elsewhere (DOCKYARD_GITHUB_API_URL,
DOCKYARD_DOCKERHUB_API_URL) but a token is only ever sent over https, or plain
http to a loopback address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from dockyard.digest import Digest, parse_digest
from dockyard.errors import InputError, OperationError

REGISTRY, GITHUB, DOCKERHUB, AUTO = "registry", "github", "dockerhub", "auto"
APIS = (AUTO, REGISTRY, GITHUB, DOCKERHUB)

# (environment variable, default) of each hosted API's base URL.
API_URLS = {
    GITHUB: ("DOCKYARD_GITHUB_API_URL", "https://api.github.com"),
    DOCKERHUB: ("DOCKYARD_DOCKERHUB_API_URL", "https://hub.docker.com"),
}
_GHCR_HOSTS = frozenset({"ghcr.io"})
_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class PackageVersion:
    """One version of a GitHub container package: a manifest, by digest, with its tags."""

    id: int
    digest: str  # the version's `name`
    tags: tuple[str, ...] = ()


def choose_api(api: str, host: str) -> str:
    """`--api` (or [retain] api) for a registry host: auto picks by the host."""
    if api not in APIS:
        raise InputError(f"--api {api!r}: expected one of {', '.join(APIS)}")
    if api != AUTO:
        return api
    if host in _GHCR_HOSTS:
        return GITHUB
    if host in _HUB_HOSTS:
        return DOCKERHUB
    return REGISTRY


def api_url(environ: Mapping[str, str], api: str) -> str:
    """The base URL of a hosted API (no trailing slash); InputError for one a token must not go to."""
    variable, default = API_URLS[api]
    url = environ.get(variable) or default
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return url.rstrip("/")
    raise InputError(
        f"{variable}={url!r}: expected an https:// URL (or http:// to a loopback address); "
        "a token is never sent over plain http to another host"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def github_package(path: str) -> tuple[str, str]:
    """(owner, URL-encoded package name) of a ghcr.io repository path: `acme/team/api` ->
    (`acme`, `team%2Fapi`); GitHub names a container package by its path under the owner."""
    owner, _, package = path.partition("/")
    if not package:
        raise InputError(f"'{path}': a GHCR repository is OWNER/PACKAGE (e.g. ghcr.io/acme/api)")
    return owner, quote(package, safe="")


def hub_repository(path: str) -> tuple[str, str]:
    """(namespace, repository) of a Docker Hub path (`acme/api`; `library/alpine`)."""
    namespace, _, repository = path.partition("/")
    if not repository or "/" in repository:
        raise InputError(f"'{path}': a Docker Hub repository is NAMESPACE/NAME (e.g. acme/api)")
    return namespace, repository


def github_deletions(
    manifests: Sequence[Digest], kept: Collection[str], versions: Sequence[PackageVersion]
) -> tuple[PackageVersion, ...]:
    """The package versions to delete: the retention plan's `manifests`, in its order (tagged
    roots first, then orphaned children). OperationError if one carries a `kept` tag."""
    by_digest = {v.digest: v for v in versions}
    out = []
    for digest in manifests:
        version = by_digest.get(str(digest))
        if version is None:
            continue  # not listed: gone already
        clash = sorted(set(kept).intersection(version.tags))
        if clash:
            raise OperationError(
                f"package version {version.id} ({digest}) would be deleted but carries the kept "
                f"tag {', '.join(clash)}: the package changed since it was read; nothing more deleted"
            )
        out.append(version)
    return tuple(out)


def dockerhub_deletions(deleted: Sequence[str], kept: Collection[str]) -> tuple[str, ...]:
    """The tags to delete through the Hub API: the retention plan's `deleted` tags, never a
    `kept` one."""
    return tuple(t for t in deleted if t not in set(kept))


def version_from_json(doc: object) -> PackageVersion | None:
    """A package version from the API's JSON (None for one that is not a container's)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("id"), int):
        return None
    name = doc.get("name")
    if not isinstance(name, str):
        return None
    container = (doc.get("metadata") or {}).get("container") or {}
    tags = container.get("tags") if isinstance(container, Mapping) else None
    return PackageVersion(doc["id"], name, tuple(t for t in tags or () if isinstance(t, str)))


def digests(versions: Sequence[PackageVersion]) -> tuple[Digest, ...]:
    """The digests of deleted versions, for the result (a version's name is its digest)."""
    return tuple(parse_digest(v.digest) for v in versions)
