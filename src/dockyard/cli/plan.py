"""`dockyard plan`: show what would be built, for which platforms, with which args and tags."""

from __future__ import annotations

from dockyard.cli.app import app
from dockyard.cli.options import (
    BakeSet,
    EventOpt,
    JsonFlag,
    PlatformOpt,
    ProjectFiles,
    RefOpt,
    Registries,
    Selection,
    ShaOpt,
)


@app.command("plan")
def plan_command(
    targets: Selection = None,
    platform: PlatformOpt = None,
    file: ProjectFiles = None,
    set_: BakeSet = None,
    ref: RefOpt = None,
    sha: ShaOpt = None,
    event: EventOpt = None,
    registry: Registries = None,
    json_: JsonFlag = False,
) -> None:
    """Plan targets x platforms: contexts, Dockerfiles, build args, images, tags, labels."""
    from dockyard.cli.output import emit_json, warn_all
    from dockyard.cli.settings import settings
    from dockyard.workspace import Workspace

    given = settings(
        file=file, bake_set=set_, targets=targets, platform=platform, ref=ref, sha=sha,
        event=event, registry=registry,
    )  # fmt: skip
    with Workspace(given) as ws:
        plan = ws.plan
    warn_all(plan.warnings)
    if json_:
        emit_json(plan.to_json())
    else:
        from dockyard.cli.render import render_plan

        render_plan(plan)
