"""metadata-action's input grammars: `tags` rules, `flavor` entries, `images`.

Each entry is one CSV record of fields. A tag-rule field is split at its
first `=` into a key (trimmed, lower-cased) and a value (trimmed); a field
without `=` (or starting with one) is the rule's `value`. Missing attributes
take metadata-action's defaults, so a parsed Rule always carries the full
attribute set; `str(rule)` is the canonical spelling and parses back to an
equal Rule.

Input lists follow actions-toolkit's getInputList: one entry a line, blank
lines and lines starting with `#` skipped, so a workflow's `tags: |` block
pastes in unchanged.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dockyard.errors import InputError
from dockyard.userregex import UserRegex

TYPES = ("schedule", "semver", "pep440", "match", "edge", "ref", "raw", "sha")
REF_EVENTS = ("branch", "tag", "pr")
SHA_FORMATS = ("short", "long")
# The higher, the earlier: the first tag is the version (README "priority attribute").
DEFAULT_PRIORITIES = {
    "schedule": "1000",
    "semver": "900",
    "pep440": "900",
    "match": "800",
    "edge": "700",
    "ref": "600",
    "raw": "200",
    "sha": "100",
}
# What metadata-action does when the tags input is empty.
DEFAULT_RULES = (
    "type=schedule",
    "type=ref,event=branch",
    "type=ref,event=tag",
    "type=ref,event=pr",
)

# JavaScript's Number(): what metadata-action accepts as a number.
_JS_NUMBER = re.compile(
    r"\s*(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Infinity"
    r"|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)?\s*"
)


def js_number(text: str) -> float | None:
    """JavaScript's Number(text), or None where it would be NaN."""
    if not _JS_NUMBER.fullmatch(text):
        return None
    s = text.strip()
    if not s:
        return 0.0
    if s[:2].lower() in ("0x", "0o", "0b"):
        return float(int(s, 0))
    return float(s.replace("Infinity", "inf"))


_JS_FLAGS = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "g": 0,
    "u": 0,
    "y": 0,
    "d": 0,
    "v": 0,
}
# JavaScript spells a named group (?<name>...); Python wants (?P<name>...).
_JS_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<(?![=!])")


def split_regex_literal(pattern: str) -> tuple[str, str]:
    """A match pattern `/re/flags` is a JavaScript regex literal; anything else is the source."""
    literal = re.fullmatch(r"/(.+)/(.*)", pattern)
    return (literal.group(1), literal.group(2)) if literal else (pattern, "")


@functools.lru_cache(maxsize=256)
def compile_js_regex(source: str, flags: str = "") -> UserRegex:
    """new RegExp(source, flags) in Python terms; InputError when JavaScript would throw too.

    Matched with a time bound (dockyard.userregex): a pattern that backtracks
    without end is an InputError naming it, not a hang."""
    py_flags = re.ASCII  # JavaScript's \d, \w and \b are ASCII-only
    for flag in flags:
        if flag not in _JS_FLAGS or flags.count(flag) > 1:
            raise InputError(
                f"invalid regular expression flags {flags!r} (expected some of dgimsuvy)"
            )
        py_flags |= _JS_FLAGS[flag]
    try:
        return UserRegex(_JS_NAMED_GROUP.sub("(?P<", source), py_flags)
    except (re.error, OverflowError, RecursionError) as exc:
        raise InputError(f"invalid regular expression {source!r}: {exc}") from None


def entry_lines(values: Iterable[str]) -> list[str]:
    """Split multi-line values into entries; drop blanks and `#` comment lines."""
    lines: list[str] = []
    for value in values:
        for line in str(value).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def _fields(entry: str, what: str) -> list[str]:
    try:
        rows = list(csv.reader([entry], strict=True))
    except csv.Error as exc:
        raise InputError(f"{what} {entry!r}: malformed CSV ({exc})") from None
    return rows[0] if rows else []


def _quote(text: str) -> str:
    if any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


@dataclass(frozen=True)
class Rule:
    """One `tags` entry with metadata-action's defaults filled in."""

    type: str
    attrs: tuple[tuple[str, str], ...]  # sorted by key
    entry: str = field(default="", compare=False)  # as the user wrote it, for messages

    def get(self, key: str, default: str = "") -> str:
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self.attrs)

    @property
    def priority(self) -> float:
        number = js_number(self.get("priority"))
        return 0.0 if number is None else number

    def __str__(self) -> str:
        return ",".join(_quote(f"{k}={v}") for k, v in (("type", self.type), *self.attrs))


def parse_rules(lines: Sequence[str]) -> list[Rule]:
    """Parse a `tags:` block (one rule a line); errors name the entry."""
    return [parse_rule(line) for line in entry_lines(lines)]


def parse_rule(entry: str) -> Rule:
    kind = "raw"
    attrs: dict[str, str] = {}
    for fld in _fields(entry, "tag rule"):
        eq = fld.find("=")
        if eq <= 0:  # no key: the rule's value (metadata-action: `type=raw,foo`, `foo`)
            attrs["value"] = fld.strip()
            continue
        key, value = fld[:eq].strip().lower(), fld[eq + 1 :].strip()
        if not key:
            raise InputError(f"tag rule {entry!r}: empty attribute name before '='")
        if key == "type":
            if value not in TYPES:
                raise InputError(
                    f"tag rule {entry!r}: unknown tag type attribute: {value} "
                    f"(expected one of {', '.join(TYPES)})"
                )
            kind = value
        else:
            attrs[key] = value
    _apply_defaults(entry, kind, attrs)
    return Rule(kind, tuple(sorted(attrs.items())), entry)


def _apply_defaults(entry: str, kind: str, attrs: dict[str, str]) -> None:
    """metadata-action's per-type checks and defaults (tag.ts Parse)."""

    def fail(message: str) -> None:
        raise InputError(f"tag rule {entry!r}: {message}")

    def check_regex(source: str, flags: str = "") -> None:
        # metadata-action only finds a bad regex on a tag push; dockyard refuses it up front.
        try:
            compile_js_regex(source, flags)
        except InputError as exc:
            fail(str(exc))

    if kind == "schedule":
        attrs.setdefault("pattern", "nightly")
    elif kind in ("semver", "pep440"):
        if "pattern" not in attrs:
            fail(
                f"missing pattern attribute ({kind} type requires a pattern, e.g. pattern={{{{version}}}})"
            )
        attrs.setdefault("value", "")
        attrs.setdefault("match", "")
        if attrs["match"]:
            check_regex(attrs["match"])
    elif kind == "match":
        if "pattern" not in attrs:
            fail(
                r"missing pattern attribute (match type requires a pattern, e.g. pattern=v(\d.\d.\d))"
            )
        check_regex(*split_regex_literal(attrs["pattern"]))
        attrs.setdefault("group", "0")
        if js_number(attrs["group"]) is None:
            fail(f"invalid match group: {attrs['group']} (expected a number, e.g. group=1)")
        attrs.setdefault("value", "")
    elif kind == "edge":
        attrs.setdefault("branch", "")
    elif kind == "ref":
        if "event" not in attrs:
            fail("missing event attribute (expected event=branch, event=tag or event=pr)")
        if attrs["event"] not in REF_EVENTS:
            fail(f"invalid event: {attrs['event']} (expected branch, tag or pr)")
        if attrs["event"] == "pr":
            attrs.setdefault("prefix", "pr-")
    elif kind == "raw":
        if "value" not in attrs:
            fail("missing value attribute (e.g. type=raw,value=latest)")
    elif kind == "sha":
        attrs.setdefault("prefix", "sha-")
        attrs.setdefault("format", "short")
        if attrs["format"] not in SHA_FORMATS:
            fail(f"invalid format: {attrs['format']} (expected short or long)")
    attrs.setdefault("enable", "true")
    attrs.setdefault("priority", DEFAULT_PRIORITIES[kind])
    # dockyard refuses what JavaScript would sort as NaN (an unpredictable order).
    if js_number(attrs["priority"]) is None:
        fail(f"invalid priority: {attrs['priority']} (expected a number, e.g. priority=1000)")


def sort_rules(rules: Sequence[Rule]) -> list[Rule]:
    """Highest priority first; equal priorities keep their input order (a stable sort)."""
    return sorted(rules, key=lambda rule: -rule.priority)


@dataclass(frozen=True)
class Flavor:
    """The `flavor` input: when to add `latest`, and a global prefix/suffix."""

    latest: str = "auto"  # auto | true | false
    prefix: str = ""
    prefix_latest: bool = False
    suffix: str = ""
    suffix_latest: bool = False

    def __str__(self) -> str:
        """The canonical one-line entry; parse_flavor([str(f)]) == f."""
        fields = [f"latest={self.latest}"]
        for key, value, on_latest in (
            ("prefix", self.prefix, self.prefix_latest),
            ("suffix", self.suffix, self.suffix_latest),
        ):
            if value or on_latest:
                fields += [_quote(f"{key}={value}"), f"onlatest={'true' if on_latest else 'false'}"]
        return ",".join(fields)


def parse_flavor(lines: Sequence[str]) -> Flavor:
    values: dict[str, object] = {}
    for entry in entry_lines(lines):
        onlatest_for = ""
        for fld in _fields(entry, "flavor entry"):
            key, sep, value = (part.strip() for part in fld.partition("="))
            if not sep:
                raise InputError(
                    f"flavor entry {entry!r}: invalid flavor entry (expected key=value)"
                )
            key = key.lower()
            if "=" in value:
                # metadata-action splits at every '=' and keeps the second piece: the rest is lost.
                kept = value.split("=", 1)[0].strip()
                raise InputError(
                    f"flavor entry {entry!r}: {key} value {value!r} holds a second '=' "
                    f"(metadata-action would keep only {kept!r}; a tag cannot hold '=')"
                )
            if key == "latest":
                if value not in ("auto", "true", "false"):
                    raise InputError(
                        f"flavor entry {entry!r}: invalid latest flavor entry: {value} "
                        "(expected auto, true or false)"
                    )
                values["latest"] = value
            elif key in ("prefix", "suffix"):
                values[key] = value
                onlatest_for = key
            elif key == "onlatest":
                if value not in ("true", "false"):
                    raise InputError(
                        f"flavor entry {entry!r}: invalid value for onlatest attribute: {value} "
                        "(expected true or false)"
                    )
                if onlatest_for:  # metadata-action ignores onlatest before prefix/suffix
                    values[f"{onlatest_for}_latest"] = value == "true"
            else:
                raise InputError(
                    f"flavor entry {entry!r}: unknown flavor entry: {key} "
                    "(expected latest, prefix, suffix or onlatest)"
                )
    return Flavor(**values)  # type: ignore[arg-type]


def parse_images(lines: Sequence[str]) -> list[str]:
    """The enabled image names, lower-cased, in order (metadata-action image.ts)."""
    entries = entry_lines(lines)
    if len(entries) == 1:
        # The old format: one line, comma-separated names without attributes.
        names = [f.strip() for f in _fields(entries[0], "image")]
        if all("=" not in name for name in names):
            return [name.lower() for name in names if name]
    images: list[str] = []
    for entry in entries:
        name, enabled = "", True
        for fld in _fields(entry, "image"):
            key, sep, value = (part.strip() for part in fld.partition("="))
            if not sep:
                name = key
            elif key.lower() == "name":
                name = value
            elif key.lower() == "enable":
                if value not in ("true", "false"):
                    raise InputError(
                        f"image {entry!r}: invalid enable attribute value: {value} (expected true or false)"
                    )
                enabled = value == "true"
            else:
                raise InputError(
                    f"image {entry!r}: unknown image attribute: {key} (expected name or enable)"
                )
        if not name:
            raise InputError(
                f"image {entry!r}: image name attribute empty (e.g. name=ghcr.io/owner/app)"
            )
        if enabled:
            images.append(name.lower())
    return images
