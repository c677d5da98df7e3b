"""The one report item every verify check produces (pure).

A finding names its rule (`arch.mismatch`, `layer.limit`, ...), a severity,
the platform it concerns and a path (a file in the image, or a blob digest
for findings about a whole layer). `verify` exits 1 when any finding is an
error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    platform: str
    path: str
    message: str
    detail: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            # A programming error, not user input: fail loudly at construction.
            raise ValueError(
                f"finding {self.rule}: severity '{self.severity}' is not one of "
                f"{', '.join(SEVERITIES)}"
            )
        # Read-only like every model; callers may pass a plain dict.
        object.__setattr__(self, "detail", MappingProxyType(dict(self.detail)))

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_json(self) -> dict[str, Any]:
        """The finding as it appears in `verify --json` (detail copied, JSON-ready)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "platform": self.platform,
            "path": self.path,
            "message": self.message,
            "detail": _plain(self.detail),
        }


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error (verify then exits 1)."""
    return any(f.is_error for f in findings)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
