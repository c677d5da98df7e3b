"""dockyard build vs a plain buildah script on examples/fleet, side by side in one run
(figures printed, never asserted).

    .venv/bin/python bench/build.py              # ~12 min on 2 cores
    .venv/bin/python bench/build.py --rounds 3   # (a) three times, who goes first alternating
    .venv/bin/python bench/build.py --keep       # keep the temp dir (logs, storage, the script)

The peer is what the seed pipelines write by hand: per service, per platform
in turn, `buildah build --platform P --manifest M` (the same build args
dockyard passes, BUILDPLATFORM/TARGET* included since buildah 1.28 sets none,
`--layers`, `--format docker` to keep HEALTHCHECK), then `buildah manifest
push --all M docker://…`. It runs as a generated shell script.

Setup: a docker-registry on a free loopback port (examples/tools/registries.py,
state under a temp dir) with the demo's bases pushed by
examples/tools/make_bases.py (cached in ~/.cache/dockyard/bases; a cold cache
costs a few minutes of mmdebstrap). Each side gets its own buildah storage
root in the temp dir, through CONTAINERS_STORAGE_CONF (both dockyard's buildah
and the script's read it), so "empty builder storage" is a new directory and
the machine's /var/lib/containers is never touched.

(a) cold: both from empty storage. dockyard: `dockyard build` (jobs in
    parallel, one per core) into a layout; the script builds and pushes. The
    push of dockyard's layouts (`dockyard copy` per tag) is timed apart.
(c) nothing changed, warm builder cache: both again on their storage (dockyard
    also keeps its dist/, so it finds every image by input hash).
(b) nothing changed, fresh machine: new empty storage for both, dockyard's
    dist/ gone, dockyard's images in the registry (pushed after (a)): dockyard
    finds them by input hash and copies them; the script rebuilds.
(d) the api service (Go) for linux/arm64 with dockyard: cross-compiled as the
    example does (build stage on $BUILDPLATFORM) vs a variant whose build stage
    runs under qemu (no --platform, an arm64 golang base made the same way as
    the demo's). Each twice with --no-cache on its own storage: the first run
    pulls the bases, the second is the compile alone. Both compile the parts of
    Go's standard library the program uses from source (seen in the logs: the
    precompiled packages are not used), so the qemu side runs the whole
    toolchain under emulation, not just main.go.

Goals (issue 6): (a) dockyard no slower; (b) >= 20x faster; (c) >= 2x faster;
(d) reported (users report 8-25x for emulation). Everything started here
(registry, storage roots with their mounts) is removed at the end.
"""

from __future__ import annotations

import os
import sys

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
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import make_bases  # noqa: E402
import registries  # noqa: E402
from tests.helpers.measure import Run, run  # noqa: E402

FLEET = ROOT / "examples" / "fleet"
REF = "refs/tags/v1.0.0"
SHA = "0123456789abcdef0123456789abcdef01234567"
# The api's build stage as the example writes it, and as the qemu variant does.
CROSS_FROM = "FROM --platform=$BUILDPLATFORM ${BASE_REGISTRY}/golang:1.19 AS build"
QEMU_FROM = "FROM ${BASE_REGISTRY}/golang-arm64:1.19 AS build"


def dockyard(*args: str) -> list[str]:
    return [sys.executable, "-m", "dockyard", *args]


def with_env(env: dict[str, str], cmd: list[str]) -> list[str]:
    """`env K=V … cmd`: measure.run takes no environment, and the child must get it."""
    return ["env", *(f"{k}={v}" for k, v in sorted(env.items())), *cmd]


def ratio(theirs: float, ours: float) -> str:
    """How many times faster dockyard is (script time / dockyard time)."""
    return f"{theirs / ours:.1f}x" if ours else "n/a"


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


def push_bases(base_registry: str) -> None:
    started = time.perf_counter()
    cache = make_bases.cache_root()
    results = make_bases.make_bases(registry=base_registry, cache=cache)
    # The qemu variant's base, made like the demo's (mmdebstrap, cached) and pushed beside them.
    spec = qemu_golang_spec()
    bases = cache / "bases"
    versions = make_bases.versions_of([spec], bases / "apt")[spec.name]
    make_bases.prefetch_rootfs(
        [(spec, "arm64", make_bases.rootfs_tarball(spec, "arm64", versions["arm64"], bases / "rootfs"))]
    )
    made = make_bases.build_base(spec, versions, bases)
    results.append(make_bases.push_base(made, base_registry))
    built = [r.name for r in results if not r.cached]
    print(f"bases: {', '.join(f'{r.name}:{r.tag}' for r in results)} -> {base_registry} "
          f"in {time.perf_counter() - started:.1f} s"
          f"{' (made now: ' + ', '.join(built) + ')' if built else ' (from the cache)'}")  # fmt: skip


def plan_of(env: dict[str, str], config: Path) -> dict:
    out = run(with_env(env, dockyard("plan", "--json", "-f", str(config), "--ref", REF, "--sha", SHA)))
    return json.loads(out.stdout)


# ---------------------------------------------------------------- the two sides


def script_text(plan: dict, repository: str) -> str:
    """The hand-written pipeline: per service, each platform in turn into a manifest list, pushed."""
    lines = [
        "#!/bin/sh",
        "# What the seed pipelines do by hand (generated by bench/build.py).",
        "set -eu",
        "export BUILDAH_ISOLATION=chroot",
    ]
    for target in plan["targets"]:
        manifest = f"bench-script-{target['name']}"
        image = target["tags"][0].rsplit("/", 1)[1]
        lines += ["", f"# {target['name']}", f"buildah manifest rm {manifest} >/dev/null 2>&1 || true"]
        for job in target["jobs"]:
            build = ["buildah", "build", "--isolation", "chroot", "--layers", "--format", "docker",
                     "--tls-verify=false", "--platform", job["platform"], "--manifest", manifest]  # fmt: skip
            for key, value in sorted(job["args"].items()):
                build += ["--build-arg", f"{key}={value}"]
            build += ["-f", target["dockerfile"], target["context"]]
            lines.append(shlex.join(build))
        push = ["buildah", "manifest", "push", "--all", "--tls-verify=false", manifest,
                f"docker://{repository}/{image}"]  # fmt: skip
        lines.append(shlex.join(push))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Outcome:
    run: Run
    states: dict[str, int]  # job state -> count (dockyard), empty for the script
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
    cmd = dockyard("build", "--json", "-f", str(config), "-o", str(dist), "--ref", REF, "--sha", SHA, *extra)
    result = run(with_env(env, cmd))
    doc = json.loads(result.stdout)
    jobs = [j for t in doc["targets"] for j in t["jobs"]]
    states: dict[str, int] = {}
    for job in jobs:
        states[job["state"]] = states.get(job["state"], 0) + 1
    return Outcome(
        result,
        states,
        cache_hits=sum(j["cache_hits"] or 0 for j in jobs),
        steps=sum(j["steps"] or 0 for j in jobs),
        jobs=tuple((j["key"], j["duration"]) for j in jobs),
    )


def script_build(env: dict[str, str], script: Path) -> Outcome:
    return Outcome(run(with_env(env, ["sh", str(script)])), {})


def publish(env: dict[str, str], plan: dict, dist: Path) -> Run:
    """dockyard's layouts to the registry under every plan tag (what a release would push)."""
    started = time.perf_counter()
    cpu = 0.0
    for target in plan["targets"]:
        layout = f"oci:{dist / 'oci' / target['name']}:{plan['version']}"
        for tag in target["tags"]:
            cpu += run(with_env(env, dockyard("copy", "--json", layout, tag))).cpu_seconds
    return Run(time.perf_counter() - started, cpu, float("nan"), "", "", 0)


def line(label: str, ours: Outcome, theirs: Outcome, goal: str) -> None:
    print(f"{label}")
    print(f"    dockyard {ours.describe()}")
    print(f"    script   {theirs.describe()}")
    print(f"    speed-up (script / dockyard): {ratio(theirs.run.seconds, ours.run.seconds)} wall, "
          f"{ratio(theirs.run.cpu_seconds, ours.run.cpu_seconds)} CPU; goal {goal} wall")  # fmt: skip


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
    print("(d) api for linux/arm64 with dockyard (--no-cache): cross-compiled vs go build under qemu")
    for i, what in enumerate(("first run (pulls the bases)", "second run (the build alone)")):
        print(f"    {what}")
        print(f"      cross {cross[i].describe()}")
        print(f"      qemu  {qemu[i].describe()}")
        print(f"      qemu / cross: {ratio(qemu[i].run.seconds, cross[i].run.seconds)} wall, "
              f"{ratio(qemu[i].run.cpu_seconds, cross[i].run.cpu_seconds)} CPU")  # fmt: skip


# ---------------------------------------------------------------- main


def suite(work: Path, *, rounds: int) -> None:
    port = free_port()
    host = f"127.0.0.1:{port}"
    reg_root = work / "registry"
    registries.start(reg_root, [registries.RegistrySpec("plain", host, False)])
    try:
        env = {"REGISTRY": f"{host}/fleet", "BASE_REGISTRY": f"{host}/base"}
        push_bases(env["BASE_REGISTRY"])
        config = FLEET / "dockyard.toml"
        plan = plan_of(env, config)
        script = work / "build.sh"
        script.write_text(script_text(plan, f"{host}/script"))
        jobs = sum(len(t["jobs"]) for t in plan["targets"])
        print(f"examples/fleet: {len(plan['targets'])} targets, {jobs} jobs, version {plan['version']}, "
              f"registry {host}; {os.cpu_count()} cores; script {script.name}: "
              f"{sum(1 for x in script.read_text().splitlines() if x.startswith('buildah build'))} "
              "buildah builds in turn")  # fmt: skip

        for r in range(rounds):
            # New storage and dist/ each round; the side that goes first alternates
            # (on a shared machine the load moves under a 90 s run).
            dist = work / f"dist-a{r}"
            s_dy, s_sh = Storage.new(work, f"a{r}-dockyard"), Storage.new(work, f"a{r}-script")
            if r % 2:
                a_sh = script_build({**env, **s_sh.env}, script)
                a_dy = dockyard_build({**env, **s_dy.env}, config, dist)
            else:
                a_dy = dockyard_build({**env, **s_dy.env}, config, dist)
                a_sh = script_build({**env, **s_sh.env}, script)
            first = "script" if r % 2 else "dockyard"
            label = "(a) cold build, empty builder storage" + (
                f" (round {r + 1}/{rounds}, {first} first)" if rounds > 1 else ""
            )
            line(label, a_dy, a_sh, "no slower (>= 1.0x)")
            print("    dockyard's jobs (-j default): " + ", ".join(f"{k} {s:.1f} s" for k, s in a_dy.jobs))
        pushed = publish(env, plan, dist)
        print(f"    dockyard's push of its layouts (dockyard copy, {sum(len(t['tags']) for t in plan['targets'])} "
              f"tags): {pushed.seconds:.1f} s; build + push {a_dy.run.seconds + pushed.seconds:.1f} s "
              f"-> {ratio(a_sh.run.seconds, a_dy.run.seconds + pushed.seconds)} vs the script (which pushes)")  # fmt: skip
        print(f"    storage used: dockyard {s_dy.megabytes():.0f} MB, script {s_sh.megabytes():.0f} MB")

        c_dy = dockyard_build({**env, **s_dy.env}, config, dist)
        c_sh = script_build({**env, **s_sh.env}, script)
        line("(c) nothing changed, warm builder cache", c_dy, c_sh, ">= 2x")

        shutil.rmtree(dist)
        s_dy, s_sh = Storage.new(work, "b-dockyard"), Storage.new(work, "b-script")
        b_dy = dockyard_build({**env, **s_dy.env}, config, dist)
        b_sh = script_build({**env, **s_sh.env}, script)
        line("(b) nothing changed, fresh machine (empty storage, no dist/, images in the registry)",
             b_dy, b_sh, ">= 20x")  # fmt: skip

        cross_vs_qemu(work, env)
    finally:
        registries.stop(reg_root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="repeat (a), alternating who goes first")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (storage, logs, script)")
    args = parser.parse_args()
    version = subprocess.run(["buildah", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"dockyard build vs a buildah script ({version})")
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-build-"))
    try:
        suite(work, rounds=args.rounds)
    finally:
        unmount_under(work)
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
