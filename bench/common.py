"""What every bench script shares: how dockyard is started, medians and ratios.

Both sides of every bench run as whole processes (start-up included): dockyard
is started as a user starts it, through the venv's `dockyard` entry script
(`python -m dockyard` only where that script is missing).
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

MB = 1000 * 1000


def dockyard(*args: str) -> list[str]:
    """The command line that runs dockyard as a user would: the installed entry script."""
    script = Path(sys.executable).parent / "dockyard"
    if os.access(script, os.X_OK):
        return [str(script), *args]
    return [sys.executable, "-m", "dockyard", *args]


def times_faster(theirs: float, ours: float) -> str:
    """How many times faster dockyard is: the peer's time / dockyard's time."""
    return f"{theirs / ours:.2f}x" if ours > 0 else "n/a"


def ratio(ours: float, theirs: float) -> str:
    """dockyard's figure / the peer's (throughput, requests, memory)."""
    return f"{ours / theirs:.2f}x" if theirs > 0 else "n/a"


def median_of(measure: Callable[[], float], runs: int) -> float:
    """The median of `runs` calls of `measure` (one call per run, seconds or any figure)."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    return statistics.median(measure() for _ in range(runs))


def alternate(round_no: int, sides: Sequence[str]) -> list[str]:
    """The order both sides go in for round `round_no`: who goes first alternates.

    On a shared machine the load moves during a run; alternating spreads it.
    """
    return list(sides) if round_no % 2 == 0 else list(reversed(sides))


def ensure_bytecode() -> None:
    """Compile dockyard's sources to bytecode before anything is timed.

    An installed package ships its .pyc files (pip compiles them); an editable
    checkout gets them on first import, unless PYTHONDONTWRITEBYTECODE is set
    (as on the machines here), when every dockyard run would compile ~40
    modules from source again: a start-up cost no user pays.
    """
    import compileall

    src = Path(__file__).resolve().parent.parent / "src"
    compileall.compile_dir(src, quiet=2)
