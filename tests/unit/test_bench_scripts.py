"""The bench scripts import, parse their options, and their pure helpers do what their docstrings say.

No timing is asserted here, ever: bench/ prints ratios for a person to read.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
SCRIPTS = ("copy.py", "verify.py", "build.py", "release.py")


@pytest.fixture(scope="module")
def bench():
    """bench.* importable as the scripts import each other (bench/_paths.py sets sys.path)."""
    saved = list(sys.path)
    sys.path.insert(0, str(BENCH))
    # isort: off
    import _paths  # noqa: F401  (takes bench/ back out of sys.path: bench/copy.py is not `copy`)

    # isort: on
    import bench.build
    import bench.common
    import bench.release
    import bench.verify

    yield bench
    sys.path[:] = saved


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_imports_and_offers_quick(script):
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout


def test_speed_up_and_ratio(bench):
    assert bench.common.times_faster(10.0, 2.0) == "5.00x"
    assert bench.common.times_faster(1.0, 0.0) == "n/a"
    assert bench.common.ratio(3.0, 2.0) == "1.50x"


def test_median_and_alternating_order(bench):
    values = iter([3.0, 1.0, 2.0])
    assert bench.common.median_of(lambda: next(values), 3) == 2.0
    with pytest.raises(ValueError):
        bench.common.median_of(lambda: 0.0, 0)
    assert bench.common.alternate(0, ("a", "b")) == ["a", "b"]
    assert bench.common.alternate(1, ("a", "b")) == ["b", "a"]


PLAN = {
    "version": "1.0.0",
    "targets": [
        {
            "name": "worker",
            "dockerfile": "/ctx/Dockerfile",
            "context": "/ctx",
            "images": ["reg/fleet/fleet-worker"],
            "tags": ["reg/fleet/fleet-worker:1.0.0", "reg/fleet/fleet-worker:latest"],
            "smoke": ["/usr/local/bin/worker", "--check"],
            "jobs": [
                {"platform": "linux/amd64", "args": {"TARGETARCH": "amd64"}},
                {"platform": "linux/arm64", "args": {"TARGETARCH": "arm64"}},
            ],
        }
    ],
}


def test_script_builds_with_layers_and_the_registry_cache_only_when_asked(bench):
    plain = [x for x in bench.build.build_lines(PLAN) if x.startswith("buildah build")]
    cached = [
        x for x in bench.build.build_lines(PLAN, cache="reg/cache") if x.startswith("buildah build")
    ]
    assert len(plain) == len(cached) == 2
    assert all("--layers" in x and "--cache-from" not in x for x in plain)
    assert all("--cache-from reg/cache/worker --cache-to reg/cache/worker" in x for x in cached)
    assert "--platform linux/arm64" in plain[1] and "TARGETARCH=arm64" in plain[1]


def test_script_pushes_every_plan_tag(bench):
    pushes = bench.build.push_lines(PLAN, "reg/script")
    assert [p.rsplit(" ", 1)[1] for p in pushes] == [
        "docker://reg/script/fleet-worker:1.0.0",
        "docker://reg/script/fleet-worker:latest",
    ]


def test_release_script_builds_verifies_then_pushes(bench, tmp_path):
    text = bench.release.script_text(PLAN, ["a/script", "b/script"], cache="a/c", iids=tmp_path)
    marks = [line.split()[1] for line in text.splitlines() if line.startswith("mark ")]
    assert marks == ["build", "verify", "push:a", "push:b", "end"]
    verify = text.split("mark verify")[1].split("mark push")[0]
    assert "= arm64" in verify and "= amd64" in verify
    assert verify.count("/usr/local/bin/worker --check") == 2  # the smoke run, per platform
    assert "--iidfile" in text


def layer(tmp_path: Path) -> dict:
    data = b"a tar stream, as far as hashing goes\n" * 1000
    blob = tmp_path / "blob"
    blob.write_bytes(gzip.compress(data))
    return {
        "path": str(blob),
        "digest": "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest(),
        "diff_id": "sha256:" + hashlib.sha256(data).hexdigest(),
    }


@pytest.mark.parametrize("script", ["BASELINE", "VARIANT"])
def test_verify_peer_hashes_the_blob_and_the_inflated_stream(bench, tmp_path, script):
    one = layer(tmp_path)
    out = subprocess.run(
        ["bash", "-c", getattr(bench.verify, script), "_", one["path"]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    bench.verify.check_digests(out, one)  # raises SystemExit on a mismatch
    with pytest.raises(SystemExit, match="digests of"):
        bench.verify.check_digests(out, {**one, "diff_id": "sha256:" + "0" * 64})
