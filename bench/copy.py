"""dockyard copy vs `skopeo copy --all`, both as whole processes, side by side in one run
(figures printed, never asserted).

    .venv/bin/python bench/copy.py           # 200 MB and 1 GB images, 3 rounds each (~4 min)
    .venv/bin/python bench/copy.py --quick   # a 20 MB image, 1 round, 3 start-up runs (~30 s)

The image: an OCI layout, linux/amd64 + linux/arm64, 4 gzip layers each of
random (incompressible) bytes, made here. Every figure is a child process's
wall time from fork to exit, start-up included: dockyard is the venv's
`dockyard` entry script, skopeo is `skopeo --insecure-policy copy --all -q`
with TLS verification off (the registries are plain-HTTP loopback). Each tool
gets its own fresh docker-registry on 127.0.0.1, new for every round, so
neither finds blobs the other (or an earlier round) left, and skopeo's
blob-info cache cannot turn an upload into a mount; dirty pages are flushed
(sync) before every run. Request counts come from the test suite's fault
proxy in pass-through mode.

(a) layout -> empty registry: both upload every blob, manifest and index;
    ratio = dockyard's throughput / skopeo's (skopeo's time / dockyard's);
    median of the rounds, who goes first alternating.
    Goals (issue 11): >= 1.0x at 200 MB, >= 1.3x at 1 GB.
(e) peak RSS of each during (a) (GNU time's %M of the process itself).
(b) registry -> a new repository of the same registry: dockyard mounts the
    blobs, skopeo mounts them too (its blob-info cache knows where they are);
    time and requests.
(c) the same copies again when everything exists: blob bytes sent (0 wanted),
    requests, time.
(d) start-up of a registry command: `dockyard inspect --json REF` of the
    index pushed in (a) (a registry reference: token-less HTTP, the index and
    each child's manifest and config), median of N runs; goal <= 0.15 s.
    Beside it: `dockyard inspect --raw REF` (one request), `skopeo inspect
    REF` (one platform's manifest and config) and `dockyard --version` (the
    interpreter's own floor).
"""

from __future__ import annotations

import os

# isort: off
import _paths  # noqa: F401  (first: bench/copy.py shadows the stdlib copy)

# isort: on

import argparse
import hashlib
import io
import json
import statistics
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from bench.common import MB, alternate, dockyard, ensure_bytecode, ratio, times_faster
from tests.helpers.faultproxy import FaultProxy
from tests.helpers.measure import Run, run
from tests.helpers.registry import start_registry

from dockyard.digest import Digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, build_index, build_manifest
from dockyard.platform import Platform

LAYERS_PER_PLATFORM = 4
PLATFORMS = (Platform("linux", "amd64"), Platform("linux", "arm64"))
STARTUP_GOAL = 0.15  # seconds, issue 11


@dataclass(frozen=True)
class Size:
    """One image size of a run and what is measured at it."""

    total: int  # bytes of layer blobs, about
    goal: str  # the (a) goal at this size
    full: bool  # also (b), (c) and (d)


FULL = (Size(200 * MB, ">= 1.0x", True), Size(1000 * MB, ">= 1.3x", False))
QUICK = (Size(20 * MB, "none (quick mode)", True),)


def skopeo(src: str, dst: str) -> list[str]:
    return ["skopeo", "--insecure-policy", "copy", "--all", "-q",
            "--src-tls-verify=false", "--dest-tls-verify=false", src, dst]  # fmt: skip


# ---------------------------------------------------------------- the image


def random_layer(store: LayoutStore, size: int, tmp: Path) -> tuple[Descriptor, Digest]:
    """A gzip layer (stored blocks) of `size` random bytes: (descriptor, diff_id).

    Real gzip, so skopeo passes it through as it is (it gzips anything that
    does not look compressed); random, so nobody can make it smaller.
    """
    path = tmp / "layer"
    diff, packed = hashlib.sha256(), hashlib.sha256()
    gz = zlib.compressobj(0, zlib.DEFLATED, 31)  # level 0, gzip wrapper
    written = 0
    with path.open("wb") as f:

        def out(data: bytes) -> None:
            nonlocal written
            packed.update(data)
            f.write(data)
            written += len(data)

        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            diff.update(chunk)
            out(gz.compress(chunk))
            left -= len(chunk)
        out(gz.flush())
    digest = Digest("sha256", packed.hexdigest())
    with path.open("rb") as f:
        store.blob_put(digest, written, f)
    path.unlink()
    return Descriptor(mt.OCI_LAYER_GZIP, digest, written), Digest("sha256", diff.hexdigest())


def make_layout(path: Path, total: int) -> tuple[int, int]:
    """A two-platform index of random layers totalling ~`total` bytes; (blob bytes, blob count)."""
    store = LayoutStore(path)
    layer_size = total // (len(PLATFORMS) * LAYERS_PER_PLATFORM)
    children, blob_bytes, blobs = [], 0, 0
    for platform in PLATFORMS:
        made = [random_layer(store, layer_size, path.parent) for _ in range(LAYERS_PER_PLATFORM)]
        layers = [layer for layer, _ in made]
        config = json.dumps({
            "architecture": platform.architecture, "os": platform.os,
            "rootfs": {"type": "layers", "diff_ids": [str(d) for _, d in made]},
        }).encode()  # fmt: skip
        config_desc = Descriptor(mt.OCI_CONFIG, hashlib_digest(config), len(config))
        store.blob_put(config_desc.digest, len(config), io.BytesIO(config))
        raw, desc = build_manifest(config_desc, layers)
        store.manifest_put(raw, mt.OCI_MANIFEST)
        children.append(Descriptor(desc.media_type, desc.digest, desc.size, platform))
        blob_bytes += sum(layer.size for layer in layers) + len(config)
        blobs += len(layers) + 1
    data, _ = build_index(children)
    store.manifest_put(data, mt.OCI_INDEX, tag="v1")
    return blob_bytes, blobs


def hashlib_digest(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


# ---------------------------------------------------------------- measurements


@dataclass
class Side:
    """One tool's registry, with a counting proxy in front."""

    name: str
    registry: object
    proxy: FaultProxy

    def counted(self, fn) -> tuple[Run, int, int]:
        """(run, requests, request-body bytes) of `fn(proxy_host)`."""
        self.proxy.reset()
        result = run(fn(self.proxy.host))
        return result, len(self.proxy.requests), self.proxy.body_bytes

    def stop(self) -> None:
        self.proxy.stop()
        self.registry.stop()


def start_side(name: str, work: Path) -> Side:
    reg = start_registry(work / f"registry-{name}")
    return Side(name, reg, FaultProxy(reg.host).start())


def upload_rounds(
    work: Path, src: str, rounds: int
) -> tuple[list[Run], list[Run], tuple[Side, Side]]:
    """(a): each round, both tools copy the layout into a registry of their own, started empty.

    Returns every round's runs and the last round's sides (kept running for (b)-(d)).
    """
    dy_runs, sk_runs = [], []
    sides: tuple[Side, Side] | None = None
    try:
        for n in range(rounds):
            if sides:
                for side in sides:
                    side.stop()
            dy, sk = start_side(f"dockyard-{n}", work), start_side(f"skopeo-{n}", work)
            sides = (dy, sk)
            for who in alternate(n, ("dockyard", "skopeo")):
                # Dirty pages (the layout just written, the other tool's upload) are flushed
                # before each run, so neither pays for the other's writeback.
                os.sync()
                if who == "dockyard":
                    dst = f"{dy.registry.host}/bench/a:v1"
                    dy_runs.append(run(dockyard("copy", "--json", src, dst)))
                else:
                    sk_runs.append(run(skopeo(src, f"docker://{sk.registry.host}/bench/a:v1")))
    except BaseException:  # a failed run (SystemExit) must not leave registries running
        for side in sides or ():
            side.stop()
        raise
    assert sides is not None
    return dy_runs, sk_runs, sides


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def suite(work: Path, size: Size, *, rounds: int, startup_runs: int) -> None:
    layout = work / f"layout-{size.total}"
    t0 = time.perf_counter()
    blob_bytes, blobs = make_layout(layout, size.total)
    print(f"\n== image: 2 platforms, {blobs} blobs, {blob_bytes / MB:.0f} MB incompressible "
          f"(made in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
    src = f"oci:{layout}:v1"
    dy_runs, sk_runs, (dy, sk) = upload_rounds(work, src, rounds)
    try:
        a_dy, a_sk = median_run(dy_runs), median_run(sk_runs)
        rate_dy, rate_sk = blob_bytes / a_dy.seconds / MB, blob_bytes / a_sk.seconds / MB
        print(f"(a) layout -> empty registry, whole processes, median of {rounds} round(s)")
        print(f"    dockyard {a_dy.seconds:6.2f} s {rate_dy:6.0f} MB/s  "
              f"(rounds: {', '.join(f'{r.seconds:.2f}' for r in dy_runs)} s)")  # fmt: skip
        print(f"    skopeo   {a_sk.seconds:6.2f} s {rate_sk:6.0f} MB/s  "
              f"(rounds: {', '.join(f'{r.seconds:.2f}' for r in sk_runs)} s)")  # fmt: skip
        doc = json.loads(a_dy.stdout)
        print(f"    ratio dockyard/skopeo throughput {ratio(rate_dy, rate_sk)} "
              f"(CPU: dockyard {a_dy.cpu_seconds:.2f} s, skopeo {a_sk.cpu_seconds:.2f} s); goal {size.goal}; "
              f"dockyard's own copy time {doc['seconds']:.2f} s of {a_dy.seconds:.2f} s")  # fmt: skip
        print(
            f"(e) peak RSS during (a)   dockyard {a_dy.max_rss_mb:6.1f} MB | "
            f"skopeo {a_sk.max_rss_mb:6.1f} MB | ratio {ratio(a_dy.max_rss_mb, a_sk.max_rss_mb)}"
        )
        if not size.full:
            return

        # (c) first for layout -> registry: its proxied run also tells skopeo's blob-info
        # cache where the blobs are behind the proxy, as (a) did for the direct address.
        def layout_again(host):
            return dockyard("copy", "--json", src, f"{host}/bench/a:v1"), skopeo(
                src, f"docker://{host}/bench/a:v1"
            )

        compare("(c) re-copy layout -> registry", dy, sk, layout_again, layout_again)

        # (b) registry -> a new repository of the same registry (b direct, b2 proxied)
        def new_repo(repo):
            def cmds(host):
                return dockyard(
                    "copy", "--json", f"{host}/bench/a:v1", f"{host}/bench/{repo}:v1"
                ), (skopeo(f"docker://{host}/bench/a:v1", f"docker://{host}/bench/{repo}:v1"))

            return cmds

        compare("(b) registry -> new repository", dy, sk, new_repo("b"), new_repo("b2"))
        compare("(c) re-copy registry -> registry", dy, sk, new_repo("b"), new_repo("b2"))
        startup(f"{dy.registry.host}/bench/a:v1", f"{sk.registry.host}/bench/a:v1", startup_runs)
    finally:
        dy.stop()
        sk.stop()


def compare(label: str, dy: Side, sk: Side, direct, proxied) -> None:
    """Time both tools direct; count their requests and upload bytes through the proxy."""
    t_dy = run(direct(dy.registry.host)[0])
    t_sk = run(direct(sk.registry.host)[1])
    _, n_dy, up_dy = dy.counted(lambda h: proxied(h)[0])
    _, n_sk, up_sk = sk.counted(lambda h: proxied(h)[1])
    doc = json.loads(t_dy.stdout)
    b = doc["blobs"]
    print(f"{label}")
    print(
        f"    dockyard {t_dy.seconds:5.2f} s (copy itself {doc['seconds']:.3f} s) "
        f"{n_dy:3d} requests {up_dy:>10d} B up  [blobs copied {b['copied']}, mounted "
        f"{b['mounted']}, skipped {b['skipped']}, blob bytes {b['bytes']}]"
    )
    print(f"    skopeo   {t_sk.seconds:5.2f} s {n_sk:22d} requests {up_sk:>10d} B up")
    print(
        f"    dockyard/skopeo: {times_faster(t_sk.seconds, t_dy.seconds)} faster, "
        f"requests {ratio(n_dy, n_sk)}"
    )


def startup(dy_ref: str, sk_ref: str, runs: int) -> None:
    """(d): whole-process wall and CPU time of a registry command, medians of `runs`."""

    def both(cmd: list[str]) -> str:
        done = [run(cmd) for _ in range(runs)]
        wall = statistics.median(r.seconds for r in done)
        cpu = statistics.median(r.cpu_seconds for r in done)
        return f"{wall:.3f} s wall, {cpu:.3f} s CPU"

    inspect = [run(dockyard("inspect", "--json", dy_ref)) for _ in range(runs)]
    wall = statistics.median(r.seconds for r in inspect)
    cpu = statistics.median(r.cpu_seconds for r in inspect)
    verdict = "met" if wall <= STARTUP_GOAL else "NOT met"
    print(
        f"(d) start-up of a registry command, median of {runs} runs (CPU: steadier on a busy machine)"
    )
    print(
        f"    dockyard inspect --json REF  {wall:.3f} s wall, {cpu:.3f} s CPU  (goal <= {STARTUP_GOAL} s wall: {verdict})"
    )
    print(f"    dockyard inspect --raw REF   {both(dockyard('inspect', '--raw', dy_ref))}")
    print(
        f"    skopeo inspect REF           {both(['skopeo', 'inspect', '--tls-verify=false', f'docker://{sk_ref}'])}"
    )
    print(
        f"    dockyard --version           {both(dockyard('--version'))}  (the interpreter's floor)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a 20 MB image, 1 round: checks the script works"
    )
    parser.add_argument(
        "--rounds", type=int, help="rounds of (a) per size (default 3; 1 with --quick)"
    )
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    ensure_bytecode()
    version = subprocess.run(["skopeo", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"dockyard copy vs skopeo copy --all ({version}; {os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-") as tmp:
        for size in QUICK if args.quick else FULL:
            suite(Path(tmp), size, rounds=rounds, startup_runs=3 if args.quick else 15)


if __name__ == "__main__":
    main()
