"""Run a command and measure it: wall time, CPU time, its own peak RSS (for bench/).

The peak RSS comes from GNU time (`/usr/bin/time -f %M`), which forks the
command from its own small process: Linux counts into a child's ru_maxrss the
high-water mark of the process it was forked from, so measuring with wait4
straight from a benchmark script that holds hundreds of MB would report the
script's memory, not the command's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system of the command and what it waited for
    max_rss_mb: float
    stdout: str
    stderr: str
    returncode: int


def run(cmd: list[str], *, check: bool = True) -> Run:
    if GNU_TIME is None:
        raise SystemExit("bench: GNU time is needed for peak RSS (apt-get install time)")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as rss:  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.Popen(
            [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text = rss.read().strip().splitlines()
        result = Run(
            seconds=seconds,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            max_rss_mb=int(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan"),
            stdout=out.read().decode(),
            stderr=err.read().decode(),
            returncode=os.waitstatus_to_exitcode(status),
        )
    if check and result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{result.stderr}")
    return result
