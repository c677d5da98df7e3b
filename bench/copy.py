"""dockyard copy vs `skopeo copy --all`, side by side in one run (figures printed, never asserted).

    .venv/bin/python bench/copy.py          # a ~200 MB two-platform image
    .venv/bin/python bench/copy.py --big    # also a ~1 GB one for (a) and (e)

Each tool gets its own fresh docker-registry (started here, on 127.0.0.1);
request counts come from the test suite's fault proxy in pass-through mode.

(a) layout -> registry throughput          ratio dockyard/skopeo (>= 1.0 wanted)
(b) registry -> new repository, same registry: time and requests
(c) re-copy when everything exists: blob bytes sent (0 wanted), requests, time
(d) `dockyard --version` start-up            (< 0.2 s wanted)
(e) peak RSS of dockyard during (a)          (< 150 MB wanted)
"""

from __future__ import annotations

import os
import sys

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

ROOT = Path(__file__).resolve().parent.parent

from tests.helpers.faultproxy import FaultProxy  # noqa: E402
from tests.helpers.measure import Run, run  # noqa: E402
from tests.helpers.registry import start_registry  # noqa: E402

from dockyard.digest import Digest  # noqa: E402
from dockyard.oci import mediatypes as mt  # noqa: E402
from dockyard.oci.layout import LayoutStore  # noqa: E402
from dockyard.oci.models import Descriptor, build_index, build_manifest  # noqa: E402
from dockyard.platform import Platform  # noqa: E402

MB = 1000 * 1000
LAYERS_PER_PLATFORM = 4
PLATFORMS = (Platform("linux", "amd64"), Platform("linux", "arm64"))


def dockyard(*args: str) -> list[str]:
    return [sys.executable, "-m", "dockyard", *args]


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


def start_side(name: str, work: Path) -> Side:
    reg = start_registry(work / f"registry-{name}")
    return Side(name, reg, FaultProxy(reg.host).start())


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "n/a"


def suite(work: Path, total: int, *, full: bool) -> None:
    layout = work / f"layout-{total}"
    t0 = time.perf_counter()
    blob_bytes, blobs = make_layout(layout, total)
    print(f"\n== image: 2 platforms, {blobs} blobs, {blob_bytes / MB:.0f} MB incompressible "
          f"(made in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
    dy, sk = start_side("dockyard", work), start_side("skopeo", work)
    try:
        src = f"oci:{layout}:v1"
        # (a) layout -> registry, direct (no proxy: the proxy would bound the rate)
        # Dirty pages (the layout just written, the other tool's upload) are flushed
        # before each run, so neither pays for the other's writeback.
        os.sync()
        a_dy = run(dockyard("copy", "--json", src, f"{dy.registry.host}/bench/a:v1"))
        os.sync()
        a_sk = run(skopeo(src, f"docker://{sk.registry.host}/bench/a:v1"))
        rate_dy, rate_sk = blob_bytes / a_dy.seconds / MB, blob_bytes / a_sk.seconds / MB
        print(f"(a) layout -> registry      dockyard {a_dy.seconds:6.2f} s {rate_dy:7.0f} MB/s | "
              f"skopeo {a_sk.seconds:6.2f} s {rate_sk:7.0f} MB/s | throughput ratio "
              f"{ratio(rate_dy, rate_sk)}")  # fmt: skip
        print(f"(e) peak RSS during (a)     dockyard {a_dy.max_rss_mb:6.1f} MB     | "
              f"skopeo {a_sk.max_rss_mb:6.1f} MB     | ratio {ratio(a_dy.max_rss_mb, a_sk.max_rss_mb)}")
        if not full:
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
                return dockyard("copy", "--json", f"{host}/bench/a:v1", f"{host}/bench/{repo}:v1"), (
                    skopeo(f"docker://{host}/bench/a:v1", f"docker://{host}/bench/{repo}:v1")
                )

            return cmds

        compare("(b) registry -> new repository", dy, sk, new_repo("b"), new_repo("b2"))
        compare("(c) re-copy registry -> registry", dy, sk, new_repo("b"), new_repo("b2"))
    finally:
        for side in (dy, sk):
            side.proxy.stop()
            side.registry.stop()


def compare(label: str, dy: Side, sk: Side, direct, proxied) -> None:
    """Time both tools direct; count their requests and upload bytes through the proxy."""
    t_dy = run(direct(dy.registry.host)[0])
    t_sk = run(direct(sk.registry.host)[1])
    c_dy, n_dy, up_dy = dy.counted(lambda h: proxied(h)[0])
    _, n_sk, up_sk = sk.counted(lambda h: proxied(h)[1])
    doc = json.loads(t_dy.stdout)
    b = doc["blobs"]
    print(f"{label}")
    print(f"    dockyard {t_dy.seconds:5.2f} s (copy itself {doc['seconds']:.3f} s) "
          f"{n_dy:3d} requests {up_dy:>10d} B up  [blobs copied {b['copied']}, mounted "
          f"{b['mounted']}, skipped {b['skipped']}, blob bytes {b['bytes']}]")
    print(f"    skopeo   {t_sk.seconds:5.2f} s {n_sk:22d} requests {up_sk:>10d} B up")
    print(f"    ratios dockyard/skopeo: time {ratio(t_dy.seconds, t_sk.seconds)}, "
          f"requests {ratio(n_dy, n_sk)}")
    del c_dy


def startup() -> None:
    times = [run(dockyard("--version")).seconds for _ in range(10)]
    sk = [run(["skopeo", "--version"]).seconds for _ in range(5)]
    print(f"(d) `dockyard --version`    median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s (10 runs) | skopeo --version median "
          f"{statistics.median(sk):.3f} s")  # fmt: skip
    help_times = [run(dockyard("copy", "--help")).seconds for _ in range(5)]
    print(f"    `dockyard copy --help`  median {statistics.median(help_times):.3f} s "
          "(typer + the command modules loaded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big", action="store_true", help="also run (a)/(e) with a ~1 GB image")
    args = parser.parse_args()
    print(f"dockyard copy vs skopeo copy --all ({subprocess.run(['skopeo', '--version'], capture_output=True, text=True).stdout.strip()})")
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-") as tmp:
        work = Path(tmp)
        suite(work, 200 * MB, full=True)
        startup()
        if args.big:
            suite(work, 1000 * MB, full=False)


if __name__ == "__main__":
    main()
