"""`dockyard plan`: show what would be built, for which platforms, with which args and tags."""

from __future__ import annotations

from dockyard.cli.app import app
from dockyard.cli.options import (
    ConfigFile,
    EventOpt,
    JsonFlag,
    PlatformOpt,
    RefOpt,
    Registries,
    Selection,
    ShaOpt,
)


@app.command("plan")
def plan_command(
    targets: Selection = None,
    platform: PlatformOpt = None,
    file: ConfigFile = None,
    ref: RefOpt = None,
    sha: ShaOpt = None,
    event: EventOpt = None,
    registry: Registries = None,
    json_: JsonFlag = False,
) -> None:
    """Plan targets x platforms: contexts, Dockerfiles, build args, images, tags, labels."""
    from dockyard.cli.output import emit_json
    from dockyard.plan.load import plan_from_files

    plan = plan_from_files(
        file, select=targets or (), platforms=platform or (), ref=ref, sha=sha, event=event,
        registries=registry or (),
    )  # fmt: skip
    if json_:
        emit_json(plan.to_json())
    else:
        from dockyard.cli.render import render_plan

        render_plan(plan)
