"""The build's progress views and final rendering (cli.progress), without a builder."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from dockyard.builder.result import BuildResult, JobResult, TargetResult
from dockyard.cli import progress as progress_module
from dockyard.cli.progress import LineProgress, LiveProgress, render_build
from dockyard.digest import Digest
from dockyard.plan.model import Job
from dockyard.platform import Platform

ARM64 = Platform("linux", "arm64")
JOB = Job("api", ARM64, Path("."), Path("Dockerfile"), {})
DIGEST = Digest("sha256", "a" * 64)


def test_line_progress_says_what_changes():
    lines: list[str] = []
    view = LineProgress(lines.append)
    view.start([JOB])
    view.state(JOB, "resolving")  # not worth a line
    view.state(JOB, "building")
    view.done(JobResult("api", ARM64, JOB.key, "built", seconds=61.5, cache_hits=1, steps=4))
    assert lines == [
        "build: 1 job",
        "api-linux-arm64: building",
        "api-linux-arm64: built (1/4 steps cached) (1m01s)",
    ]


def _text(renderable) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_live_progress_shows_each_job_state_and_cache_hits():
    view = LiveProgress()
    other = Job("web", ARM64, Path("."), Path("Dockerfile"), {})
    view.start([JOB, other])
    view.state(other, "building")
    view.done(JobResult("api", ARM64, JOB.key, "built", seconds=2.0, cache_hits=3, steps=5))
    rows = [line.split() for line in _text(view).splitlines()]
    assert rows[0][:4] == ["target", "platform", "state", "elapsed"]
    assert rows[1] == ["api", "linux/arm64", "built", "2.0s", "3/5"]
    assert rows[2][:3] == ["web", "linux/arm64", "building"]


def test_render_build_shows_failed_tails_and_a_line_per_target(monkeypatch):
    console = Console(width=200, record=True, color_system=None)
    monkeypatch.setattr(progress_module, "console", lambda: console)
    failed = JobResult(
        "web", ARM64, "web-linux-arm64", "failed", error="boom",
        log_path=Path("dist/logs/web-linux-arm64.log"), log_tail=("STEP 2/2: RUN false", "Error: x"),
    )  # fmt: skip
    ok = JobResult("api", ARM64, "api-linux-arm64", "skipped", digest=DIGEST)
    result = BuildResult(
        Path("dist"),
        "buildah 1.28.2",
        (
            TargetResult("api", Path("dist/oci/api"), "dev", (ok,), index_digest=DIGEST),
            TargetResult("web", Path("dist/oci/web"), "dev", (failed,)),
        ),
        seconds=1.0,
    )
    render_build(result)
    assert console.export_text().splitlines() == [
        "── web-linux-arm64: last 2 lines of dist/logs/web-linux-arm64.log ──",
        "STEP 2/2: RUN false",
        "Error: x",
        f"api  oci:dist/oci/api:dev  {DIGEST} (unchanged)",
        "web  no index written: 1 job(s) failed",
        "1 of 2 build jobs failed (web-linux-arm64) in 1.0s",
    ]
