"""compute_tags: metadata-action's Meta (src/meta.ts) over a GitContext.

Rules are taken highest priority first. Each enabled rule that applies gives
one value (prefix + value + suffix, sanitised); the first value is the
version, the others follow in order without duplicates. The first rule that
gives a value also decides `latest` (under `latest=auto`: yes for
`ref,event=tag`, `match`, and a `semver`/`pep440` that is not a pre-release;
no for the rest). Tags are then image by image: version, the other values,
`latest` -- exactly the action's list, duplicates included (the plan drops
them).

By default the result is the action's, on all 78 conformance cases. Two
things are opt-in and stricter:
- `latest_only_stable`: under `latest=auto`, a tag ref whose last path
  segment is a pre-release (versions.is_prerelease: v2.0.8-beta.67, 1.0rc1)
  gets no `latest`, whatever rule produced the version (the action's
  `type=match` and `type=ref,event=tag` give it one); `latest=true` still
  forces it;
- `require_semver`: a tag ref that is not vX.Y.Z[-pre][+build] is refused.

Refused where the action fails or gives a tag nobody meant (InputError):
- a tag that is not a valid tag once sanitised (leading `.` or `-`, more
  than 128 characters): the action outputs it and the push fails;
- an expression (`{{...}}`) in a flavor prefix/suffix that goes on `latest`
  (onlatest=true): the action puts it there unexpanded (`v{{sha}}` gives
  `v-sha-latest`);
- and, in rules.py, dates.py and labels.py: bad regexes, non-numeric
  priorities, empty attribute names, flavor values with a second `=`,
  unknown time zones, labels without `=`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dockyard.context import GitContext
from dockyard.errors import InputError
from dockyard.tags import template
from dockyard.tags.labels import oci_metadata
from dockyard.tags.rules import (
    DEFAULT_RULES,
    Flavor,
    Rule,
    compile_js_regex,
    parse_flavor,
    parse_images,
    parse_rules,
    sort_rules,
    split_regex_literal,
)
from dockyard.tags.scope import (
    const,
    date_helper,
    default_branch,
    global_scope,
    ref_name,
    short_sha,
)
from dockyard.tags.versions import is_prerelease, is_strict_v_semver, parse_pep440, parse_semver

MAX_TAG_LENGTH = 128  # the registry's tag grammar: [\w][\w.-]{0,127}
_INVALID_TAG_CHARS = re.compile(r"[^a-zA-Z0-9._-]+")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class TagResult:
    """The tag engine's answer: the version, the tags (metadata-action's order), labels and annotations."""

    version: str
    tags: tuple[str, ...]  # "image:tag" (or bare tags without images), metadata-action order
    labels: Mapping[str, str] = field(hash=False)
    annotations: Mapping[str, str] = field(hash=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tags": list(self.tags),
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
        }


def compute_tags(
    context: GitContext,
    *,
    images: Sequence[str],
    rules: Sequence[str] = (),
    flavor: Sequence[str] = (),
    labels: Sequence[str] | Mapping[str, str] = (),
    require_semver: bool = False,
    latest_only_stable: bool = False,
    now: datetime | None = None,
    annotations: Sequence[str] | Mapping[str, str] | None = None,
) -> TagResult:
    """Tags, version, labels and annotations as metadata-action computes them.

    `rules` empty means metadata-action's defaults. `annotations` defaults to
    the same extra entries as `labels`. `now` (default: the current time) is
    what `{{date}}` and the `created` label show. `latest_only_stable` keeps
    `latest` from a pre-release tag under `latest=auto` (dockyard's option;
    the action gives it one).
    """
    names = parse_images(images)
    parsed = parse_rules(rules) or parse_rules(DEFAULT_RULES)
    moment = _aware(now or datetime.now(UTC))
    # The commit time, for {{commit_date}}; metadata-action falls back to the current time.
    commit = _parse_timestamp(context.timestamp) if context.timestamp else moment
    env = _Env(context, parse_flavor(flavor), moment, commit)
    if require_semver:
        _require_semver(context)
    version = _Version()
    for rule in sort_rules(parsed):
        if _enabled(rule, env):
            produced = _PROCESSORS[rule.type](rule, env)
            if produced is not None:
                version.add(*produced, where=f"tag rule {rule.entry!r}")
    withheld = latest_only_stable and env.flavor.latest == "auto" and _prerelease_ref(context)
    latest = version.latest and not withheld
    tags = _tags(names, version, latest, env)
    extras = labels if annotations is None else annotations
    return TagResult(
        version=version.main,
        tags=tags,
        labels=oci_metadata(
            context,
            version=version.main,
            created=env.now,
            extras=labels,
            what="label",
            expand=env.expand,
        ),
        annotations=oci_metadata(
            context,
            version=version.main,
            created=env.now,
            extras=extras,
            what="annotation",
            expand=env.expand,
        ),
    )


def sanitize_tag(text: str) -> str:
    """metadata-action's sanitizeTag: each run of characters a tag cannot hold becomes one `-`."""
    return _INVALID_TAG_CHARS.sub("-", text)


def check_tag(tag: str, where: str) -> str:
    """The sanitised tag, or InputError where the registry would refuse it (the action's push fails)."""
    if tag[:1] in (".", "-") or len(tag) > MAX_TAG_LENGTH:
        shown = tag if len(tag) <= 40 else f"{tag[:37]}..."
        raise InputError(
            f"{where}: gives tag {shown!r} ({len(tag)} characters), which no registry accepts "
            f"(a tag starts with a letter, digit or _ and has at most {MAX_TAG_LENGTH} characters)"
        )
    return tag


class _Version:
    """metadata-action's Version: main, partial (in order, unique), latest."""

    def __init__(self) -> None:
        self.main = ""
        self.partial: list[str] = []
        self.voted: bool | None = None

    def add(self, value: str, latest: bool, *, where: str) -> None:
        if not value:
            return  # an empty value is not a tag and does not vote on latest
        value = check_tag(sanitize_tag(value), where)
        if not self.main:
            self.main = value
        elif value != self.main and value not in self.partial:
            self.partial.append(value)
        if self.voted is None:
            self.voted = latest

    @property
    def latest(self) -> bool:
        return bool(self.voted)


@dataclass(frozen=True)
class _Env:
    context: GitContext
    flavor: Flavor
    now: datetime
    commit_date: datetime

    def vote(self, auto: bool) -> bool:
        return auto if self.flavor.latest == "auto" else self.flavor.latest == "true"

    def expand(self, text: str, where: str) -> str:
        """metadata-action's setGlobalExp, with errors naming where the text came from."""
        try:
            return template.render(
                text, global_scope(self.context, now=self.now, commit_date=self.commit_date)
            )
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None

    def with_affixes(self, value: str, rule: Rule) -> str:
        """setValue: the rule's prefix/suffix, else the flavor's."""
        where = f"tag rule {rule.entry!r}"
        if rule.has("prefix"):
            value = self.expand(rule.get("prefix"), where) + value
        elif self.flavor.prefix:
            value = self.expand(self.flavor.prefix, f"flavor prefix {self.flavor.prefix!r}") + value
        if rule.has("suffix"):
            value += self.expand(rule.get("suffix"), where)
        elif self.flavor.suffix:
            value += self.expand(self.flavor.suffix, f"flavor suffix {self.flavor.suffix!r}")
        return value


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _parse_timestamp(text: str) -> datetime:
    try:
        return _aware(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise InputError(
            f"timestamp {text!r} is not an ISO-8601 date and time (e.g. 2020-01-10T00:30:00Z)"
        ) from None


def _enabled(rule: Rule, env: _Env) -> bool:
    enabled = env.expand(rule.get("enable"), f"tag rule {rule.entry!r}")
    if enabled not in ("true", "false"):
        raise InputError(
            f"tag rule {rule.entry!r}: invalid value for enable attribute: {enabled} "
            "(expected true or false)"
        )
    return enabled == "true"


def _render_pattern(rule: Rule, scope: Mapping[str, object]) -> str:
    try:
        return template.render(rule.get("pattern"), scope)
    except InputError as exc:
        raise InputError(f"tag rule {rule.entry!r}: {exc}") from None


Produced = tuple[str, bool] | None


def _schedule(rule: Rule, env: _Env) -> Produced:
    if "schedule" not in env.context.event:
        return None
    scope = {
        "date": date_helper("date", lambda: env.now),
        "commit_date": date_helper("commit_date", lambda: env.commit_date),
    }
    return env.with_affixes(_render_pattern(rule, scope), rule), env.vote(False)


def _version_input(rule: Rule, env: _Env) -> str | None:
    """The text a semver/pep440 rule reads: value= or the tag, through match=, '/' -> '-'."""
    ref = env.context.ref
    if not ref.startswith("refs/tags/") and not rule.get("value"):
        return None
    if rule.get("value"):
        raw = env.expand(rule.get("value"), f"tag rule {rule.entry!r}")
    else:
        raw = ref_name(ref, "refs/tags/")
    if rule.get("match"):
        found = _search(rule, rule.get("match"), raw, flags="")
        if found is not None:
            group = found[1] if len(found) > 1 else None
            if group is None:
                raise InputError(
                    f"tag rule {rule.entry!r}: match={rule.get('match')} needs a capture group "
                    r"that matches (e.g. match=v(\d.\d.\d)$)"
                )
            raw = group
    return raw.replace("/", "-")


def _semver(rule: Rule, env: _Env) -> Produced:
    raw = _version_input(rule, env)
    version = parse_semver(raw) if raw is not None else None
    if version is None:
        return None  # metadata-action: "is not a valid semver", rule skipped
    scope = {
        "raw": version.raw,
        "version": version.version,
        "major": version.major,
        "minor": version.minor,
        "patch": version.patch,
        "prerelease": list(version.prerelease),
        "build": list(version.build),
    }
    if version.prerelease:
        # Pre-releases only ever get {{version}} (or {{raw}} when that is the whole pattern).
        text = (
            _render_pattern(rule, scope)
            if template.is_raw_statement(rule.get("pattern"))
            else version.version
        )
        return env.with_affixes(text, rule), env.vote(False)
    return env.with_affixes(_render_pattern(rule, scope), rule), env.vote(True)


def _pep440(rule: Rule, env: _Env) -> Produced:
    raw = _version_input(rule, env)
    version = parse_pep440(raw) if raw is not None else None
    if version is None:
        return None  # metadata-action: "does not conform to PEP 440", rule skipped
    if version.unstable:
        text = raw if template.is_raw_statement(rule.get("pattern")) else version.normal
        return env.with_affixes(text, rule), env.vote(False)
    scope = {
        "raw": const(lambda: raw),
        "version": const(lambda: version.normal),
        "major": const(lambda: version.major),
        "minor": const(lambda: version.minor),
        "patch": const(lambda: version.patch),
    }
    return env.with_affixes(_render_pattern(rule, scope), rule), env.vote(True)


def _search(rule: Rule, source: str, text: str, flags: str) -> list[str | None] | None:
    """JavaScript's text.match(new RegExp(source, flags)): groups, or all matches with `g`."""
    try:
        regex = compile_js_regex(source, flags)
    except InputError as exc:
        raise InputError(f"tag rule {rule.entry!r}: {exc}") from None
    if "g" in flags:
        found = [m.group(0) for m in regex.finditer(text)]
        return found or None
    m = regex.match(text) if "y" in flags else regex.search(text)
    return [m.group(0), *m.groups()] if m else None


def _match(rule: Rule, env: _Env) -> Produced:
    ref = env.context.ref
    if not ref.startswith("refs/tags/") and not rule.get("value"):
        return None
    if rule.get("value"):
        raw = env.expand(rule.get("value"), f"tag rule {rule.entry!r}")
    else:
        raw = ref_name(ref, "refs/tags/")
    source, flags = split_regex_literal(rule.get("pattern"))
    found = _search(rule, source, raw, flags)
    group = rule.get("group")
    if found is None or not _ARRAY_INDEX.fullmatch(group) or int(group) >= len(found):
        return None  # no match, or no such group: metadata-action warns and skips
    value = found[int(group)]
    if value is None:
        return None
    return env.with_affixes(value, rule), env.vote(True)


def _ref(rule: Rule, env: _Env) -> Produced:
    ref, event = env.context.ref, rule.get("event")
    if event == "branch" and ref.startswith("refs/heads/"):
        return env.with_affixes(ref_name(ref, "refs/heads/"), rule), env.vote(False)
    if event == "tag" and ref.startswith("refs/tags/"):
        return env.with_affixes(ref_name(ref, "refs/tags/"), rule), env.vote(True)
    if event == "pr" and ref.startswith("refs/pull/"):
        number = ref_name(ref, "refs/pull/").removesuffix("/merge")
        return env.with_affixes(number, rule), env.vote(False)
    return None


def _edge(rule: Rule, env: _Env) -> Produced:
    ref = env.context.ref
    if not ref.startswith("refs/heads/"):
        return None
    branch = rule.get("branch") or default_branch(env.context)
    if not branch or branch != ref_name(ref, "refs/heads/"):
        return None
    return env.with_affixes("edge", rule), env.vote(False)


def _raw(rule: Rule, env: _Env) -> Produced:
    value = env.expand(rule.get("value"), f"tag rule {rule.entry!r}")
    return env.with_affixes(value, rule), env.vote(False)


def _sha(rule: Rule, env: _Env) -> Produced:
    sha = env.context.sha
    if not sha:
        return None
    value = short_sha(sha) if rule.get("format") == "short" else sha
    return env.with_affixes(value, rule), env.vote(False)


_PROCESSORS: dict[str, Callable[[Rule, _Env], Produced]] = {
    "schedule": _schedule,
    "semver": _semver,
    "pep440": _pep440,
    "match": _match,
    "edge": _edge,
    "ref": _ref,
    "raw": _raw,
    "sha": _sha,
}


def _prerelease_ref(ctx: GitContext) -> bool:
    """A tag ref whose last path segment is a pre-release (v2.0.8-beta.67, p1/v1.0.0-rc.1, 1.0rc1)."""
    name = ref_name(ctx.ref, "refs/tags/").rsplit("/", 1)[-1]
    return bool(name) and is_prerelease(name)


def _require_semver(ctx: GitContext) -> None:
    tag = ref_name(ctx.ref, "refs/tags/")
    if ctx.ref.startswith("refs/tags/") and not is_strict_v_semver(tag):
        shown = ctx.ref if ctx.ref.isprintable() else repr(ctx.ref)  # one line, always
        raise InputError(
            f"ref {shown} is not a semver tag (expected vX.Y.Z[-pre][+build], e.g. v1.2.3)"
        )


def _tags(images: Sequence[str], version: _Version, latest: bool, env: _Env) -> tuple[str, ...]:
    if not version.main:
        return ()
    values = [version.main, *version.partial]
    if latest:
        values.append(_latest_tag(env))
    # As the action: image by image, a repeated image or a rule's own `latest` listed again.
    return tuple(
        f"{image}:{value}" if image else value for image in images or [""] for value in values
    )


def _latest_tag(env: _Env) -> str:
    flavor = env.flavor
    prefix = flavor.prefix if flavor.prefix_latest else ""
    suffix = flavor.suffix if flavor.suffix_latest else ""
    tag = sanitize_tag(f"{prefix}latest{suffix}")
    for what, text in (("prefix", prefix), ("suffix", suffix)):
        if "{{" in text:
            # The action does not expand the flavor on `latest`: the expression's words become the tag.
            raise InputError(
                f"flavor {what} {text!r} with onlatest=true: metadata-action puts it on latest "
                f"unexpanded ({tag!r}); drop onlatest=true or the expression"
            )
    return check_tag(tag, "flavor (onlatest=true)")
