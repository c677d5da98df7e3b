"""The registry client's HTTP machinery: one httpx.Client, per-host state, retries, caps.

`RegistrySession` is created once per run. For each registry host it resolves
the scheme (https, verified; plain http only for loopback hosts or hosts in
`insecure_registries`), pings `/v2/` once to learn the auth challenge, and
keeps that host's `Authenticator`. `request()` sends one logical request:

- the Authorization header comes from `ScopedAuth` (registry origin only);
- every URL that is not the registry's own (token realm, blob redirect, upload
  Location, tag page) is judged by `endpoints.endpoint_trust` and sent through the
  verified client: an --insecure-registry's unverified TLS and plain http stop
  at that host:port (loopback to loopback excepted);
- a certificate that does not verify is an UntrustedCertificate naming the
  fix (--ca-cert), never retried;
- a 401 gets one re-authentication and a resend;
- transport errors, 408/429/5xx (not 501) are retried per `RetryPolicy`,
  honouring Retry-After (`retry=False` leaves that to the caller, e.g. the
  blob upload, which restarts as a whole);
- the run's `Deadline` (default 30 min, `--timeout`) bounds everything: each
  attempt checks it, each socket operation gets at most the time left
  (deadlinenet), no backoff sleeps past it; passing it is DeadlineExceeded,
  naming the request and the bytes it had moved;
- every non-success is turned into a one-line RegistryError with status, the
  spec error codes, method and a redacted URL; bodies are read bounded
  (`responses`).

`RegistryOptions` is what a run configures about registries; `Host` is one
registry as the run knows it; `check_location` judges a Location before it
is requested.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from dockyard.errors import InputError, RegistryError
from dockyard.oci.auth.challenge import Challenge, parse_www_authenticate
from dockyard.oci.auth.credentials.credential import Credential
from dockyard.oci.auth.credentials.sources import find_credential
from dockyard.oci.auth.flow import MAX_TOKEN_BODY, Authenticator, ScopedAuth
from dockyard.oci.deadline import DEFAULT_DEADLINE, Deadline
from dockyard.oci.deadlinenet import deadline_transport
from dockyard.oci.endpoints import Resolve, Trust, check_endpoint
from dockyard.oci.redact import redact_text, redact_url
from dockyard.oci.resolver import Resolver, resolve_host
from dockyard.oci.responses import MAX_ERROR_BODY, parse_errors, read_capped
from dockyard.oci.retry import RetryPolicy, decide, is_retryable, parse_retry_after, waited
from dockyard.oci.tls import TlsRefused, is_tls_failure, tls_verify_failure, untrusted
from dockyard.ref import is_loopback_host

log = logging.getLogger("dockyard.registry")

@dataclass(frozen=True)
class Timeouts:
    """Finite per-phase timeouts (httpx's 5 s default is too short for a registry
    hashing a multi-GB blob on the final PUT)."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 10.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class RegistryOptions:
    """What a run may configure about registries (config, CLI flags)."""

    # host[:port] allowed over plain http or with unverified TLS (--insecure-registry).
    insecure_registries: frozenset[str] = frozenset()
    # Extra CA certificate (PEM) trusted on top of the default bundle (--ca-cert).
    ca_cert: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeouts: Timeouts = field(default_factory=Timeouts)
    # Blobs up to this size go as one POST + one PUT carrying the body; larger
    # ones stream through one PATCH (memory stays flat whatever the size).
    monolithic_max: int = 4 * 1024 * 1024
    # Force chunked uploads of this many bytes (the fallback for registries
    # that refuse one big PATCH); None = stream in one PATCH.
    chunk_size: int | None = None
    # Parallel transfers share the pool; copy's --jobs should not exceed it.
    max_connections: int = 16
    user_agent: str = "dockyard"
    # Overall deadline for the run's registry work in seconds (--timeout,
    # [retry] deadline); None: none.
    deadline: float | None = DEFAULT_DEADLINE


def _is_insecure(host: str, insecure: frozenset[str]) -> bool:
    return host in insecure or host.rsplit(":", 1)[0] in insecure


@dataclass
class Host:
    """One registry as this run knows it."""

    name: str  # host[:port] as written in references
    base_url: str  # scheme://host[:port]
    client: httpx.Client
    auth: Authenticator
    insecure: bool = False  # --insecure-registry: plain http / unverified TLS to itself only
    # How endpoint_trust learns an off-registry host's addresses: the session's pinning
    # Resolver, so that the socket later connects to exactly the addresses judged.
    resolve: Resolve = resolve_host

    def url(self, path: str) -> str:
        return self.base_url + path


class RegistrySession:
    """One httpx.Client (plus one unverified client, only if an insecure host is used)."""

    def __init__(
        self,
        options: RegistryOptions | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.options = options or RegistryOptions()
        self._environ = environ
        self._sleep = sleep
        self._rand = rand
        self._now = now
        self._lock = threading.Lock()
        self._hosts: dict[str, Host] = {}
        self.deadline = Deadline(self.options.deadline)
        self._resolver = Resolver()
        self._client = self._make_client(self._ssl_context())
        self._insecure_client: httpx.Client | None = None

    # -- lifecycle

    def close(self) -> None:
        self._client.close()
        if self._insecure_client is not None:
            self._insecure_client.close()

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = httpx.create_ssl_context()
        if self.options.ca_cert:
            try:
                ctx.load_verify_locations(cafile=self.options.ca_cert)
            except (OSError, ssl.SSLError) as exc:
                raise InputError(
                    f"--ca-cert {self.options.ca_cert}: cannot load a PEM certificate ({exc})"
                ) from None
        return ctx

    def _make_client(self, verify: ssl.SSLContext | bool) -> httpx.Client:
        limits = httpx.Limits(
            max_connections=self.options.max_connections,
            max_keepalive_connections=self.options.max_connections,
        )
        return httpx.Client(
            transport=deadline_transport(
                self.deadline, verify=verify, limits=limits, pins=self._resolver.pinned
            ),
            timeout=self.options.timeouts.httpx(),
            follow_redirects=False,  # redirects are followed by hand (Authorization placement)
            headers={"User-Agent": self.options.user_agent},
            trust_env=False,  # no proxy/netrc surprises: registries are addressed directly
        )

    def verified_hosts(self) -> frozenset[str]:
        """Registries this run reached over https with verified TLS (loopback ones included).

        A builder is told to verify these too, where it would otherwise assume
        a loopback registry speaks plain http.
        """
        with self._lock:
            return frozenset(
                name
                for name, host in self._hosts.items()
                if host.base_url.startswith("https://") and not host.insecure
            )

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for h in self._hosts.values() for s in h.auth.secrets())

    # -- hosts

    def host(self, name: str) -> Host:
        """The resolved, pinged registry `name` (host[:port]); once per run."""
        with self._lock:
            known = self._hosts.get(name)
            if known is None:
                known = self._connect(name)
                self._hosts[name] = known
            return known

    def _connect(self, name: str) -> Host:
        insecure = _is_insecure(name, self.options.insecure_registries)
        plain_ok = insecure or is_loopback_host(name)
        client = self._client
        if insecure:
            if self._insecure_client is None:
                self._insecure_client = self._make_client(False)
            client = self._insecure_client
        credential = find_credential(name, environ=self._environ)
        try:
            return self._ping(name, "https", client, credential, insecure)
        except TlsRefused:
            if not plain_ok:
                raise RegistryError(
                    f"registry {name} does not speak TLS; plain http is only used for loopback "
                    f"hosts or with --insecure-registry {name}"
                ) from None
        return self._ping(name, "http", client, credential, insecure)

    def _ping(
        self,
        name: str,
        scheme: str,
        client: httpx.Client,
        credential: Credential | None,
        insecure: bool,
    ) -> Host:
        base = f"{scheme}://{name}"
        auth = Authenticator(
            registry_url=base,
            credential=credential,
            insecure=insecure,
            resolve=self._resolver.resolve,
            # `host` is bound below, before any token is fetched.
            send=lambda request: self._token_exchange(host, request),
        )
        host = Host(name, base, client, auth, insecure, self._resolver.resolve)
        url = host.url("/v2/")
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            if scheme == "https" and (bad := tls_verify_failure(exc)) is not None:
                raise untrusted(f"registry {name}", bad, host=name) from None
            if scheme == "https" and is_tls_failure(exc):
                raise TlsRefused() from None
            # Not TLS: let the retrying path produce the error (and retry transient ones).
            response = self.request(host, "GET", url, expect=(200, 401), ping=True)
        status = response.status_code
        if status == 401:
            read_capped(response, MAX_ERROR_BODY, what="ping", strict=False)
            auth.learn(_challenge(response))
        elif status == 200:
            response.close()
        else:
            body = read_capped(response, MAX_ERROR_BODY, what="ping", strict=False)
            raise self._error(host, "GET", url, status, body, response, "is not a registry")
        return host

    def client_for(self, host: Host, url: str, what: str) -> httpx.Client:
        """The client that may reach `url` for `host` (endpoints.endpoint_trust); refused: RegistryError.

        Off the registry that is always the verified client: an --insecure-registry's
        unverified TLS never extends to its token realm or redirect targets.
        """
        trust = check_endpoint(
            url, registry=host.name, insecure=host.insecure, what=what, resolve=host.resolve
        )
        return self._client if trust is Trust.VERIFIED else host.client

    def _token_exchange(
        self, host: Host, request: httpx.Request
    ) -> tuple[int, bytes, float | None]:
        """(status, body, Retry-After seconds) of one token request."""
        where = redact_url(str(request.url.copy_with(query=None)))
        client = self.client_for(host, str(request.url), "token realm")
        try:
            response = client.send(request, stream=True)
        except httpx.HTTPError as exc:
            if (bad := tls_verify_failure(exc)) is not None:
                netloc = request.url.netloc.decode()
                raise untrusted(
                    f"token server {where}", bad, host=netloc, registry=host.name
                ) from None
            raise RegistryError(
                f"token server {where} unreachable ({type(exc).__name__})", temporary=True
            ) from None
        body = read_capped(response, MAX_TOKEN_BODY, what=f"token response from {where}")
        after = parse_retry_after(response.headers.get("retry-after"), now=self._now())
        return response.status_code, body, after

    # -- requests

    def request(
        self,
        host: Host,
        method: str,
        url: str,
        *,
        scopes: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        content: bytes | Callable[[], Iterator[bytes]] | None = None,
        expect: Iterable[int] = (200,),
        retry: bool = True,
        ping: bool = False,
    ) -> httpx.Response:
        """Send until an `expect`ed status (returned unread, streaming) or a final error."""
        expected = set(expect)
        scopes = tuple(scopes)
        policy = self.options.retry
        attempt, reauthed = 0, False
        doing = f"registry {host.name}: {method} {redact_url(url)}"
        sent = [0]  # request body bytes handed to the socket, for a deadline message
        if callable(content):
            content = _counted(content, sent)
        while True:
            attempt += 1
            self.deadline.check(doing)
            try:
                response = self._send(host, method, url, scopes, headers, content, ping)
            except RegistryError as err:  # token server trouble, refused endpoints
                if not (retry and err.temporary):
                    raise
                decision = decide(
                    attempt=attempt,
                    policy=policy,
                    status=err.status,
                    codes=err.codes,
                    retry_after=err.retry_after,
                    rand=self._rand(),
                )
                if not decision.retry:
                    raise
                # The log names who failed (the token server), not the request it was for.
                self._wait(decision.delay, method, url, f"{err}: {decision.reason}", attempt)
                continue
            except httpx.HTTPError as exc:
                if self.deadline.expired():
                    raise self.deadline.error(doing, moved=sent[0] if sent[0] else None) from None
                if (bad := tls_verify_failure(exc)) is not None:  # a CA problem: no retry helps
                    where = f"registry {host.name}: {method} {redact_url(url)}"
                    netloc = httpx.URL(url).netloc.decode()
                    raise untrusted(where, bad, host=netloc, registry=host.name) from None
                decision = decide(attempt=attempt, policy=policy, status=None, rand=self._rand())
                if not (retry and decision.retry):
                    raise self._transport_error(host, method, url, exc, attempt) from None
                self._wait(decision.delay, method, url, decision.reason, attempt)
                continue
            status = response.status_code
            if status in expected:
                return response
            if status == 401 and not reauthed and not ping:
                reauthed = True
                read_capped(response, MAX_ERROR_BODY, what="401 body", strict=False)
                if host.auth.challenged(response.headers.get("www-authenticate"), scopes):
                    attempt -= 1  # a re-authentication is not a retry
                    continue
                raise self._error(host, method, url, status, b"", response)
            body = read_capped(response, MAX_ERROR_BODY, what="error body", strict=False)
            codes, _ = parse_errors(body)
            after = parse_retry_after(response.headers.get("retry-after"), now=self._now())
            decision = decide(
                attempt=attempt,
                policy=policy,
                status=status,
                codes=codes,
                retry_after=after,
                rand=self._rand(),
            )
            if retry and decision.retry:
                self._wait(decision.delay, method, url, decision.reason, attempt)
                continue
            raise self._error(host, method, url, status, body, response, retry_after=after)

    def _send(self, host, method, url, scopes, headers, content, ping) -> httpx.Response:
        body = content() if callable(content) else content
        client = self.client_for(host, url, "request")
        request = client.build_request(method, url, headers=headers, content=body)
        auth = None if ping else ScopedAuth(host.auth, scopes)
        return client.send(request, auth=auth, stream=True)

    def backoff(self, delay: float, method: str, url: str, reason: str, attempt: int) -> None:
        """Public for the upload loop: log and sleep before another attempt."""
        self._wait(delay, method, url, reason, attempt)

    def decide_again(self, err: RegistryError, attempt: int):
        """The retry decision for a whole operation (an upload) after `err`."""
        return decide(
            attempt=attempt,
            policy=self.options.retry,
            status=err.status,
            codes=err.codes,
            retry_after=err.retry_after,
            rand=self._rand(),
        )

    def _wait(self, delay: float, method: str, url: str, reason: str, attempt: int) -> None:
        if delay >= self.deadline.remaining():
            raise self.deadline.error(
                f"{method} {redact_url(url)}: {reason}; waiting would pass the deadline"
            )
        log.warning(
            "%s %s: %s; attempt %d of %d",
            method,
            redact_url(url),
            reason,
            attempt + 1,
            self.options.retry.attempts,
        )
        self._sleep(delay)

    # -- errors

    def _error(
        self,
        host: Host,
        method: str,
        url: str,
        status: int,
        body: bytes,
        response: httpx.Response,
        what: str = "failed",
        retry_after: float | None = None,
    ) -> RegistryError:
        codes, said = parse_errors(body)
        said = redact_text(said, self.secrets())
        where = redact_url(url)
        text = f"registry {host.name}: {method} {where} {what}: HTTP {status}"
        if codes:
            text += " " + ",".join(codes)
        if said:
            text += f" ({said})"
        if status in (401, 403):
            text += f"; check the credentials for {host.name}"
        text += waited(retry_after, response.headers.get("retry-after"), self.options.retry, "registry")
        return RegistryError(
            text,
            status=status,
            codes=codes,
            method=method,
            url=where,
            temporary=is_retryable(status, codes),
            retry_after=retry_after,
        )

    def _transport_error(
        self, host: Host, method: str, url: str, exc: httpx.HTTPError, attempts: int
    ) -> RegistryError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
        where = redact_url(url)
        return RegistryError(
            f"registry {host.name}: {method} {where} {kind} ({type(exc).__name__}) "
            f"after {attempts} attempt(s)",
            method=method,
            url=where,
            temporary=True,
        )


def _counted(make: Callable[[], Iterator[bytes]], sent: list[int]) -> Callable[[], Iterator[bytes]]:
    """`make`'s body, counting into sent[0] the bytes of the latest attempt."""

    def body() -> Iterator[bytes]:
        sent[0] = 0
        for chunk in make():
            yield chunk
            sent[0] += len(chunk)  # after the yield: the socket took it

    return body


def _challenge(response: httpx.Response) -> Challenge | None:
    return parse_www_authenticate(response.headers.get("www-authenticate"))


def check_location(url: str, host: Host, what: str) -> str:
    """A Location we are about to request: absolute, and not a forbidden endpoint."""
    check_endpoint(url, registry=host.name, insecure=host.insecure, what=what, resolve=host.resolve)
    return url


