"""Where output goes: one JSON document on stdout with --json, everything human on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

_emitted = False  # a document is on stdout already: a failure after it adds none


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    global _emitted
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()
    _emitted = True


def emit_failure(code: str, message: str, exit_code: int) -> None:
    """With --json, the document of a failure, unless the command printed its own
    (verify's report, lint's findings): a pipe into a JSON parser always gets one."""
    if not _emitted:
        emit_json({"ok": False, "error": {"code": code, "message": message, "exit_code": exit_code}})


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
