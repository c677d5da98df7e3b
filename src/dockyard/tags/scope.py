"""The expressions metadata-action offers in tag rules and labels, over a GitContext.

`{{branch}}`, `{{tag}}`, `{{sha}}`, `{{base_ref}}`, `{{is_default_branch}}`,
`{{is_not_default_branch}}`, `{{date 'FORMAT' tz='Zone'}}` and
`{{commit_date 'FORMAT' tz='Zone'}}`, each as meta.ts computes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from dockyard.context import GitContext
from dockyard.errors import InputError
from dockyard.tags import template
from dockyard.tags.dates import format_moment, zone

SHORT_SHA_LENGTH = 7  # metadata-action's default (DOCKER_METADATA_SHORT_SHA_LENGTH)
# Events that GitHub always runs on the default branch's last commit.
_DEFAULT_BRANCH_EVENTS = ("create", "discussion", "issues", "schedule")


def ref_name(ref: str, prefix: str) -> str:
    return ref[len(prefix) :] if ref.startswith(prefix) else ""


def short_sha(sha: str) -> str:
    return sha[:SHORT_SHA_LENGTH]


def default_branch(ctx: GitContext) -> str:
    repo = ctx.payload.get("repository") if isinstance(ctx.payload, Mapping) else None
    fallback = repo.get("default_branch") if isinstance(repo, Mapping) else None
    return ctx.default_branch or (str(fallback) if fallback else "")


def is_default_branch(ctx: GitContext) -> bool:
    # metadata-action only strips refs/heads/: a tag or PR ref never equals a branch name.
    branch = ctx.ref.removeprefix("refs/heads/")
    if not branch:
        return False
    if branch == default_branch(ctx):
        return True
    return any(event in ctx.event for event in _DEFAULT_BRANCH_EVENTS)


def base_ref(ctx: GitContext) -> str:
    payload = ctx.payload if isinstance(ctx.payload, Mapping) else {}
    if ctx.ref.startswith("refs/tags/") and payload.get("base_ref") is not None:
        return str(payload["base_ref"]).removeprefix("refs/heads/")
    if ctx.ref.startswith("refs/pull/"):
        pr = payload.get("pull_request")
        base = pr.get("base") if isinstance(pr, Mapping) else None
        if isinstance(base, Mapping) and base.get("ref") is not None:
            return str(base["ref"])
    return ""


def date_helper(name: str, moment: Callable[[], datetime]) -> template.Helper:
    def helper(params: tuple[object, ...], hash_: dict[str, object]) -> str:
        if not params or not isinstance(params[0], str):
            raise InputError(
                f"{{{{{name}}}}} needs a format string, e.g. {{{{{name} 'YYYYMMDD'}}}}"
            )
        tz: object = "UTC"
        for key, value in hash_.items():
            if key != "tz":
                raise InputError(f"Unknown {key} attribute (expected tz='Zone')")
            tz = value
        if not isinstance(tz, str):
            raise InputError(f"{{{{{name}}}}} tz must be a string, e.g. tz='Asia/Tokyo'")
        return format_moment(moment().astimezone(zone(tz)), params[0])

    return helper


def const(value: Callable[[], object]) -> template.Helper:
    return lambda params, hash_: value()


def global_scope(ctx: GitContext, *, now: datetime, commit_date: datetime) -> dict[str, object]:
    """metadata-action's setGlobalExp scope: the expressions of value/prefix/suffix/enable/labels."""
    return {
        "branch": const(lambda: ref_name(ctx.ref, "refs/heads/")),
        "tag": const(lambda: ref_name(ctx.ref, "refs/tags/")),
        "sha": const(lambda: short_sha(ctx.sha)),
        "base_ref": const(lambda: base_ref(ctx)),
        "is_default_branch": const(lambda: "true" if is_default_branch(ctx) else "false"),
        "is_not_default_branch": const(lambda: "false" if is_default_branch(ctx) else "true"),
        "date": date_helper("date", lambda: now),
        "commit_date": date_helper("commit_date", lambda: commit_date),
    }
