"""The I/O edge of planning: read the config, the git context, the clock, the host."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from dockyard.build.plan import Plan, make_plan


def plan_from_files(
    config_file: Path | None,
    *,
    select: Sequence[str] = (),
    platforms: Sequence[str] = (),
    ref: str | None = None,
    sha: str | None = None,
    event: str | None = None,
) -> Plan:
    """Load dockyard.toml (or -f FILE), detect the git context, and plan."""
    from dockyard import gitinfo
    from dockyard.config.loader import load_config
    from dockyard.platform import host_platform

    config = load_config(config_file, cwd=Path.cwd(), env=os.environ)
    context = gitinfo.detect(env=os.environ, cwd=config.root, ref=ref, sha=sha, event=event)
    return make_plan(
        config,
        context,
        build_platform=host_platform(),
        now=datetime.now(UTC),
        select=select,
        platforms=platforms,
    )
