"""Two local CNCF distribution registries for the demo: start, stop, status.

    python examples/tools/registries.py start [--plain 127.0.0.1:5000] [--auth 127.0.0.1:5001]
    python examples/tools/registries.py stop
    python examples/tools/registries.py status

`plain` answers without auth (the demo's base images and first target);
`auth` asks for htpasswd basic auth: user `demo` with a password generated on
first start and kept in `<root>/docker/config.json` (`auths`), which dockyard
reads with DOCKER_CONFIG=<root>/docker. Storage, config, pid file and log of
each live under `<root>/registries/<name>/`; root is $DOCKYARD_CACHE/demo or
~/.cache/dockyard/demo.

`start` is idempotent: a registry already running from the same config is
reused (its data too); one whose address or password changed is restarted.
The processes are detached, so they outlive this script: `stop` (or
`make demo-stop`) ends them, by the pid each start wrote, after checking that
pid is still our docker-registry.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import DockyardError, InputError, OperationError

USER = "demo"
DEFAULT_PLAIN = "127.0.0.1:5000"
DEFAULT_AUTH = "127.0.0.1:5001"
# docker-registry is up in well under a second here; 20 s covers a loaded CI machine.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# How long a port may keep answering after our registry there stopped.
RELEASE_WAIT = 3.0


@dataclass(frozen=True)
class RegistrySpec:
    name: str  # directory name under <root>/registries
    address: str  # 127.0.0.1:PORT
    auth: bool


@dataclass(frozen=True)
class Running:
    name: str
    address: str
    pid: int
    auth: bool
    reused: bool  # was already running from the same config

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "address": self.address,
            "pid": self.pid,
            "auth": self.auth,
            "reused": self.reused,
        }


def default_root() -> Path:
    base = os.environ.get("DOCKYARD_CACHE") or str(Path.home() / ".cache" / "dockyard")
    return Path(base) / "demo"


def docker_config_dir(root: Path) -> Path:
    """The directory to point DOCKER_CONFIG at: its config.json has the auth registry's login."""
    return root / "docker"


def parse_address(text: str) -> tuple[str, int]:
    """`127.0.0.1:PORT` (a loopback address: the demo serves nothing beyond this machine)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"registry address '{text}': expected HOST:PORT, e.g. 127.0.0.1:5000")
    if host not in ("127.0.0.1", "localhost") and not host.startswith("127."):
        raise InputError(f"registry address '{text}': expected a loopback host (127.x.x.x)")
    return host, int(port)


# ---------------------------------------------------------------- start


def start(root: Path, specs: list[RegistrySpec], *, user: str = USER) -> list[Running]:
    """Every registry in `specs` running (reused or started); credentials written."""
    names = [s.name for s in specs]
    addresses = [s.address for s in specs]
    if len(set(names)) != len(names) or len(set(addresses)) != len(addresses):
        raise InputError(f"registries {addresses}: each needs its own name and address")
    for spec in specs:
        parse_address(spec.address)
    binary = shutil.which("docker-registry")
    if binary is None:
        raise OperationError("docker-registry is not installed (apt-get install docker-registry)")
    password = _password(root, user)
    out = [_start_one(root, spec, binary, user, password) for spec in specs]
    auth_addresses = [s.address for s in specs if s.auth]
    _write_docker_config(root, {a: (user, password) for a in auth_addresses})
    return out


def _password(root: Path, user: str) -> str:
    """The password already in the demo config.json (a restart keeps logins valid), else a new one."""
    for entry in _read_auths(root).values():
        decoded = base64.b64decode(entry.get("auth", "")).decode(errors="replace")
        name, sep, password = decoded.partition(":")
        if sep and name == user and password:
            return password
    return secrets.token_urlsafe(18)


def _read_auths(root: Path) -> dict[str, dict[str, str]]:
    path = docker_config_dir(root) / "config.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    auths = doc.get("auths") if isinstance(doc, dict) else None
    return auths if isinstance(auths, dict) else {}


def _write_docker_config(root: Path, logins: dict[str, tuple[str, str]]) -> Path:
    """config.json with `auths` for each address, owner-only (it holds a password)."""
    directory = docker_config_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    auths = {
        address: {"auth": base64.b64encode(f"{u}:{p}".encode()).decode()}
        for address, (u, p) in sorted(logins.items())
    }
    path = directory / "config.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"auths": auths}, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path


def _start_one(root: Path, spec: RegistrySpec, binary: str, user: str, password: str) -> Running:
    home = root / "registries" / spec.name
    (home / "data").mkdir(parents=True, exist_ok=True)
    htpasswd = home / "htpasswd"
    if spec.auth and not _htpasswd_matches(htpasswd, user, password):
        htpasswd.write_text(_htpasswd_line(user, password))
    config = home / "config.yml"
    text = _config_text(home, spec)
    pid = _our_pid(home)
    if pid is not None and config.exists() and config.read_text() == text and _ready(spec.address):
        return Running(spec.name, spec.address, pid, spec.auth, reused=True)
    if pid is not None:
        _terminate(pid)
    config.write_text(text)
    if not _released(spec.address):
        raise OperationError(
            f"{spec.address} is already in use by another program; "
            f"choose a free port (e.g. --{spec.name} 127.0.0.1:15000)"
        )
    return _spawn(home, spec, binary, config)


def _config_text(home: Path, spec: RegistrySpec) -> str:
    auth = ""
    if spec.auth:
        auth = f"auth:\n  htpasswd: {{realm: dockyard-demo, path: {home / 'htpasswd'}}}\n"
    return f"""version: 0.1
log: {{level: warn, accesslog: {{disabled: true}}}}
storage:
  filesystem: {{rootdirectory: {home / "data"}}}
  delete: {{enabled: true}}
http:
  addr: {spec.address}
  secret: dockyard-demo-{spec.name}
{auth}"""


def _htpasswd_line(user: str, password: str) -> str:
    """A bcrypt entry from `htpasswd` (apache2-utils), the password on stdin, not argv."""
    if shutil.which("htpasswd") is None:
        raise OperationError("htpasswd is not installed (apt-get install apache2-utils)")
    proc = subprocess.run(
        ["htpasswd", "-niB", user], input=password, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise OperationError(f"htpasswd failed: {proc.stderr.strip()}")
    return proc.stdout.strip() + "\n"


def _htpasswd_matches(path: Path, user: str, password: str) -> bool:
    """Whether `path` already holds `user` with `password` (htpasswd -v checks a bcrypt entry)."""
    if not path.exists():
        return False
    proc = subprocess.run(
        ["htpasswd", "-vi", str(path), user],
        input=password,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0


def _spawn(home: Path, spec: RegistrySpec, binary: str, config: Path) -> Running:
    log = home / "registry.log"
    with log.open("ab") as out:
        # A new session: the registry outlives this script and ignores the demo's Ctrl-C.
        process = subprocess.Popen(
            [binary, "serve", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (home / "registry.pid").write_text(f"{process.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(empty log)"]
            raise OperationError(
                f"docker-registry for {spec.address} exited with {process.returncode}: {tail[0]}"
            )
        if _ready(spec.address):
            return Running(spec.name, spec.address, process.pid, spec.auth, reused=False)
        time.sleep(0.05)
    _terminate(process.pid)
    raise OperationError(
        f"docker-registry for {spec.address} did not answer in {START_TIMEOUT:g} s; see {log}"
    )


def _ready(address: str) -> bool:
    """`/v2/` answers 200, or 401 with a challenge (the auth registry)."""
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=2):
            return True
    except urllib.error.HTTPError as err:
        return err.code == 401
    except (urllib.error.URLError, OSError):
        return False


def _released(address: str, timeout: float = RELEASE_WAIT) -> bool:
    """Nothing answers on `address` within `timeout`.

    A registry stopped a moment ago (ours, by `stop` or a restart; on a loaded
    machine) may still be closing its socket: wait a little before calling the
    port another program's.
    """
    deadline = time.monotonic() + timeout
    while _answers(address):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _answers(address: str) -> bool:
    """Something accepts connections on `address`."""
    host, port = parse_address(address)
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- stop / status


def _our_pid(home: Path) -> int | None:
    """The pid in `home`'s pid file, if that process is still our docker-registry."""
    try:
        pid = int((home / "registry.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    # A recycled pid belongs to something else: never signal it.
    config = str(home / "config.yml").encode()
    if len(cmdline) < 3 or not cmdline[0].endswith(b"docker-registry") or cmdline[2] != config:
        return None
    return pid


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    while _alive(pid):  # gone (its socket closed) before the caller reuses the port
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our child (a test that started and stops in one process).
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def stop(root: Path) -> list[str]:
    """Stop every demo registry under `root`; the names of those that were running."""
    stopped = []
    for home in sorted((root / "registries").glob("*")):
        pid = _our_pid(home)
        if pid is not None:
            _terminate(pid)
            stopped.append(home.name)
        (home / "registry.pid").unlink(missing_ok=True)
    return stopped


def status(root: Path) -> list[dict[str, object]]:
    out = []
    for home in sorted((root / "registries").glob("*")):
        pid = _our_pid(home)
        out.append({"name": home.name, "pid": pid, "running": pid is not None})
    return out


# ---------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=("start", "stop", "status"))
    p.add_argument(
        "--root", type=Path, default=None, help="demo state (default: ~/.cache/dockyard/demo)"
    )
    p.add_argument("--plain", default=DEFAULT_PLAIN, help="address of the registry without auth")
    p.add_argument("--auth", default=DEFAULT_AUTH, help="address of the htpasswd registry")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = args.root or default_root()
    try:
        if args.command == "start":
            specs = [
                RegistrySpec("plain", args.plain, False),
                RegistrySpec("auth", args.auth, True),
            ]
            running = start(root, specs)
            doc: object = {
                "registries": [r.to_json() for r in running],
                "docker_config": str(docker_config_dir(root)),
                "user": USER,
            }
            for r in running:
                how = "already running" if r.reused else "started"
                kind = f"htpasswd auth, user {USER}" if r.auth else "no auth"
                print(
                    f"registry {r.name}: {r.address} ({kind}) {how}, pid {r.pid}", file=sys.stderr
                )
            print(f"credentials: DOCKER_CONFIG={docker_config_dir(root)}", file=sys.stderr)
        elif args.command == "stop":
            stopped = stop(root)
            doc = {"stopped": stopped}
            print(f"stopped: {', '.join(stopped) or 'nothing was running'}", file=sys.stderr)
        else:
            doc = {"registries": status(root)}
            for s in doc["registries"]:
                print(
                    f"registry {s['name']}: {'running, pid ' + str(s['pid']) if s['running'] else 'stopped'}",
                    file=sys.stderr,
                )
    except DockyardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.json:
        print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
