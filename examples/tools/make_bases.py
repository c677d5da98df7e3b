"""The demo's base images, made from Debian packages (no Docker Hub here), cached, pushed.

    python examples/tools/make_bases.py --registry 127.0.0.1:5000/base [--only busybox] [--json]

Bases (examples/fleet's Dockerfiles name them `${BASE_REGISTRY}/NAME:TAG`):

    busybox:1.35  linux/amd64, linux/arm64  Debian's busybox-static + applet links
    golang:1.19   linux/amd64               mmdebstrap essential + golang-go (build stages only)
    python:3.11   linux/amd64, linux/arm64  mmdebstrap essential + python3 (arm64 under qemu)

Every base has /etc/passwd and /etc/group with root, nobody (65534) and
nonroot (65532), a /tmp with mode 1777 and /bin/sh (for HEALTHCHECK
CMD-SHELL). Each is imported with `dockyard.oci.imports` into an OCI layout
under `<cache>/bases/oci/`, named by a key over this script's version, the
recipe and the candidate versions apt has for its packages: a second run
finds the layout and only checks the registry. mmdebstrap tarballs are
cached too (`<cache>/bases/rootfs/`), so a changed label does not re-run
Debian's installer. `<cache>` is $DOCKYARD_CACHE or ~/.cache/dockyard.

Pushing uses `dockyard.pipeline.locations.copy_location`, which leaves a tag that
already has the digest alone.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dockyard.errors import DockyardError, InputError, OperationError
from dockyard.oci.imports import ImageSettings, RootfsSource, import_rootfs, source_date_epoch
from dockyard.oci.layout import LayoutStore
from dockyard.oci.retry import RetryPolicy
from dockyard.pipeline.locations import copy_location
from dockyard.platform import parse_platform
from dockyard.workspace import Settings, Workspace

# Bump when a recipe changes in a way the key below does not see.
SCRIPT_VERSION = 1
SUITE = "bookworm"
# Reproducible: every mtime clamped to this and `created` set to it (SOURCE_DATE_EPOCH wins).
DEFAULT_EPOCH = 0
# mmdebstrap runs side by side: the demo's three (golang, python amd64 + arm64) at once.
MMDEBSTRAP_JOBS = 3

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/bin/false\n"
)
GROUP = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"

# Kept small: no manuals, translations or docs (copyright files stay: licences).
DPKG_TRIM = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
)
# Go: the compiler's own packages, its test suite and profilers are not needed to
# build a program (332 MB instead of 522 MB); the std packages stay precompiled.
GO_TRIM = (
    "path-exclude=/usr/lib/go-1.19/pkg/*/cmd/*",
    "path-exclude=/usr/share/go-1.19/test/*",
    "path-exclude=/usr/share/go-1.19/src/*/testdata/*",
    "path-exclude=/usr/lib/go-1.19/pkg/tool/*/pprof",
    "path-exclude=/usr/lib/go-1.19/pkg/tool/*/trace",
)
# Debian's base-passwd has root and nobody; nonroot is added like the busybox base has it.
ADD_NONROOT = (
    'echo "nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin" >> "$1/etc/passwd"'
    ' && echo "nonroot:x:65532:" >> "$1/etc/group"'
    ' && mkdir -p "$1/home/nonroot" && chown 65532:65532 "$1/home/nonroot"'
)


@dataclass(frozen=True)
class BaseSpec:
    name: str
    tag: str
    arches: tuple[str, ...]  # Debian architecture names
    recipe: str  # "busybox" or "mmdebstrap"
    packages: tuple[str, ...]
    cmd: tuple[str, ...]
    description: str
    licenses: str
    dpkg_options: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)


BASES: tuple[BaseSpec, ...] = (
    BaseSpec(
        name="busybox",
        tag="1.35",
        arches=("amd64", "arm64"),
        recipe="busybox",
        packages=("busybox-static",),
        cmd=("sh",),
        description="BusyBox from Debian's busybox-static, every applet linked",
        licenses="GPL-2.0-only",
    ),
    BaseSpec(
        name="golang",
        tag="1.19",
        arches=("amd64",),
        recipe="mmdebstrap",
        packages=("golang-go",),
        cmd=("/bin/sh",),
        description=f"Debian {SUITE} (essential) with golang-go, for build stages",
        licenses="BSD-3-Clause",
        dpkg_options=DPKG_TRIM + GO_TRIM,
        env=("GOPATH=/go",),
    ),
    BaseSpec(
        name="python",
        tag="3.11",
        arches=("amd64", "arm64"),
        recipe="mmdebstrap",
        packages=("python3",),
        cmd=("python3",),
        description=f"Debian {SUITE} (essential) with python3",
        licenses="PSF-2.0",
        dpkg_options=DPKG_TRIM,
    ),
)
ARCH_PLATFORM = {"amd64": "linux/amd64", "arm64": "linux/arm64", "armhf": "linux/arm/v7"}


@dataclass(frozen=True)
class BaseResult:
    name: str
    tag: str
    layout: Path
    digest: str
    platforms: tuple[str, ...]
    cached: bool  # the layout was already in the cache
    build_seconds: float
    pushed_to: str | None = None
    up_to_date: bool | None = None  # the registry already had this tag at this digest
    push_seconds: float | None = None

    def to_json(self) -> dict[str, object]:
        doc = asdict(self)
        doc["layout"] = str(self.layout)
        doc["platforms"] = list(self.platforms)
        doc["build_seconds"] = round(self.build_seconds, 2)
        if self.push_seconds is not None:
            doc["push_seconds"] = round(self.push_seconds, 2)
        return doc


# ---------------------------------------------------------------- apt


def _run(args: Sequence[str], *, what: str, **kwargs) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(list(args), capture_output=True, text=True, check=False, **kwargs)
    except FileNotFoundError:
        raise OperationError(
            f"{what}: {args[0]} is not installed (run scripts/setup-system.sh)"
        ) from None
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise OperationError(
            f"{what} failed (exit {proc.returncode}): {lines[-1] if lines else 'no output'}"
        )
    return proc


def native_arch() -> str:
    return _run(["dpkg", "--print-architecture"], what="dpkg").stdout.strip()


def ensure_arch(arch: str) -> None:
    """dpkg knows `arch` and apt has its package lists (added once, then apt-get update)."""
    if arch == native_arch():
        return
    foreign = _run(["dpkg", "--print-foreign-architectures"], what="dpkg").stdout.split()
    if arch not in foreign:
        _run(["dpkg", "--add-architecture", arch], what=f"dpkg --add-architecture {arch}")
        _run(["apt-get", "update", "-q"], what="apt-get update")


def candidate_versions(
    wanted: Sequence[tuple[str, str]], apt_cache: Path
) -> dict[tuple[str, str], str]:
    """{(package, arch): the version `apt-get install package:arch` would take now}.

    One apt-cache call for all (each rebuilds apt's package cache when, as in
    Debian's container images, it is not kept: ~3 s; a private cache file under
    `apt_cache` makes it ~1 s). apt-get update runs once if a package is unknown.
    """
    apt_cache.mkdir(parents=True, exist_ok=True)
    args = [
        "apt-cache",
        "-o",
        f"Dir::Cache::pkgcache={apt_cache / 'pkgcache.bin'}",
        "-o",
        "Dir::Cache::srcpkgcache=",
        "show",
        "--no-all-versions",
    ]
    args += [f"{p}:{a}" for p, a in wanted]
    found: dict[tuple[str, str], str] = {}
    for attempt in range(2):
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        found = _stanza_versions(proc.stdout, wanted)
        missing = [w for w in wanted if w not in found]
        if not missing:
            return found
        if attempt == 0:
            _run(["apt-get", "update", "-q"], what="apt-get update")
    package, arch = missing[0]
    raise OperationError(f"apt knows no package {package}:{arch} (is the Debian mirror reachable?)")


def _stanza_versions(text: str, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for stanza in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in stanza.splitlines()
            if ": " in line and not line[0].isspace()
        )
        package, arch, version = (
            fields.get("Package"),
            fields.get("Architecture"),
            fields.get("Version"),
        )
        for p, a in wanted:
            if p == package and arch in (a, "all") and version:
                out.setdefault((p, a), version)
    return out


def versions_of(specs: Sequence[BaseSpec], apt_cache: Path) -> dict[str, dict[str, dict[str, str]]]:
    """{base name: {arch: {package: version}}}."""
    for arch in sorted({a for s in specs for a in s.arches}):
        ensure_arch(arch)
    wanted = sorted({(p, a) for s in specs for a in s.arches for p in s.packages})
    found = candidate_versions(wanted, apt_cache)
    return {s.name: {a: {p: found[p, a] for p in s.packages} for a in s.arches} for s in specs}


def download_deb(package: str, arch: str, version: str, debs: Path) -> Path:
    """`apt-get download package:arch=version` into `debs` (kept there for the next run)."""
    debs.mkdir(parents=True, exist_ok=True)
    pattern = f"{package}_{version.replace(':', '%3a')}_{arch}.deb"
    found = debs / pattern
    if found.exists():
        return found
    _run(
        ["apt-get", "download", f"{package}:{arch}={version}"],
        what=f"apt-get download {package}:{arch}",
        cwd=debs,
    )
    if not found.exists():
        raise OperationError(f"apt-get download {package}:{arch} wrote no {pattern} in {debs}")
    return found


# ---------------------------------------------------------------- busybox


def busybox_applets(busybox: Path) -> list[str]:
    """Install paths of every applet (`bin/sh`, `usr/bin/env`, ...), from a busybox this machine runs."""
    proc = _run([str(busybox), "--list-full"], what=f"{busybox} --list-full")
    names = [line.strip() for line in proc.stdout.splitlines()]
    return sorted(n for n in names if n and "/" in n and n != "bin/busybox")


def _extract_busybox(deb: Path, into: Path) -> Path:
    _run(["dpkg-deb", "-x", str(deb), str(into)], what=f"dpkg-deb -x {deb.name}")
    binary = into / "bin" / "busybox"
    if not binary.is_file():
        raise OperationError(f"{deb.name} has no bin/busybox")
    return binary


def write_busybox_rootfs(busybox: Path, applets: Sequence[str], out: Path) -> Path:
    """A rootfs tarball: /bin/busybox, a symlink per applet, users, /tmp 1777 (owners explicit)."""

    def add(
        tar: tarfile.TarFile,
        name: str,
        kind: bytes,
        *,
        mode: int,
        data: bytes = b"",
        link: str = "",
        owner: int = 0,
    ) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, owner, owner, 0
        info.linkname = link
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

    dirs = {"bin", "etc", "root", "home", "home/nonroot", "tmp"}
    dirs |= {str(Path(a).parent) for a in applets}
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in sorted(dirs):
            mode = {"tmp": 0o1777, "root": 0o700}.get(d, 0o755)
            add(tar, d, tarfile.DIRTYPE, mode=mode, owner=65532 if d == "home/nonroot" else 0)
        add(tar, "bin/busybox", tarfile.REGTYPE, mode=0o755, data=busybox.read_bytes())
        for applet in applets:
            add(tar, applet, tarfile.SYMTYPE, mode=0o777, link="/bin/busybox")
        add(tar, "etc/passwd", tarfile.REGTYPE, mode=0o644, data=PASSWD.encode())
        add(tar, "etc/group", tarfile.REGTYPE, mode=0o644, data=GROUP.encode())
    return out


def busybox_rootfs(
    spec: BaseSpec, versions: Mapping[str, Mapping[str, str]], debs: Path, tmp: Path
) -> dict[str, Path]:
    native = native_arch()
    version = versions[spec.arches[0]][spec.packages[0]]
    # The applet list comes from the binary this machine runs natively (an arm64
    # busybox would need qemu); both architectures are built from the same source.
    native_bin = _extract_busybox(
        download_deb(spec.packages[0], native, version, debs), tmp / native
    )
    applets = busybox_applets(native_bin)
    out = {}
    for arch in spec.arches:
        deb = download_deb(spec.packages[0], arch, versions[arch][spec.packages[0]], debs)
        binary = native_bin if arch == native else _extract_busybox(deb, tmp / arch)
        out[arch] = write_busybox_rootfs(binary, applets, tmp / f"busybox-{arch}.tar")
    return out


# ---------------------------------------------------------------- mmdebstrap


def mmdebstrap_args(spec: BaseSpec, arch: str, out: Path) -> list[str]:
    return [
        "mmdebstrap",
        "--quiet",
        f"--arch={arch}",
        # essential: dpkg and the Essential: yes set (dash is /bin/sh), no apt;
        # the merged-usr hook keeps usrmerge and its perl (50 MB) out.
        "--variant=essential",
        "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
        f"--include={','.join(spec.packages)}",
        *[f"--dpkgopt={o}" for o in spec.dpkg_options],
        f"--customize-hook={ADD_NONROOT}",
        SUITE,
        str(out),
    ]


def rootfs_tarball(spec: BaseSpec, arch: str, version: Mapping[str, str], rootfs_dir: Path) -> Path:
    """Where the cached mmdebstrap tarball of `spec` for `arch` is (named by its own key)."""
    key = _key({"args": mmdebstrap_args(spec, arch, Path("-")), "versions": version})
    return rootfs_dir / f"{spec.name}-{arch}-{key}.tar"


def run_mmdebstrap(spec: BaseSpec, arch: str, path: Path, *, log=None) -> Path:
    """`path` made by mmdebstrap unless it is already there (written whole, then renamed)."""
    if path.exists():
        return path
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.tar")
    _run(mmdebstrap_args(spec, arch, tmp), what=f"mmdebstrap {spec.name} {arch}")
    os.replace(tmp, path)
    _remove_stale(path.parent, f"{spec.name}-{arch}-", keep=path)
    if log:
        took = time.monotonic() - started
        log(f"  mmdebstrap {spec.name} {arch}: {took:.1f} s, {path.stat().st_size / 1e6:.0f} MB")
    return path


def prefetch_rootfs(jobs: Sequence[tuple[BaseSpec, str, Path]], *, log=None) -> None:
    """Run the missing mmdebstrap jobs side by side.

    An arm64 one runs its maintainer scripts under qemu (~2 min, CPU-bound)
    while the amd64 ones mostly download and unpack: together they take about
    as long as the arm64 one alone.
    """
    missing = [(spec, arch, path) for spec, arch, path in jobs if not path.exists()]
    if not missing:
        return
    with ThreadPoolExecutor(max_workers=MMDEBSTRAP_JOBS) as pool:
        futures = [pool.submit(run_mmdebstrap, s, a, p, log=log) for s, a, p in missing]
        for future in futures:
            future.result()


# ---------------------------------------------------------------- cache + import


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("DOCKYARD_CACHE") or Path.home() / ".cache" / "dockyard")


def _key(doc: object) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _remove_stale(directory: Path, prefix: str, *, keep: Path) -> None:
    for old in directory.glob(prefix + "*"):
        if old != keep and ".tmp" not in old.name:  # another run's work in progress
            shutil.rmtree(old) if old.is_dir() else old.unlink()


def settings_of(spec: BaseSpec, versions: Mapping[str, Mapping[str, str]]) -> ImageSettings:
    version = versions[spec.arches[0]][spec.packages[0]]
    labels = {
        "org.opencontainers.image.title": spec.name,
        "org.opencontainers.image.description": spec.description,
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.licenses": spec.licenses,
        "org.opencontainers.image.vendor": "dockyard demo (Debian packages)",
        **spec.labels,
    }
    return ImageSettings(cmd=spec.cmd, env=spec.env, labels=labels)


def layout_path(
    spec: BaseSpec, versions: Mapping[str, Mapping[str, str]], bases: Path, *, epoch: int
) -> Path:
    """Where the base's OCI layout is cached, named by a key over everything that makes it."""
    key = _key(
        {"script": SCRIPT_VERSION, "spec": asdict(spec), "versions": versions, "epoch": epoch}
    )
    return bases / "oci" / f"{spec.name}-{spec.tag}-{key}"


def build_base(
    spec: BaseSpec,
    versions: Mapping[str, Mapping[str, str]],
    bases: Path,
    *,
    epoch: int = DEFAULT_EPOCH,
    log=None,
) -> BaseResult:
    """The base's OCI layout in the cache: found by its key, or made now."""
    started = time.monotonic()
    settings = settings_of(spec, versions)
    oci = bases / "oci"
    layout = layout_path(spec, versions, bases, epoch=epoch)
    cached = (layout / "index.json").exists()
    if not cached:
        oci.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"{spec.name}-", dir=oci, suffix=".tmp") as tmp:
            tmp_path = Path(tmp)
            if spec.recipe == "busybox":
                rootfs = busybox_rootfs(spec, versions, bases / "debs", tmp_path)
            else:
                rootfs = {
                    a: run_mmdebstrap(
                        spec, a, rootfs_tarball(spec, a, versions[a], bases / "rootfs"), log=log
                    )
                    for a in spec.arches
                }
            sources = [
                RootfsSource(parse_platform(ARCH_PLATFORM[a]), rootfs[a]) for a in spec.arches
            ]
            staging = tmp_path / "layout"
            import_rootfs(
                sources, LayoutStore(staging), settings=settings, tag=spec.tag, epoch=epoch
            )
            # Renamed whole: an interrupted run never leaves a layout that looks complete.
            os.replace(staging, layout)
        _remove_stale(oci, f"{spec.name}-{spec.tag}-", keep=layout)
    index = json.loads((layout / "index.json").read_text())
    root = next(
        m
        for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == spec.tag
    )
    return BaseResult(
        name=spec.name,
        tag=spec.tag,
        layout=layout,
        digest=root["digest"],
        platforms=tuple(ARCH_PLATFORM[a] for a in spec.arches),
        cached=cached,
        build_seconds=time.monotonic() - started,
    )


def push_base(result: BaseResult, registry: str) -> BaseResult:
    """Copy the cached layout to `registry/NAME:TAG` (a tag already at the digest is left alone)."""
    started = time.monotonic()
    destination = f"{registry.rstrip('/')}/{result.name}:{result.tag}"
    with Workspace(Settings(retry=RetryPolicy())) as ws:
        copied = copy_location(ws, f"oci:{result.layout}:{result.tag}", destination)
    if str(copied.digest) != result.digest:
        raise OperationError(f"{destination}: pushed {copied.digest}, expected {result.digest}")
    return BaseResult(
        **{
            **asdict(result),
            "pushed_to": destination,
            "up_to_date": copied.up_to_date,
            "push_seconds": time.monotonic() - started,
        },
    )


def select(only: Sequence[str], catalogue: Sequence[BaseSpec] = BASES) -> list[BaseSpec]:
    names = [b.name for b in catalogue]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise InputError(f"--only {unknown[0]}: no such base (expected one of {', '.join(names)})")
    return [b for b in catalogue if not only or b.name in only]


def make_bases(
    only: Sequence[str] = (),
    *,
    registry: str | None,
    cache: Path,
    epoch: int = DEFAULT_EPOCH,
    log=None,
    catalogue: Sequence[BaseSpec] = BASES,
) -> list[BaseResult]:
    """Make (or find in `cache`) each selected base and push it to `registry` when given.

    `catalogue` is the set `only` selects from: the demo's BASES, or a test's own small
    spec run through this same path (tests/integration/test_demo_bases_foreign.py).
    """
    specs = select(only, catalogue)
    bases = cache / "bases"
    versions = versions_of(specs, bases / "apt")
    prefetch_rootfs(
        [
            (spec, arch, rootfs_tarball(spec, arch, versions[spec.name][arch], bases / "rootfs"))
            for spec in specs
            if spec.recipe == "mmdebstrap"
            and not (
                layout_path(spec, versions[spec.name], bases, epoch=epoch) / "index.json"
            ).exists()
            for arch in spec.arches
        ],
        log=log,
    )
    results = []
    for spec in specs:
        result = build_base(spec, versions[spec.name], bases, epoch=epoch, log=log)
        if registry:
            result = push_base(result, registry)
        if log:
            log(_describe(result))
        results.append(result)
    return results


def _describe(r: BaseResult) -> str:
    how = "cached" if r.cached else "built"
    text = f"{r.name}:{r.tag} {how} in {r.build_seconds:.1f} s ({', '.join(r.platforms)}) {r.digest[:19]}"
    if r.pushed_to:
        moved = "already there" if r.up_to_date else "pushed"
        text += f"; {r.pushed_to} {moved} in {r.push_seconds:.1f} s"
    return text


# ---------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--registry", help="push every base to REGISTRY/NAME:TAG (e.g. 127.0.0.1:5000/base)"
    )
    p.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="only this base (repeatable)"
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="cache root (default: $DOCKYARD_CACHE or ~/.cache/dockyard)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        epoch = source_date_epoch() or DEFAULT_EPOCH
        results = make_bases(
            args.only,
            registry=args.registry,
            cache=args.cache or cache_root(),
            epoch=epoch,
            log=log,
        )
    except DockyardError as exc:
        log(f"error: {exc}")
        return exc.exit_code
    log(f"bases ready in {time.monotonic() - started:.1f} s")
    if args.json:
        print(json.dumps({"bases": [r.to_json() for r in results]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
