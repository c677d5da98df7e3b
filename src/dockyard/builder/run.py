"""Build orchestration: the plan's jobs -> one multi-platform index per target in its layout.

    result = build_plan(plan, output=Path("dist"), backend=get_backend("buildah"), jobs=4)

Per job (target x platform), concurrently on `jobs` threads:

1. read and parse the Dockerfile with the job's args; resolve every needed
   stage's base to the digest of the manifest for the platform that stage
   runs on (one RegistryClient and one resolve cache for the run) and build
   from a copy whose FROMs name those digests (design.md: the trap);
2. compute the input hash (build.inputs) over the pinned text, the declared
   args, the platform, the base digests, the builder and its version;
3. skip when the target's layout already holds an image for the platform
   whose index entry carries that hash; else look in the target's registries
   (each of its tags: an index whose child for the platform carries the hash)
   and copy that child instead of building; a registry that is down or has
   nothing is no error; `no_cache` skips both;
4. else check that foreign RUN steps can be emulated, and build with the
   backend into `<output>/oci/<target>` under the platform's tag, the log in
   `<output>/logs/<job key>.log`.

Then per target, only when every job succeeded: the index over every
platform (each entry annotated with the input hash and its base pin, the
plan's annotations on the index) is put into the layout under the plan
version; an identical index is not rewritten. When a job failed, the
layout's index.json is put back as it was before the run (the backend names
each platform image as it finishes), so no name points at a partial target.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from dockyard.builder.backends import Backend, get_backend
from dockyard.builder.backends.request import BuildOutput, BuildRequest
from dockyard.builder.inputs import InputHash, input_hash
from dockyard.builder.jobrules import (
    emulated_platforms,
    hashed_args,
    hashed_labels,
    image_format,
    layout_tag,
    platform_tag,
    source_date_epoch,
    target_caches,
)
from dockyard.builder.resolve import ResolvedBase, base_stage, pins_for, resolve_bases
from dockyard.builder.result import BasePin, BuildResult, JobResult, TargetResult
from dockyard.builder.reuse import RegistryReuse
from dockyard.builder.targetlayout import (
    find_in_layout,
    image_stats,
    read_index_json,
    restore_index_json,
    write_index,
)
from dockyard.dockerfile.parse import Dockerfile, parse_dockerfile
from dockyard.dockerfile.pinning import pin
from dockyard.emulation import BINFMT_ROOT, ensure_emulation
from dockyard.errors import BuildFailed, DockyardError, InputError
from dockyard.oci.registry import RegistryClient
from dockyard.plan.model import Job, Plan, TargetPlan

log = logging.getLogger("dockyard.build")


def default_jobs() -> int:
    """Parallel jobs by default: one per core (each job is mostly one builder process)."""
    return os.cpu_count() or 1


@dataclass(frozen=True)
class TargetCache:
    """A target's shared layer cache, in buildx's syntax (made per platform at build time)."""

    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()


class BuildProgress(Protocol):
    """What the run tells a progress view; called from worker threads."""

    def start(self, jobs: Sequence[Job]) -> None: ...

    def state(self, job: Job, state: str) -> None: ...

    def done(self, result: JobResult) -> None: ...


class _Quiet:
    def start(self, jobs: Sequence[Job]) -> None:
        pass

    def state(self, job: Job, state: str) -> None:
        pass

    def done(self, result: JobResult) -> None:
        pass


def build_plan(
    plan: Plan,
    *,
    output: Path = Path("dist"),
    backend: Backend | None = None,
    jobs: int | None = None,
    no_cache: bool = False,
    client: RegistryClient,
    progress: BuildProgress | None = None,
    caches: Mapping[str, TargetCache] | None = None,
    pin_bases: bool = True,
    binfmt_root: Path | None = None,
) -> BuildResult:
    """Build every job of the plan; one TargetResult per target (see the module docstring).

    `client` is the run's registry client (bases, reuse); the builder gets the
    same trust (insecure hosts, CA). `caches` maps target names to their cache
    specs. `pin_bases=False` builds
    from the Dockerfile as written: only for showing what pinning prevents.
    `binfmt_root` replaces /proc/sys/fs/binfmt_misc in the emulation check (tests).
    """
    workers = default_jobs() if jobs is None else jobs
    if workers < 1:
        raise InputError(f"--jobs {workers}: expected at least 1")
    backend = backend or get_backend()
    builder = f"{backend.name} {backend.version()}"  # fails fast when the builder is missing
    started = time.monotonic()
    run = _Run(
        plan=plan,
        output=Path(output),
        backend=backend,
        builder=builder,
        client=client,
        progress=progress or _Quiet(),
        no_cache=no_cache,
        pin_bases=pin_bases,
        binfmt_root=binfmt_root,
        caches=dict(caches or {}),
        # the builder trusts what the client trusts
        insecure=tuple(sorted(client.options.insecure_registries)),
        ca_cert=client.options.ca_cert,
    )
    targets = run.all(workers)
    return BuildResult(
        output=Path(output), builder=builder, targets=targets, seconds=time.monotonic() - started
    )


@dataclass(frozen=True)
class _Prepared:
    """One job's inputs, ready to build: the pinned text, its hash, its pins."""

    df: Dockerfile
    text: str
    hash: InputHash
    bases: tuple[BasePin, ...]
    image_base: BasePin | None
    format: str


@dataclass
class _Run:
    plan: Plan
    output: Path
    backend: Backend
    builder: str
    client: RegistryClient
    progress: BuildProgress
    no_cache: bool
    pin_bases: bool
    binfmt_root: Path | None
    caches: dict[str, TargetCache]
    insecure: tuple[str, ...]
    ca_cert: str | None
    resolve_cache: dict = field(default_factory=dict)  # build.resolve's, shared by the jobs

    def __post_init__(self) -> None:
        self.registries = RegistryReuse(self.client)

    def layout(self, target: TargetPlan) -> Path:
        return self.output / "oci" / target.name

    def log_path(self, job: Job) -> Path:
        return self.output / "logs" / f"{job.key}.log"

    def all(self, workers: int) -> tuple[TargetResult, ...]:
        saved = {t.name: read_index_json(self.layout(t)) for t in self.plan.targets}
        every = [job for t in self.plan.targets for job in t.jobs]
        self.progress.start(every)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="build") as pool:
            futures = {
                job.key: pool.submit(self.job, target, job)
                for target in self.plan.targets
                for job in target.jobs
            }
            results = {key: future.result() for key, future in futures.items()}
        return tuple(
            self.finish(t, tuple(results[j.key] for j in t.jobs), saved[t.name])
            for t in self.plan.targets
        )

    # ------------------------------------------------------------ one job

    def job(self, target: TargetPlan, job: Job) -> JobResult:
        started = time.monotonic()
        started_at = datetime.now(UTC)
        self.progress.state(job, "resolving")
        layout = self.layout(target)
        prepared: _Prepared | None = None
        try:
            prepared = self.prepare(target, job)
            result = self.obtain(target, job, prepared, layout)
        except BuildFailed as exc:
            result = _failed(job, exc, prepared, log_tail=exc.log_tail, log_path=self.log_path(job))
        except DockyardError as exc:
            result = _failed(job, exc, prepared)
        result = _with(
            result,
            seconds=time.monotonic() - started,
            started_at=started_at,
            finished_at=datetime.now(UTC),
        )
        self.progress.done(result)
        return result

    def prepare(self, target: TargetPlan, job: Job) -> _Prepared:
        text = read_dockerfile(job.dockerfile)
        df = parse_dockerfile(text, path=str(job.dockerfile), args=job.args)
        resolved: list[ResolvedBase] = []
        pinned = text
        image_base = None
        if self.pin_bases:
            resolved = resolve_bases(
                df,
                build=self.plan.build_platform,
                target=job.platform,
                args=job.args,
                client=self.client,
                stage=target.stage,
                cache=self.resolve_cache,
            )
            pinned = pin(df, pins_for(resolved))
            final = base_stage(
                df,
                build=self.plan.build_platform,
                target=job.platform,
                args=job.args,
                stage=target.stage,
            )
            image_base = next((_pin(r) for r in resolved if r.stage == final), None)
        fmt = image_format(df, target.stage)
        digest = input_hash(
            context=job.context,
            dockerfile_text=pinned,
            args=hashed_args(job.args, df),
            platform=job.platform,
            base_digests=[r.digest for r in resolved],
            builder=self.builder,
            target_stage=target.stage,
            extra={"format": fmt, "labels": hashed_labels(target.labels)},
            dockerfile=job.dockerfile,
        )
        return _Prepared(df, pinned, digest, tuple(_pin(r) for r in resolved), image_base, fmt)

    def obtain(self, target: TargetPlan, job: Job, prep: _Prepared, layout: Path) -> JobResult:
        """Skip, reuse or build: the job's image in the layout."""
        done = JobResult(
            target=target.name,
            platform=job.platform,
            key=job.key,
            state="built",
            input_hash=prep.hash.digest,
            bases=prep.bases,
            image_base=prep.image_base,
        )
        if not self.no_cache:
            found = find_in_layout(layout, job.platform, prep.hash.digest)
            if found is not None:
                return _with(done, state="skipped", digest=found, stats=image_stats(layout, found))
            match = self.registries.find(target.references, job.platform, prep.hash.digest)
            if match is not None:
                ref, digest = match
                source = f"{ref.name}@{digest}"
                self.progress.state(job, "reusing")
                failure = self.registries.copy(ref, digest, layout, tag=platform_tag(job.platform))
                if failure is None:
                    stats = image_stats(layout, digest)
                    return _with(
                        done, state="reused", digest=digest, reused_from=source, stats=stats
                    )
                done = _with(done, reuse_error=f"{source}: {failure}")
        out = self.build(target, job, prep, layout)
        return _with(
            done,
            digest=out.digest,
            cache_hits=out.cache_hits,
            steps=out.steps,
            log_path=out.log_path,
            stats=image_stats(layout, out.digest),
        )

    def build(self, target: TargetPlan, job: Job, prep: _Prepared, layout: Path) -> BuildOutput:
        host = self.plan.build_platform
        foreign = emulated_platforms(
            prep.df, build=host, target=job.platform, args=job.args, host=host, stage=target.stage
        )
        if foreign and self.backend.emulates_on_host:
            ensure_emulation(foreign, host=host, root=self.binfmt_root or BINFMT_ROOT)
        self.progress.state(job, "building")
        cache = self.caches.get(target.name, TargetCache())
        timestamp = None
        if self.plan.context.timestamp:
            timestamp = source_date_epoch(self.plan.created)
        request = BuildRequest(
            target=job.target,
            job_key=job.key,
            platform=job.platform,
            context=job.context,
            dockerfile_text=prep.text,
            args=job.args,
            target_stage=target.stage,
            output=layout,
            tag=platform_tag(job.platform),
            log_path=self.log_path(job),
            format="docker" if prep.format == "docker" else "oci",
            timestamp=timestamp,
            no_cache=self.no_cache,
            labels=target.labels,
            cache_from=target_caches(cache.cache_from, job.platform, backend=self.backend),
            cache_to=target_caches(cache.cache_to, job.platform, backend=self.backend),
            insecure_registries=self.insecure,
            tls_registries=tuple(sorted(self.client.session.verified_hosts())),
            ca_cert=Path(self.ca_cert) if self.ca_cert else None,
        )
        return self.backend.build(request)

    # ------------------------------------------------------------ per target

    def finish(
        self, target: TargetPlan, jobs: tuple[JobResult, ...], saved: bytes | None
    ) -> TargetResult:
        layout = self.layout(target)
        tag = layout_tag(self.plan.version)
        result = TargetResult(name=target.name, layout=layout, tag=tag, jobs=jobs)
        if not result.ok:
            restore_index_json(layout, saved)
            return result
        try:
            digest, written = write_index(layout, jobs, annotations=target.annotations, tag=tag)
        except DockyardError as exc:
            restore_index_json(layout, saved)
            return _with(result, error=f"{target.name}: writing the index failed: {exc}")
        return _with(result, index_digest=digest, index_written=written)


# ---------------------------------------------------------------- helpers (I/O)


def read_dockerfile(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"{path}: no such Dockerfile (check the target's dockerfile/context)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"{path}: cannot read the Dockerfile ({reason})") from None


# ---------------------------------------------------------------- results


def _pin(r: ResolvedBase) -> BasePin:
    return BasePin(r.stage, r.base, str(r.reference), r.platform, r.digest)


def _with(result, **changes):
    return replace(result, **changes)


def _failed(
    job: Job,
    exc: DockyardError,
    prep: _Prepared | None,
    *,
    log_tail: Sequence[str] = (),
    log_path: Path | None = None,
) -> JobResult:
    message = str(exc)
    if not isinstance(exc, BuildFailed):
        message = f"build {job.target} {job.platform}: {message}"
    return JobResult(
        target=job.target,
        platform=job.platform,
        key=job.key,
        state="failed",
        input_hash=prep.hash.digest if prep else None,
        bases=prep.bases if prep else (),
        image_base=prep.image_base if prep else None,
        error=message,
        exit_code=exc.exit_code,
        log_tail=tuple(log_tail),
        log_path=log_path,
    )


# ---------------------------------------------------------------- from the files (CLI)
