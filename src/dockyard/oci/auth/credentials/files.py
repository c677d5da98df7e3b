"""Credentials files: podman's auth.json and docker's config.json, as sources.

A `ConfigFile` is one file the environment points at, read with one lookup:

- `PODMAN_AUTH_FILE` (`$REGISTRY_AUTH_FILE`) and `PODMAN_RUNTIME_AUTH`
  (`$XDG_RUNTIME_DIR/containers/auth.json`): their `auths` entries;
- `DOCKER_CONFIG` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
  docker's own order, `credHelpers[host]` (decisive when the host has one),
  then `auths`, then `credsStore`.

A file that is not there is no credential; one that cannot be read or parsed
is a RegistryError naming it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import RegistryError
from dockyard.oci.auth.credentials.credential import Credential
from dockyard.oci.auth.credentials.helper import run_helper

# Docker keeps Docker Hub credentials under this legacy key.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

# (file's JSON document, host, source name) -> the credential it holds for host.
Lookup = Callable[[Mapping[str, object], str, str], Credential | None]


@dataclass(frozen=True)
class ConfigFile:
    """A credentials file the environment locates, read with `lookup` (a CredentialSource)."""

    kind: str  # "podman" or "docker": which format, for `credential_files`
    locate: Callable[[Mapping[str, str]], Path | None]
    lookup: Lookup

    def __call__(self, host: str, environ: Mapping[str, str]) -> Credential | None:
        path = self.locate(environ)
        if path is None:
            return None
        doc = _read_json(path)
        if doc is None:
            return None
        return self.lookup(doc, host, str(path))


def config_key_for(host: str) -> str:
    """The key docker stores `host`'s credentials under (Docker Hub's is a legacy URL)."""
    return DOCKER_HUB_KEY if host in DOCKER_HUB_HOSTS else host


def _normalise_key(key: str) -> str:
    """`https://host:5000/v1/` -> `host:5000`, the way docker matches `auths` keys."""
    text = key.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0]
    return "docker.io" if text in DOCKER_HUB_HOSTS else text


def _decode_auth(value: str, *, source: str) -> Credential | None:
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise RegistryError(f"{source}: an 'auth' entry is not base64 of 'user:password'") from None
    user, sep, password = text.partition(":")
    if not sep:
        raise RegistryError(f"{source}: an 'auth' entry is not base64 of 'user:password'")
    return Credential(user, password, source=source)


def _entry_credential(entry: Mapping[str, object], *, source: str) -> Credential | None:
    token = entry.get("identitytoken")
    auth = entry.get("auth")
    if isinstance(token, str) and token:
        user = ""
        if isinstance(auth, str) and auth:
            decoded = _decode_auth(auth, source=source)
            user = decoded.username if decoded else ""
        return Credential(user, identity_token=token, source=source)
    if isinstance(auth, str) and auth:
        return _decode_auth(auth, source=source)
    return None


def _read_json(path: Path) -> Mapping[str, object] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RegistryError(f"cannot read credentials file {path}: {exc.strerror}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(
            f"credentials file {path} is not valid JSON (line {exc.lineno})"
        ) from None
    if not isinstance(doc, dict):
        raise RegistryError(f"credentials file {path} is not a JSON object")
    return doc


def from_auths(doc: Mapping[str, object], host: str, source: str) -> Credential | None:
    """The `auths` entry for `host` (keys compared the way docker does)."""
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        return None
    wanted = _normalise_key(host)
    for key, entry in auths.items():
        if _normalise_key(key) == wanted and isinstance(entry, dict):
            found = _entry_credential(entry, source=source)
            if found:
                return found
    return None


def from_docker_config(doc: Mapping[str, object], host: str, source: str) -> Credential | None:
    """docker's order: the host's credHelper (its answer is final), auths, credsStore."""
    server = config_key_for(host)
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict) and isinstance(helpers.get(host), str):
        return run_helper(helpers[host], server)
    found = from_auths(doc, host, source)
    if found:
        return found
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        return run_helper(store, server)
    return None


def _registry_auth_file(environ: Mapping[str, str]) -> Path | None:
    return Path(environ["REGISTRY_AUTH_FILE"]) if environ.get("REGISTRY_AUTH_FILE") else None


def _runtime_auth_file(environ: Mapping[str, str]) -> Path | None:
    runtime = environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "containers" / "auth.json" if runtime else None


def _docker_config_file(environ: Mapping[str, str]) -> Path | None:
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"]) / "config.json"
    if environ.get("HOME"):
        return Path(environ["HOME"]) / ".docker" / "config.json"
    return None


PODMAN_AUTH_FILE = ConfigFile("podman", _registry_auth_file, from_auths)
PODMAN_RUNTIME_AUTH = ConfigFile("podman", _runtime_auth_file, from_auths)
DOCKER_CONFIG = ConfigFile("docker", _docker_config_file, from_docker_config)
