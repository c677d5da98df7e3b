"""`dockyard doctor`: can this machine build, emulate and publish? One row per check.

Rows (check, status, detail), status "ok", "warn" or "fail":

    config                 which dockyard.toml, or the defaults used without one
    builder buildah/buildx found and its version (the chosen builder missing fails;
                           buildx also fails when its builder cannot export OCI)
    engine <name>          buildah, podman, docker: version, runtime, rootless readiness of the
                           current user (or --rootless-user NAME) with the fix (builder.enginecheck)
    binfmt <platform>      native, or a usable qemu entry (the fix when not)
    registry <host>        /v2/ answers (one try, short timeouts); a certificate that
                           does not verify is named as a CA problem (--ca-cert)
    credentials <host>     where they come from; never the secret
    storage <dir>          free space of the builder's storage and of the output dir

The `*_row` functions are the decisions (pure); `run_doctor` gathers the facts.
Any "fail" makes the report fail (exit 1); "warn" is shown, not fatal.
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dockyard.bake.project import load_project
from dockyard.builder.backends import get_backend
from dockyard.builder.enginecheck import RootlessCheck, check_engine
from dockyard.builder.engines import engine_facts
from dockyard.builder.rootless import RootlessUser
from dockyard.builder.rootless import problems as rootless_problems
from dockyard.builders import BACKENDS
from dockyard.config.loader import find_config
from dockyard.config.model import DEFAULT_BUILDER, chosen_builder
from dockyard.emulation import BINFMT_ROOT, BinfmtStatus, binfmt_status
from dockyard.errors import DockyardError, InputError, UntrustedCertificate
from dockyard.oci.auth.credentials.sources import find_credential
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.session import Timeouts
from dockyard.platform import Platform, host_platform, parse_platform
from dockyard.ref import join_image
from dockyard.workspace import Settings, Workspace

Status = Literal["ok", "warn", "fail"]
DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")
# The engines doctor describes: the daemonless builders and the engines `load` fills.
ENGINE_NAMES = ("buildah", "podman", "docker")
# buildah's storage as root; the output dir is the build's `--output` default.
BUILDER_STORAGE = Path("/var/lib/containers/storage")
OUTPUT_DIR = "dist"
# Below this a build of one service (base layers + every platform's layers, twice:
# builder storage and the layout) is likely to run out of space.
FAIL_FREE = 1024**3
# Below this a multi-service, multi-platform build may: say so before it happens.
WARN_FREE = 5 * 1024**3
# A doctor waits a few seconds per registry, not the client's production timeouts.
PING_TIMEOUT = 5.0


@dataclass(frozen=True)
class Row:
    check: str
    status: Status
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class DoctorReport:
    rows: tuple[Row, ...]

    @property
    def ok(self) -> bool:
        return all(row.status != "fail" for row in self.rows)

    def summary(self) -> str:
        """One line naming the failed checks ("" when none failed)."""
        failed = [row.check for row in self.rows if row.status == "fail"]
        if not failed:
            return ""
        noun = "check" if len(failed) == 1 else "checks"
        return f"doctor: {len(failed)} {noun} failed ({', '.join(failed)})"

    def to_json(self) -> dict:
        return {"ok": self.ok, "checks": [row.to_json() for row in self.rows]}


# ---------------------------------------------------------------- rows (pure)


def builder_row(name: str, version: str | None, error: str | None, *, chosen: bool) -> Row:
    """A builder found (its version), or missing: fatal only for the chosen one."""
    if version is not None:
        return Row(f"builder {name}", "ok", f"{name} {version}" + (" (default)" if chosen else ""))
    return Row(f"builder {name}", "fail" if chosen else "warn", error or f"{name} not found")


def binfmt_row(status: BinfmtStatus) -> Row:
    return Row(f"binfmt {status.platform}", "ok" if status.ok else "fail", status.describe())


def registry_row(host: str, *, scheme: str | None, auth: str | None, error: str | None) -> Row:
    """Reachable (and the auth scheme it challenges with, if any), or the one-line error."""
    if error is not None:
        return Row(f"registry {host}", "fail", error)
    asks = f"asks for credentials: {auth}" if auth else "anonymous access"
    return Row(f"registry {host}", "ok", f"{scheme}://{host}/v2/ answers ({asks})")


def certificate_problem(host: str, reason: str, *, ca_cert: str | None) -> str:
    """A certificate that did not verify, said as the CA problem it is (not "unreachable")."""
    if ca_cert:
        return (
            f"certificate verify failed: {reason} (trusting --ca-cert {ca_cert}) — a CA problem: "
            f"pass the CA that signed {host}'s certificate, or --insecure-registry {host}"
        )
    return (
        f"certificate verify failed: {reason} — a CA problem: pass --ca-cert FILE (the CA "
        f"that signed {host}'s certificate), or --insecure-registry {host} to skip verification"
    )


def credential_row(
    host: str, *, source: str | None, user: str, needed: bool | None, error: str | None
) -> Row:
    """Where credentials come from (never the secret); missing is a warning when asked for.

    `needed`: the registry answered its ping with a challenge (True), without
    one (False), or could not be asked (None).
    """
    check = f"credentials {host}"
    if error is not None:
        return Row(check, "fail", error)
    if source is not None:
        who = f"user {user}" if user else "identity token"
        return Row(check, "ok", f"{who} from {describe_source(source)}")
    if needed is False:
        return Row(check, "ok", "none found; the registry allows anonymous access")
    return Row(
        check,
        "warn",
        "none found (docker login / podman login, or set the DOCKYARD_REGISTRY_<HOST>_USER "
        "and _PASSWORD variables); pushes will be refused",
    )


def describe_source(source: str) -> str:
    """ "env" / a file / "helper X" as a reader recognises it."""
    if source == "env":
        return "environment (DOCKYARD_REGISTRY_<HOST>_USER/_PASSWORD)"
    if source.startswith("helper "):
        return f"credential {source}"
    kind = "podman auth.json" if source.endswith("auth.json") else "docker config.json"
    return f"{kind} auths ({source})"


def space_row(
    label: str, path: Path, *, free: int | None, total: int | None, error: str | None = None
) -> Row:
    check = f"storage {label}"
    if error is not None or free is None or total is None:
        return Row(check, "fail", error or f"{path}: free space unknown")
    detail = f"{path}: {human_size(free)} free of {human_size(total)}"
    if free < FAIL_FREE:
        return Row(check, "fail", f"{detail} (less than {human_size(FAIL_FREE)})")
    if free < WARN_FREE:
        return Row(check, "warn", f"{detail} (less than {human_size(WARN_FREE)})")
    return Row(check, "ok", detail)


def human_size(size: int) -> str:
    """Rounded for reading ("77.5 GiB"), unlike config.sizes' exact spelling."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


# ---------------------------------------------------------------- gathering (I/O)


@dataclass(frozen=True)
class DoctorInputs:
    """What to check, from the config when there is one."""

    config_row: Row
    platforms: tuple[Platform, ...]
    registries: tuple[str, ...]  # host[:port], each once
    output: Path
    builder: str = DEFAULT_BUILDER  # the config's [project] builder, else the default


def run_doctor(
    config_path: Path | None = None,
    *,
    cwd: Path | None = None,
    builder: str | None = None,
    environ: Mapping[str, str] | None = None,
    binfmt_root: Path = BINFMT_ROOT,
    host: Platform | None = None,
    builder_storage: Path | None = None,
    insecure_registries: Iterable[str] = (),
    ca_cert: str | None = None,
    timeout: float = PING_TIMEOUT,
    rootless_user: str | None = None,
) -> DoctorReport:
    """Every check, in order. A config named with -f that cannot be loaded is an InputError.

    `builder` is the --builder flag; None: the config's builder, else buildah.
    """
    env = os.environ if environ is None else environ
    inputs = doctor_inputs(config_path, cwd=cwd, env=env)
    host = host_platform() if host is None else host
    rows = [inputs.config_row]
    rows += builder_rows(builder or inputs.builder)
    rows += engine_rows(builder or inputs.builder, rootless_user=rootless_user)
    rows += [binfmt_row(binfmt_status(p, host=host, root=binfmt_root)) for p in inputs.platforms]
    insecure = frozenset(insecure_registries)
    rows += registry_rows(inputs.registries, env, insecure, timeout, ca_cert=ca_cert)
    rows.append(_space("builder", builder_storage or user_storage(env)))
    rows.append(_space("output", inputs.output))
    return DoctorReport(tuple(rows))


def doctor_inputs(
    config_path: Path | None, *, cwd: Path | None, env: Mapping[str, str]
) -> DoctorInputs:
    cwd = Path(os.path.abspath(cwd if cwd is not None else Path.cwd()))
    defaults = tuple(parse_platform(p) for p in DEFAULT_PLATFORMS)
    if config_path is None:
        try:
            found = find_config(cwd)
        except InputError:
            row = Row(
                "config", "warn", f"no dockyard.toml here; checking {', '.join(DEFAULT_PLATFORMS)}"
            )
            return DoctorInputs(row, defaults, (), cwd / OUTPUT_DIR)
        try:
            config = load_project(config_file=found, cwd=cwd, env=env)
        except DockyardError as exc:  # found, not asked for: report it rather than stop
            return DoctorInputs(Row("config", "fail", str(exc)), defaults, (), cwd / OUTPUT_DIR)
    elif config_path.suffix == ".toml":
        config = load_project(config_file=config_path, cwd=cwd, env=env)
    else:  # a bake/compose file: its targets' platforms and tags' registries
        config = load_project(bake_files=[config_path], cwd=cwd, env=env)
    platforms = _unique(
        [*config.project.platforms, *(p for t in config.targets.values() for p in t.platforms)]
    )
    hosts = _unique(join_image(prefix, "doctor").registry for prefix in config.project.registries)
    shown = f"{config.path} ({len(config.targets)} targets, {len(platforms)} platforms)"
    return DoctorInputs(
        Row("config", "ok", shown),
        platforms or defaults,
        hosts,
        config.root / OUTPUT_DIR,
        builder=chosen_builder(None, config.project),
    )


def builder_rows(chosen: str) -> list[Row]:
    if chosen not in BACKENDS:
        get_backend(chosen)  # the InputError naming the valid ones
    rows = []
    for name in BACKENDS:
        try:
            version, error = get_backend(name).version(), None
        except DockyardError as exc:
            version, error = None, str(exc)
        rows.append(builder_row(name, version, error, chosen=name == chosen))
    return rows


def engine_rows(chosen: str, *, rootless_user: str | None = None) -> list[Row]:
    """One row per engine; rootless readiness of `rootless_user`, else of the current user."""
    rootless = _rootless_check(rootless_user)
    runc = shutil.which("runc") is not None
    rows = []
    for name in ENGINE_NAMES:
        verdict = check_engine(
            name, engine_facts(name), rootless=rootless, runc=runc, chosen=name == chosen
        )
        rows.append(Row(f"engine {name}", verdict.status, verdict.detail))
    return rows


def _rootless_check(name: str | None) -> RootlessCheck | None:
    """The user to check: named (InputError when unknown), else the current one unless root."""
    if name is None:
        if os.geteuid() == 0:
            return None
        entry = pwd.getpwuid(os.geteuid())
    else:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise InputError(f"--rootless-user {name}: no such user") from None
    user = RootlessUser(name=entry.pw_name, uid=entry.pw_uid)
    found = rootless_problems(
        user, subuid=_read("/etc/subuid"), subgid=_read("/etc/subgid"), which=shutil.which
    )
    return RootlessCheck(user, tuple(found), current=entry.pw_uid == os.geteuid())


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        return None


def registry_rows(
    hosts: Sequence[str],
    env: Mapping[str, str],
    insecure: frozenset[str],
    timeout: float,
    *,
    ca_cert: str | None = None,
) -> list[Row]:
    if not hosts:
        return []
    settings = Settings(
        insecure_registries=insecure,
        ca_cert=ca_cert,
        retry=RetryPolicy(attempts=1),  # reachable now, not eventually
        timeouts=Timeouts(connect=timeout, read=timeout, write=timeout, pool=timeout),
    )
    rows: list[Row] = []
    with Workspace(settings, environ=env) as ws:
        for name in hosts:
            rows += _registry_and_credentials(ws.registry, name, env)
    return rows


def _registry_and_credentials(client, name: str, env: Mapping[str, str]) -> list[Row]:
    needed: bool | None = None
    try:
        host = client.session.host(name)
    except UntrustedCertificate as exc:
        detail = certificate_problem(name, exc.reason, ca_cert=client.options.ca_cert)
        reach = registry_row(name, scheme=None, auth=None, error=detail)
    except DockyardError as exc:
        reach = registry_row(name, scheme=None, auth=None, error=str(exc))
    else:
        challenge = host.auth.challenge
        needed = challenge is not None
        scheme = host.base_url.split("://", 1)[0]
        reach = registry_row(name, scheme=scheme, auth=challenge and challenge.scheme, error=None)
    try:
        found = find_credential(name, environ=env)
    except DockyardError as exc:
        return [reach, credential_row(name, source=None, user="", needed=needed, error=str(exc))]
    source = found.source if found else None
    user = found.username if found else ""
    return [reach, credential_row(name, source=source, user=user, needed=needed, error=None)]


def user_storage(env: Mapping[str, str]) -> Path:
    """Where buildah/podman keep images for this user: root's storage, or the user's own
    ($XDG_DATA_HOME or ~/.local/share, /containers/storage) when rootless."""
    if os.geteuid() == 0:
        return BUILDER_STORAGE
    data = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/share")
    return Path(data) / "containers" / "storage"


def _space(label: str, path: Path, usage: Callable = shutil.disk_usage) -> Row:
    # A directory not made yet (dist/ before the first build) is on its parent's disk.
    existing = path
    try:
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        total, _, free = usage(existing)
    except OSError as exc:  # also a directory this user may not look into
        return space_row(label, path, free=None, total=None, error=f"{path}: {exc.strerror or exc}")
    return space_row(label, path, free=free, total=total)


def _unique(items: Iterable) -> tuple:
    return tuple(dict.fromkeys(items))
