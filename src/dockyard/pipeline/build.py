"""`dockyard build`: the workspace's plan built into one index per target (no push)."""

from __future__ import annotations

from dockyard.builder.result import BuildResult
from dockyard.builder.run import BuildProgress, build_plan
from dockyard.workspace import Workspace


def build(ws: Workspace, *, progress: BuildProgress | None = None) -> BuildResult:
    """Build the workspace's plan with its builder, registry client and caches."""
    backend = ws.backend  # before the plan: a missing builder is the first thing to say
    s = ws.settings
    return build_plan(
        ws.plan,
        output=s.output,
        backend=backend,
        jobs=s.jobs,
        no_cache=s.no_cache,
        client=ws.registry,
        progress=progress,
        caches=ws.caches,
    )
