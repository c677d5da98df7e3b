"""BuildResult and friends: states, exit codes, summaries, JSON (build.result)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.builder.result import BasePin, BuildResult, ImageStats, JobResult, TargetResult
from dockyard.digest import Digest
from dockyard.platform import Platform

ARM64 = Platform("linux", "arm64")
D1, D2, D3 = (Digest("sha256", c * 64) for c in "123")


def job(state="built", **kw) -> JobResult:
    return JobResult(target="api", platform=ARM64, key="api-linux-arm64", state=state, **kw)


def result(*jobs: JobResult, error=None) -> BuildResult:
    target = TargetResult("api", Path("dist/oci/api"), "dev", tuple(jobs), error=error)
    return BuildResult(Path("dist"), "buildah 1.28.2", (target,), 1.5)


@pytest.mark.parametrize(
    ("j", "text"),
    [
        (job(cache_hits=2, steps=5), "built (2/5 steps cached)"),
        (job("skipped"), "skipped (unchanged)"),
        (job("reused", reused_from=f"r.io/api@{D1}"), f"reused from r.io/api@{D1}"),
        (job("failed", error="boom"), "failed: boom"),
    ],
)
def test_describe(j, text):
    assert j.describe() == text


@pytest.mark.parametrize(
    ("codes", "exit_code"),
    [((), 0), ((1,), 1), ((2,), 2), ((2, 2), 2), ((2, 1), 1)],
)
def test_exit_code(codes, exit_code):
    jobs = [job("failed", exit_code=c, error="x") for c in codes] or [job()]
    assert result(*jobs).exit_code == exit_code


def test_a_target_whose_index_could_not_be_written_is_not_ok():
    r = result(job(), error="api: writing the index failed: disk full")
    assert not r.ok and r.failed == () and r.targets[0].to_json()["error"].endswith("disk full")


def test_summary():
    assert result(job(), job("skipped"), job("reused")).summary() == (
        "3 jobs: 1 built, 1 skipped, 1 reused"
    )
    failed = job("failed", error="x")
    assert result(job(), failed).summary() == "1 of 2 build jobs failed (api-linux-arm64)"


def test_a_build_after_a_failed_reuse_is_counted_apart_from_a_plain_build():
    # Issue 18: the fresh-runner reuse falling back must show, in the summary and in --json.
    fell_back = job(reuse_error="r.io/api@sha256:ab: connection reset")
    r = result(job(), fell_back, job("reused"))
    assert r.summary() == "3 jobs: 1 built, 1 built after a failed reuse, 0 skipped, 1 reused"
    assert r.to_json()["counts"] == {
        "built": 1, "reuse_failed": 1, "skipped": 0, "reused": 1, "failed": 0,
    }  # fmt: skip
    assert fell_back.to_json()["reuse_error"] == "r.io/api@sha256:ab: connection reset"
    assert fell_back.describe() == (
        "built (0/0 steps cached) after reuse failed: r.io/api@sha256:ab: connection reset"
    )


def test_to_json_is_plain_json_with_every_job_field():
    pin = BasePin(1, "r.io/base:1", "r.io/base:1", ARM64, D2)
    built = job(
        seconds=2.34567,
        digest=D1,
        input_hash=D3,
        bases=(pin,),
        image_base=pin,
        cache_hits=1,
        steps=3,
        stats=ImageStats(2, 1000, 3000),
        log_path=Path("dist/logs/api-linux-arm64.log"),
    )
    doc = json.loads(json.dumps(result(built).to_json()))
    assert doc["ok"] is True and doc["builder"] == "buildah 1.28.2" and doc["output"] == "dist"
    (target,) = doc["targets"]
    assert target == {
        "name": "api",
        "ok": True,
        "layout": "dist/oci/api",
        "tag": "dev",
        "index_digest": None,
        "index_written": False,
        "error": None,
        "jobs": [
            {
                "platform": "linux/arm64",
                "key": "api-linux-arm64",
                "state": "built",
                "duration": 2.346,
                "digest": str(D1),
                "input_hash": str(D3),
                "cache_hits": 1,
                "steps": 3,
                "layers": 2,
                "size": {"compressed": 1000, "uncompressed": 3000},
                "bases": [pin.to_json()],
                "image_base": pin.to_json(),
                "log": "dist/logs/api-linux-arm64.log",
                "reused_from": None,
                "reuse_error": None,
                "error": None,
            }
        ],
    }
    assert pin.to_json() == {
        "stage": 1,
        "base": "r.io/base:1",
        "reference": "r.io/base:1",
        "platform": "linux/arm64",
        "digest": str(D2),
    }
