"""A tiny distribution token server (RS256 JWTs) running in a thread, for token-auth registries.

The registry (distribution 2.8) is configured with `auth: token: {realm,
service, issuer, rootcertbundle}`. It finds the signing key through the JWT
header's `x5c` chain, which it verifies against `rootcertbundle`
(registry/auth/token/token.go, VerifySigningKey): we put our self-signed
signing certificate both in `x5c` and in the bundle.

Policy: anonymous requests get `pull` only (anonymous tokens); a user with the
right password gets every action asked for; a bad password gets 401. A
`refresh_tokens` map {token: user} serves identity-token (OAuth2 refresh
grant) clients. Every request is counted, every issued token recorded.
"""

from __future__ import annotations

import base64
import json
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.helpers.certs import KeyPair, self_signed

SERVICE = "dockyard-test-registry"
ISSUER = "dockyard-test-issuer"
TOKEN_TTL = 300


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenServer:
    users: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    signing: KeyPair = field(default_factory=lambda: self_signed("dockyard test token signer"))
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path+query)
    issued: list[str] = field(default_factory=list)
    # Where it listens, and the host name its realm URL uses (default: that address):
    # a name that resolves to `bind` puts the realm "on another host" for the client.
    bind: str = "127.0.0.1"
    realm_host: str | None = None
    tls: KeyPair | None = None  # serve https with this certificate (and its key)
    _server: ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.realm_host or host}:{port}/token"

    def write_bundle(self, directory: Path) -> Path:
        path = directory / "token-root.crt"
        path.write_bytes(self.signing.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def start(self) -> TokenServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                owner._handle(self, parse_qs(urlsplit(self.path).query))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                owner._handle(self, {**parse_qs(urlsplit(self.path).query), **form})

        self._server = ThreadingHTTPServer((self.bind, 0), Handler)
        if self.tls is not None:
            self._server.socket = self._tls_context().wrap_socket(
                self._server.socket, server_side=True
            )
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def _tls_context(self) -> ssl.SSLContext:
        assert self.tls is not None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = self.tls.write(Path(tmp), "token-server")
            context.load_cert_chain(cert, key)
        return context

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- protocol

    def _handle(self, handler: BaseHTTPRequestHandler, params: dict[str, list[str]]) -> None:
        self.requests.append((handler.command, handler.path))
        user = self._authenticate(handler, params)
        if user is False:
            self._reply(
                handler, 401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}
            )
            return
        scopes = [s for value in params.get("scope", []) for s in value.split(" ") if s]
        access = [self._grant(scope, authenticated=user is not None) for scope in scopes]
        token = self.sign(user or "", [a for a in access if a])
        self.issued.append(token)
        key = "access_token" if handler.command == "POST" else "token"
        self._reply(handler, 200, {key: token, "expires_in": TOKEN_TTL})

    def _authenticate(self, handler, params) -> str | bool | None:
        """The user name, None for anonymous, False for bad credentials."""
        if params.get("grant_type") == ["refresh_token"]:
            user = self.refresh_tokens.get((params.get("refresh_token") or [""])[0])
            return user if user else False
        header = handler.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user if self.users.get(user) == password else False

    @staticmethod
    def _grant(scope: str, *, authenticated: bool) -> dict | None:
        parts = scope.split(":")
        if len(parts) != 3 or parts[0] != "repository":
            return None
        actions = (
            parts[2].split(",")
            if authenticated
            else [a for a in parts[2].split(",") if a == "pull"]
        )
        return {"type": "repository", "name": parts[1], "actions": actions}

    def sign(self, subject: str, access: list[dict]) -> str:
        now = int(time.time())
        der = self.signing.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + TOKEN_TTL,
            "nbf": now - 10,
            "iat": now,
            "jti": _b64url(str(len(self.issued)).encode() + str(now).encode()),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        signature = self.signing.key.sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return signing_input + "." + _b64url(signature)

    @staticmethod
    def _reply(handler, status: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
