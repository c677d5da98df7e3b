"""`dockyard release`: plan -> build -> verify -> scan -> publish -> summary, or stop before publishing.

    with Workspace(Settings(registries=("ghcr.io/acme",), ref="v1.2.3", sha=sha)) as ws:
        result = release(ws)

1. The workspace's plan (Settings.registries, when given, replace the config's);
   a release with no registry at all is refused before anything runs (exit 2).
2. Build every target (builder.run: unchanged images are skipped from the
   layout or reused from the registries; one index per target in its layout).
   A failed job stops the release: nothing is verified or published.
3. Verify each target's index in its layout, by the digest the build wrote,
   with the target's [policy] (platforms: the plan's; non-root, healthcheck,
   max-size, require-labels) and, when the target has `smoke` configured, a
   smoke run of that argv on every platform (qemu for the foreign ones).
   Every target is verified, then ANY error finding stops the release:
   nothing is published anywhere. A target is not verified again only when
   every registry holds a verification record of the same index digest made
   with the same settings (publish/records.py); `no_cache` always verifies.
   Then, when the config has [scan], the vulnerability gate (pipeline/scan.py:
   its scanner is found before the build, so no database stops the release at
   once, exit 2): every target's index is scanned in its layout, and a finding
   at or above [scan] fail-on stops the release at "scan": nothing is published.
4. Publish (publish.publish): every target to every registry, atomically;
   tags move only when every registry holds every index and the record of
   each index verified in this run, and only forwards: a tag that points at
   a newer release than this run's stops the run before any tag moves
   (publish/order.py), unless `force`. With `[sign] key`, every index and
   child is signed on every registry between publish's two phases (the key
   is read before the build: a bad key is bad input, nothing is built), so
   no tag points at an unsigned image. `dry_run` reports
   what would move and moves nothing. With [retain], every repository
   published to is then pruned (pipeline/prune.py), this release's tags kept;
   its failure stops the run at "retain" (exit 1) after the publish.
5. The summary rows (target x registry), appended to $GITHUB_STEP_SUMMARY and
   $GITHUB_OUTPUT when those are set (also for a failed publish: the rows say
   where every tag is).

A stage that fails does not raise: the ReleaseResult says which stage
stopped the run, why (one line) and the exit code; the CLI renders it and
exits. Bad input (config, references, no registry) raises InputError.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dockyard.builder.backends import Backend
from dockyard.builder.result import BuildResult, TargetResult
from dockyard.builder.run import BuildProgress, build_plan
from dockyard.errors import EXIT_FAILED, EXIT_OK, InputError, OperationError, PublishFailed
from dockyard.evidence.sign.keys import SigningKey
from dockyard.oci.layout import LayoutStore
from dockyard.pipeline.evidence import EvidenceCounts, attach_evidence
from dockyard.pipeline.github import write_github
from dockyard.pipeline.prune import prune_release
from dockyard.pipeline.scan import ReleaseGate, TargetScan, gate_message, release_gate
from dockyard.pipeline.sign import publish_signer, release_key
from dockyard.plan.model import Plan, TargetPlan
from dockyard.publish.publish import PublishItem, PublishResult, publish
from dockyard.publish.records import new_record, recorded_everywhere, verify_options
from dockyard.publish.retain import RetainResult
from dockyard.publish.summary import SummaryRow
from dockyard.verify.image import verify_image
from dockyard.verify.record import Record
from dockyard.verify.report import Report
from dockyard.workspace import Workspace

Say = Callable[[str], None]

# Stages a release can stop at (ReleaseResult.stopped).
BUILD, VERIFY, SCAN, PUBLISH = "build", "verify", "scan", "publish"
RETAIN = "retain"  # [retain] failed after a publish that succeeded

NO_REGISTRY = (
    "no registry to release to: set [project] registries in dockyard.toml "
    "or pass --registry HOST[/PATH] (e.g. ghcr.io/acme), once per registry"
)


@dataclass(frozen=True)
class TargetVerify:
    """One target's verification: its report, or why it could not be verified."""

    target: str
    report: Report | None
    seconds: float = 0.0
    error: str = ""  # verify itself failed (the layout could not be read, ...)
    # Not verified here: every registry holds this record of the same index,
    # made with the same settings (publish/records.py).
    recorded: Record | None = None
    # The record of this verify (when it passed): publish attaches it.
    record: Record | None = None

    @property
    def ok(self) -> bool:
        if self.recorded is not None:
            return True
        return not self.error and self.report is not None and self.report.ok

    @property
    def summary(self) -> str:
        """The summary table's cell: 'passed', 'passed, smoke ok, 1 warning', '2 errors',
        'verified 2026-12-02 (record)' (skipped: a record says it passed then)."""
        if self.recorded is not None:
            return f"verified {self.recorded.date} (record)"
        if self.error or self.report is None:
            return "failed"
        report = self.report
        if not report.ok:
            n = len(report.errors)
            return f"{n} error{'s' if n != 1 else ''}"
        parts = ["passed"]
        if any(p.smoke is not None for p in report.platforms):
            parts.append("smoke ok")
        warnings = sum(f.severity == "warning" for f in report.findings)
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "result": self.summary,
            "seconds": round(self.seconds, 3),
            "error": self.error or None,
            "skipped": self.recorded is not None,
            "record": _record_json(self.recorded or self.record),
            "report": None if self.report is None else self.report.to_json(),
        }


def _record_json(record: Record | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "verified_at": record.to_json()["verified_at"],
        "settings_hash": record.settings_hash,
        "dockyard_version": record.dockyard_version,
        "findings": dict(record.findings),
    }


@dataclass(frozen=True)
class ReleaseResult:
    """What a release did: the build, each target's verification and the publish, or where it stopped."""

    plan: Plan
    build: BuildResult
    verify: tuple[TargetVerify, ...] = ()
    scan: tuple[TargetScan, ...] = ()  # empty when the config has no [scan]
    evidence: Mapping[str, EvidenceCounts] = field(default_factory=dict)  # target -> counts
    publish: PublishResult | None = None
    retained: tuple[RetainResult, ...] = ()  # [retain] after the publish, one per repository
    dry_run: bool = False
    seconds: float = 0.0
    stopped: str = ""  # "" when done; else the stage that failed: build | verify | scan | publish
    error: str = ""  # one line: why it stopped
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return not self.stopped

    def rows(self) -> list[SummaryRow]:
        """The summary: one row per target and registry (see summary_rows)."""
        return summary_rows(self)

    def to_json(self) -> dict[str, Any]:
        context = self.plan.context
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "stopped": self.stopped or None,
            "error": self.error or None,
            "project": self.plan.project,
            "version": self.plan.version,
            "context": {"event": context.event, "ref": context.ref, "sha": context.sha},
            "duration": round(self.seconds, 3),
            "summary": [row.to_json() for row in self.rows()],
            "build": self.build.to_json(),
            "verify": [v.to_json() for v in self.verify],
            "scan": [s.to_json() for s in self.scan],
            "evidence": {name: c.to_json() for name, c in self.evidence.items()},
            "publish": None if self.publish is None else self.publish.to_json(),
            "retain": [r.to_json() for r in self.retained],
        }


# ---------------------------------------------------------------- the run


def release(
    ws: Workspace,
    *,
    dry_run: bool = False,
    build_progress: BuildProgress | None = None,
    say: Say | None = None,
    force: bool = False,
) -> ReleaseResult:
    """Build, verify and publish the workspace's plan, then the GitHub files (see the module docstring).

    `force` moves tags that point at a newer release (publish/order.py) instead of stopping."""
    backend = ws.backend  # config, then builder, then plan: the order errors are told in
    plan = ws.plan
    _check_registries(plan)
    gate = release_gate(ws)  # [scan]: its scanner (or no database, exit 2) before any build
    key = release_key(ws)  # [sign]: the key is read now (bad key: exit 2) before any build
    result = _release(
        ws, plan, backend, gate, key, dry_run=dry_run, build_progress=build_progress, say=say,
        force=force,
    )
    if result.stopped != BUILD:
        write_github_files(result, environ=ws.environ)
    return result


def _release(
    ws: Workspace,
    plan: Plan,
    backend: Backend,
    gate: ReleaseGate | None,
    key: SigningKey | None,
    *,
    dry_run: bool,
    build_progress: BuildProgress | None,
    say: Say | None,
    force: bool = False,
) -> ReleaseResult:
    say = say or (lambda _: None)
    started = time.monotonic()
    s = ws.settings
    client = ws.registry
    built = build_plan(
        plan,
        output=s.output,
        backend=backend,
        jobs=s.jobs,
        no_cache=s.no_cache,
        client=client,
        progress=build_progress,
        caches=ws.caches,
    )
    done = ReleaseResult(plan=plan, build=built, dry_run=dry_run)
    if not built.ok:
        return _stop(done, BUILD, f"build failed: {built.summary()}; nothing was published", started,
                     code=built.exit_code)  # fmt: skip
    digests = {t.name: t.index_digest for t in built.targets}
    recorded = {} if s.no_cache else recorded_everywhere(plan.targets, digests, client)
    verified = tuple(
        TargetVerify(target.name, None, recorded=recorded[target.name])
        if target.name in recorded
        else _verify(target, result, say)
        for target, result in _pairs(plan, built)
    )
    done = replace(done, verify=verified)
    failed = [v for v in verified if not v.ok]
    if failed:
        return _stop(done, VERIFY, _verify_message(failed), started)
    if gate is not None:
        done = replace(done, scan=gate.run(plan, built, say=say))
        unsafe = [s for s in done.scan if not s.ok]
        if unsafe:
            return _stop(done, SCAN, gate_message(unsafe), started)
    # SBOMs and provenance go into the layouts by digest; publish carries them everywhere.
    done = replace(done, evidence=attach_evidence(ws, plan, built, key=key, say=say))
    items = publish_items(plan, built, records={v.target: v.record for v in verified})
    say(_publish_line(items, dry_run=dry_run))
    # The registry deadline (--timeout) counts from here: the builds before it are not registry work.
    client.session.deadline.restart("publish")
    try:
        sign = publish_signer(key) if key is not None else None
        published = publish(items, client=client, dry_run=dry_run, sign=sign, force=force)
    except PublishFailed as exc:
        return _stop(replace(done, publish=exc.result), PUBLISH, str(exc), started)
    except InputError:
        raise
    except OperationError as exc:
        return _stop(done, PUBLISH, f"publish failed: {exc}", started)
    done = replace(done, publish=published)
    if dry_run or ws.config.retain is None:
        return replace(done, seconds=time.monotonic() - started)
    try:  # [retain]: prune every repository published to, this release's tags kept
        retained = prune_release(ws, published, ws.config.retain)
    except InputError:
        raise
    except OperationError as exc:
        why = f"published; then [retain] failed: {exc}"
        return _stop(done, RETAIN, why, started)
    return replace(done, retained=retained, seconds=time.monotonic() - started)


def _stop(result: ReleaseResult, stage: str, error: str, started: float, *, code: int = EXIT_FAILED) -> ReleaseResult:
    return replace(result, stopped=stage, error=error, exit_code=code, seconds=time.monotonic() - started)


def _check_registries(plan: Plan) -> None:
    """Every target must have a repository: a bare `fleet-api` (no registry configured)
    has none in the plan, and it must not go to Docker Hub by accident."""
    if any(not target.repositories for target in plan.targets):
        raise InputError(NO_REGISTRY)


def _pairs(plan: Plan, built: BuildResult) -> list[tuple[TargetPlan, TargetResult]]:
    results = {t.name: t for t in built.targets}
    return [(target, results[target.name]) for target in plan.targets]


# ---------------------------------------------------------------- verify


def _verify(target: TargetPlan, built: TargetResult, say: Say) -> TargetVerify:
    """The target's index in its layout, checked against its policy (smoke when configured)."""
    started = time.monotonic()
    expect = verify_options(target)
    say(f"verify {target.name}: oci:{built.layout}:{built.tag}")
    try:
        # By its layout tag (buildah's smoke runs read a layout by tag), then
        # checked to be the index the build wrote: what is published is what
        # was verified.
        report = verify_image(
            (LayoutStore(built.layout), built.tag),
            expect=expect,
            name=f"oci:{built.layout}:{built.tag}",
            progress=lambda message: say(f"verify {target.name}: {message}"),
        )
    except OperationError as exc:
        return TargetVerify(target.name, None, time.monotonic() - started, f"{target.name}: {exc}")
    seconds = time.monotonic() - started
    if report.digest != str(built.index_digest):
        error = (
            f"{target.name}: the layout's {built.tag} is {report.digest}, not the index the "
            f"build wrote ({built.index_digest}); another run changed {built.layout}"
        )
        return TargetVerify(target.name, report, seconds, error)
    record = new_record(target, report) if report.ok else None
    return TargetVerify(target.name, report, seconds, record=record)


def _verify_message(failed: Sequence[TargetVerify]) -> str:
    parts = []
    for v in failed:
        if v.error:
            parts.append(v.error)
        elif v.report is not None:
            rules = ", ".join(sorted({f.rule for f in v.report.errors}))
            parts.append(f"{v.target}: {len(v.report.errors)} error finding(s) ({rules})")
    return "verify failed, nothing was published: " + "; ".join(parts)


# ---------------------------------------------------------------- publish


def publish_items(
    plan: Plan, built: BuildResult, *, records: Mapping[str, Record | None] | None = None
) -> list[PublishItem]:
    """One PublishItem per target: the built index, by digest, to every repository with the
    target's tags, and the target's new verification record (`records`, by target) to attach."""
    results = {t.name: t for t in built.targets}
    items = []
    for target in plan.targets:
        result = results[target.name]
        assert result.index_digest is not None  # a target without an index stopped the build
        items.append(
            PublishItem(
                target=target.name,
                source=LayoutStore(result.layout),
                reference=str(result.index_digest),
                repositories=target.repositories,
                tags=target.tag_names,
                record=(records or {}).get(target.name),
            )
        )
    return items


def _publish_line(items: Sequence[PublishItem], *, dry_run: bool) -> str:
    repositories = sorted({r.registry for item in items for r in item.repositories})
    verb = "dry run: what would be published" if dry_run else "publish"
    return f"{verb}: {len({i.target for i in items})} target(s) to {', '.join(repositories)}"


# ---------------------------------------------------------------- summary


def summary_rows(result: ReleaseResult) -> list[SummaryRow]:
    """Target x registry. Time: the target's build (its longest job) + its verify + this
    registry's push; before publish, the rows say why nothing was published."""
    spent = _target_seconds(result)
    verify = {v.target: v.summary for v in result.verify}
    if result.publish is not None:
        return [
            replace(row, seconds=row.seconds + spent.get(row.target, 0.0))
            for row in result.publish.summary_rows(verify=verify)
        ]
    state = f"not published ({result.stopped} failed)" if result.stopped else "not published"
    built = {t.name: t for t in result.build.targets}
    rows = []
    for target in result.plan.targets:
        t = built.get(target.name)
        size = sum(j.stats.size_compressed for j in t.jobs) if t else 0
        for repository in target.repositories:
            rows.append(
                SummaryRow(
                    target=target.name,
                    repository=repository.name,
                    tags=target.tag_names,
                    digest=str(t.index_digest) if t and t.index_digest else "",
                    platforms=tuple(str(p) for p in target.platforms),
                    size=size,
                    verify=verify.get(target.name, ""),
                    seconds=spent.get(target.name, 0.0),
                    state=state,
                )
            )
    return rows


def _target_seconds(result: ReleaseResult) -> dict[str, float]:
    spent = {t.name: max((j.seconds for j in t.jobs), default=0.0) for t in result.build.targets}
    for v in result.verify:
        spent[v.target] = spent.get(v.target, 0.0) + v.seconds
    return spent


def write_github_files(result: ReleaseResult, *, environ: Mapping[str, str] | None = None) -> None:
    """$GITHUB_STEP_SUMMARY (Markdown) and $GITHUB_OUTPUT (digest-/tags-<target>, json), when set."""
    title = "dockyard release" + (" (dry run)" if result.dry_run else "")
    published = result.ok and not result.dry_run
    write_github(
        result.rows(), document=result.to_json(), environ=environ, title=title, outputs=published
    )
