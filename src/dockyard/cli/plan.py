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
    import os
    from pathlib import Path

    from dockyard.builder.backends import check_builder
    from dockyard.cli.output import emit_json
    from dockyard.config.loader import load_config
    from dockyard.plan.load import plan_from_config, with_registries

    config = with_registries(load_config(file, cwd=Path.cwd(), env=os.environ), registry or ())
    # A plan builds nothing, but `dockyard plan` is how a config is checked: a builder
    # name no backend has is refused here too (the config layer cannot know the names).
    check_builder(config)
    plan = plan_from_config(
        config, select=targets or (), platforms=platform or (), ref=ref, sha=sha, event=event
    )
    if json_:
        emit_json(plan.to_json())
    else:
        from dockyard.cli.render import render_plan

        render_plan(plan)
