"""dockyard release vs a buildah release script on examples/fleet, both as whole processes,
side by side in one run (figures printed, never asserted).

    .venv/bin/python bench/release.py           # ~25 min on 2 cores
    .venv/bin/python bench/release.py --quick   # the worker for linux/amd64 only, no (c): ~3 min
    .venv/bin/python bench/release.py --keep    # keep the temp dir (logs, storage, JSON, the script)

Both sides reach the same end point: every image built, verified, and every
plan tag on both registries.

The peer, release.sh, is generated from `dockyard plan --json` and run with sh:
  build   per service, each platform in turn: `buildah build --layers
          --cache-from R --cache-to R --platform P --manifest M` with the
          build args dockyard passes (--layers: buildah's step cache;
          --cache-from/--cache-to: its registry layer cache, R a repository
          per service on the `a` registry, what a user sets up so that a fresh
          CI machine does not rebuild)
  verify  per image: `buildah inspect` its architecture (must be the
          platform's), then the target's smoke command in a container
          (`buildah from` + `buildah run`, arm64 under qemu) - what a careful
          hand-written pipeline checks; dockyard verifies more (every ELF
          file's architecture, the config, size, non-root, healthcheck)
  push    per registry and per tag: `buildah manifest push --all M docker://…`
It prints a timestamp between steps, so its build, verify and per-registry
push times are read apart.

dockyard: `dockyard release --registry A --registry B`: build, verify every
target (policy, ELF scan, smoke run of every image), publish in two phases.
Verification as it now happens: a successful verify leaves a verification
record on the index (OCI referrers); a re-release of the same index with the
same policy finds it and does not verify again.

Setup: docker-registry processes on free loopback ports
(examples/tools/registries.py, state under the temp dir): `base` holds the
demo's bases (examples/tools/make_bases.py, cached in ~/.cache/dockyard), the
others start empty and are release targets only. dockyard and the script push
to the same two registries `a` and `b`, under their own paths (/fleet,
/script). Each run gets its own buildah storage root (bench.build.Storage,
through CONTAINERS_STORAGE_CONF). The commit is this checkout's HEAD (as the
demo does): its commit time is the images' `created`, so releasing the same
tag again gives the same indexes.

(a) cold: empty storage, empty registries, no dist/: dockyard release to
    a/fleet + b/fleet vs release.sh to a/script + b/script (its cache empty).
(b) the same tag again on a fresh machine (a re-run CI job): new empty
    storage for both, dockyard's dist/ removed, the registries as (a) left
    them. dockyard finds every image by its input hash in the registry,
    copies it into its layout, finds the verification record, and only
    checks the tags; release.sh builds from its registry cache, verifies and
    pushes. Goal: >= 20x faster.
(c) one registry vs two, dockyard only: (c1) a cold release to one empty
    registry `c` vs (a)'s cold release to two (goal: the second registry adds
    under 20%); (c2) publish alone: (c1)'s dist/ kept (every job skipped from
    the layout), released to one empty registry `d`, then to two, `e` + `f`:
    the publish stage's time is the push time of one registry (seeds: <= 1
    minute per registry), and two vs one.

Ratios are speed-ups: the script's time / dockyard's (> 1: dockyard faster).
Everything started here (registries, storage roots with their mounts) is
stopped and removed at the end.
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
import subprocess
import tempfile
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import make_bases
import registries
from bench.build import (
    FLEET,
    QUICK_SELECTION,
    SCRIPT_HEAD,
    Storage,
    build_lines,
    free_port,
    job_file,
    push_lines,
    unmount_under,
    with_env,
)
from bench.common import dockyard, ensure_bytecode, times_faster
from tests.helpers.measure import Run, run

ROOT = Path(__file__).resolve().parent.parent
REF = "refs/tags/v1.0.0"
CONFIG = FLEET / "dockyard.toml"
# Registries: the bases' and the release targets' (see the module docstring).
NAMES = ("base", "a", "b", "c", "d", "e", "f")
MARK = "@@"  # the script's timestamp lines on stderr: "@@ <epoch seconds> <step>"


def head_sha() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"bench: git rev-parse HEAD failed in {ROOT}: {out.stderr.strip()}")
    return out.stdout.strip()


def pct(more: float, base: float) -> str:
    return f"{(more - base) / base * 100:+.0f}%" if base else "n/a"


# ---------------------------------------------------------------- dockyard


@dataclass(frozen=True)
class Release:
    """One `dockyard release --json` run and its document."""

    run: Run
    doc: dict

    def jobs(self) -> list[dict]:
        return [j for t in self.doc["build"]["targets"] for j in t["jobs"]]

    def states(self) -> str:
        counts: dict[str, int] = {}
        for job in self.jobs():
            counts[job["state"]] = counts.get(job["state"], 0) + 1
        return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))

    @property
    def build_s(self) -> float:
        return self.doc["build"]["duration"]

    @property
    def verify_s(self) -> float:
        return sum(v["seconds"] for v in self.doc["verify"])

    @property
    def publish_s(self) -> float:
        return self.doc["publish"]["seconds"]

    def per_registry(self) -> dict[str, dict[str, float]]:
        """host -> summed push seconds, longest target, blobs uploaded, MB, tags moved/unchanged."""
        out: dict[str, dict[str, float]] = {}
        for repo in self.doc["publish"]["repositories"]:
            host = repo["repository"].split("/", 1)[0]
            r = out.setdefault(
                host, dict.fromkeys(("sum", "max", "blobs", "mb", "moved", "unchanged"), 0.0)
            )
            r["sum"] += repo["seconds"]
            r["max"] = max(r["max"], repo["seconds"])
            r["blobs"] += repo["blobs"]["uploaded"]
            r["mb"] += repo["blobs"]["bytes"] / 1e6
            r["moved"] += sum(t["outcome"] == "moved" for t in repo["tags"])
            r["unchanged"] += sum(t["outcome"] == "unchanged" for t in repo["tags"])
        return out

    def verify_results(self) -> str:
        """What verify said per target ("passed, smoke ok", a record's date, ...), counted."""
        counts: dict[str, int] = {}
        for v in self.doc["verify"]:
            counts[v["result"]] = counts.get(v["result"], 0) + 1
        return "; ".join(f"{n}x {r}" for r, n in sorted(counts.items()))

    def describe(self) -> str:
        return (
            f"{self.run.seconds:7.1f} s wall {self.run.cpu_seconds:7.1f} s CPU, peak RSS "
            f"{self.run.max_rss_mb:.0f} MB  [build {self.build_s:.1f} s ({self.states()}), "
            f"verify {self.verify_s:.1f} s ({self.verify_results()}), publish {self.publish_s:.1f} s]"
        )

    def registry_lines(self) -> list[str]:
        return [
            f"      {host}: push {r['sum']:.1f} s summed over targets (longest {r['max']:.1f} s), "
            f"{r['blobs']:.0f} blobs / {r['mb']:.1f} MB uploaded, tags {r['moved']:.0f} moved, "
            f"{r['unchanged']:.0f} unchanged"
            for host, r in sorted(self.per_registry().items())
        ]


def release(
    env: dict[str, str],
    sha: str,
    dist: Path,
    label: str,
    *targets: str,
    selection: tuple[str, ...] = (),
) -> Release:
    args = [
        "release",
        "--json",
        "-f",
        str(CONFIG),
        "-o",
        str(dist),
        "--ref",
        REF,
        "--sha",
        sha,
        *selection,
    ]
    for target in targets:
        args += ["--registry", target]
    result = run(with_env(env, dockyard(*args)))
    doc = json.loads(result.stdout)
    if not doc["ok"]:
        raise SystemExit(f"bench: dockyard release stopped at {doc['stopped']}: {doc['error']}")
    (dist.parent / f"release-{label}.json").write_text(result.stdout)  # for --keep
    return Release(result, doc)


# ---------------------------------------------------------------- the script


def verify_lines(plan: dict, iids: Path) -> list[str]:
    """Per image: its architecture is the platform's, and the target's smoke command runs."""
    lines = []
    for target in plan["targets"]:
        for job in target["jobs"]:
            iid = f'"$(cat {shlex.quote(str(iids / job_file(target, job)))})"'
            arch = job["platform"].split("/")[1]
            lines.append(
                f"test \"$(buildah inspect --format '{{{{.OCIv1.Architecture}}}}' {iid})\" = {arch}"
            )
            if target.get("smoke"):
                lines.append(f"c=$(buildah from --pull=never {iid})")
                lines.append(
                    f'buildah run --isolation chroot "$c" -- {shlex.join(target["smoke"])} > /dev/null'
                )
                lines.append('buildah rm "$c" > /dev/null')
    return lines


def script_text(plan: dict, prefixes: list[str], *, cache: str, iids: Path) -> str:
    """Build (with the registry cache), verify, then push per registry and tag, marking each step."""
    lines = [
        *SCRIPT_HEAD,
        f'mark() {{ echo "{MARK} $(date +%s.%N) $1" >&2; }}',
        f"mkdir -p {shlex.quote(str(iids))}",
    ]
    lines += ["mark build", *build_lines(plan, cache=cache, iidfile=iids)]
    lines += ["mark verify", *verify_lines(plan, iids)]
    for prefix in prefixes:
        lines += [f"mark push:{prefix.split('/', 1)[0]}", *push_lines(plan, prefix)]
    lines.append("mark end")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Script:
    run: Run

    def steps(self) -> dict[str, float]:
        """Seconds per step kind: 'build', 'push:HOST' (summed over the services)."""
        marks = []
        for line in self.run.stderr.splitlines():
            if line.startswith(MARK + " "):
                _, stamp, step = line.split(" ", 2)
                marks.append((float(stamp), step))
        out: dict[str, float] = {}
        for (t0, step), (t1, _) in pairwise(marks):
            out[step] = out.get(step, 0.0) + t1 - t0
        return out

    def describe(self) -> str:
        steps = self.steps()
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(steps.items()))
        return (
            f"{self.run.seconds:7.1f} s wall {self.run.cpu_seconds:7.1f} s CPU, peak RSS "
            f"{self.run.max_rss_mb:.0f} MB  [{parts}]"
        )


def script(env: dict[str, str], path: Path) -> Script:
    return Script(run(with_env(env, ["sh", str(path)])))


# ---------------------------------------------------------------- setup


def push_bases(base_registry: str, *, quick: bool) -> None:
    started = time.perf_counter()
    only = ("busybox",) if quick else ()
    results = make_bases.make_bases(only, registry=base_registry, cache=make_bases.cache_root())
    built = [r.name for r in results if not r.cached]
    print(f"bases: {', '.join(f'{r.name}:{r.tag}' for r in results)} -> {base_registry} "
          f"in {time.perf_counter() - started:.1f} s"
          f"{' (made now: ' + ', '.join(built) + ')' if built else ' (from the cache)'}")  # fmt: skip


def plan_of(env: dict[str, str], sha: str, selection: tuple[str, ...] = ()) -> dict:
    cmd = dockyard("plan", "--json", "-f", str(CONFIG), "--ref", REF, "--sha", sha, *selection)
    return json.loads(run(with_env(env, cmd)).stdout)


def side(dy: Release, sh: Script, label: str, goal: str) -> None:
    print(label)
    print(f"    dockyard {dy.describe()}")
    for line in dy.registry_lines():
        print(line)
    print(f"    script   {sh.describe()}")
    print(f"    speed-up (script / dockyard), both built, verified and pushed: "
          f"{times_faster(sh.run.seconds, dy.run.seconds)} wall, "
          f"{times_faster(sh.run.cpu_seconds, dy.run.cpu_seconds)} CPU; goal {goal}")  # fmt: skip


# ---------------------------------------------------------------- main


def suite(work: Path, *, quick: bool) -> None:
    names = NAMES[:3] if quick else NAMES  # --quick: no (c)
    hosts = {name: f"127.0.0.1:{free_port()}" for name in names}
    reg_root = work / "registry"
    registries.start(reg_root, [registries.RegistrySpec(n, h, False) for n, h in hosts.items()])
    try:
        env = {"REGISTRY": f"{hosts['a']}/fleet", "BASE_REGISTRY": f"{hosts['base']}/base"}
        push_bases(env["BASE_REGISTRY"], quick=quick)
        sha = head_sha()
        selection = QUICK_SELECTION if quick else ()
        plan = plan_of(env, sha, selection)
        two = [f"{hosts['a']}/fleet", f"{hosts['b']}/fleet"]
        path = work / "release.sh"
        prefixes = [f"{hosts['a']}/script", f"{hosts['b']}/script"]
        path.write_text(
            script_text(plan, prefixes, cache=f"{hosts['a']}/script-cache", iids=work / "iid")
        )
        jobs = sum(len(t["jobs"]) for t in plan["targets"])
        tags = len(plan["targets"][0]["tags"])
        print(f"examples/fleet: {len(plan['targets'])} targets, {jobs} jobs, {tags} tags each, version "
              f"{plan['version']}, commit {sha[:12]}; {os.cpu_count()} cores; registries "
              + ", ".join(f"{n}={h}" for n, h in hosts.items()))  # fmt: skip

        def fresh(name: str) -> dict[str, str]:
            return {**env, **Storage.new(work, name).env}

        # (a) cold, both to a + b.
        dist_a = work / "dist-a"
        a_dy = release(fresh("a-dockyard"), sha, dist_a, "a", *two, selection=selection)
        a_sh = script(fresh("a-script"), path)
        side(
            a_dy,
            a_sh,
            "(a) cold release to two registries (empty storage, empty registries)",
            "reported",
        )

        # (b) the same tag again, fresh machine: new storage, no dist/.
        shutil.rmtree(dist_a)
        b_dy = release(fresh("b-dockyard"), sha, work / "dist-b", "b", *two, selection=selection)
        b_sh = script(fresh("b-script"), path)
        side(b_dy, b_sh, "(b) the same tag again from a fresh machine (empty storage, no dist/, "
             "images in the registries)", ">= 20x")  # fmt: skip
        shutil.rmtree(work / "dist-b")
        if quick:
            return

        # (c1) cold to one registry; (c2) publish alone to one, then two.
        dist_c = work / "dist-c"
        c1 = release(fresh("c1"), sha, dist_c, "c1", f"{hosts['c']}/fleet")
        d1 = release(fresh("c2-one"), sha, dist_c, "c2-one", f"{hosts['d']}/fleet")
        d2 = release(
            fresh("c2-two"), sha, dist_c, "c2-two", f"{hosts['e']}/fleet", f"{hosts['f']}/fleet"
        )
        print("(c) one registry vs two, dockyard")
        print(f"    (c1) cold, one registry  {c1.describe()}")
        print(*c1.registry_lines(), sep="\n")
        print(f"         cold, two (a)       {a_dy.describe()}")
        print(f"         the second registry adds {pct(a_dy.run.seconds, c1.run.seconds)} wall, "
              f"{pct(a_dy.run.cpu_seconds, c1.run.cpu_seconds)} CPU; publish stage "
              f"{c1.publish_s:.1f} s -> {a_dy.publish_s:.1f} s; goal under +20%")  # fmt: skip
        print(f"    (c2) publish alone (dist/ kept), one registry  {d1.describe()}")
        print(*d1.registry_lines(), sep="\n")
        print(f"         publish alone, two registries            {d2.describe()}")
        print(*d2.registry_lines(), sep="\n")
        print(
            f"         publish stage: one {d1.publish_s:.1f} s, two {d2.publish_s:.1f} s "
            f"({pct(d2.publish_s, d1.publish_s)}); whole run {pct(d2.run.seconds, d1.run.seconds)}"
        )
        print("push time per registry, cold release (seeds: <= 60 s per registry)")
        print(
            f"    dockyard: {d1.publish_s:.1f} s to one empty registry ((c2), the publish stage); "
            f"in (a) the publish stage took {a_dy.publish_s:.1f} s for two registries"
        )
        steps = a_sh.steps()
        pushes = ", ".join(
            f"{k.split(':', 1)[1]} {v:.1f} s"
            for k, v in sorted(steps.items())
            if k.startswith("push:")
        )
        print(
            f"    script (a): {pushes} ({tags} tags per service, buildah manifest push --all each)"
        )
    finally:
        registries.stop(reg_root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="the worker for linux/amd64 only, no (c)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (storage, logs, JSON, script)"
    )
    args = parser.parse_args()
    ensure_bytecode()
    version = subprocess.run(
        ["buildah", "--version"], capture_output=True, text=True
    ).stdout.strip()
    print(f"dockyard release vs a buildah script ({version})")
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-release-"))
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
