"""Registry authentication: credentials, the bearer-token challenge, basic auth.

Shape (style.md §5):

- pure decisions: `parse_www_authenticate`, `repository_scope`, `endpoint_trust`
  (where a token realm or redirect may be reached: verified TLS, as the
  registry itself, or refused),
  `env_credential_names`, `config_key_for` (unit-tested without a network);
- `find_credential(host)` reads the credential sources in this order, first
  hit wins: env `DOCKYARD_REGISTRY_<HOST>_USER/_PASSWORD`, podman `auth.json`
  (`$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`), docker
  `config.json` (`$DOCKER_CONFIG/config.json`, `~/.docker/config.json`), where
  `credHelpers[host]`, then `auths`, then `credsStore` are consulted;
- `Authenticator`: one per registry host. It learns the host's challenge from
  the `/v2/` ping, fetches and caches bearer tokens per scope set (anonymous
  when there are no credentials), and answers "which Authorization header for
  these scopes";
- `ScopedAuth(httpx.Auth)`: the per-request flow. It attaches that header only
  when the request goes to the registry's own scheme://host:port, so a blob
  redirect to a CDN or a foreign upload Location never sees it.

A 401 on a request is handed back by the client to `Authenticator.challenged`
(which drops the stale token and learns the new challenge), and the client
re-sends once: doing the resend in the client, not inside the httpx flow,
lets streamed upload bodies be rebuilt and bounds every body we read.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import httpx

from dockyard.errors import RegistryError
from dockyard.oci.redact import MASK, redact_text, redact_url
from dockyard.oci.retry import is_retryable

# Docker keeps Docker Hub credentials under this legacy key.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

# A helper that hangs (waiting for a GUI keychain prompt, say) must not hang us.
HELPER_TIMEOUT = 10.0
# Token endpoints answer a few KiB; more than this is hostile or broken.
MAX_TOKEN_BODY = 1024 * 1024
# The distribution token spec's default lifetime when `expires_in` is absent.
DEFAULT_TOKEN_TTL = 60.0
# Refresh a token this long before it expires: a request must not race the expiry.
TOKEN_EXPIRY_MARGIN = 10.0

_HELPER_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_NOT_FOUND = "credentials not found"


# --------------------------------------------------------------------------- pure


@dataclass(frozen=True)
class Challenge:
    """One WWW-Authenticate challenge: scheme (lower-case) and its parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*(,|$)')


def parse_www_authenticate(header: str | None) -> Challenge | None:
    """Parse the first challenge of a WWW-Authenticate header; None when there is none.

    `Bearer realm="https://a/token",service="reg",scope="repository:x:pull,push"`
    -> Challenge("bearer", {...}). Quoted values may hold commas and escapes.
    """
    if not header:
        return None
    match = re.match(rf"\s*({_TOKEN})(?:\s+|$)", header)
    if not match:
        return None
    scheme = match.group(1).lower()
    params: dict[str, str] = {}
    rest = header[match.end() :]
    while rest.strip():
        param = _PARAM.match(rest)
        if not param:
            break  # a second challenge or garbage: the first one is what we use
        quoted, bare = param.group(2), param.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        params[param.group(1).lower()] = value
        rest = rest[param.end() :]
    return Challenge(scheme, params)


def repository_scope(repository: str, actions: Iterable[str]) -> str:
    """`repository:<name>:<actions>`, actions in canonical order (pull before push)."""
    order = {"pull": 0, "push": 1, "delete": 2}
    ordered = sorted(set(actions), key=lambda a: (order.get(a, 9), a))
    return f"repository:{repository}:{','.join(ordered)}"


def _is_private_ip(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: we do not resolve it here
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Trust(Enum):
    """How a token realm or redirect may be reached (`endpoint_trust`)."""

    # https only, the certificate verified against the session's CA bundle.
    VERIFIED = "verified"
    # Plain http allowed; reached the way the registry itself is (unverified
    # TLS only when the registry is an --insecure-registry).
    AS_REGISTRY = "as-registry"
    REFUSED = "refused"


@dataclass(frozen=True)
class EndpointDecision:
    trust: Trust
    reason: str = ""  # why it was refused, for the error message


def _split_netloc(netloc: str) -> tuple[str, int | None]:
    """(lower-case host without brackets, port or None) of `host[:port]`."""
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port


def _is_registry_itself(registry: str, target: SplitResult) -> bool:
    """`target` is on the registry's host:port as the user named it.

    A registry named without a port is on the scheme's default one, so a
    target on 80 or 443 (or no port) of that host is the registry too.
    """
    host, port = _split_netloc(registry)
    try:
        target_port = target.port
    except ValueError:
        return False
    if (target.hostname or "").lower() != host:
        return False
    if port is None:
        return target_port in (None, 80, 443)
    return target_port == port or (target_port is None and port == _default_port(target.scheme))


def endpoint_trust(registry: str, url: str, *, insecure: bool) -> EndpointDecision:
    """May dockyard send a request (and credentials) to `url` on behalf of `registry`?

    `registry` is host[:port] as the user named it; `insecure` says it was
    given with --insecure-registry (or `insecure = true`). `url` is a token
    realm, a blob redirect, an upload Location or a tag page. The rules:

    - the registry itself: its own setting (plain http only when insecure
      or loopback; otherwise https, verified);
    - loopback to loopback (a test registry and its token server): plain
      http allowed;
    - a private, loopback or link-local address that is not the registry's
      host: refused (cloud metadata at 169.254.169.254, services on 10/8);
    - any other host: https with verified TLS, credentials or not: an
      --insecure-registry never extends to the hosts it points at.
    """
    target = urlsplit(url)
    if target.scheme not in ("http", "https"):
        return EndpointDecision(Trust.REFUSED, "is not an http(s) URL")
    host, _ = _split_netloc(registry)
    target_host = (target.hostname or "").lower()
    if _is_registry_itself(registry, target):
        if insecure or _is_loopback_name(host):
            return EndpointDecision(Trust.AS_REGISTRY)
        if target.scheme == "http":
            return EndpointDecision(
                Trust.REFUSED,
                f"is plain http for the registry {registry}, which is not an --insecure-registry; "
                "refusing to downgrade",
            )
        return EndpointDecision(Trust.VERIFIED)
    if _is_loopback_name(target_host) and _is_loopback_name(host):
        return EndpointDecision(Trust.AS_REGISTRY)
    if target_host != host and _is_private_ip(target_host):
        return EndpointDecision(
            Trust.REFUSED,
            f"points at the private address {target_host}, which is not the registry "
            f"{registry}; refusing",
        )
    if target.scheme == "http":
        return EndpointDecision(
            Trust.REFUSED,
            f"is plain http on {target.netloc}, another host than the registry {registry}; "
            "a realm or redirect off the registry must be https with a verified certificate",
        )
    return EndpointDecision(Trust.VERIFIED)


def check_endpoint(url: str, *, registry: str, insecure: bool, what: str) -> Trust:
    """`endpoint_trust`, raising the one-line RegistryError (exit 1) when refused.

    A refusal is the registry's configuration (where its realm or redirects
    point), not the user's input: an OperationError, like any registry failure.
    """
    decision = endpoint_trust(registry, url, insecure=insecure)
    if decision.trust is Trust.REFUSED:
        raise RegistryError(f"{what} {redact_url(url)} {decision.reason}")
    return decision.trust


def env_credential_names(host: str) -> tuple[str, str]:
    """(`DOCKYARD_REGISTRY_<HOST>_USER`, `..._PASSWORD`): HOST upper-cased, other chars -> `_`."""
    key = re.sub(r"[^A-Z0-9]", "_", host.upper())
    return f"DOCKYARD_REGISTRY_{key}_USER", f"DOCKYARD_REGISTRY_{key}_PASSWORD"


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


# ---------------------------------------------------------------- credentials


@dataclass(frozen=True)
class Credential:
    """A username/password, or an identity (refresh) token. Secrets never show in repr."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    # Where it came from, for `doctor` and error messages ("env", a file path, a helper).
    source: str = ""

    def __repr__(self) -> str:
        kind = "identity token" if self.identity_token else "password"
        return f"Credential(username={self.username!r}, {kind}={MASK}, source={self.source!r})"

    __str__ = __repr__

    def secrets(self) -> tuple[str, ...]:
        """Every string that must be redacted from output, including encoded forms."""
        values = [self.password, self.identity_token]
        if self.password:
            values.append(self.basic_value())
        return tuple(v for v in values if v)

    def basic_value(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return base64.b64encode(pair).decode("ascii")


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


def _from_auths(doc: Mapping[str, object], host: str, *, source: str) -> Credential | None:
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


def run_helper(name: str, server: str, *, timeout: float = HELPER_TIMEOUT) -> Credential | None:
    """`docker-credential-<name> get` with `server` on stdin; None when it has nothing."""
    if not _HELPER_NAME.fullmatch(name):
        raise RegistryError(f"credential helper name {name!r} is not valid")
    program = f"docker-credential-{name}"
    try:
        proc = subprocess.run(
            [program, "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise RegistryError(f"credential helper {program} is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise RegistryError(
            f"credential helper {program} did not answer in {timeout:g} s"
        ) from None
    if proc.returncode != 0:
        said = (proc.stdout + proc.stderr).strip()
        if _NOT_FOUND in said.lower():
            return None
        first = redact_text(said.splitlines()[0] if said else "no output")
        raise RegistryError(f"credential helper {program} failed for {server}: {first}")
    try:
        doc = json.loads(proc.stdout)
        user, secret = doc["Username"], doc["Secret"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise RegistryError(
            f"credential helper {program} printed no Username/Secret JSON"
        ) from None
    source = f"helper {program}"
    if user == "<token>":  # docker's convention for an identity token
        return Credential("", identity_token=secret, source=source)
    return Credential(user, secret, source=source)


def _from_docker_config(doc: Mapping[str, object], host: str, *, source: str) -> Credential | None:
    server = config_key_for(host)
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict) and isinstance(helpers.get(host), str):
        return run_helper(helpers[host], server)
    found = _from_auths(doc, host, source=source)
    if found:
        return found
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        return run_helper(store, server)
    return None


def credential_files(environ: Mapping[str, str]) -> list[tuple[str, Path]]:
    """(kind, path) of every credentials file, in lookup order."""
    files: list[tuple[str, Path]] = []
    if environ.get("REGISTRY_AUTH_FILE"):
        files.append(("podman", Path(environ["REGISTRY_AUTH_FILE"])))
    if environ.get("XDG_RUNTIME_DIR"):
        files.append(("podman", Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"))
    if environ.get("DOCKER_CONFIG"):
        files.append(("docker", Path(environ["DOCKER_CONFIG"]) / "config.json"))
    elif environ.get("HOME"):
        files.append(("docker", Path(environ["HOME"]) / ".docker" / "config.json"))
    return files


def find_credential(host: str, *, environ: Mapping[str, str] | None = None) -> Credential | None:
    """Credentials for registry `host` (host[:port]) from the first source that has some."""
    env = os.environ if environ is None else environ
    user_var, password_var = env_credential_names(host)
    if env.get(user_var) or env.get(password_var):
        return Credential(env.get(user_var, ""), env.get(password_var, ""), source="env")
    for kind, path in credential_files(env):
        doc = _read_json(path)
        if doc is None:
            continue
        source = str(path)
        found = (
            _from_docker_config(doc, host, source=source)
            if kind == "docker"
            else _from_auths(doc, host, source=source)
        )
        if found:
            return found
    return None


# ------------------------------------------------------------- token flow


@dataclass
class _Token:
    value: str
    expires_at: float


class Authenticator:
    """Authentication state for one registry (scheme://host:port).

    `send` performs one HTTP exchange for a token request and returns
    (status, body) with the body read to at most MAX_TOKEN_BODY bytes; the
    registry client supplies it so tokens share its TLS, timeouts and pool.
    """

    def __init__(
        self,
        *,
        registry_url: str,
        credential: Credential | None,
        send: Callable[[httpx.Request], tuple[int, bytes]],
        clock: Callable[[], float] = time.monotonic,
        insecure: bool = False,
    ) -> None:
        self.registry_url = registry_url.rstrip("/")
        # host[:port] as named, and its --insecure-registry flag: what a realm may be.
        self.registry = urlsplit(self.registry_url).netloc
        self.insecure = insecure
        self.credential = credential
        self._send = send
        self._clock = clock
        self.challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], _Token] = {}

    def secrets(self) -> tuple[str, ...]:
        tokens = tuple(t.value for t in self._tokens.values())
        return (self.credential.secrets() if self.credential else ()) + tokens

    def __repr__(self) -> str:
        return f"Authenticator({self.registry_url}, challenge={self.challenge and self.challenge.scheme})"

    def learn(self, challenge: Challenge | None) -> None:
        """Record the registry's challenge (from the ping or a 401)."""
        if challenge and challenge.scheme == "bearer" and challenge.realm:
            check_endpoint(
                challenge.realm, registry=self.registry, insecure=self.insecure, what="token realm"
            )
        self.challenge = challenge

    def challenged(self, header: str | None, scopes: Iterable[str]) -> bool:
        """A request with these scopes got 401: learn the challenge, drop the token.

        Returns True when re-sending can help (a fresh token, or basic
        credentials we have not sent yet).
        """
        challenge = parse_www_authenticate(header)
        if challenge is None:
            return False
        self.learn(challenge)
        self._tokens.pop(_scope_key(scopes), None)
        if challenge.scheme == "bearer":
            return True
        return challenge.scheme == "basic" and self.credential is not None

    def header_for(self, scopes: Iterable[str]) -> str | None:
        """The Authorization value for a request needing `scopes`, fetching a token if needed."""
        challenge = self.challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            cred = self.credential
            return f"Basic {cred.basic_value()}" if cred and cred.password else None
        if challenge.scheme != "bearer":
            return None
        key = _scope_key(scopes)
        token = self._tokens.get(key)
        if token is None or token.expires_at - TOKEN_EXPIRY_MARGIN <= self._clock():
            token = self._fetch_token(challenge, key)
            self._tokens[key] = token
        return f"Bearer {token.value}"

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...]) -> _Token:
        realm = challenge.realm
        if not realm:
            raise RegistryError(
                f"registry {self.registry_url} sent a bearer challenge without a realm"
            )
        request = self._token_request(realm, challenge.service, scopes)
        status, body = self._send(request)
        # The realm without our query: service and scope are named in the message.
        where = redact_url(realm)
        if status != 200:
            hint = " (check the credentials)" if status in (401, 403) else ""
            raise RegistryError(
                f"token server {where} answered HTTP {status} for {' '.join(scopes) or 'no scope'}"
                f"{hint}",
                status=status,
                method=request.method,
                url=where,
                temporary=is_retryable(status),
            )
        return self._parse_token(body, where)

    def _token_request(
        self, realm: str, service: str | None, scopes: tuple[str, ...]
    ) -> httpx.Request:
        cred = self.credential
        if cred and cred.identity_token:
            # OAuth2 refresh-token grant: how docker uses an identity token.
            form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", cred.identity_token),
                ("client_id", "dockyard"),
            ]
            form += [("service", service)] if service else []
            form += [("scope", " ".join(scopes))] if scopes else []
            return httpx.Request("POST", realm, data=dict(form))
        params: list[tuple[str, str]] = [("service", service)] if service else []
        params += [("scope", scope) for scope in scopes]
        headers = {}
        if cred and cred.password:
            headers["Authorization"] = f"Basic {cred.basic_value()}"
            params.append(("account", cred.username))
        return httpx.Request("GET", realm, params=params, headers=headers)

    def _parse_token(self, body: bytes, where: str) -> _Token:
        try:
            doc = json.loads(body)
            value = doc.get("token") or doc.get("access_token")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            value, doc = None, {}
        if not isinstance(value, str) or not value:
            raise RegistryError(f"token server {where} answered without a token")
        ttl = doc.get("expires_in")
        ttl = float(ttl) if isinstance(ttl, int | float) and ttl > 0 else DEFAULT_TOKEN_TTL
        return _Token(value, self._clock() + ttl)


def _scope_key(scopes: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(scopes)))


def same_origin(url: httpx.URL, registry_url: str) -> bool:
    """True when `url` is on the registry's scheme, host and port (default ports filled in)."""
    reg = httpx.URL(registry_url)
    return (url.scheme, url.host, url.port or _default_port(url.scheme)) == (
        reg.scheme,
        reg.host,
        reg.port or _default_port(reg.scheme),
    )


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


class ScopedAuth(httpx.Auth):
    """Attach the registry's Authorization for `scopes`, but only to the registry itself."""

    def __init__(self, authenticator: Authenticator, scopes: Iterable[str]) -> None:
        self.authenticator = authenticator
        self.scopes = tuple(scopes)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.pop("Authorization", None)
        if same_origin(request.url, self.authenticator.registry_url):
            value = self.authenticator.header_for(self.scopes)
            if value:
                request.headers["Authorization"] = value
        yield request

    def __repr__(self) -> str:
        return f"ScopedAuth({self.authenticator.registry_url}, {self.scopes})"
