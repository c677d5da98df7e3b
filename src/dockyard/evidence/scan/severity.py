"""A finding's severity: critical, high, medium, low or unknown, from CVSS or the database (pure).

    severity_of(advisory, affected)     # Severity("high", 7.5, "CVSS_V3")

The order of sources: the affected package's CVSS vectors, then the
advisory's, then a word the database gives (`database_specific.severity`:
GHSA's HIGH/MODERATE, a distribution's urgency; an `Ubuntu` severity entry).
CVSS v3.x and v2 base scores are computed from the vector with the
specifications' formulas (FIRST's CVSS v3.1 section 7.1 and Appendix A, v2
section 3.2.1); a v3 vector wins over a v2 one. CVSS v4 scores need FIRST's
MacroVector table, which dockyard does not carry: a v4-only advisory takes
the database's word, else "unknown". Ratings: v3 (and v4): 9.0+ critical,
7.0+ high, 4.0+ medium, else low; v2 (NVD): 7.0+ high, 4.0+ medium, else low.

"unknown" sorts lowest, as grype and trivy rank it: `--fail-on unknown`
fails on any finding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.config.model import SCAN_SEVERITIES
from dockyard.evidence.scan.osv import Advisory, Affected, Score

CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN = SCAN_SEVERITIES  # most severe first
# critical 5, high 4, ... unknown 1
RANK = {name: len(SCAN_SEVERITIES) - i for i, name in enumerate(SCAN_SEVERITIES)}

# Words databases use, mapped to dockyard's five.
_WORDS = {
    "critical": CRITICAL,
    "high": HIGH, "important": HIGH,
    "medium": MEDIUM, "moderate": MEDIUM,
    "low": LOW, "negligible": LOW, "unimportant": LOW, "minor": LOW,
}  # fmt: skip


@dataclass(frozen=True)
class Severity:
    level: str  # one of SCAN_SEVERITIES
    score: float | None = None  # the CVSS base score, when computed
    source: str = ""  # CVSS_V3, CVSS_V2, database, Ubuntu, "" when unknown

    def to_json(self) -> dict:
        return {"level": self.level, "score": self.score, "source": self.source or None}


def at_least(level: str, threshold: str) -> bool:
    """Is `level` at or above `threshold` (both SCAN_SEVERITIES)?"""
    return RANK[level] >= RANK[threshold]


def severity_of(advisory: Advisory, affected: Affected | None = None) -> Severity:
    scores = [*(affected.severity if affected else ()), *advisory.severity]
    found = from_vectors(scores)
    if found is not None:
        return found
    for word in (affected.database_severity if affected else "", advisory.database_severity):
        level = level_of_word(word)
        if level != UNKNOWN:
            return Severity(level, None, "database")
    for score in scores:
        if score.type.lower() == "ubuntu" and level_of_word(score.score) != UNKNOWN:
            return Severity(level_of_word(score.score), None, "Ubuntu")
    return Severity(UNKNOWN)


def level_of_word(word: str) -> str:
    return _WORDS.get(word.strip().lower(), UNKNOWN)


def from_vectors(scores: Iterable[Score]) -> Severity | None:
    """The first computable v3 score, else the first v2 one; None when neither."""
    by_type: dict[str, float] = {}
    for score in scores:
        kind = score.type.upper()
        if kind in by_type:
            continue
        try:
            if kind == "CVSS_V3":
                by_type[kind] = cvss3_base(score.score)
            elif kind == "CVSS_V2":
                by_type[kind] = cvss2_base(score.score)
        except ValueError:
            continue  # a vector we cannot read: the next source decides
    if "CVSS_V3" in by_type:
        value = by_type["CVSS_V3"]
        return Severity(_rating_v3(value), value, "CVSS_V3")
    if "CVSS_V2" in by_type:
        value = by_type["CVSS_V2"]
        return Severity(_rating_v2(value), value, "CVSS_V2")
    return None


def _rating_v3(score: float) -> str:
    return CRITICAL if score >= 9.0 else HIGH if score >= 7.0 else MEDIUM if score >= 4.0 else LOW


def _rating_v2(score: float) -> str:
    return HIGH if score >= 7.0 else MEDIUM if score >= 4.0 else LOW


# ---------------------------------------------------------------- CVSS v3.x

_V3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}


def _metrics(vector: str, prefix_ok: bool) -> dict[str, str]:
    parts = vector.strip().strip("()").split("/")
    if prefix_ok and parts and parts[0].startswith("CVSS:"):
        parts = parts[1:]
    metrics = {}
    for part in parts:
        key, sep, value = part.partition(":")
        if not sep:
            raise ValueError(f"{part!r} is not METRIC:VALUE")
        metrics[key] = value
    return metrics


def cvss3_base(vector: str) -> float:
    """The CVSS v3.0/v3.1 base score of a vector (`CVSS:3.1/AV:N/AC:L/...`); ValueError if malformed."""
    if not vector.strip().startswith("CVSS:3."):
        raise ValueError("not a CVSS v3 vector")
    m = _metrics(vector, True)
    try:
        scope = m["S"]
        av, ac, ui = _V3["AV"][m["AV"]], _V3["AC"][m["AC"]], _V3["UI"][m["UI"]]
        pr = _PR[scope][m["PR"]]
        c, i, a = _V3["C"][m["C"]], _V3["I"][m["I"]], _V3["A"][m["A"]]
    except KeyError as exc:
        raise ValueError(f"missing or unknown metric {exc}") from None
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    changed = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15  # scope changed
    impact = 6.42 * iss if scope == "U" else changed
    exploitability = 8.22 * av * ac * pr * ui
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return _roundup(min(total, 10.0))


def _roundup(value: float) -> float:
    """CVSS v3.1's Roundup (Appendix A): the smallest one-decimal number >= value, free of
    floating-point noise (4.000000001 -> 4.0, not 4.1)."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0


# ---------------------------------------------------------------- CVSS v2

_V2 = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
    "I": {"N": 0.0, "P": 0.275, "C": 0.660},
    "A": {"N": 0.0, "P": 0.275, "C": 0.660},
}


def cvss2_base(vector: str) -> float:
    """The CVSS v2 base score of a vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`); ValueError if malformed."""
    m = _metrics(vector, False)
    try:
        v = {key: _V2[key][m[key]] for key in _V2}
    except KeyError as exc:
        raise ValueError(f"missing or unknown metric {exc}") from None
    impact = 10.41 * (1 - (1 - v["C"]) * (1 - v["I"]) * (1 - v["A"]))
    exploitability = 20 * v["AV"] * v["AC"] * v["Au"]
    f = 0.0 if impact == 0 else 1.176
    # Round half up to one decimal, as the specification's examples do.
    return math.floor(((0.6 * impact) + (0.4 * exploitability) - 1.5) * f * 10 + 0.5 + 1e-9) / 10
