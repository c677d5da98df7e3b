"""dockyard verify vs a shell pipeline doing the same stream work, both as whole processes,
side by side in one run (figures printed, never asserted).

    .venv/bin/python bench/verify.py               # ~500 MB two-platform image, 2 rounds (~3 min)
    .venv/bin/python bench/verify.py --rounds 3
    .venv/bin/python bench/verify.py --regenerate  # rebuild the cached image
    .venv/bin/python bench/verify.py --quick       # a ~25 MB image, 1 round: checks the script works

The image (an OCI layout, linux/amd64 + linux/arm64, 4 gzip layers each) is
generated once with a fixed seed and cached under ~/.cache/dockyard/bench/.
Its files: real text (slices of the Python standard library's sources),
random bytes (like already-compressed assets), and ELF programs (Debian
busybox-static of the platform's arch: its real header, then a slice of its
code), in a directory tree, with symlinks and whiteouts in upper layers.

Measured per round, all from the page cache (the blobs are read once before),
each a child process timed from fork to exit (start-up included):
(1) dockyard: `dockyard verify oci:DIR:v1 --platforms linux/amd64,linux/arm64
    --json`: per layer, one streamed pass that hashes the compressed blob
    (its digest), inflates it, hashes the tar stream (checked against the
    config's rootfs.diff_ids) and reads the tar (ELF headers of every program,
    whiteouts); then the config and policy checks. One process, one core.
(2) baseline, the same stream work with coreutils: per layer blob,
    sequentially, `tee FIFO < BLOB | zcat | sha256sum` with `sha256sum <
    FIFO` beside it: the compressed blob is hashed, inflated, and the tar
    stream hashed; both digests are checked against the layer's digest and
    diff_id. Three processes per blob, so up to three cores.
(3) variant: per layer blob, `sha256sum BLOB` then `zcat BLOB | sha256sum`
    (two passes over the blob; the same digests checked).
Bandwidth = compressed layer bytes / wall time; the ratio verify/baseline
(>= 0.5x wanted) is baseline time / verify time. CPU time (user + system,
the children included) is printed too: on a shared, busy machine it is the
steadier figure, and its ratio is printed beside the wall one.
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
import math
import random
import shutil
import subprocess
import sysconfig
import tarfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from bench.common import MB, dockyard, ensure_bytecode
from tests.helpers.busybox import busybox_deb
from tests.helpers.measure import Run, run

from dockyard.digest import Digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.layer import HashingWriter
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, build_index, build_manifest, canonical_json
from dockyard.platform import Platform

# Bump when the generator changes: the cache directory is keyed on it.
IMAGE_VERSION = 2
SEED = 20240607
TAG = "v1"
GZIP_LEVEL = 1  # what `dockyard import` writes
PLATFORMS = (("amd64", Platform("linux", "amd64")), ("arm64", Platform("linux", "arm64")))

# Uncompressed bytes per platform image, by kind of content. With isal level 1,
# text packs ~4x, busybox code ~2x, random data not at all: ~250 MB compressed each.
BUDGET = {"text": 220 * MB, "elf": 90 * MB, "random": 130 * MB}
QUICK_SCALE = 0.05  # --quick: ~25 MB compressed in all
# Share of each kind per layer (bottom first): a base, libraries, an app, data.
LAYER_MIX = (
    {"text": 0.35, "elf": 0.40, "random": 0.10},
    {"text": 0.15, "elf": 0.40, "random": 0.20},
    {"text": 0.30, "elf": 0.15, "random": 0.40},
    {"text": 0.20, "elf": 0.05, "random": 0.30},
)
# File sizes: log-normal (median, sigma), clipped to [low, high].
SIZES = {
    "text": (4_000, 1.5, 1, 2 * MB),
    "elf": (120_000, 1.2, 4_096, None),  # high: the busybox binary's size
    "random": (64_000, 2.0, 1, 16 * MB),
}
TOP_DIRS = ("usr/lib", "usr/share", "usr/bin", "opt/app", "etc", "var/lib", "usr/local/lib")
SYMLINKS_PER_LAYER = 150
WHITEOUT_SHARE = 0.02  # of the lower layers' files, per upper layer


# ---------------------------------------------------------------- measuring


# ---------------------------------------------------------------- the image


@dataclass
class Stats:
    """What the generator wrote for one platform image (the final view after whiteouts)."""

    compressed: int = 0  # layer blobs
    uncompressed: int = 0  # layer tars
    files: int = 0  # regular files in the final view
    elf: int = 0  # ELF programs in the final view
    entries: int = 0  # tar entries written (files, dirs, links, whiteouts)
    whiteouts: int = 0
    layers: list[dict[str, str | int]] = field(default_factory=list)  # digest, size, diff_id


class _Generator:
    """One platform's layers: a seeded stream of paths and contents."""

    def __init__(
        self, rng: random.Random, busybox: bytes, corpus: bytes, scale: float = 1.0
    ) -> None:
        self.rng = rng
        self.scale = scale  # of BUDGET
        self.busybox = busybox
        self.corpus = corpus
        self.live: dict[str, bool] = {}  # path in the final view -> is ELF
        self.serial = 0

    def size(self, kind: str) -> int:
        median, sigma, low, high = SIZES[kind]
        high = high or len(self.busybox)
        return max(low, min(high, int(median * math.exp(self.rng.gauss(0, sigma)))))

    def content(self, kind: str, size: int) -> bytes:
        if kind == "random":
            return self.rng.randbytes(size)
        if kind == "text":
            start = self.rng.randrange(len(self.corpus) - size)
            return self.corpus[start : start + size]
        # A real ELF header, then real code of the same binary from a random offset.
        start = self.rng.randrange(64, len(self.busybox) - size + 65)
        return self.busybox[:64] + self.busybox[start : start + size - 64]

    def path(self, layer: int, kind: str) -> str:
        self.serial += 1
        top = self.rng.choice(TOP_DIRS)
        pkg = f"pkg{self.rng.randrange(60)}"
        sub = f"d{self.rng.randrange(8)}"
        suffix = {"text": ".txt", "elf": ".so", "random": ".dat"}[kind]
        return f"{top}/{pkg}/{sub}/l{layer}f{self.serial}{suffix}"

    def layer(self, index: int, out: IO[bytes], stats: Stats) -> tuple[int, int, str]:
        """Write layer `index` as gzip to `out`: (compressed size, uncompressed size, diff_id)."""
        from isal import igzip

        packed = HashingWriter(out)
        with igzip.IGzipFile(fileobj=packed, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as gz:
            plain = HashingWriter(gz)
            with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                self._entries(index, tar, stats)
        stats.compressed += packed.count
        stats.uncompressed += plain.count
        return packed.count, plain.count, "sha256:" + plain.hash.hexdigest()

    def _entries(self, index: int, tar: tarfile.TarFile, stats: Stats) -> None:
        dirs: set[str] = set()

        def add(info: tarfile.TarInfo, data: bytes | None = None) -> None:
            parent = info.name.rpartition("/")[0]
            missing = []
            while parent and parent not in dirs:
                missing.append(parent)
                parent = parent.rpartition("/")[0]
            for name in reversed(missing):
                dirs.add(name)
                d = tarfile.TarInfo(name)
                d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
                tar.addfile(d)
                stats.entries += 1
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
            stats.entries += 1

        if index:  # whiteouts of lower layers' files first, as builders write them
            lower = sorted(self.live)
            for name in self.rng.sample(lower, int(len(lower) * WHITEOUT_SHARE)):
                head, _, base = name.rpartition("/")
                add(tarfile.TarInfo(f"{head}/.wh.{base}"))
                del self.live[name]
                stats.whiteouts += 1
        files = self._plan(index)
        for kind, name, size in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode = size, 0o755 if kind == "elf" else 0o644
            add(info, self.content(kind, size))
            self.live[name] = kind == "elf"
        elves = [name for kind, name, _ in files if kind == "elf"]
        for n in range(SYMLINKS_PER_LAYER if elves else 0):
            link = tarfile.TarInfo(f"usr/bin/l{index}-applet{n}")
            link.type, link.linkname = tarfile.SYMTYPE, "/" + self.rng.choice(elves)
            add(link)

    def _plan(self, index: int) -> list[tuple[str, str, int]]:
        """(kind, path, size) of this layer's files, kinds shuffled together."""
        files = []
        for kind, share in LAYER_MIX[index].items():
            left = int(BUDGET[kind] * share * self.scale)
            while left > 0:
                size = min(self.size(kind), left) if left > SIZES[kind][2] else SIZES[kind][2]
                files.append((kind, self.path(index, kind), size))
                left -= size
        self.rng.shuffle(files)
        return files


def read_busybox(arch: str) -> bytes:
    """bin/busybox out of Debian's busybox-static .deb for `arch` (fetched once, cached)."""
    tar_bytes = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(busybox_deb(arch))], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        f = tar.extractfile("./bin/busybox")
        assert f is not None
        return f.read()


def read_corpus(limit: int = 48 * MB) -> bytes:
    """Real text: the standard library's Python sources, in a stable order."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    chunks, total = [], 0
    for path in sorted(stdlib.rglob("*.py")):
        data = path.read_bytes()
        chunks.append(data)
        total += len(data)
        if total >= limit:
            break
    return b"".join(chunks)


def make_layout(layout: Path, scale: float = 1.0) -> dict[str, Stats]:
    store = LayoutStore(layout)
    corpus = read_corpus()
    children, stats = [], {}
    for arch, platform in PLATFORMS:
        gen = _Generator(random.Random(f"{SEED}-{arch}"), read_busybox(arch), corpus, scale)
        one = stats[str(platform)] = Stats()
        layers, diff_ids = [], []
        for index in range(len(LAYER_MIX)):
            tmp = layout.parent / f".layer-{arch}-{index}"
            with tmp.open("wb") as out:
                size, _, diff_id = gen.layer(index, out, one)
            digest = Digest("sha256", hashlib.sha256(tmp.read_bytes()).hexdigest())
            with tmp.open("rb") as f:
                store.blob_put(digest, size, f)
            tmp.unlink()
            layers.append(Descriptor(mt.OCI_LAYER_GZIP, digest, size))
            diff_ids.append(diff_id)
            one.layers.append({"digest": str(digest), "size": size, "diff_id": diff_id})
        one.files = len(gen.live)
        one.elf = sum(gen.live.values())
        config = canonical_json({
            "architecture": platform.architecture, "os": platform.os,
            "config": {"User": "1000"},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        })  # fmt: skip
        config_desc = Descriptor(
            mt.OCI_CONFIG, Digest("sha256", hashlib.sha256(config).hexdigest()), len(config)
        )
        store.blob_put(config_desc.digest, len(config), io.BytesIO(config))
        raw, desc = build_manifest(config_desc, layers)
        store.manifest_put(raw, mt.OCI_MANIFEST)
        children.append(Descriptor(desc.media_type, desc.digest, desc.size, platform))
    data, _ = build_index(children)
    store.manifest_put(data, mt.OCI_INDEX, tag=TAG)
    return stats


def cache_dir(scale: float) -> Path:
    name = f"verify-v{IMAGE_VERSION}" + ("" if scale == 1.0 else f"-x{scale:g}")
    return Path.home() / ".cache" / "dockyard" / "bench" / name


def cached_layout(regenerate: bool, scale: float = 1.0) -> tuple[Path, dict[str, Stats]]:
    """The image's layout, generated on first use; (layout dir, per-platform stats)."""
    cache = cache_dir(scale)
    layout, meta = cache / "layout", cache / "meta.json"
    if meta.exists() and not regenerate:
        doc = json.loads(meta.read_text())
        return layout, {p: Stats(**s) for p, s in doc.items()}
    t0 = time.perf_counter()
    print(f"generating the image in {cache} ...", flush=True)
    # In a child process: its memory (the text corpus, ...) would raise the RSS floor of every run.
    cmd = [sys.executable, __file__, "--generate", str(cache), "--scale", str(scale)]
    subprocess.run(cmd, check=True)
    print(f"    made in {time.perf_counter() - t0:.1f} s", flush=True)
    doc = json.loads(meta.read_text())
    return layout, {p: Stats(**s) for p, s in doc.items()}


def generate(cache: Path, scale: float) -> None:
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    stats = make_layout(cache / "layout", scale)
    meta = json.dumps({p: asdict(s) for p, s in stats.items()}, indent=1)
    (cache / "meta.json").write_text(meta)  # last: marks the cache whole


# ---------------------------------------------------------------- the runs


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, _, hex_ = digest.partition(":")
    return layout / "blobs" / algorithm / hex_


def verify_once(layout: Path) -> tuple[Run, dict]:
    platforms = ",".join(str(p) for _, p in PLATFORMS)
    result = run(
        dockyard("verify", f"oci:{layout}:{TAG}", "--platforms", platforms, "--json"), check=False
    )
    if result.returncode not in (0, 1):  # 1: findings, still a whole verify; anything else is not
        raise SystemExit(
            f"bench: dockyard verify exited {result.returncode}: {result.stderr.strip()}"
        )
    return result, json.loads(result.stdout)


# Hash the compressed blob, inflate it and hash the tar stream, in one read of the blob.
# The FIFO feeds `tee`'s copy to a second sha256sum; prints "<compressed> <uncompressed>".
BASELINE = """set -eu -o pipefail
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/fifo"
sha256sum < "$dir/fifo" > "$dir/packed" &
tee "$dir/fifo" < "$1" | zcat | sha256sum > "$dir/plain"
wait
echo "$(cut -d' ' -f1 "$dir/packed") $(cut -d' ' -f1 "$dir/plain")"
"""
# The same digests in two passes over the blob.
VARIANT = """set -eu -o pipefail
packed=$(sha256sum < "$1"); plain=$(zcat < "$1" | sha256sum)
echo "${packed%% *} ${plain%% *}"
"""


def shell_once(script: str, layers: list[dict]) -> tuple[float, float]:
    """`script` per layer blob, one after another: (wall, CPU) seconds. Checks both digests."""
    wall = cpu = 0.0
    for layer in layers:
        result = run(["bash", "-c", script, "_", layer["path"]])
        wall, cpu = wall + result.seconds, cpu + result.cpu_seconds
        check_digests(result.stdout, layer)
    return wall, cpu


def check_digests(output: str, layer: dict) -> None:
    """The shell's "<compressed> <uncompressed>" must be the layer's digest and diff_id."""
    got = ["sha256:" + h for h in output.split()]
    want = [str(layer["digest"]), str(layer["diff_id"])]
    if got != want:
        raise SystemExit(f"bench: digests of {layer['path']}: {got}, expected {want}")


def warm(layers: list[dict]) -> None:
    for layer in layers:
        with open(layer["path"], "rb") as f:
            while f.read(1 << 22):
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="measurement rounds (default 2)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the cached image")
    parser.add_argument(
        "--quick", action="store_true", help="a ~25 MB image, 1 round: checks the script works"
    )
    parser.add_argument("--generate", metavar="DIR", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.scale)
        return
    rounds = 1 if args.quick else args.rounds
    ensure_bytecode()
    layout, stats = cached_layout(args.regenerate, QUICK_SCALE if args.quick else 1.0)
    layers = [
        {**layer, "path": str(blob_path(layout, str(layer["digest"])))}
        for s in stats.values()
        for layer in s.layers
    ]
    compressed = sum(s.compressed for s in stats.values())
    uncompressed = sum(s.uncompressed for s in stats.values())
    zcat = subprocess.run(
        ["zcat", "--version"], capture_output=True, text=True
    ).stdout.splitlines()[0]
    print(
        f"dockyard verify vs tee | zcat | sha256sum, the blob hashed too ({zcat}; {os.cpu_count()} CPUs)"
    )
    print(f"\n== image {layout}  ({len(stats)} platforms, {len(layers)} layers)")
    for platform, s in stats.items():
        print(f"    {platform:12s} {s.compressed / MB:6.1f} MB compressed  {s.uncompressed / MB:6.1f} MB "
              f"uncompressed  {s.files:6d} files  {s.elf:4d} ELF  {s.entries:6d} tar entries  "
              f"{s.whiteouts:4d} whiteouts")  # fmt: skip
    print(
        f"    {'total':12s} {compressed / MB:6.1f} MB compressed  {uncompressed / MB:6.1f} MB uncompressed  "
        f"{sum(s.files for s in stats.values()):6d} files  {sum(s.elf for s in stats.values()):4d} ELF"
    )

    warm(layers)
    floor = run(["true"]).max_rss_mb
    print(f"    (peak RSS of `true` measured the same way: {floor:.1f} MB)")
    for n in range(1, rounds + 1):
        load = os.getloadavg()[0]
        v, report = verify_once(layout)
        base, base_cpu = shell_once(BASELINE, layers)
        var, var_cpu = shell_once(VARIANT, layers)
        seen = {p["platform"]: p for p in report["platforms"]}
        elf_seen = sum(p["elf_files"] for p in seen.values())
        unc_seen = sum(p["uncompressed_size"] or 0 for p in seen.values())
        checks = "ok" if report["ok"] else f"{report['errors']} errors"
        agree = elf_seen == sum(s.elf for s in stats.values()) and unc_seen == uncompressed
        print(f"\n== round {n} (page cache warm; load average {load:.1f} at the start)")
        line("verify", v.seconds, v.cpu_seconds, compressed, uncompressed)
        print(f"{'':23s}peak RSS {v.max_rss_mb:.1f} MB; {checks}; {elf_seen} ELF, {unc_seen / MB:.1f} MB "
              f"tar: {'matches the generator' if agree else 'DIFFERS from the generator'}")  # fmt: skip
        line("tee|zcat|sha256sum", base, base_cpu, compressed, uncompressed)
        line("two passes", var, var_cpu, compressed, uncompressed)
        print(f"    ratio verify bandwidth / baseline bandwidth: {base / v.seconds:.2f}x wall, "
              f"{base_cpu / v.cpu_seconds:.2f}x CPU (>= 0.5x wanted); vs the variant "
              f"{var / v.seconds:.2f}x wall, {var_cpu / v.cpu_seconds:.2f}x CPU")  # fmt: skip


def line(label: str, wall: float, cpu: float, compressed: int, uncompressed: int) -> None:
    print(
        f"    {label:18s} {wall:6.2f} s wall {cpu:6.2f} s CPU  {compressed / MB / wall:5.0f} MB/s "
        f"compressed {uncompressed / MB / wall:5.0f} MB/s uncompressed"
    )


if __name__ == "__main__":
    main()
