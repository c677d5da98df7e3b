"""The docker buildx backend: for machines with a Docker engine and the buildx plugin.

    docker buildx build --platform P --build-arg K=V … -f TMP/Dockerfile [--target S]
        [--no-cache] [--label K=V …] [--cache-from SPEC] [--cache-to SPEC]
        --provenance=false --output type=oci,dest=TMP/image.tar CONTEXT

The OCI tarball is unpacked and its image copied into `req.output` under
`req.tag`, as the buildah backend does. `--provenance=false` keeps the
output one image manifest rather than an index with an attestation.
Cache specs are passed in buildx's own syntax. BuildKit keeps HEALTHCHECK in
OCI configs, so `format` changes nothing here; `timestamp` is passed as the
SOURCE_DATE_EPOCH build arg (BuildKit >= 0.11 honours it).

Never run against a real Docker engine: this machine has none (Debian 12
packages no buildx). `version()` and `build()` say so in one line instead of
failing half-way, and so they do for a builder that cannot export OCI: the
`docker` driver (Docker's default builder) writes `--output type=oci` only
when the engine keeps images in containerd (the same test buildx applies:
`docker info`'s DriverStatus names the containerd snapshotter). `version()`
runs before any job starts (build, release) and is doctor's builder row.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from dockyard.builder.backends.common import failure, run_logged, transfer
from dockyard.builder.backends.request import BuildOutput, BuildRequest
from dockyard.errors import OperationError
from dockyard.ref import Reference

_VERSION = re.compile(r"\bv?(\d+\.\d+\.\d+\S*)")
# BuildKit's plain progress: a vertex per Dockerfile step, `#N CACHED` when reused.
_PLAIN_STEP = re.compile(r"^#(\d+) \[(?:[^\]]* )?\d+/\d+\] ")
_PLAIN_CACHED = re.compile(r"^#(\d+) CACHED\s*$")
_HINT = "install Docker with the buildx plugin, or use --builder buildah"
# `docker buildx inspect`: "Name:   default" and "Driver: docker" before the node list.
_INSPECT_FIELD = re.compile(r"^(Name|Driver):\s*(\S+)\s*$", re.MULTILINE)
# The driver that is the Docker engine's own BuildKit: OCI export needs the containerd store.
DOCKER_DRIVER = "docker"
CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter.v1"
_OCI_HINT = (
    "create a builder that can: docker buildx create --use --driver docker-container; "
    "or turn on Docker's containerd image store; or use --builder buildah"
)


class BuildxBackend:
    name = "buildx"
    # BuildKit runs a foreign platform's RUN steps under qemu on the kernel of the
    # engine's builder: this host's, for the local docker and docker-container drivers.
    emulates_on_host = True

    def __init__(self, *, binary: str = "docker") -> None:
        self.binary = binary
        self._version: str | None = None

    def version(self) -> str:
        """buildx's version; OperationError when docker, buildx or the engine is missing."""
        if self._version is None:
            self._version = self._detect()
        return self._version

    def registry_cache(self, ref: Reference, suffix: str) -> str:
        """The platform goes into the tag: `REPO:cache` -> `REPO:cache-linux-arm64`."""
        return str(ref.with_tag(f"{ref.tag}-{suffix}" if ref.tag else suffix))

    def build(self, req: BuildRequest) -> BuildOutput:
        self.version()
        if req.insecure_registries:
            raise OperationError(
                "buildx reads insecure registries from its builder's buildkitd.toml, not per "
                f"build ({', '.join(req.insecure_registries)}); configure them there or use "
                "--builder buildah"
            )
        req.log_path.parent.mkdir(parents=True, exist_ok=True)
        req.log_path.write_text("")
        with tempfile.TemporaryDirectory(prefix="dockyard-buildx-") as tmp_name:
            tmp = Path(tmp_name)
            dockerfile = tmp / "Dockerfile"
            dockerfile.write_text(req.dockerfile_text, encoding="utf-8")
            tarball = tmp / "image.tar"
            argv = [self.binary, "buildx", "build", *buildx_flags(req)]
            argv += [
                "-f",
                str(dockerfile),
                "--output",
                f"type=oci,dest={tarball}",
                str(req.context),
            ]
            built = run_logged(argv, req.log_path)
            if built.returncode != 0:
                raise failure(req, built.returncode, built.lines)
            layout = tmp / "layout"
            _unpack(tarball, layout)
            digest = transfer(layout, req.output, req.tag)
        steps, hits = plain_progress_counts(built.lines)
        return BuildOutput(
            digest=digest,
            log_path=req.log_path,
            seconds=built.seconds,
            cache_hits=hits,
            steps=steps,
        )

    def _detect(self) -> str:
        if shutil.which(self.binary) is None:
            raise OperationError(
                f"docker buildx is not available: no '{self.binary}' on PATH ({_HINT})"
            )
        proc = _run([self.binary, "buildx", "version"])
        match = _VERSION.search(proc.stdout)
        if proc.returncode != 0 or match is None:
            raise OperationError(
                f"docker buildx is not available: '{self.binary}' has no buildx plugin ({_HINT})"
            )
        engine = _run([self.binary, "info", "--format", "{{.ServerVersion}}"])
        if engine.returncode != 0 or not engine.stdout.strip():
            raise OperationError(
                f"docker buildx is not available: no Docker engine answers 'docker info' ({_HINT})"
            )
        self._require_oci_export()
        return match.group(1)

    def _require_oci_export(self) -> None:
        """OperationError, before any build, when the current builder cannot write an OCI layout."""
        inspect = _run([self.binary, "buildx", "inspect"])
        if inspect.returncode != 0:
            said = (inspect.stderr.strip().splitlines() or ["no output"])[-1]
            raise OperationError(
                f"docker buildx is not usable: 'docker buildx inspect' failed: {said}"
            )
        name, driver = parse_inspect(inspect.stdout)
        if driver != DOCKER_DRIVER:
            return
        status = _run([self.binary, "info", "--format", "{{json .DriverStatus}}"])
        if uses_containerd_store(status.stdout):
            return
        raise OperationError(
            f"docker buildx builder '{name}' uses the docker driver, which cannot export "
            f"OCI images (dockyard builds with --output type=oci): {_OCI_HINT}"
        )


def parse_inspect(text: str) -> tuple[str, str]:
    """(builder name, driver) from `docker buildx inspect`; "" for a field it does not show."""
    fields: dict[str, str] = {}
    for key, value in _INSPECT_FIELD.findall(text):
        fields.setdefault(key, value)  # the builder's own lines come before its nodes'
    return fields.get("Name", ""), fields.get("Driver", "")


def uses_containerd_store(driver_status: str) -> bool:
    """Whether `docker info --format '{{json .DriverStatus}}'` names the containerd snapshotter."""
    try:
        pairs = json.loads(driver_status or "null")
    except json.JSONDecodeError:
        return False
    if not isinstance(pairs, list):
        return False
    return any(
        isinstance(pair, list) and len(pair) == 2 and pair[1] == CONTAINERD_SNAPSHOTTER
        for pair in pairs
    )


def plain_progress_counts(lines: list[str]) -> tuple[int, int]:
    """(steps, cache hits) from BuildKit's plain progress (`#6 [stage 2/3] RUN …`, `#6 CACHED`)."""
    steps: set[str] = set()
    cached: set[str] = set()
    for line in lines:
        if match := _PLAIN_STEP.match(line):
            steps.add(match.group(1))
        elif match := _PLAIN_CACHED.match(line):
            cached.add(match.group(1))
    return len(steps), len(cached & steps)


def buildx_flags(req: BuildRequest) -> list[str]:
    return build_flags(req, buildx=True)


def build_flags(req: BuildRequest, *, buildx: bool) -> list[str]:
    """The options of `docker buildx build` (`buildx`) or of the engine's own `docker build`
    (BuildKit in both; the engine's has no provenance attestation to turn off, and its
    backend refuses cache-to before it gets here)."""
    flags = ["--platform", str(req.platform)]
    flags += ["--provenance=false"] if buildx else []
    flags.append("--progress=plain")
    args = dict(req.args)
    if req.timestamp is not None:
        args.setdefault("SOURCE_DATE_EPOCH", str(req.timestamp))
    for key, value in sorted(args.items()):
        flags += ["--build-arg", f"{key}={value}"]
    if req.target_stage:
        flags += ["--target", req.target_stage]
    if req.no_cache:
        flags.append("--no-cache")
    for key, value in sorted(req.labels.items()):
        flags += ["--label", f"{key}={value}"]
    for spec in req.cache_from:
        flags += ["--cache-from", spec]
    for spec in req.cache_to:
        flags += ["--cache-to", spec]
    return flags


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperationError(f"cannot run '{' '.join(argv)}': {exc}") from None


def _unpack(tarball: Path, dest: Path) -> None:
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(dest, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise OperationError(f"cannot unpack buildx's OCI output {tarball}: {exc}") from None
