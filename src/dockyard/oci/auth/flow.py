"""The authentication flow: the challenge learnt, bearer tokens fetched and cached.

Shape (style.md §5):

- `Authenticator`: one per registry host. It learns the host's challenge
  (`challenge.parse_www_authenticate`) from the `/v2/` ping, checks a token
  realm with `endpoints.check_endpoint` (verified TLS, as the registry itself,
  or refused), fetches and caches bearer tokens per scope set (anonymous when
  there are no credentials; an identity token uses the refresh-token grant),
  and answers "which Authorization header for these scopes" (Basic for a
  basic challenge);
- `ScopedAuth(httpx.Auth)`: the per-request flow. It attaches that header only
  when the request goes to the registry's own scheme://host:port
  (`same_origin`), so a blob redirect to a CDN or a foreign upload Location
  never sees it.

A 401 on a request is handed back by the client to `Authenticator.challenged`
(which drops the stale token and learns the new challenge), and the client
re-sends once: doing the resend in the client, not inside the httpx flow,
lets streamed upload bodies be rebuilt and bounds every body we read.
Where the credentials come from is `auth/credentials/`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from dockyard.errors import RegistryError
from dockyard.oci.auth.challenge import Challenge, parse_www_authenticate
from dockyard.oci.auth.credentials.credential import Credential
from dockyard.oci.endpoints import Resolve, check_endpoint, default_port, literal_address
from dockyard.oci.redact import redact_url
from dockyard.oci.retry import is_retryable

# Token endpoints answer a few KiB; more than this is hostile or broken.
MAX_TOKEN_BODY = 1024 * 1024
# The distribution token spec's default lifetime when `expires_in` is absent.
DEFAULT_TOKEN_TTL = 60.0
# Refresh a token this long before it expires: a request must not race the expiry.
TOKEN_EXPIRY_MARGIN = 10.0


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
        send: Callable[[httpx.Request], tuple[int, bytes] | tuple[int, bytes, float | None]],
        clock: Callable[[], float] = time.monotonic,
        insecure: bool = False,
        resolve: Resolve = literal_address,
    ) -> None:
        self.registry_url = registry_url.rstrip("/")
        # host[:port] as named, and its --insecure-registry flag: what a realm may be.
        self.registry = urlsplit(self.registry_url).netloc
        self.insecure = insecure
        self._resolve = resolve  # host -> addresses, for judging a realm (endpoints)
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
                challenge.realm,
                registry=self.registry,
                insecure=self.insecure,
                what="token realm",
                resolve=self._resolve,
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
        status, body, *extra = self._send(request)
        after = extra[0] if extra else None  # Retry-After seconds, when the sender reads it
        # The realm without our query: service and scope are named in the message.
        where = redact_url(realm)
        if status != 200:
            hint = " (check the credentials)" if status in (401, 403) else ""
            wait = f"; it asks to wait {after:.0f} s (Retry-After)" if after is not None else ""
            raise RegistryError(
                f"token server {where} answered HTTP {status} for {' '.join(scopes) or 'no scope'}"
                f"{hint}{wait}",
                status=status,
                method=request.method,
                url=where,
                temporary=is_retryable(status),
                retry_after=after,
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
    return (url.scheme, url.host, url.port or default_port(url.scheme)) == (
        reg.scheme,
        reg.host,
        reg.port or default_port(reg.scheme),
    )


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
