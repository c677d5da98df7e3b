"""Where output goes: one JSON document on stdout with --json, everything human on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def console():
    """A rich console on stderr (imported lazily: rich costs start-up time)."""
    import os

    from rich.console import Console

    out = Console(stderr=True, highlight=False, soft_wrap=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        # CI logs are not 80 columns wide; digests and references wrap badly at 80.
        out.width = 140
    return out


def say(message: str) -> None:
    """One plain human line on stderr."""
    sys.stderr.write(message + "\n")


def warn_all(warnings: Any) -> None:
    """The config's warnings (bake attributes not acted on), one `warning:` line each, on stderr."""
    for warning in warnings:
        say(f"warning: {warning}")
