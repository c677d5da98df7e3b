"""The build matrix: one entry per target x platform, each on the runner that builds it natively.

    runners = parse_runners(["linux/arm64=ubuntu-24.04-arm"])   # over DEFAULT_RUNNERS
    matrix(plan, runners=runners, qemu=False)   # {"include": [{"target": ..., "runner": ...}]}

A platform without a runner of its own builds on the linux/amd64 runner
under qemu (`"qemu": true`); `qemu=True` builds every platform there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.errors import InputError
from dockyard.plan.model import Plan
from dockyard.platform import Platform, parse_platform

# GitHub's hosted runners: x86-64, and the arm64 one (free for public repositories
# since 2025-01; private ones need a paid plan or a larger runner label instead).
DEFAULT_RUNNERS = {"linux/amd64": "ubuntu-24.04", "linux/arm64": "ubuntu-24.04-arm"}
HOST = "linux/amd64"  # where a platform without a runner is emulated
ARTIFACT_PREFIX = "digests-"


def parse_runners(
    specs: Sequence[str], *, defaults: Mapping[str, str] = DEFAULT_RUNNERS
) -> dict[str, str]:
    """`PLATFORM=LABEL` options over `defaults`: canonical platform -> runner label."""
    runners = {str(parse_platform(p)): label for p, label in defaults.items()}
    for spec in specs:
        text, sep, label = spec.partition("=")
        label = label.strip()
        if not sep or not label or any(c.isspace() for c in label):
            raise InputError(
                f"--runner {spec!r}: expected PLATFORM=LABEL, e.g. linux/arm64=ubuntu-24.04-arm"
            )
        try:
            platform = parse_platform(text.strip())
        except InputError as exc:
            raise InputError(f"--runner {spec!r}: {exc}") from None
        runners[str(platform)] = label
    if HOST not in runners:
        raise InputError(f"--runner: no runner for {HOST}, where other platforms are emulated")
    return runners


def artifact_name(target: str, platform: Platform) -> str:
    """Unique per target and platform: upload-artifact v4+ refuses a second upload of a name."""
    return f"{ARTIFACT_PREFIX}{target}-{platform.slug}"


def entry(
    target: str, platform: Platform, *, runners: Mapping[str, str], qemu: bool
) -> dict[str, Any]:
    native = None if qemu and str(platform) != HOST else runners.get(str(platform))
    return {
        "target": target,
        "platform": str(platform),
        "runner": native or runners[HOST],
        "qemu": native is None,
        "artifact": artifact_name(target, platform),
    }


def matrix(plan: Plan, *, runners: Mapping[str, str], qemu: bool = False) -> dict[str, Any]:
    """GitHub's `strategy.matrix` document (`include` only), targets then platforms in plan order."""
    return {
        "include": [
            entry(t.name, p, runners=runners, qemu=qemu) for t in plan.targets for p in t.platforms
        ]
    }
