"""`dockyard build`: every target x platform into dist/oci/<target>, bases pinned per platform."""

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
    InsecureRegistries,
    JsonFlag,
    NoCache,
    OutputDir,
    PlatformOpt,
    ProjectFiles,
    RefOpt,
    Selection,
    ShaOpt,
)


@app.command("build")
def build_command(
    targets: Selection = None,
    platform: PlatformOpt = None,
    output: OutputDir = Path("dist"),
    no_cache: NoCache = False,
    builder: BuilderOpt = None,
    jobs: BuildJobs = None,
    file: ProjectFiles = None,
    set_: BakeSet = None,
    ref: RefOpt = None,
    sha: ShaOpt = None,
    event: EventOpt = None,
    insecure_registry: InsecureRegistries = None,
    ca_cert: CaCert = None,
    cache_from: Annotated[
        list[str] | None,
        typer.Option("--cache-from", metavar="SPEC", help="Layer cache to read (type=registry,ref=REPO:TAG); replaces the config's."),
    ] = None,
    cache_to: Annotated[
        list[str] | None,
        typer.Option("--cache-to", metavar="SPEC", help="Layer cache to write (type=registry,ref=REPO:TAG); replaces the config's."),
    ] = None,
    push_by_digest: Annotated[
        str | None,
        typer.Option("--push-by-digest", metavar="REPO", help="CI fan-out: push each platform image to REPO by digest (no tag); needs --digest-dir."),
    ] = None,
    digest_dir: Annotated[
        Path | None,
        typer.Option("--digest-dir", metavar="DIR", help="CI fan-out: write one digest file per target and platform here (for `dockyard merge`)."),
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """Build each target's platforms and write one multi-platform index per target."""
    from dockyard.cli.output import emit_json, warn_all
    from dockyard.cli.progress import build_progress, render_build
    from dockyard.cli.settings import settings
    from dockyard.errors import BuildFailed, InputError
    from dockyard.pipeline.build import build
    from dockyard.pipeline.fanout import build_push_by_digest
    from dockyard.workspace import Workspace

    if (push_by_digest is None) != (digest_dir is None):
        flag = "--push-by-digest" if push_by_digest is not None else "--digest-dir"
        raise InputError(f"{flag} needs the other: --push-by-digest REPO --digest-dir DIR")
    given = settings(
        file=file, bake_set=set_, targets=targets, platform=platform, ref=ref, sha=sha, event=event,
        output=output, builder=builder, jobs=jobs, no_cache=no_cache,
        insecure_registry=insecure_registry, ca_cert=ca_cert, cache_from=cache_from, cache_to=cache_to,
    )  # fmt: skip
    with Workspace(given) as ws, build_progress() as progress:
        warn_all(ws.config.warnings)
        if push_by_digest is not None:
            outcome = build_push_by_digest(
                ws, repository=push_by_digest, digest_dir=digest_dir, progress=progress
            )
        else:
            outcome = build(ws, progress=progress)
    fanout = outcome if push_by_digest is not None else None  # a FanoutBuild wraps the build
    result = outcome.build if fanout is not None else outcome
    if json_:
        emit_json(outcome.to_json())
    render_build(result)
    if fanout is not None:
        from dockyard.cli.output import say

        for record in fanout.records:
            say(f"pushed {record.target} {record.platform}: {record.repository.name}@{record.digest} -> {fanout.digest_dir}/{record.name}")
    if result.error is not None:
        raise (InputError if result.exit_code == 2 else BuildFailed)(result.error)
