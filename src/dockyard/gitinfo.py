"""Where a build comes from: the git context (the I/O edge behind dockyard.context).

In GitHub Actions (GITHUB_ACTIONS=true or GITHUB_EVENT_NAME set) the context is
what the runner says: GITHUB_EVENT_NAME, GITHUB_REF, GITHUB_SHA,
GITHUB_REPOSITORY, GITHUB_SERVER_URL and the event payload at
GITHUB_EVENT_PATH, exactly as docker/metadata-action reads them. Elsewhere it
comes from the local repository: HEAD's commit, the branch it is on or the tag
that points at it, the default branch and the commit time. `--ref`, `--sha`
and `--event` override whatever was found.

Outside a repository (or without git on PATH) the result is an empty context
(`known` is False) and the plan falls back to the "dev" version: never an error.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dockyard.context import GitContext
from dockyard.errors import InputError

# A release-looking name: v1.2, 1.2.3, v1.2.3-rc.1, 1.2.3+build.5 (metadata-action's semver
# input, with the optional "v"). Such a bare --ref is a tag; any other bare name a branch.
TAG_LIKE = re.compile(r"v?\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.+-]*)?")
_SEMVER = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")
_SHA = re.compile(r"[0-9a-f]{7,64}")
_EVENT = re.compile(r"[a-z][a-z_]*")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/$|\.lock$|/\.")
# "tag" is not a GitHub event: it asks for the tag at HEAD even when HEAD is on a branch,
# and the event becomes "push", GitHub's name for tag pushes too.
TAG_EVENT = "tag"
_GIT_TIMEOUT = 10.0  # seconds per git call; a hung git (network FS, lock) must not hang planning
_EXPECTED_REF = "expected a branch, a tag or a full ref, e.g. main, v1.2.3 or refs/pull/7/merge"


def detect(
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ref: str | None = None,
    sha: str | None = None,
    event: str | None = None,
) -> GitContext:
    """The context of the build: GitHub Actions' environment, else local git; flags win."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    if event is not None:
        event = normalize_event(event)
    if in_github_actions(env):
        found = from_github(env, cwd=cwd)
    else:
        found = from_git(cwd, prefer_tag=event == TAG_EVENT and ref is None)
    return _override(found, cwd=cwd, ref=ref, sha=sha, event=event)


def in_github_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true" or bool(env.get("GITHUB_EVENT_NAME"))


# -- flags -------------------------------------------------------------------------


def normalize_ref(text: str) -> str:
    """A full git ref for a --ref value: refs/... kept; tags/X, heads/X, pull/N/merge
    completed; a release-looking name (v1.2.3) is a tag; any other name a branch."""
    if not text or _REF_FORBIDDEN.search(text) or text.startswith(("/", "-")):
        raise InputError(f"--ref {text!r} is not a git ref ({_EXPECTED_REF})")
    if text.startswith("refs/"):
        full = text
    elif text.startswith(("tags/", "heads/", "pull/")):
        full = "refs/" + text
    elif TAG_LIKE.fullmatch(text):
        full = "refs/tags/" + text
    else:
        full = "refs/heads/" + text
    if full.count("/") < 2 or full.endswith("/"):
        raise InputError(f"--ref {text!r} is not a git ref ({_EXPECTED_REF})")
    return full


def normalize_sha(text: str) -> str:
    sha = text.lower()
    if not _SHA.fullmatch(sha):
        raise InputError(
            f"--sha {text!r} is not a commit SHA (expected 7 to 64 hex digits, e.g. 3f2c1ab)"
        )
    return sha


def normalize_event(text: str) -> str:
    if not _EVENT.fullmatch(text):
        raise InputError(
            f"--event {text!r} is not an event name (expected a GitHub event name such as "
            "push, pull_request, schedule or workflow_dispatch, or 'tag')"
        )
    return text


def normalize_timestamp(text: str) -> str:
    """An ISO-8601 time as UTC `YYYY-MM-DDTHH:MM:SSZ` ("" if it is not one).

    A time without an offset is taken as UTC.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _override(
    found: GitContext, *, cwd: Path, ref: str | None, sha: str | None, event: str | None
) -> GitContext:
    changes: dict[str, Any] = {}
    if ref is not None:
        changes["ref"] = normalize_ref(ref)
    if sha is not None:
        short = normalize_sha(sha)
        if found.sha.startswith(short):
            changes["sha"] = found.sha  # the same commit: keep the full SHA
        else:
            # Another commit: its full SHA and its own time, if the repository has it.
            changes["sha"] = _git(cwd, "rev-parse", "--verify", "-q", short + "^{commit}") or short
            changes["timestamp"] = _commit_time(cwd, changes["sha"])
    if event is not None:
        changes["event"] = "push" if event == TAG_EVENT else event
    return dataclasses.replace(found, **changes) if changes else found


# -- GitHub Actions ------------------------------------------------------------------


def from_github(env: Mapping[str, str], *, cwd: Path) -> GitContext:
    payload = _payload(env.get("GITHUB_EVENT_PATH", ""))
    repository = payload.get("repository")
    repository = repository if isinstance(repository, dict) else {}
    default_branch = repository.get("default_branch")
    if not isinstance(default_branch, str) or not default_branch:
        # schedule and workflow_dispatch payloads may lack it; the checkout usually knows.
        default_branch = _default_branch(cwd, current="")
    head_commit = payload.get("head_commit")
    stamp = head_commit.get("timestamp") if isinstance(head_commit, dict) else None
    sha = env.get("GITHUB_SHA", "")
    timestamp = normalize_timestamp(stamp) if isinstance(stamp, str) else ""
    if not timestamp and sha:
        timestamp = _commit_time(cwd, sha)
    return GitContext(
        event=env.get("GITHUB_EVENT_NAME") or "push",
        ref=env.get("GITHUB_REF", ""),
        sha=sha,
        default_branch=default_branch,
        timestamp=timestamp,
        repository=env.get("GITHUB_REPOSITORY", ""),
        server_url=env.get("GITHUB_SERVER_URL") or GitContext.server_url,
        payload=payload,
    )


def _payload(path: str) -> dict[str, Any]:
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            f"GITHUB_EVENT_PATH {path}: cannot read the event payload ({why})"
        ) from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"GITHUB_EVENT_PATH {path}: not valid JSON at line {exc.lineno} column {exc.colno} "
            f"({exc.msg}; expected the event payload GitHub writes)"
        ) from None
    if not isinstance(payload, dict):
        raise InputError(
            f"GITHUB_EVENT_PATH {path}: expected a JSON object (the event payload), "
            f"got {type(payload).__name__}"
        )
    return payload


# -- local git -------------------------------------------------------------------------


def from_git(cwd: Path, *, prefer_tag: bool = False) -> GitContext:
    """HEAD's context; an empty GitContext outside a repository or without git."""
    sha = _git(cwd, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    if not sha:
        return GitContext()
    branch_ref = _git(cwd, "symbolic-ref", "-q", "HEAD")
    tag = _best_tag(_git(cwd, "tag", "--points-at", "HEAD").split())
    if prefer_tag and not tag:
        raise InputError(
            f"--event tag: no tag points at HEAD ({sha[:7]}) "
            "(create one with git tag, or pass --ref refs/tags/NAME)"
        )
    # On a branch the branch wins (metadata-action sees a branch push); a detached,
    # untagged HEAD has ref "" and the sha alone identifies it.
    ref = "refs/tags/" + tag if tag and (prefer_tag or not branch_ref) else branch_ref
    current = branch_ref.removeprefix("refs/heads/") if branch_ref else ""
    repository, server_url = _origin(cwd)
    return GitContext(
        event="push",
        ref=ref,
        sha=sha,
        default_branch=_default_branch(cwd, current=current),
        timestamp=_commit_time(cwd, sha),
        repository=repository,
        server_url=server_url,
    )


def _best_tag(tags: list[str]) -> str:
    """The highest semver tag if any (v1.10.0 over v1.9.0, a release over its -rc), else
    the first by name: deterministic when several tags point at one commit."""
    versions = [(_semver_key(tag), tag) for tag in tags if _SEMVER.fullmatch(tag)]
    if versions:
        return max(versions)[1]
    return min(tags, default="")


def _semver_key(tag: str) -> tuple:
    match = _SEMVER.fullmatch(tag)
    assert match is not None
    major, minor, patch, pre = match.groups()
    # Semver precedence: a release above its pre-releases; pre-release fields compare
    # numerically when numeric, and numeric fields sort below alphanumeric ones.
    fields = [] if pre is None else pre.split(".")
    pre_key = tuple((0, int(f), "") if f.isdigit() else (1, 0, f) for f in fields)
    return (int(major), int(minor), int(patch), pre is None, pre_key, tag.startswith("v"))


def _default_branch(cwd: Path, *, current: str) -> str:
    origin_head = _git(cwd, "symbolic-ref", "-q", "refs/remotes/origin/HEAD")
    if origin_head.startswith("refs/remotes/origin/"):
        return origin_head.removeprefix("refs/remotes/origin/")
    heads = _git(cwd, "for-each-ref", "--format=%(refname)", "refs/heads/main", "refs/heads/master")
    for name in ("main", "master"):
        if f"refs/heads/{name}" in heads.split():
            return name
    return current


def _commit_time(cwd: Path, rev: str) -> str:
    stamp = _git(cwd, "show", "-s", "--format=%cI", rev + "^{commit}", "--")
    return normalize_timestamp(stamp) if stamp else ""


_REMOTE = re.compile(
    r"(?:(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/|[^@/]+@(?P<scp_host>[^:/]+):)"
    r"(?P<path>[^/]+/[^/]+?)(?:\.git)?/?"
)


def _origin(cwd: Path) -> tuple[str, str]:
    """owner/name and https://host from the origin remote's URL, when it has that shape."""
    match = _REMOTE.fullmatch(_git(cwd, "remote", "get-url", "origin"))
    if match is None:
        return "", GitContext.server_url
    host = match.group("host") or match.group("scp_host")
    return match.group("path"), f"https://{host}"


def _git(cwd: Path, *args: str) -> str:
    """git's stdout, stripped; "" when git fails, is missing, or takes too long."""
    env = {**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""
