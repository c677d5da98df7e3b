"""The buildah backend (default): `buildah build` one platform, push it into the target's layout.

What one job runs (everything appended to the job's log):

    buildah [--root R --runroot RR --storage-driver D] build --isolation chroot
        --platform P --layers --iidfile F --build-arg K=V … -f TMP/Dockerfile
        [--target S] [--format docker] [--timestamp N] [--no-cache] [--label K=V …]
        [--cache-from REPO] [--cache-to REPO] [--tls-verify=false] [--cert-dir TMP/certs]
        [--authfile TMP/auth.json] -t localhost/dockyard/<job key> CONTEXT
    buildah push --format v2s2|oci <image id> oci:TMP/layout:<tag>

then the pushed image is copied into `req.output` under `req.tag` through
LayoutStore (its index.json writes are locked, so the platforms of a target
can finish concurrently; containers/image's own oci: writer does not lock).

Facts checked with buildah 1.28.2 here:
- `--isolation chroot`: the default runtime fails on this VM's cgroups.
- `buildah push` to an oci: layout converts to OCI unless `--format v2s2`,
  and the OCI config drops HEALTHCHECK; with v2s2 the layout holds a docker
  manifest and config, which LayoutStore and skopeo read.
- `buildah rmi` of an image's only name also deletes its now-dangling
  intermediate images, the layer cache. So the image keeps one stable name
  per job key (the previous build's image just loses it, its layers stay) and
  is pushed by image ID, which is exact even if two runs race on the name.
- `--cache-from/--cache-to` take ONE repository without a tag (buildah tags
  one cache image per step); a second flag silently replaces the first.
- `--tls-verify=false` is global to the build: used only when every registry
  the build touches may be reached without TLS verification (a loopback one
  is, unless dockyard reached it over verified https: `tls_registries`).
- `--cert-dir DIR` trusts the `*.crt` files in DIR: --ca-cert is copied into
  the temp dir as ca.crt, so buildah's pulls trust what dockyard's client does.
- buildah reads docker/podman auth files itself but not dockyard's
  DOCKYARD_REGISTRY_<HOST>_USER/_PASSWORD: the credentials dockyard finds for
  the build's registries go into an owner-only --authfile in the temp dir
  (never on the command line, never in the log).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dockyard.builder.backends.common import failure, run_logged, summarize_log, transfer
from dockyard.builder.backends.request import BuildOutput, BuildRequest
from dockyard.errors import InputError, OperationError
from dockyard.oci.auth.credentials.credential import Credential
from dockyard.oci.auth.credentials.sources import find_credential
from dockyard.oci.certdir import write_cert_dir
from dockyard.ref import Reference, is_loopback_host, parse_ref

# Where each job's image keeps its name in builder storage (see the docstring).
LOCAL_NAMESPACE = "localhost/dockyard"
_VERSION = re.compile(r"^Version:\s*(\S+)", re.MULTILINE)
_FROM = re.compile(
    r"^\s*FROM\s+((?:--\S+\s+)*)(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class BuildahStorage:
    """Builder storage; None = buildah's default (/var/lib/containers/storage as root)."""

    root: Path | None = None  # --root
    runroot: Path | None = None  # --runroot
    driver: str | None = None  # --storage-driver: "overlay" or "vfs" (slower, works anywhere)

    def flags(self) -> list[str]:
        flags: list[str] = []
        if self.root is not None:
            flags += ["--root", str(self.root)]
        if self.runroot is not None:
            flags += ["--runroot", str(self.runroot)]
        if self.driver:
            flags += ["--storage-driver", self.driver]
        return flags


class BuildahBackend:
    name = "buildah"
    # A foreign platform's RUN steps run in a chroot here, under this host's qemu binfmt entry.
    emulates_on_host = True
    package = "buildah"  # the Debian package a missing binary is fixed with
    # How RUN steps run: the default runtime fails on this VM's cgroups, a chroot does not.
    run_flags: tuple[str, ...] = ("--isolation", "chroot")
    images_json: tuple[str, ...] = ("--json",)  # how `images` is asked for JSON

    def __init__(
        self,
        *,
        storage: BuildahStorage | None = None,
        binary: str = "buildah",
        find_credential: Callable[[str], Credential | None] | None = None,
    ) -> None:
        self.storage = storage or BuildahStorage()
        self.binary = binary
        self._version: str | None = None
        # dockyard's credential lookup (env variables, docker/podman files, helpers),
        # handed to buildah as an --authfile: buildah alone knows no DOCKYARD_REGISTRY_*.
        self._find_credential = find_credential or default_find_credential

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.storage})"

    def version(self) -> str:
        if self._version is None:
            self._version = engine_version(self.binary, self.package)
        return self._version

    def registry_cache(self, ref: Reference, suffix: str) -> str:
        """The platform goes into the repository: `REPO:cache` -> `REPO-cache-linux-arm64`.

        buildah keeps one tag per step in its cache repository and ignores a
        tag (cache_repository), so only the repository can keep arches apart.
        """
        middle = f"-{ref.tag}" if ref.tag else ""
        return parse_ref(f"{ref.name}{middle}-{suffix}", default_tag=None).name

    def build(self, req: BuildRequest) -> BuildOutput:
        if not req.context.is_dir():
            raise InputError(f"build {req.target}: context {req.context} is not a directory")
        req.log_path.parent.mkdir(parents=True, exist_ok=True)
        req.log_path.write_text("")  # one log per job run, not an ever-growing one
        cache_from = _one_cache(req.cache_from, "cache-from")
        cache_to = _one_cache(req.cache_to, "cache-to")
        hosts = registry_hosts(req.dockerfile_text, [c for c in (cache_from, cache_to) if c])
        tls_off = skip_tls_verify(hosts, req.insecure_registries, verified=req.tls_registries)
        with tempfile.TemporaryDirectory(prefix="dockyard-buildah-") as tmp_name:
            tmp = Path(tmp_name)
            dockerfile = tmp / "Dockerfile"
            dockerfile.write_text(req.dockerfile_text, encoding="utf-8")
            auth = write_authfile(tmp / "auth.json", authfile_doc(hosts, self._find_credential))
            certs = write_cert_dir(req.ca_cert, tmp / "certs") if req.ca_cert else None
            argv = [
                self.binary, *self.storage.flags(), "build",
                *build_flags(
                    req, cache_from=cache_from, cache_to=cache_to, tls_off=tls_off,
                    run=self.run_flags,
                ),
                *(["--authfile", str(auth)] if auth else []),
                *(["--cert-dir", str(certs)] if certs else []),
                "--iidfile", str(tmp / "iid"),
                "-f", str(dockerfile),
                "-t", local_name(req.job_key),
                str(req.context),
            ]  # fmt: skip
            built = run_logged(argv, req.log_path, env=self._env())
            if built.returncode != 0:
                raise failure(req, built.returncode, built.lines)
            image_id = (tmp / "iid").read_text().strip()
            layout = tmp / "layout"
            push_format = "v2s2" if req.format == "docker" else "oci"
            push = [self.binary, *self.storage.flags(), "push", "--format", push_format]
            push += [image_id, f"oci:{layout}:{req.tag}"]
            pushed = run_logged(push, req.log_path, env=self._env())
            if pushed.returncode != 0:
                raise failure(req, pushed.returncode, pushed.lines)
            digest = transfer(layout, req.output, req.tag, source_ref=req.tag)
        summary = summarize_log(built.lines)
        return BuildOutput(
            digest=digest,
            log_path=req.log_path,
            seconds=built.seconds + pushed.seconds,
            cache_hits=summary.cache_hits,
            steps=summary.steps,
        )

    def local_images(self, job_keys: Iterable[str] | None = None) -> list[str]:
        """dockyard's images in this storage (`localhost/dockyard/…`), those of `job_keys` only
        when given; other images (bases, a user's own) are never listed."""
        wanted = None if job_keys is None else {f"{local_name(key)}:latest" for key in job_keys}
        argv = [self.binary, *self.storage.flags(), "images", *self.images_json]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            said = " ".join(proc.stderr.split())[:200]
            raise OperationError(f"'{self.binary} images' failed (exit {proc.returncode}): {said}")
        names = [
            name
            for image in json.loads(proc.stdout or "[]")
            for name in image.get("names") or image.get("Names") or ()  # buildah | podman
            if name.startswith(LOCAL_NAMESPACE + "/") and (wanted is None or name in wanted)
        ]
        return sorted(set(names))

    def remove_local_images(self, names: Iterable[str]) -> None:
        """Untag and remove `names`: buildah also deletes the intermediate images only they
        kept (the --layers cache of those builds); layers another image uses stay."""
        names = list(names)
        if not names:
            return
        argv = [self.binary, *self.storage.flags(), "rmi", *names]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0:
            said = " ".join(proc.stderr.split())[:300]
            raise OperationError(f"'{self.binary} rmi' failed (exit {proc.returncode}): {said}")

    def _env(self) -> dict[str, str]:
        env = {"BUILDAH_ISOLATION": "chroot"}
        if self.storage.driver:
            env["STORAGE_DRIVER"] = self.storage.driver
        return env


def engine_version(binary: str = "buildah", package: str = "buildah") -> str:
    """`buildah version`'s (or `podman version`'s) Version; OperationError when missing or broken."""
    if shutil.which(binary) is None:
        raise OperationError(f"{binary} is not installed (apt-get install {package})")
    try:
        proc = subprocess.run(
            [binary, "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperationError(f"cannot run '{binary} version': {exc}") from None
    match = _VERSION.search(proc.stdout)
    if proc.returncode != 0 or match is None:
        said = " ".join((proc.stderr or proc.stdout).split())[:200]
        raise OperationError(f"'{binary} version' failed (exit {proc.returncode}): {said}")
    return match.group(1)


def build_flags(
    req: BuildRequest,
    *,
    cache_from: str | None,
    cache_to: str | None,
    tls_off: bool,
    run: tuple[str, ...] = BuildahBackend.run_flags,
) -> list[str]:
    """The `buildah build` (or `podman build`) options for a request (no temporary paths).

    `run`: how RUN steps run (buildah: a chroot; podman: the runc runtime).
    """
    # --force-rm: a failed step's container (and its overlay mount) is removed too.
    flags = [*run, "--platform", str(req.platform), "--layers", "--force-rm"]
    for key, value in sorted(req.args.items()):
        flags += ["--build-arg", f"{key}={value}"]
    if req.target_stage:
        flags += ["--target", req.target_stage]
    if req.format == "docker":
        flags += ["--format", "docker"]
    if req.timestamp is not None:
        flags += ["--timestamp", str(req.timestamp)]
    if req.no_cache:
        flags.append("--no-cache")
    for key, value in sorted(req.labels.items()):
        flags += ["--label", f"{key}={value}"]
    if cache_from:
        flags += ["--cache-from", cache_from]
    if cache_to:
        flags += ["--cache-to", cache_to]
    if tls_off:
        flags.append("--tls-verify=false")
    return flags


def local_name(job_key: str) -> str:
    """The job's image name in builder storage: `localhost/dockyard/api-linux-arm64`."""
    return f"{LOCAL_NAMESPACE}/{re.sub(r'[^a-z0-9._-]+', '-', job_key.lower()).strip('-._')}"


def cache_repository(spec: str) -> str:
    """A cache spec (buildx `type=registry,ref=REPO[:TAG]` or a bare REPO) -> buildah's REPO.

    buildah stores one tag per step in the repository, so a tag in the spec
    names nothing buildah can use and is dropped; other cache types are refused.
    """
    text = spec.strip()
    ref = text
    if "=" in text:
        fields = dict(part.partition("=")[::2] for part in text.split(","))
        kind = fields.get("type", "registry")
        if kind != "registry":
            raise InputError(
                f"cache '{spec}': buildah can only keep its layer cache in a registry "
                f"(type=registry,ref=REPO), not type={kind}"
            )
        ref = fields.get("ref", "")
        if not ref:
            raise InputError(f"cache '{spec}': no ref= (expected type=registry,ref=REPO)")
    parsed = parse_ref(ref, default_tag=None)
    if parsed.digest is not None:
        raise InputError(f"cache '{spec}': a cache repository cannot be a digest")
    return parsed.repository_ref.name


def _one_cache(specs: tuple[str, ...], flag: str) -> str | None:
    if len(specs) > 1:
        raise InputError(
            f"--{flag}: buildah 1.28 takes one cache repository, got {len(specs)} "
            f"({', '.join(specs)})"
        )
    return cache_repository(specs[0]) if specs else None


def authfile_doc(
    hosts: Iterable[str], find: Callable[[str], Credential | None]
) -> dict[str, dict[str, dict[str, str]]] | None:
    """A containers-auth.json document with dockyard's credentials for `hosts`; None if none."""
    auths: dict[str, dict[str, str]] = {}
    for host in sorted(hosts):
        credential = find(host)
        if credential is None:
            continue
        entry = {"auth": credential.basic_value()} if credential.password else {}
        if credential.identity_token:
            entry["identitytoken"] = credential.identity_token
        if entry:
            auths[host] = entry
    return {"auths": auths} if auths else None


def write_authfile(path: Path, doc: dict | None) -> Path | None:
    if doc is None:
        return None
    # Owner-only from the first byte: it holds secrets (deleted with the temp dir).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


def default_find_credential(host: str) -> Credential | None:
    return find_credential(host)


def registry_hosts(dockerfile_text: str, repositories: Iterable[str] = ()) -> set[str]:
    """Registry hosts a build pulls from (FROM lines) or uses for its cache.

    Stage names and `scratch` are not images; an unqualified name is Docker
    Hub's. FROMs still holding `$` are left out (a pinned Dockerfile has none).
    """
    hosts: set[str] = set()
    stages: set[str] = set()
    for match in _FROM.finditer(dockerfile_text):
        image, alias = match.group(2), match.group(3)
        if image.lower() not in stages and image != "scratch" and "$" not in image:
            # A malformed name is buildah's to report, in the log.
            with contextlib.suppress(InputError):
                hosts.add(parse_ref(image, default_tag=None).registry)
        if alias:
            stages.add(alias.lower())
    for repo in repositories:
        hosts.add(parse_ref(repo, default_tag=None).registry)
    return hosts


def skip_tls_verify(
    hosts: Iterable[str], insecure: Iterable[str], *, verified: Iterable[str] = ()
) -> bool:
    """Whether to pass --tls-verify=false: only when every host may go without TLS checks.

    A build touching both kinds is refused: the flag is global, and TLS must
    stay verified for a registry that was not declared insecure. `verified`:
    loopback hosts known to speak verified TLS, which stay verified.
    """
    hosts = set(hosts)
    allowed = set(insecure)
    plain = {
        h
        for h in hosts - set(verified)
        if is_loopback_host(h) or h in allowed or h.rsplit(":", 1)[0] in allowed
    }
    if plain and plain != hosts:
        raise OperationError(
            f"buildah cannot use {', '.join(sorted(plain))} without TLS verification and "
            f"{', '.join(sorted(hosts - plain))} with it in one build (its --tls-verify is "
            "global); serve them all over verified TLS or all from insecure registries"
        )
    return bool(plain)
