"""Build progress and results on stderr: a rich live table on a terminal, plain lines elsewhere.

Both views implement builder.run.BuildProgress; the run calls them from its
worker threads, so each keeps its state under a lock.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from dockyard.cli.output import console, say

_STYLE = {
    "queued": "dim",
    "resolving": "cyan",
    "building": "yellow",
    "reusing": "cyan",
    "built": "green",
    "skipped": "green",
    "reused": "green",
    "failed": "red",
}


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 60 else f"{int(value // 60)}m{int(value % 60):02d}s"


class LineProgress:
    """One plain line per change that matters (CI logs, pipes)."""

    def __init__(self, write: Callable[[str], None] = say) -> None:
        self._write = write
        self._lock = threading.Lock()

    def start(self, jobs: Sequence) -> None:
        self._line(f"build: {len(jobs)} job{'s' if len(jobs) != 1 else ''}")

    def state(self, job, state: str) -> None:
        if state in ("building", "reusing"):
            self._line(f"{job.key}: {state}")

    def done(self, result) -> None:
        self._line(f"{result.key}: {result.describe()} ({_seconds(result.seconds)})")

    def _line(self, text: str) -> None:
        with self._lock:
            self._write(text)


@dataclass
class _Row:
    target: str
    platform: str
    state: str = "queued"
    started: float | None = None
    seconds: float | None = None
    detail: str = ""


class LiveProgress:
    """A table of jobs (target, platform, state, elapsed, cache hits) redrawn in place."""

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._lock = threading.Lock()

    def start(self, jobs: Sequence) -> None:
        with self._lock:
            for job in jobs:
                self._rows[job.key] = _Row(job.target, str(job.platform))

    def state(self, job, state: str) -> None:
        with self._lock:
            row = self._rows.setdefault(job.key, _Row(job.target, str(job.platform)))
            row.state = state
            if row.started is None:
                row.started = time.monotonic()

    def done(self, result) -> None:
        with self._lock:
            row = self._rows.setdefault(result.key, _Row(result.target, str(result.platform)))
            row.state = result.state
            row.seconds = result.seconds
            row.detail = _detail(result)

    def __rich__(self):
        from rich.markup import escape
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("target", "platform", "state", "elapsed", "cache hits", ""):
            table.add_column(column, overflow="fold")
        now = time.monotonic()
        with self._lock:
            rows = list(self._rows.values())
        for row in rows:
            elapsed = (
                row.seconds
                if row.seconds is not None
                else (now - row.started if row.started is not None else None)
            )
            style = _STYLE.get(row.state, "")
            hits = row.detail.split("|", 1)[0] if row.state == "built" else ""
            table.add_row(
                row.target,
                row.platform,
                f"[{style}]{row.state}[/{style}]" if style else row.state,
                _seconds(elapsed) if elapsed is not None else "",
                hits,
                escape(row.detail.split("|", 1)[-1]),
            )
        return table


def _detail(result) -> str:
    """ "hits|text" for the live table's last two columns."""
    if result.state == "built":
        failed = f"after reuse failed: {result.reuse_error}" if result.reuse_error else ""
        return f"{result.cache_hits}/{result.steps}|{failed}"
    if result.state == "reused":
        return f"|from {result.reused_from}"
    if result.state == "skipped":
        return "|unchanged"
    if result.log_path is not None:
        return f"|see {result.log_path}"  # the error line and the log's tail follow the table
    return f"|{result.error or ''}"


@contextlib.contextmanager
def build_progress(*, live: bool | None = None) -> Iterator[LiveProgress | LineProgress]:
    """The live view when stderr is a terminal (or `live`), else plain lines."""
    if live is None:
        live = sys.stderr.isatty()
    if not live:
        yield LineProgress()
        return
    from rich.live import Live

    view = LiveProgress()
    with Live(view, console=console(), refresh_per_second=4, transient=False):
        yield view


def render_build(result) -> None:
    """After the run: each failed job's last log lines, then one line per target."""
    from rich.markup import escape

    out = console()
    for job in result.failed:
        if job.log_tail:
            out.print(
                f"[red]── {job.key}: last {len(job.log_tail)} lines of {job.log_path} ──[/red]"
            )
            for line in job.log_tail:
                out.print(escape(line))
    for target in result.targets:
        if target.index_digest is not None:
            where = f"oci:{target.layout}:{target.tag}"
            note = "" if target.index_written else " (unchanged)"
            out.print(f"[bold]{target.name}[/bold]  {where}  {target.index_digest}{note}")
        else:
            reason = target.error or f"{sum(not j.ok for j in target.jobs)} job(s) failed"
            out.print(f"[bold]{target.name}[/bold]  [red]no index written[/red]: {escape(reason)}")
    out.print(f"{result.summary()} in {_seconds(result.seconds)}")
