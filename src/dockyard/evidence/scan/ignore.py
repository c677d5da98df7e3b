"""`[scan] ignore`: which findings an entry covers, and which entries have expired (pure).

    kept, ignored, expired = apply_ignores(findings, rules, today=date.today())

An entry covers a finding whose advisory id or any alias is the entry's id
(case-insensitive: `cve-2024-1234` is CVE-2024-1234), through its `until`
day. From the next day on the entry ignores nothing and is reported as
expired, so an old exception comes back to a reviewer instead of hiding a
finding forever. The clock is the caller's (`today`), so tests fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from dockyard.config.model import IgnoreRule
from dockyard.evidence.scan.result import Finding, Ignored


def expired_rules(rules: Iterable[IgnoreRule], today: date) -> tuple[IgnoreRule, ...]:
    return tuple(rule for rule in rules if rule.until < today)


def apply_ignores(
    findings: Sequence[Finding], rules: Sequence[IgnoreRule], *, today: date
) -> tuple[tuple[Finding, ...], tuple[Ignored, ...], tuple[IgnoreRule, ...]]:
    """(findings still counted, findings ignored with their entry, expired entries)."""
    expired = expired_rules(rules, today)
    live = {rule.id.upper(): rule for rule in rules if rule not in expired}
    kept: list[Finding] = []
    ignored: list[Ignored] = []
    for finding in findings:
        rule = next((live[i.upper()] for i in finding.ids if i.upper() in live), None)
        if rule is None:
            kept.append(finding)
        else:
            ignored.append(Ignored(finding, rule))
    return tuple(kept), tuple(ignored), expired
