"""dockyard build vs a buildah script on examples/fleet, both as whole processes, side by side
in one run (figures printed, never asserted).

    .venv/bin/python bench/build.py              # ~20 min on 2 cores
    .venv/bin/python bench/build.py --quick      # the worker for linux/amd64 only, no (d): ~2 min
    .venv/bin/python bench/build.py --keep       # keep the temp dir (logs, storage, the scripts)

The peer is what the seed pipelines write by hand, generated as shell
scripts from `dockyard plan --json` (the same build args dockyard passes,
BUILDPLATFORM/TARGET* included since buildah 1.28 sets none):
  build.sh        per service, each platform in turn: `buildah build --layers
                  --format docker --platform P --manifest M` (--layers: buildah's
                  own step cache, used on warm storage)
  build-cache.sh  the same with `--cache-from R --cache-to R` (R: a repository
                  per service on the bench registry): buildah's registry layer
                  cache, what a user sets up for fresh CI machines
  push.sh         per service and tag: `buildah manifest push --all M docker://…`
dockyard: `dockyard build` (jobs in parallel, one per core) into a layout per
target, and for the push `dockyard copy oci:dist/oci/T:V REPO:TAG` per tag.

Each ratio compares the same end point: "build" = images in local storage
(buildah) or dist/ (dockyard); "build+push" = every plan tag in the registry.
Ratios are speed-ups: the script's time / dockyard's (> 1: dockyard faster).

Setup: a docker-registry on a free loopback port (examples/tools/registries.py,
state under a temp dir) with the demo's bases pushed by
examples/tools/make_bases.py (cached in ~/.cache/dockyard/bases; a cold cache
costs a few minutes of mmdebstrap). Each side gets its own buildah storage
root in the temp dir, through CONTAINERS_STORAGE_CONF (both dockyard's buildah
and the script's read it), so "empty builder storage" is a new directory and
the machine's /var/lib/containers is never touched.

(a) cold, empty storage: dockyard build (+ push) vs build.sh (+ push.sh);
    then build-cache.sh (+ push.sh to its own repository) on new empty
    storage: the cold cost of the script that (b) relies on, beside
    dockyard's build+push (which is what (b) relies on for dockyard).
(c) nothing changed, warm storage: dockyard build again on its storage and
    dist/ (every job found by input hash) vs build.sh on its storage (every
    step a --layers hit); then both pushes again (everything already there).
(b) nothing changed, fresh machine: new empty storage for both, dockyard's
    dist/ gone, dockyard's images in the registry (pushed in (a)): dockyard
    finds them by input hash and copies them; build-cache.sh pulls its steps
    from the registry cache (--cache-from). Then both pushes.
(d) the api service (Go) for linux/arm64 with dockyard: cross-compiled as the
    example does (build stage on $BUILDPLATFORM) vs a variant whose build stage
    runs under qemu (no --platform, an arm64 golang base made the same way as
    the demo's). Each twice with --no-cache on its own storage: the first run
    pulls the bases, the second is the compile alone.

Goals (issue 6): (a) dockyard no slower; (b) >= 20x faster; (c) >= 2x faster;
(d) reported (users report 8-25x for emulation). Everything started here
(registry, storage roots with their mounts) is removed at the end.
"""

from __future__ import annotations

import os

# isort: off
import _paths  # noqa: F401  (first: bench/copy.py shadows the stdlib copy)

# isort: on

import argparse
import json
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import make_bases
import registries
from bench.common import dockyard, ensure_bytecode, times_faster
from tests.helpers.measure import Run, run

ROOT = Path(__file__).resolve().parent.parent
FLEET = ROOT / "examples" / "fleet"
REF = "refs/tags/v1.0.0"
SHA = "0123456789abcdef0123456789abcdef01234567"
# The api's build stage as the example writes it, and as the qemu variant does.
CROSS_FROM = "FROM --platform=$BUILDPLATFORM ${BASE_REGISTRY}/golang:1.19 AS build"
QEMU_FROM = "FROM ${BASE_REGISTRY}/golang-arm64:1.19 AS build"
# --quick: the smallest service (a busybox shell script) for the build platform.
QUICK_SELECTION = ("worker", "--platform", "linux/amd64")


def with_env(env: dict[str, str], cmd: list[str]) -> list[str]:
    """`env K=V … cmd`: measure.run takes no environment, and the child must get it."""
    return ["env", *(f"{k}={v}" for k, v in sorted(env.items())), *cmd]


# ---------------------------------------------------------------- builder storage


@dataclass(frozen=True)
class Storage:
    """A buildah storage root of its own, named to containers/storage by a storage.conf."""

    home: Path

    @classmethod
    def new(cls, work: Path, name: str) -> Storage:
        home = work / "storage" / name
        (home / "root").mkdir(parents=True)
        (home / "storage.conf").write_text(
            "[storage]\n"
            'driver = "overlay"\n'
            f'graphroot = "{home / "root"}"\n'
            f'runroot = "{home / "run"}"\n'
        )
        return cls(home)

    @property
    def env(self) -> dict[str, str]:
        return {"CONTAINERS_STORAGE_CONF": str(self.home / "storage.conf")}

    def megabytes(self) -> float:
        out = subprocess.run(["du", "-sm", str(self.home)], capture_output=True, text=True)
        return float(out.stdout.split()[0]) if out.returncode == 0 else float("nan")


def unmount_under(path: Path) -> None:
    """Unmount what buildah left mounted below `path` (overlay keeps its home a private mount)."""
    prefix = str(path.resolve()) + "/"
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True)


# ---------------------------------------------------------------- setup


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_golang_spec() -> make_bases.BaseSpec:
    """The demo's golang base for arm64 only, under its own name (its cache entry stays apart)."""
    golang = next(b for b in make_bases.BASES if b.name == "golang")
    return replace(
        golang,
        name="golang-arm64",
        arches=("arm64",),
        description=golang.description + " (arm64: bench/build.py's qemu build stage)",
    )


def push_bases(base_registry: str, *, quick: bool) -> None:
    started = time.perf_counter()
    cache = make_bases.cache_root()
    only = ("busybox",) if quick else ()
    results = make_bases.make_bases(only, registry=base_registry, cache=cache)
    if (
        not quick
    ):  # (d)'s qemu variant: an arm64 golang base, made like the demo's and pushed beside them
        spec = qemu_golang_spec()
        bases = cache / "bases"
        versions = make_bases.versions_of([spec], bases / "apt")[spec.name]
        tarball = make_bases.rootfs_tarball(spec, "arm64", versions["arm64"], bases / "rootfs")
        make_bases.prefetch_rootfs([(spec, "arm64", tarball)])
        made = make_bases.build_base(spec, versions, bases)
        results.append(make_bases.push_base(made, base_registry))
    built = [r.name for r in results if not r.cached]
    print(f"bases: {', '.join(f'{r.name}:{r.tag}' for r in results)} -> {base_registry} "
          f"in {time.perf_counter() - started:.1f} s"
          f"{' (made now: ' + ', '.join(built) + ')' if built else ' (from the cache)'}")  # fmt: skip


def plan_of(env: dict[str, str], config: Path, selection: tuple[str, ...] = ()) -> dict:
    cmd = dockyard("plan", "--json", "-f", str(config), "--ref", REF, "--sha", SHA, *selection)
    return json.loads(run(with_env(env, cmd)).stdout)


# ---------------------------------------------------------------- the script


SCRIPT_HEAD = [
    "#!/bin/sh",
    "# What the seed pipelines do by hand (generated by bench/build.py).",
    "set -eu",
    "export BUILDAH_ISOLATION=chroot",
]


def manifest_name(target: dict) -> str:
    return f"bench-script-{target['name']}"


def build_lines(plan: dict, *, cache: str | None = None, iidfile: Path | None = None) -> list[str]:
    """Per service, each platform in turn into a manifest list (`cache`: a registry layer cache).

    `iidfile`: a directory where each job's image id is written (for a verify step).
    """
    lines = []
    for target in plan["targets"]:
        manifest = manifest_name(target)
        lines += [
            "",
            f"# {target['name']}",
            f"buildah manifest rm {manifest} >/dev/null 2>&1 || true",
        ]
        for job in target["jobs"]:
            build = ["buildah", "build", "--isolation", "chroot", "--layers", "--format", "docker",
                     "--tls-verify=false", "--platform", job["platform"], "--manifest", manifest]  # fmt: skip
            if cache:
                repo = f"{cache}/{target['name']}"
                build += ["--cache-from", repo, "--cache-to", repo]
            if iidfile:
                build += ["--iidfile", str(iidfile / job_file(target, job))]
            for key, value in sorted(job["args"].items()):
                build += ["--build-arg", f"{key}={value}"]
            build += ["-f", target["dockerfile"], target["context"]]
            lines.append(shlex.join(build))
    return lines


def job_file(target: dict, job: dict) -> str:
    return f"{target['name']}-{job['platform'].replace('/', '-')}.iid"


def push_lines(plan: dict, repository: str) -> list[str]:
    """Per service and per plan tag: the manifest list and its images pushed to `repository`."""
    lines = []
    for target in plan["targets"]:
        image = target["images"][0]
        for tag in (t.rsplit(":", 1)[1] for t in target["tags"] if t.startswith(image + ":")):
            dest = f"docker://{repository}/{image.rsplit('/', 1)[1]}:{tag}"
            lines.append(shlex.join(["buildah", "manifest", "push", "--all", "--tls-verify=false",
                                     manifest_name(target), dest]))  # fmt: skip
    return lines


def write_script(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([*SCRIPT_HEAD, *lines]) + "\n")
    return path


# ---------------------------------------------------------------- the two sides


@dataclass(frozen=True)
class Outcome:
    run: Run
    states: dict[str, int] = field(default_factory=dict)  # job state -> count (dockyard)
    cache_hits: int = 0
    steps: int = 0
    jobs: tuple[tuple[str, float], ...] = ()  # (job key, seconds) as dockyard reports them

    def describe(self) -> str:
        text = f"{self.run.seconds:7.1f} s wall {self.run.cpu_seconds:7.1f} s CPU"
        if self.states:
            states = ", ".join(f"{n} {s}" for s, n in sorted(self.states.items()))
            text += f"  [{states}; cache hits {self.cache_hits}/{self.steps} steps]"
        return text


def dockyard_build(env: dict[str, str], config: Path, dist: Path, *extra: str) -> Outcome:
    cmd = dockyard(
        "build", "--json", "-f", str(config), "-o", str(dist), "--ref", REF, "--sha", SHA, *extra
    )
    result = run(with_env(env, cmd))
    doc = json.loads(result.stdout)
    jobs = [j for t in doc["targets"] for j in t["jobs"]]
    states: dict[str, int] = {}
    for job in jobs:
        states[job["state"]] = states.get(job["state"], 0) + 1
    return Outcome(
        result,
        states,
        cache_hits=sum(j.get("cache_hits") or 0 for j in jobs),
        steps=sum(j.get("steps") or 0 for j in jobs),
        jobs=tuple((j["key"], j["duration"]) for j in jobs),
    )


def script_run(env: dict[str, str], script: Path) -> Outcome:
    return Outcome(run(with_env(env, ["sh", str(script)])))


def dockyard_push(env: dict[str, str], plan: dict, dist: Path) -> Outcome:
    """dockyard's layouts to the registry under every plan tag: one `dockyard copy` per tag."""
    started = time.perf_counter()
    cpu = 0.0
    for target in plan["targets"]:
        layout = f"oci:{dist / 'oci' / target['name']}:{plan['version']}"
        for tag in target["tags"]:
            cpu += run(with_env(env, dockyard("copy", "--json", layout, tag))).cpu_seconds
    return Outcome(Run(time.perf_counter() - started, cpu, float("nan"), "", "", 0))


@dataclass(frozen=True)
class Pair:
    """One side's build and push in one scenario."""

    build: Outcome
    push: Outcome

    @property
    def total(self) -> float:
        return self.build.run.seconds + self.push.run.seconds

    @property
    def total_cpu(self) -> float:
        return self.build.run.cpu_seconds + self.push.run.cpu_seconds


def report(label: str, ours: Pair, theirs: Pair, goal: str, *, script: str = "build.sh") -> None:
    print(label)
    print(f"    dockyard build {ours.build.describe()}")
    print(f"             push  {ours.push.describe()}")
    print(f"    {script:<14s} {theirs.build.describe()}")
    print(f"    push.sh        {theirs.push.describe()}")
    b_dy, b_sh = ours.build.run, theirs.build.run
    print(f"    speed-up build:      {times_faster(b_sh.seconds, b_dy.seconds)} wall, "
          f"{times_faster(b_sh.cpu_seconds, b_dy.cpu_seconds)} CPU; goal {goal}")  # fmt: skip
    print(f"    speed-up build+push: {times_faster(theirs.total, ours.total)} wall "
          f"({theirs.total:.1f} s vs {ours.total:.1f} s), "
          f"{times_faster(theirs.total_cpu, ours.total_cpu)} CPU")  # fmt: skip


# ---------------------------------------------------------------- (d)


def qemu_variant(work: Path) -> Path:
    """A temp copy of examples/fleet whose api build stage runs on the target platform."""
    copy = work / "fleet-qemu"
    shutil.copytree(FLEET, copy, ignore=shutil.ignore_patterns("dist", ".dockyard"))
    dockerfile = copy / "services" / "api" / "Dockerfile"
    text = dockerfile.read_text()
    if CROSS_FROM not in text:
        raise SystemExit(f"bench: {FLEET}/services/api/Dockerfile no longer has '{CROSS_FROM}'")
    dockerfile.write_text(text.replace(CROSS_FROM, QEMU_FROM))
    return copy / "dockyard.toml"


def cross_vs_qemu(work: Path, env: dict[str, str]) -> None:
    sides = {"cross": FLEET / "dockyard.toml", "qemu": qemu_variant(work)}
    figures: dict[str, list[Outcome]] = {}
    for name, config in sides.items():
        storage = Storage.new(work, f"d-{name}")
        side_env = {**env, **storage.env}
        dist = work / f"dist-d-{name}"
        args = ("api", "--platform", "linux/arm64", "--no-cache")
        figures[name] = [dockyard_build(side_env, config, dist, *args) for _ in range(2)]
    cross, qemu = figures["cross"], figures["qemu"]
    print(
        "(d) api for linux/arm64 with dockyard (--no-cache): cross-compiled vs go build under qemu"
    )
    for i, what in enumerate(("first run (pulls the bases)", "second run (the build alone)")):
        print(f"    {what}")
        print(f"      cross {cross[i].describe()}")
        print(f"      qemu  {qemu[i].describe()}")
        print(f"      qemu / cross: {times_faster(qemu[i].run.seconds, cross[i].run.seconds)} wall, "
              f"{times_faster(qemu[i].run.cpu_seconds, cross[i].run.cpu_seconds)} CPU")  # fmt: skip


# ---------------------------------------------------------------- main


@dataclass(frozen=True)
class Bench:
    """What every scenario needs: the work dir, the environment, the plan and the scripts."""

    work: Path
    env: dict[str, str]
    config: Path
    selection: tuple[str, ...]
    plan: dict
    scripts: dict[str, Path]

    def storage(self, name: str) -> dict[str, str]:
        return {**self.env, **Storage.new(self.work, name).env}

    def dockyard(self, env: dict[str, str], dist: Path) -> Pair:
        built = dockyard_build(env, self.config, dist, *self.selection)
        return Pair(built, dockyard_push(env, self.plan, dist))

    def script(self, env: dict[str, str], build: str, push: str) -> Pair:
        return Pair(script_run(env, self.scripts[build]), script_run(env, self.scripts[push]))


def prepare(work: Path, host: str, *, quick: bool) -> Bench:
    env = {"REGISTRY": f"{host}/fleet", "BASE_REGISTRY": f"{host}/base"}
    push_bases(env["BASE_REGISTRY"], quick=quick)
    config = FLEET / "dockyard.toml"
    selection = QUICK_SELECTION if quick else ()
    plan = plan_of(env, config, selection)
    scripts = {
        "build.sh": write_script(work / "build.sh", build_lines(plan)),
        "build-cache.sh": write_script(
            work / "build-cache.sh", build_lines(plan, cache=f"{host}/script-cache")
        ),
        "push.sh": write_script(work / "push.sh", push_lines(plan, f"{host}/script")),
        "push-cache.sh": write_script(
            work / "push-cache.sh", push_lines(plan, f"{host}/script-cached")
        ),
    }
    jobs = sum(len(t["jobs"]) for t in plan["targets"])
    print(f"examples/fleet: {len(plan['targets'])} targets, {jobs} jobs, version {plan['version']}, "
          f"registry {host}; {os.cpu_count()} cores; the scripts build {jobs} jobs in turn")  # fmt: skip
    return Bench(work, env, config, selection, plan, scripts)


def suite(work: Path, *, quick: bool) -> None:
    port = free_port()
    host = f"127.0.0.1:{port}"
    reg_root = work / "registry"
    registries.start(reg_root, [registries.RegistrySpec("plain", host, False)])
    try:
        bench = prepare(work, host, quick=quick)
        dist = work / "dist-a"
        env_dy, env_sh = bench.storage("a-dockyard"), bench.storage("a-script")
        a_dy = bench.dockyard(env_dy, dist)
        a_sh = bench.script(env_sh, "build.sh", "push.sh")
        report("(a) cold, empty builder storage", a_dy, a_sh, "no slower (>= 1.0x)")
        print(
            "    dockyard's jobs (-j default): "
            + ", ".join(f"{k} {s:.1f} s" for k, s in a_dy.build.jobs)
        )
        a2_sh = bench.script(bench.storage("a-script-cache"), "build-cache.sh", "push-cache.sh")
        report("(a') cold, the script with its registry cache (--cache-to), vs (a)'s dockyard", a_dy, a2_sh,
               "reported", script="build-cache.sh")  # fmt: skip

        c_dy = bench.dockyard(env_dy, dist)
        c_sh = bench.script(env_sh, "build.sh", "push.sh")
        report("(c) nothing changed, warm builder storage (--layers)", c_dy, c_sh, ">= 2x")

        shutil.rmtree(dist)
        b_dy = bench.dockyard(bench.storage("b-dockyard"), work / "dist-b")
        b_sh = bench.script(bench.storage("b-script"), "build-cache.sh", "push-cache.sh")
        report("(b) nothing changed, fresh machine (empty storage, no dist/; dockyard's images and the "
               "script's --cache-to layers in the registry)", b_dy, b_sh, ">= 20x", script="build-cache.sh")  # fmt: skip
        if not quick:
            cross_vs_qemu(work, bench.env)
    finally:
        registries.stop(reg_root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="the worker for linux/amd64 only, no (d)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (storage, logs, scripts)"
    )
    args = parser.parse_args()
    ensure_bytecode()
    version = subprocess.run(
        ["buildah", "--version"], capture_output=True, text=True
    ).stdout.strip()
    print(f"dockyard build vs a buildah script ({version})")
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-build-"))
    try:
        suite(work, quick=args.quick)
    finally:
        unmount_under(work)
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
