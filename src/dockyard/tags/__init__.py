"""Tag and label engine, compatible with docker/metadata-action (pure: no I/O).

A workflow's `tags:`, `flavor:`, `images:` and `labels:` blocks go in
unchanged; `compute_tags` gives the same tags (same order), version, labels
and annotations as metadata-action. engine.py lists the opt-in options
(latest_only_stable, require_semver) and what is refused where the action
fails or puts out a tag nobody wrote.

    compute_tags(context, images=[...], rules=[...], flavor=[...]) -> TagResult
    parse_rules(lines) -> list[Rule]          # InputError naming the entry
"""

from __future__ import annotations

from dockyard.tags.engine import TagResult, compute_tags, sanitize_tag
from dockyard.tags.rules import (
    DEFAULT_PRIORITIES,
    DEFAULT_RULES,
    Flavor,
    Rule,
    parse_flavor,
    parse_images,
    parse_rule,
    parse_rules,
)

__all__ = [
    "DEFAULT_PRIORITIES",
    "DEFAULT_RULES",
    "Flavor",
    "Rule",
    "TagResult",
    "compute_tags",
    "parse_flavor",
    "parse_images",
    "parse_rule",
    "parse_rules",
    "sanitize_tag",
]
