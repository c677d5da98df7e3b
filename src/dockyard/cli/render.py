"""Human renderings (rich, on stderr) of the library's result objects."""

from __future__ import annotations

import os
from pathlib import Path

from dockyard.cli.output import console


def _short(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _args_line(args: dict[str, str]) -> str:
    return "  ".join(f"{k}={v}" for k, v in args.items())


def render_plan(plan) -> None:
    """One block per target: shared facts once, then one line per platform job."""
    from rich.table import Table

    out = console()
    ctx = plan.context
    out.print(
        f"[bold]{plan.project}[/]  version [bold]{plan.version}[/]  "
        f"ref {ctx.ref or '-'}  sha {ctx.short_sha or '-'}  event {ctx.event}  "
        f"build platform {plan.build_platform}"
    )
    for target in plan.targets:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("dockerfile", _short(target.dockerfile))
        grid.add_row("context", _short(target.context))
        if target.stage:
            grid.add_row("stage", target.stage)
        grid.add_row("platforms", ", ".join(str(p) for p in target.platforms))
        grid.add_row("tags", "\n".join(target.shown_tags()) or "(none)")
        # Args every job shares are shown once; the per-platform ones per job.
        shared = _shared_args(target.jobs)
        grid.add_row("args", "\n".join(f"{k}={v}" for k, v in shared.items()))
        for job in target.jobs:
            own = {k: v for k, v in job.args.items() if k not in shared}
            grid.add_row(str(job.platform), _args_line(own))
        out.print()
        out.print(f"[bold]{target.name}[/]")
        out.print(grid)
    jobs = sum(len(t.jobs) for t in plan.targets)
    out.print()
    out.print(f"{len(plan.targets)} targets, {jobs} jobs")


def _shared_args(jobs) -> dict[str, str]:
    if not jobs:
        return {}
    first = dict(jobs[0].args)
    return {k: v for k, v in first.items() if all(j.args.get(k) == v for j in jobs[1:])}
