"""What a build did: per job and per target, as plain data (pure).

`builder.run.build_plan` returns a BuildResult; `dockyard build --json` prints
`BuildResult.to_json()`; `release` reads the index digests and layouts.

Job states, final: "built" (the builder ran), "skipped" (the layout already
held an image with the same input hash), "reused" (copied from a registry
whose image carries the same input hash), "failed". While running, the
progress view also sees "resolving", "building" and "reusing". A job that
found its image in a registry but could not copy it is "built" with
`reuse_error` set: summaries count it apart ("built after a failed reuse"),
since a re-release that should rebuild nothing must show its slow path.

Sizes: `size_compressed` is the sum of the layer blobs' sizes as the
manifest gives them (what a pull downloads, config excluded);
`size_uncompressed` the sum of the layers' tar sizes, taken cheaply from each
gzip layer's trailer (ISIZE: exact for layers under 4 GiB unpacked) or the
size of an uncompressed layer; None when a layer is in another compression
(zstd), where only a full decompression could tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from dockyard.digest import Digest
from dockyard.errors import EXIT_FAILED, EXIT_INPUT, EXIT_OK
from dockyard.platform import Platform

JobState = Literal["built", "skipped", "reused", "failed"]
RUNNING_STATES = ("resolving", "building", "reusing")
FINAL_STATES: tuple[JobState, ...] = ("built", "skipped", "reused", "failed")


@dataclass(frozen=True)
class BasePin:
    """One stage's base resolved for the platform it runs on (build.resolve.ResolvedBase)."""

    stage: int
    base: str  # as the Dockerfile names it, ARGs expanded
    reference: str  # normalised: docker.io/library/...
    platform: Platform
    digest: Digest  # of that platform's image manifest

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "base": self.base,
            "reference": self.reference,
            "platform": str(self.platform),
            "digest": str(self.digest),
        }


@dataclass(frozen=True)
class ImageStats:
    """Layers and sizes of one image manifest (see the module docstring for the sizes)."""

    layers: int = 0
    size_compressed: int = 0
    size_uncompressed: int | None = None


@dataclass(frozen=True)
class JobResult:
    target: str
    platform: Platform
    key: str  # Job.key: "api-linux-arm64"
    state: JobState
    seconds: float = 0.0
    digest: Digest | None = None  # the platform's image manifest in the layout
    input_hash: Digest | None = None
    bases: tuple[BasePin, ...] = ()
    image_base: BasePin | None = None  # the final stage's base: the image's base.name/digest
    cache_hits: int = 0  # steps the builder took from its cache (0 unless built)
    steps: int = 0  # steps the builder ran or reused (0 unless built)
    stats: ImageStats = ImageStats()
    log_path: Path | None = None
    reused_from: str | None = None  # "repo@sha256:..." for a reused image
    reuse_error: str | None = (
        None  # "repo@sha256:...: why": found in a registry, copy failed, built
    )
    error: str | None = None  # one line, for a failed job
    exit_code: int = EXIT_OK  # of the error: 2 bad input, 1 failed
    log_tail: tuple[str, ...] = ()  # last builder log lines of a failed build
    # When the job ran (UTC), for the provenance statement; not in --json (seconds is).
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.state != "failed"

    def describe(self) -> str:
        """The state as a person reads it: 'skipped (unchanged)', 'reused from repo@…'."""
        if self.state == "skipped":
            return "skipped (unchanged)"
        if self.state == "reused":
            return f"reused from {self.reused_from}"
        if self.state == "failed":
            return f"failed: {self.error}"
        built = f"built ({self.cache_hits}/{self.steps} steps cached)"
        return f"{built} after reuse failed: {self.reuse_error}" if self.reuse_error else built

    @property
    def count_as(self) -> str:
        """The summary's bucket: the state, with a failed reuse apart from a plain build."""
        return "reuse_failed" if self.state == "built" and self.reuse_error else self.state

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": str(self.platform),
            "key": self.key,
            "state": self.state,
            "duration": round(self.seconds, 3),
            "digest": _text(self.digest),
            "input_hash": _text(self.input_hash),
            "cache_hits": self.cache_hits,
            "steps": self.steps,
            "layers": self.stats.layers,
            "size": {
                "compressed": self.stats.size_compressed,
                "uncompressed": self.stats.size_uncompressed,
            },
            "bases": [b.to_json() for b in self.bases],
            "image_base": None if self.image_base is None else self.image_base.to_json(),
            "log": _text(self.log_path),
            "reused_from": self.reused_from,
            "reuse_error": self.reuse_error,
            "error": self.error,
        }


@dataclass(frozen=True)
class TargetResult:
    name: str
    layout: Path  # <output>/oci/<target>
    tag: str  # the index's name in the layout (the plan version, sanitised)
    jobs: tuple[JobResult, ...]
    index_digest: Digest | None = None  # None when a job failed: no index was written
    index_written: bool = False  # False: failed, or identical to the index already there
    error: str | None = None  # writing the index failed (every job may have succeeded)

    @property
    def ok(self) -> bool:
        return self.error is None and all(j.ok for j in self.jobs)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "layout": str(self.layout),
            "tag": self.tag,
            "index_digest": _text(self.index_digest),
            "index_written": self.index_written,
            "error": self.error,
            "jobs": [j.to_json() for j in self.jobs],
        }


@dataclass(frozen=True)
class BuildResult:
    """What a build run did: every target's jobs, states and index (`ok`, `exit_code`, `error`)."""

    output: Path
    builder: str  # "buildah 1.28.2"
    targets: tuple[TargetResult, ...]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.targets)

    @property
    def jobs(self) -> tuple[JobResult, ...]:
        return tuple(j for t in self.targets for j in t.jobs)

    @property
    def failed(self) -> tuple[JobResult, ...]:
        return tuple(j for j in self.jobs if not j.ok)

    @property
    def exit_code(self) -> int:
        """0 all done; 2 when every failure was bad input (a Dockerfile error); else 1."""
        if self.ok:
            return EXIT_OK
        failed = self.failed
        only_input = all(j.exit_code == EXIT_INPUT for j in failed)
        if failed and only_input and not any(t.error for t in self.targets):
            return EXIT_INPUT
        return EXIT_FAILED

    @property
    def error(self) -> str | None:
        """None when every job built; else one line: the failed job's own error, or the summary."""
        if self.ok:
            return None
        failed = self.failed
        return failed[0].error if len(failed) == 1 and failed[0].error else self.summary()

    def summary(self) -> str:
        """One line: what failed, or how many jobs of each state."""
        failed = self.failed
        if failed:
            keys = ", ".join(j.key for j in failed)
            return f"{len(failed)} of {len(self.jobs)} build jobs failed ({keys})"
        errors = [t.error for t in self.targets if t.error]
        if errors:
            return "; ".join(errors)
        counts = self.counts()
        parts = [f"{counts[s]} {s}" for s in FINAL_STATES[:3]]
        if counts["reuse_failed"]:
            parts.insert(1, f"{counts['reuse_failed']} built after a failed reuse")
        return f"{len(self.jobs)} jobs: " + ", ".join(parts)

    def counts(self) -> dict[str, int]:
        """Jobs per summary bucket: built, reuse_failed (built after it), skipped, reused, failed."""
        buckets = dict.fromkeys(("built", "reuse_failed", "skipped", "reused", "failed"), 0)
        for job in self.jobs:
            buckets[job.count_as] += 1
        return buckets

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "output": str(self.output),
            "builder": self.builder,
            "duration": round(self.seconds, 3),
            "counts": self.counts(),
            "targets": [t.to_json() for t in self.targets],
        }


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)
