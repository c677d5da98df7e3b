"""Run `python -m dockyard` on hostile input: a time bound and the command's own peak RSS.

The peak RSS comes from GNU time wrapping the command (see tests/helpers/measure.py
for why not wait4 from here). The timeout is there so that a hang fails the test
instead of hanging the suite; no test asserts a duration.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.measure import GNU_TIME

SRC = str(Path(__file__).resolve().parents[2] / "src")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = SRC + (os.pathsep + out["PYTHONPATH"] if out.get("PYTHONPATH") else "")
    out.pop("DOCKYARD_DEBUG", None)
    return out


def dockyard(*args: str, cwd: Path | None = None, timeout: float = 120) -> Result:
    """Run dockyard; TimeoutExpired (the test fails) if it does not end within `timeout`."""
    assert GNU_TIME, "GNU time is needed to measure peak RSS (apt-get install time)"
    with tempfile.NamedTemporaryFile("r") as rss:
        # Its own session: on a timeout the whole group goes (GNU time and dockyard under it),
        # not only GNU time, which would leave dockyard hanging on a FIFO.
        proc = subprocess.Popen(
            [GNU_TIME, "-f", "%M", "-o", rss.name, sys.executable, "-m", "dockyard", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env(),
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        lines = rss.read().strip().splitlines()
    kb = int(lines[-1]) if lines and lines[-1].isdigit() else -1
    return Result(proc.returncode, stdout, stderr, kb / 1024)


def one_error_line(result: Result) -> str:
    """The single `error:` line a failure prints on stderr (no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]
