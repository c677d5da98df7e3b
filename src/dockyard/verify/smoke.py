"""Smoke runs: start each platform's image with buildah and run one command in it.

`buildah from --platform P IMAGE` picks the platform's image out of the
index (a layout's or a registry's), then `buildah run --isolation oci
--runtime runc --network none` runs the command in its own namespaces with
no network (not the host's: the image's code, possibly as root, never sees
the host's interfaces); a foreign platform runs under qemu through
binfmt_misc (checked first by the caller). Each session uses its own buildah storage
(`--root`/`--runroot` in a temporary directory, vfs driver): nothing is
added to or taken from the machine's image store, names never collide with
another run, and the directory is removed at the end.

The container's config digest (buildah's FromImageID) must be the one verify
read: a smoke run of another image than the one verified proves nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dockyard.digest import Digest
from dockyard.errors import OperationError
from dockyard.oci.certdir import write_cert_dir
from dockyard.platform import Platform
from dockyard.ref import parse_layout
from dockyard.verify.report import SmokeResult, cap_output

# How long a smoke command may run (qemu makes everything ~10x slower).
DEFAULT_TIMEOUT = 60.0
# buildah from/rm/inspect on a local store take a second; a registry pull longer.
SETUP_TIMEOUT = 600.0
# vfs works on any filesystem (recipes.md: the safe driver); the private store is small.
STORAGE_DRIVER = "vfs"
# buildah names an image read from `oci:PATH` "localhost/PATH", and refuses a
# PATH that is not a valid reference (upper case, a component ending in "_").
# The session's directory is made here, of hex digits only, and layouts are
# read through links inside it, so any layout path works.
SESSION_ROOT = Path("/tmp")


@dataclass(frozen=True)
class SmokeOptions:
    timeout: float = DEFAULT_TIMEOUT
    tls_verify: bool = True  # False for a loopback or --insecure-registry registry
    ca_cert: str | None = None  # --ca-cert: trusted by buildah's pull too (--cert-dir)
    buildah: str = "buildah"
    storage_driver: str = STORAGE_DRIVER
    runtime: str = "runc"  # the OCI runtime `buildah run` uses


class SmokeSession:
    """A private buildah store for one verify run; use as a context manager."""
    def __init__(self, options: SmokeOptions = SmokeOptions()) -> None:
        self.options = options
        self._dir: Path | None = None
        self._links: dict[str, Path] = {}  # layout path -> its name-safe link
        self._certs: Path | None = None  # --cert-dir for buildah's pulls (options.ca_cert)

    def __enter__(self) -> SmokeSession:
        if shutil.which(self.options.buildah) is None:
            raise OperationError(
                f"smoke runs need buildah, and '{self.options.buildah}' is not on PATH "
                "(apt-get install buildah)"
            )
        if shutil.which(self.options.runtime) is None:
            raise OperationError(
                f"smoke runs need the OCI runtime '{self.options.runtime}', not on PATH "
                "(apt-get install runc)"
            )
        self._dir = SESSION_ROOT / f"dockyard-smoke-{secrets.token_hex(8)}"
        self._dir.mkdir(mode=0o700)
        self._links: dict[str, Path] = {}
        if self.options.ca_cert:
            self._certs = write_cert_dir(self.options.ca_cert, self._dir / "certs")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._dir is None:
            return
        # Containers are removed after each run; this catches any an error left.
        self._buildah("rm", "--all", check=False)
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def run(
        self,
        image: str,
        *,
        platform: Platform,
        argv: Sequence[str],
        config: Digest | None = None,
        emulated: bool = False,
    ) -> SmokeResult:
        """Run `argv` in `platform`'s image of `image` (`oci:DIR[:TAG]` or `docker://...`)."""
        started = time.monotonic()

        def failed(error: str, output: bytes = b"") -> SmokeResult:
            text, truncated = cap_output(output)
            return SmokeResult(
                tuple(argv), None, time.monotonic() - started, text, truncated,
                emulated=emulated, error=error,
            )

        pull = ["from", "--quiet", "--pull=always", "--platform", str(platform)]
        if not self.options.tls_verify:
            pull.append("--tls-verify=false")
        if self._certs is not None:
            pull += ["--cert-dir", str(self._certs)]
        made = self._buildah(*pull, self._name_safe(image), check=False)
        if made.returncode != 0:
            return failed(f"buildah from {image} failed: {_last_line(made.stderr)}", made.stderr)
        container = made.stdout.decode().strip().splitlines()[-1]
        try:
            wrong = self._wrong_image(container, config)
            if wrong:
                return failed(wrong)
            return self._exec(container, argv, started, emulated)
        finally:
            self._buildah("rm", container, check=False)

    # ------------------------------------------------------------ steps

    def _name_safe(self, image: str) -> str:
        assert self._dir is not None, "SmokeSession used outside 'with'"
        return name_safe(image, self._dir, self._links)

    def _wrong_image(self, container: str, config: Digest | None) -> str:
        if config is None:
            return ""
        shown = self._buildah("inspect", "--type", "container", container, check=False)
        try:
            got = json.loads(shown.stdout).get("FromImageID", "")
        except ValueError:
            got = ""
        if got == config.hex:
            return ""
        return f"buildah started image {got or '(unknown)'}, not the verified config {config}"

    def _exec(
        self, container: str, argv: Sequence[str], started: float, emulated: bool
    ) -> SmokeResult:
        # Isolated: its own namespaces under runc (crun fails on this host's hybrid cgroups)
        # and no network at all: the image's code never sees the host's interfaces.
        command = [
            *self._base(), "run", "--isolation", "oci", "--runtime", self.options.runtime,
            "--network", "none", container, "--", *argv,
        ]  # fmt: skip
        # Own process group: on timeout the command and everything it started is killed.
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = False
        try:
            output, _ = proc.communicate(timeout=self.options.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            output, _ = proc.communicate()
        text, truncated = cap_output(output)
        return SmokeResult(
            tuple(argv),
            None if timed_out else proc.returncode,
            time.monotonic() - started,
            text,
            truncated,
            timed_out=timed_out,
            emulated=emulated,
        )

    def _base(self) -> list[str]:
        assert self._dir is not None, "SmokeSession used outside 'with'"
        return [
            self.options.buildah,
            "--root", str(self._dir / "root"),
            "--runroot", str(self._dir / "run"),
            "--storage-driver", self.options.storage_driver,
        ]

    def _buildah(self, *args: str, check: bool) -> subprocess.CompletedProcess[bytes]:
        try:
            done = subprocess.run(
                [*self._base(), *args], capture_output=True, stdin=subprocess.DEVNULL,
                timeout=SETUP_TIMEOUT, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise OperationError(f"buildah {args[0]}: {e}") from e
        if check and done.returncode != 0:
            raise OperationError(f"buildah {args[0]} failed: {_last_line(done.stderr)}")
        return done


def name_safe(image: str, session: Path, links: dict[str, Path]) -> str:
    """`oci:DIR[:TAG]` read through a link in `session` whose path buildah and podman
    accept as an image name (they name the image after the path); other images as given.
    `links` (layout path -> link) is the session's, so a layout gets one link."""
    if not image.startswith("oci:"):
        return image
    layout = parse_layout(image)
    target = str(Path(layout.path).resolve())
    link = links.get(target)
    if link is None:
        link = session / f"layout{len(links)}"
        link.symlink_to(target, target_is_directory=True)
        links[target] = link
    return f"oci:{link}" + (f":{layout.tag}" if layout.tag else "")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill buildah and everything under it. Under runc the container's first process is in
    a session (and pid namespace) of its own, so killing buildah's group alone would leave
    it running (reparented to init, a busy loop forever): its pid is taken from the process
    tree first; killing it ends every other process of its pid namespace."""
    tree = _descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    """Every process under `pid` (Linux /proc), read before anything is killed."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                children = [int(c) for c in task.read_text().split()]
                found.extend(children)
                todo.extend(children)
    return found


def _last_line(data: bytes) -> str:
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
