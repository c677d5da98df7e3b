"""What the backends share: log summaries, the one-line BuildFailed, a logged run, the copy out.

Every backend writes its whole output to the job's log (`run_logged`) and, on
failure, raises one BuildFailed (`failure`) whose message is one line: the
job, the exit status, the last error line and the log's path; the log's last
lines ride along as `BuildFailed.log_tail`. `transfer` copies the image the
builder wrote into the target's layout.
"""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.builder import rootless
from dockyard.builder.backends.request import BuildRequest
from dockyard.builder.reproducible import reproducible_config, with_config
from dockyard.digest import Digest, sha256_digest
from dockyard.errors import BuildFailed, OperationError
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Manifest, parse_manifest

# Lines of the log kept on a BuildFailed for the caller to show.
LOG_TAIL_LINES = 20
# A message quotes at most this much of the builder's error line.
MAX_QUOTED = 500  # buildah's pull errors name the image twice; the cause comes last

# A multi-stage build prefixes each stage's steps with "[stage/stages] ".
_STEP = re.compile(r"^(?:\[(\d+)/\d+\] )?STEP \d+/(\d+):")
_CACHE_HIT = re.compile(r"^--> Using cache ")
_ERROR = re.compile(r"^(?:error\b|ERROR\b|Error:)")


@dataclass(frozen=True)
class LogSummary:
    steps: int
    cache_hits: int
    error_line: str  # the builder's last error line, or its last line; "" for no output


def summarize_log(lines: Sequence[str]) -> LogSummary:
    """Steps, cache hits and the last error line of a builder's output (buildah's wording)."""
    steps_per_stage: dict[str, int] = {}
    hits = 0
    error = ""
    last = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        last = line
        if m := _STEP.match(line):
            steps_per_stage[m.group(1) or "1"] = int(m.group(2))
        elif _CACHE_HIT.match(line):
            hits += 1
        elif _ERROR.match(line):
            error = line
    return LogSummary(
        steps=sum(steps_per_stage.values()), cache_hits=hits, error_line=error or last
    )


def failure(req: BuildRequest, status: int | str, lines: Sequence[str]) -> BuildFailed:
    """The one-line BuildFailed of a job, with the log's tail attached."""
    summary = summarize_log(lines)
    said = " ".join(summary.error_line.split())
    if len(said) > MAX_QUOTED:
        said = said[: MAX_QUOTED - 1] + "…"
    exit_text = f"exit {status}" if isinstance(status, int) else status
    message = f"build {req.target} {req.platform} failed ({exit_text})"
    if said:
        message += f": {said}"
    fix = rootless.hint("".join(lines), rootless_user())
    if fix:
        message += f"; {fix}"
    tail = tuple(line.rstrip("\n") for line in lines[-LOG_TAIL_LINES:])
    return BuildFailed(f"{message}; log: {req.log_path}", log_tail=tail)


def rootless_user() -> rootless.RootlessUser | None:
    """The user this process builds as, when not root."""
    uid = os.geteuid()
    if uid == 0:
        return None
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    return rootless.RootlessUser(name=name, uid=uid)


@dataclass
class LoggedRun:
    """A command's exit status and output lines (also appended to the job's log)."""

    returncode: int
    lines: list[str]
    seconds: float


def run_logged(
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> LoggedRun:
    """Run `argv` with stdout+stderr appended to `log_path` (and kept); never raises on status.

    The command line is logged first; backends never put secrets on it.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with log_path.open("a", encoding="utf-8", errors="replace") as log:
            log.write("$ " + " ".join(argv) + "\n")
            log.flush()
            proc = subprocess.Popen(
                list(argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                text=True,
                errors="replace",
            )
            lines = _tee(proc, log)
    except FileNotFoundError:
        raise OperationError(f"{argv[0]} is not installed (not found on PATH)") from None
    except OSError as exc:
        raise OperationError(
            f"cannot run {argv[0]} (log {log_path}): {exc.strerror or exc}"
        ) from None
    return LoggedRun(proc.returncode, lines, time.monotonic() - started)


def _tee(proc: subprocess.Popen, log) -> list[str]:
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        log.write(line)
        log.flush()  # a tail -f on the log follows the build live
    proc.wait()
    return lines


def transfer(source: Path, output: Path, tag: str, *, source_ref: str = "") -> Digest:
    """Copy one image from layout `source` into layout `output` under `tag`; its digest.

    `source_ref` names it in `source` ("" = the layout's only image). Going
    through LayoutStore keeps `output`'s index.json writes locked, so the
    platforms of one target may finish at the same time. A config carrying
    the builder run's own ids is written without them (build.reproducible),
    so the same inputs give the same image on any machine.
    """
    src = LayoutStore(source)
    dst = LayoutStore(output)
    data, media_type = src.manifest_get(source_ref)
    manifest = parse_manifest(data, media_type)
    if not isinstance(manifest, Manifest):
        raise OperationError(f"the builder wrote an index, not one image, to {src}")
    with src.blob_open(manifest.config.digest) as stream:
        config = stream.read()
    fixed = reproducible_config(config, manifest.config.media_type)
    blobs = manifest.blobs
    if fixed != config:
        digest = sha256_digest(fixed)
        dst.blob_put_bytes(fixed, digest)
        data = with_config(data, digest, len(fixed))
        blobs = manifest.layers  # the builder's own config stays behind
    for desc in blobs:
        if dst.blob_exists(desc.digest) is None:
            with src.blob_open(desc.digest) as stream:
                dst.blob_put(desc.digest, desc.size, stream)
    return dst.manifest_put(data, media_type, tag=tag)
