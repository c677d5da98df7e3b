"""`dockyard release`: build, verify and publish every target to every registry, or publish nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.app import app
from dockyard.cli.options import (
    BakeSet,
    BuilderOpt,
    BuildJobs,
    CaCert,
    EventOpt,
    ForceOrder,
    InsecureRegistries,
    JsonFlag,
    NoCache,
    OutputDir,
    PlatformOpt,
    ProjectFiles,
    RefOpt,
    Registries,
    Selection,
    ShaOpt,
    Timeout,
)


@app.command("release")
def release_command(
    targets: Selection = None,
    ref: RefOpt = None,
    sha: ShaOpt = None,
    event: EventOpt = None,
    registry: Registries = None,
    platform: PlatformOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build and verify, then list every blob, manifest and tag that would move; move nothing.")
    ] = False,
    no_cache: NoCache = False,
    builder: BuilderOpt = None,
    jobs: BuildJobs = None,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    timeout: Timeout = None,
    file: ProjectFiles = None,
    set_: BakeSet = None,
    output: OutputDir = Path("dist"),
    force: ForceOrder = False,
    json_: JsonFlag = False,
) -> None:
    """Build, verify (each target's policy) and publish atomically; a finding publishes nothing."""
    from dockyard.cli.output import emit_json, say, warn_all
    from dockyard.cli.progress import build_progress
    from dockyard.cli.settings import settings
    from dockyard.pipeline.release import release
    from dockyard.workspace import Workspace

    given = settings(
        file=file, bake_set=set_, targets=targets, platform=platform, ref=ref, sha=sha, event=event,
        registry=registry, output=output, builder=builder, jobs=jobs, no_cache=no_cache,
        insecure_registry=insecure_registry, ca_cert=ca_cert, timeout=timeout,
    )  # fmt: skip
    with Workspace(given) as ws, build_progress() as progress:
        warn_all(ws.config.warnings)
        result = release(ws, dry_run=dry_run, build_progress=progress, say=say, force=force)
    if json_:
        emit_json(result.to_json())
    _render(result)
    if not result.ok:
        _raise(result)


def _render(result) -> None:
    from dockyard.cli.output import console
    from dockyard.cli.progress import render_build
    from dockyard.publish.summary import table

    out = console()
    if result.stopped == "build":
        render_build(result.build)
        return
    _render_findings(result, out)
    if result.publish is not None and result.dry_run:
        from rich.markup import escape

        for action in result.publish.actions:
            out.print(escape(action.line()))
    title = "dockyard release" + (" (dry run: nothing moved)" if result.dry_run else "")
    out.print(table(result.rows(), title=title))
    for r in result.retained:  # [retain] after the publish
        out.print(
            f"retain {r.repository}: kept {len(r.plan.kept)} tags, deleted {len(r.plan.deleted)} "
            f"({len(r.plan.manifests)} manifests, {r.api} API)"
        )
    verdict = "done" if result.ok else f"stopped at {result.stopped}"
    out.print(f"{result.plan.version}: {verdict} in {result.seconds:.1f} s")


def _render_findings(result, out) -> None:
    """Every error and warning of every target (the ok checks are in the table's Verify column),
    then the scan's findings at or above its threshold and why a target's scan failed."""
    from rich.markup import escape

    for s in result.scan:
        if s.error:
            out.print(f"[red]{escape(s.error)}[/red]")
        for f in s.result.failing if s.result is not None else ():
            out.print(
                f"{s.target}  {f.platform or '-'}  scan  [red]{f.severity.level}[/red]  "
                f"{escape(f.advisory)} in {escape(f.package)} {escape(f.installed)}"
                + (f" (fixed in {escape(f.fixed)})" if f.fixed else "")
            )

    for v in result.verify:
        if v.error:
            out.print(f"[red]{escape(v.error)}[/red]")
        if v.report is None:
            continue
        for f in v.report.findings:
            if f.severity not in ("error", "warning"):
                continue
            style = "red" if f.severity == "error" else "yellow"
            where = f"{f.path}: {f.message}" if f.path not in ("", "/") else f.message
            out.print(
                f"{v.target}  {f.platform or '-'}  {f.rule}  [{style}]{f.severity}[/{style}]  {escape(where)}"
            )


def _raise(result) -> None:
    from dockyard.errors import (
        BuildFailed,
        InputError,
        OperationError,
        ScanFailed,
        VerificationFailed,
    )

    if result.stopped == "build":
        error = InputError if result.exit_code == 2 else BuildFailed
    elif result.stopped == "verify":
        error = VerificationFailed
    elif result.stopped == "scan":
        error = ScanFailed
    else:
        error = OperationError
    raise error(result.error)
