"""Start and stop a real CNCF distribution registry (Debian's docker-registry 2.8) for tests.

`start_registry(workdir, auth=..., tls=...)` writes a config, runs
`docker-registry serve CONFIG.yml` on 127.0.0.1 and a free port with storage
under `workdir` and deletes enabled, waits until `/v2/` answers, and returns
a `RunningRegistry` whose `stop()` ends that process (by its own pid).

Variants: no auth; `auth="htpasswd"` (bcrypt entry for USER/PASSWORD);
`auth="token"` (a TokenServer in a thread signs the registry's JWTs);
`tls=True` (certificate from a throw-away test CA, `ca_cert` to trust it).
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt

from tests.helpers.certs import self_signed, server_cert
from tests.helpers.tokenserver import ISSUER, SERVICE, TokenServer

USER = "dockyard-user"
PASSWORD = "s3cret-Pa55word!"
START_TIMEOUT = 20.0


@dataclass
class RunningRegistry:
    host: str  # "127.0.0.1:PORT", as it appears in references
    url: str  # scheme://host
    root: Path
    process: subprocess.Popen
    auth: str | None = None
    username: str | None = None
    password: str | None = None
    ca_cert: Path | None = None
    token_server: TokenServer | None = None
    log: Path | None = None
    extra: dict = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.token_server:
            self.token_server.stop()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(root: Path, port: int, auth_block: str, tls_block: str, *, delete: bool = True) -> str:
    return f"""version: 0.1
log: {{level: error, accesslog: {{disabled: true}}}}
storage:
  filesystem: {{rootdirectory: {root / "data"}}}
  delete: {{enabled: {"true" if delete else "false"}}}
  maintenance: {{uploadpurging: {{enabled: false}}}}
http:
  addr: 127.0.0.1:{port}
  secret: dockyard-test-secret
{tls_block}{auth_block}"""


def _auth_block(root: Path, auth: str | None, token_server: TokenServer | None) -> str:
    if auth is None:
        return ""
    if auth == "htpasswd":
        entry = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
        path = root / "htpasswd"
        path.write_text(f"{USER}:{entry}\n")
        return f"auth:\n  htpasswd: {{realm: dockyard-test, path: {path}}}\n"
    if auth == "token":
        assert token_server is not None
        bundle = token_server.write_bundle(root)
        return (
            "auth:\n  token:\n"
            f"    realm: {token_server.realm}\n"
            f"    service: {SERVICE}\n"
            f"    issuer: {ISSUER}\n"
            f"    rootcertbundle: {bundle}\n"
        )
    raise ValueError(f"unknown auth variant {auth!r}")


def _tls_block(root: Path) -> tuple[str, Path]:
    ca = self_signed("dockyard test CA")
    ca_cert, _ = ca.write(root, "ca")
    # This machine's host name too: a name dockyard does not treat as loopback, so a
    # test can reach the same registry as a "remote" one (TLS verified by every tool).
    names = ("localhost", socket.gethostname())
    cert, key = server_cert(ca, names=names, ips=("127.0.0.1",)).write(root, "server")
    return f"  tls: {{certificate: {cert}, key: {key}}}\n", ca_cert


def start_registry(
    workdir: Path,
    *,
    auth: str | None = None,
    tls: bool = False,
    delete: bool = True,
    token_server: TokenServer | None = None,
) -> RunningRegistry:
    """A running registry under `workdir` (created); raise if it does not come up.

    `delete=False` starts it with `storage.delete.enabled: false` (it answers 405 to deletes).
    `token_server`: for auth="token", a configured (not started) TokenServer to use."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    if auth == "token":
        token_server = (token_server or TokenServer(users={USER: PASSWORD})).start()
    tls_block, ca_cert = _tls_block(workdir) if tls else ("", None)
    auth_block = _auth_block(workdir, auth, token_server)
    for _ in range(3):  # a free port can be taken between probe and bind: try another
        port = free_port()
        config = workdir / "config.yml"
        config.write_text(_config(workdir, port, auth_block, tls_block, delete=delete))
        log = workdir / "registry.log"
        process = subprocess.Popen(
            [binary, "serve", str(config)],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        scheme = "https" if tls else "http"
        reg = RunningRegistry(
            host=f"127.0.0.1:{port}",
            url=f"{scheme}://127.0.0.1:{port}",
            root=workdir,
            process=process,
            auth=auth,
            username=USER if auth else None,
            password=PASSWORD if auth else None,
            ca_cert=ca_cert,
            token_server=token_server,
            log=log,
        )
        if _wait_ready(reg):
            return reg
        reg.process.kill()
        reg.process.wait()
    if token_server:
        token_server.stop()
    raise RuntimeError(f"docker-registry did not start; log:\n{reg.log_text()}")


def _wait_ready(reg: RunningRegistry) -> bool:
    context = ssl.create_default_context(cafile=str(reg.ca_cert)) if reg.ca_cert else None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if reg.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{reg.url}/v2/", timeout=2, context=context):
                return True
        except urllib.error.HTTPError as err:
            if err.code == 401:  # auth variants answer the ping with a challenge
                return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    return False
