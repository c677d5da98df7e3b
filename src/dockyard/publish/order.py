"""Ordered releases: may a tag that points at one release be moved to another? (pure: no I/O)

    current = Release.from_annotations(annotations_of_what_the_tag_points_at)
    new = Release.from_annotations(annotations_of_the_index_to_publish)
    decision = decide("latest", current, new)     # decision.allowed, decision.reason

Two runs racing (an older commit finishing after a newer one) must not move
a tag backwards. A release is known by its OCI annotations
`org.opencontainers.image.version`, `.revision` and `.created` (dockyard
writes them on every index; an image without them is read from its config
labels by the caller). The order:

- both versions are semver (an optional leading `v`): semver precedence, a
  pre-release below its release (1.2.0-rc.1 < 1.2.0), build metadata
  ignored; equal versions are then ordered by `created`;
- otherwise (a branch build `main`, `sha-abc1234`): the `created` timestamps;
- a release that cannot be ordered (no readable version or timestamp on
  either side) is not refused: there is nothing to say it is older.

Only a strictly older release is refused; the same release again, or a
newer one, moves. `latest` therefore never moves to a lower semver. The
caller lets `--force` override a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from dockyard.tags.versions import SemVer, parse_semver

VERSION = "org.opencontainers.image.version"
REVISION = "org.opencontainers.image.revision"
CREATED = "org.opencontainers.image.created"
KEYS = (VERSION, REVISION, CREATED)


@dataclass(frozen=True)
class Release:
    """What a tag points at, as far as ordering goes."""

    version: str = ""
    revision: str = ""
    created: str = ""

    @classmethod
    def from_annotations(cls, values: Mapping[str, str]) -> Release:
        return cls(values.get(VERSION, ""), values.get(REVISION, ""), values.get(CREATED, ""))

    @property
    def known(self) -> bool:
        return bool(self.version or self.created)

    def __str__(self) -> str:
        if not self.known:
            return "an unversioned image"
        parts = [f"created {self.created}"] if self.created else []
        if self.revision:
            parts.append(f"revision {self.revision[:12]}")
        name = self.version or "no version"
        return f"{name} ({', '.join(parts)})" if parts else name


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # one clause: why it may or may not move


def has_release(values: Mapping[str, str]) -> bool:
    """True when `values` (annotations or labels) carry a version or a creation time."""
    return bool(values.get(VERSION) or values.get(CREATED))


def decide(tag: str, current: Release, new: Release) -> Decision:
    """May `tag`, now at `current`, move to `new`? See the module docstring for the order."""
    old_v, new_v = parse_semver(current.version), parse_semver(new.version)
    if old_v is not None and new_v is not None:
        order = _compare(precedence(new_v), precedence(old_v))
        if order < 0:
            return Decision(False, f"{tag} is at {current}, newer than {new} (semver)")
        if order > 0:
            return Decision(True, f"{new.version} is newer than {current.version} (semver)")
    old_t, new_t = _when(current.created), _when(new.created)
    if old_t is None or new_t is None:
        return Decision(True, f"{tag}: {current} and {new} cannot be ordered (no comparable "
                              "version or creation time); moved")  # fmt: skip
    if new_t < old_t:
        basis = "same version, created earlier" if old_v and new_v else "created earlier"
        return Decision(False, f"{tag} is at {current}, newer than {new} ({basis})")
    return Decision(True, f"{new} is not older than {current}")


def precedence(v: SemVer) -> tuple:
    """semver 2.0 precedence as a sort key: numeric identifiers below alphanumeric ones,
    a shorter identifier list below a longer one with the same start, no pre-release highest."""
    pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in v.prerelease)
    return (v.major, v.minor, v.patch, 0 if v.prerelease else 1, pre)


def _compare(a: tuple, b: tuple) -> int:
    return (a > b) - (a < b)


def _when(text: str) -> datetime | None:
    """An RFC 3339 time as an aware datetime; None when absent or unreadable."""
    if not text:
        return None
    # Go writes nanoseconds: Python reads at most microseconds.
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text.strip())
    try:
        when = datetime.fromisoformat(trimmed)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
