"""The Docker engine backend: the engine's own BuildKit, one platform per `docker build`.

What one job runs (everything appended to the job's log):

    DOCKER_BUILDKIT=1 /usr/bin/docker build --platform P --progress=plain
        --build-arg K=V … -f TMP/Dockerfile [--target S] [--no-cache] [--label K=V …]
        [--cache-from REF] --iidfile TMP/iid -t localhost/dockyard/<job key> CONTEXT
    /usr/bin/docker save <image id> -o TMP/image.tar

then the docker-archive is read by dockyard (oci/dockerarchive.py) into
`req.output` under `req.tag`: the config byte for byte (HEALTHCHECK kept),
each layer checked against its diff_id and gzipped.

Facts checked with Debian's docker.io 20.10.24 here:
- `/usr/bin/docker` explicitly: another docker CLI may come first on PATH
  (here /usr/local/bin/docker, 28.x), and with DOCKER_BUILDKIT=1 it wants a
  buildx plugin that does not exist. The engine is the CLI's: DOCKER_HOST.
- BuildKit 20.10 builds one platform per run (`--platform a,b` is refused)
  and cannot export OCI (`--output type=oci`: exporter not found): the image
  comes out through `docker save`, a docker-archive.
- It predefines BUILDPLATFORM/TARGET*; dockyard passes them anyway, and pins
  each FROM to its platform's base digest as for every builder.
- A foreign platform's RUN steps run under this host's qemu binfmt entry.
- `docker build` has no --cache-to (only buildx has) and no per-build
  insecure registries or CA (those are dockerd's daemon.json and
  /etc/docker/certs.d): such requests are refused in one line. Loopback
  registries are insecure-allowed by dockerd's default.
- SOURCE_DATE_EPOCH is passed as a build arg; BuildKit 0.8 (20.10) does not
  apply it to the image's timestamps (newer BuildKit does).
- Credentials dockyard finds for the FROM registries go into a temporary
  DOCKER_CONFIG (owner-only, never on the command line, never in the log).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from dockyard.builder.backends.buildah import (
    LOCAL_NAMESPACE,
    authfile_doc,
    default_find_credential,
    local_name,
    registry_hosts,
    write_authfile,
)
from dockyard.builder.backends.buildx import build_flags, plain_progress_counts
from dockyard.builder.backends.common import failure, run_logged
from dockyard.builder.backends.request import BuildOutput, BuildRequest
from dockyard.errors import InputError, OperationError
from dockyard.oci.dockerarchive import import_docker_archive
from dockyard.oci.layout import LayoutStore
from dockyard.ref import Reference, is_loopback_host

# Debian's docker.io CLI; another docker on PATH may be a different client (see the docstring).
DOCKER = "/usr/bin/docker"
_HINT = "apt-get install docker.io and start dockerd, or use --builder buildah"


class DockerBackend:
    name = "docker"
    # dockerd runs RUN steps on this host's kernel: foreign ones under its qemu binfmt entry.
    emulates_on_host = True

    def __init__(
        self, *, binary: str = DOCKER, host: str | None = None, find_credential=None
    ) -> None:
        self.binary = binary
        self.host = host  # `-H` (unix://…); None: the CLI's own choice (DOCKER_HOST, context)
        self._version: str | None = None
        self._find_credential = find_credential or default_find_credential

    def version(self) -> str:
        """The engine's (server's) version; OperationError when the CLI or dockerd is missing."""
        if self._version is None:
            self._version = docker_server_version(self._cli())
        return self._version

    def registry_cache(self, ref: Reference, suffix: str) -> str:
        """The platform goes into the tag: `REPO:cache` -> `REPO:cache-linux-arm64`."""
        return str(ref.with_tag(f"{ref.tag}-{suffix}" if ref.tag else suffix))

    def build(self, req: BuildRequest) -> BuildOutput:
        if not req.context.is_dir():
            raise InputError(f"build {req.target}: context {req.context} is not a directory")
        _refuse_unsupported(req)
        self.version()
        req.log_path.parent.mkdir(parents=True, exist_ok=True)
        req.log_path.write_text("")
        with tempfile.TemporaryDirectory(prefix="dockyard-docker-") as tmp_name:
            tmp = Path(tmp_name)
            dockerfile = tmp / "Dockerfile"
            dockerfile.write_text(req.dockerfile_text, encoding="utf-8")
            env = {"DOCKER_BUILDKIT": "1"}
            doc = authfile_doc(registry_hosts(req.dockerfile_text), self._find_credential)
            if doc is not None:
                (tmp / "docker").mkdir(mode=0o700)
                write_authfile(tmp / "docker" / "config.json", doc)
                env["DOCKER_CONFIG"] = str(tmp / "docker")
            argv = [*self._cli(), "build", *docker_build_flags(req)]
            argv += ["--iidfile", str(tmp / "iid"), "-f", str(dockerfile)]
            argv += ["-t", local_name(req.job_key), str(req.context)]
            built = run_logged(argv, req.log_path, env=env)
            if built.returncode != 0:
                raise failure(req, built.returncode, built.lines)
            image_id = (tmp / "iid").read_text().strip()
            archive = tmp / "image.tar"
            saved = run_logged([*self._cli(), "save", "-o", str(archive), image_id], req.log_path)
            if saved.returncode != 0:
                raise failure(req, saved.returncode, saved.lines)
            digest = import_docker_archive(archive, LayoutStore(req.output), tag=req.tag)
        steps, hits = plain_progress_counts(built.lines)
        return BuildOutput(
            digest=digest,
            log_path=req.log_path,
            seconds=built.seconds + saved.seconds,
            cache_hits=hits,
            steps=steps,
        )

    def local_images(self, job_keys: Iterable[str] | None = None) -> list[str]:
        """dockyard's images in the engine (`localhost/dockyard/…:latest`), those of `job_keys`
        only when given (what `clean` removes); other images are never listed."""
        wanted = None if job_keys is None else {f"{local_name(key)}:latest" for key in job_keys}
        proc = self._run("images", "--format", "{{.Repository}}:{{.Tag}}")
        names = [
            name
            for name in proc.stdout.split()
            if name.startswith(LOCAL_NAMESPACE + "/") and (wanted is None or name in wanted)
        ]
        return sorted(set(names))

    def remove_local_images(self, names: Iterable[str]) -> None:
        """Untag and remove `names`; the BuildKit cache only they used goes with dockerd's GC."""
        names = list(names)
        if names:
            self._run("rmi", *names)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        argv = [*self._cli(), *args]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OperationError(f"cannot run '{' '.join(argv)}': {exc}") from None
        if proc.returncode != 0:
            said = " ".join(proc.stderr.split())[:300]
            raise OperationError(f"'docker {args[0]}' failed (exit {proc.returncode}): {said}")
        return proc

    def _cli(self) -> list[str]:
        return [self.binary, *(["-H", self.host] if self.host else [])]


def docker_build_flags(req: BuildRequest) -> list[str]:
    """The `docker build` options for a request (no temporary paths)."""
    return build_flags(req, buildx=False)


def _refuse_unsupported(req: BuildRequest) -> None:
    if req.cache_to:
        raise OperationError(
            f"build {req.target}: docker build cannot write a registry cache (--cache-to is "
            "buildx's); drop cache-to or use --builder buildah or podman"
        )
    remote = [h for h in req.insecure_registries if not is_loopback_host(h)]
    if remote or req.ca_cert is not None:
        raise OperationError(
            f"build {req.target}: dockerd takes insecure registries and CAs from its own "
            "daemon.json and /etc/docker/certs.d, not per build; configure them there or use "
            "--builder buildah or podman"
        )


def docker_server_version(cli: list[str] | None = None) -> str:
    """`docker version`'s server version; OperationError when the CLI or the engine is missing.

    `cli`: the docker command and its global options (default /usr/bin/docker)."""
    cli = cli or [DOCKER]
    binary = cli[0]
    if shutil.which(binary) is None:
        raise OperationError(f"{binary} is not installed ({_HINT})")
    try:
        proc = subprocess.run(
            [*cli, "version", "--format", "{{.Server.Version}}"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperationError(f"cannot run '{binary} version': {exc}") from None
    version = proc.stdout.strip()
    if proc.returncode != 0 or not version:
        said = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise OperationError(f"no Docker engine answers {binary} ({said}); {_HINT}")
    return version
