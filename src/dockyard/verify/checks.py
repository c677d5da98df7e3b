"""verify's decisions over parsed objects: index, config vs descriptor, policy (pure).

Every function takes models (an Index, an ImageConfig, sizes, a resolved
user) and returns Findings; run.py does the reading. Rule ids:

  index.missing-platform     an expected platform has no entry
  index.unexpected-platform  an entry for a platform nobody asked for
  index.duplicate-platform   two entries for one platform (a pull gets either)
  index.not-an-index         a single image where several platforms are expected
  index.no-platform          (warning) an entry that is neither a platform image nor an attestation
  index.empty                nothing to verify: no platform image, also in nested indexes
                             (verify --allow-empty accepts that)
  index.too-deep, index.cycle  nested indexes beyond the depth cap, or under themselves (nested.py)
  config.platform-mismatch   the config's os/architecture/variant differ from the entry's
  config.diff-ids            rootfs.type is not "layers", rootfs.diff_ids has not one entry
                             per layer, or (archscan.py) a layer decompresses to another diff_id
  policy.max-size            over the size budget (compressed, or uncompressed)
  policy.non-root            runs as root, or as a user /etc/passwd cannot resolve
  policy.healthcheck         no HEALTHCHECK (or HEALTHCHECK NONE)
  policy.label               a required label is missing or empty
  smoke.ok                   (info) the smoke command exited 0; its output in detail
  smoke.failed               it exited non-zero, or could not start
  smoke.timeout              it did not finish in time
  smoke.no-command           --smoke without a HEALTHCHECK or a smoke command
  smoke.no-emulation         a foreign platform and no usable qemu binfmt entry
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.errors import InputError
from dockyard.findings import Finding
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor, ImageConfig, Index, Manifest
from dockyard.platform import Platform, matches, parse_platform
from dockyard.verify.passwd import UserCheck
from dockyard.verify.report import SmokeResult

# docker's shell for CMD-SHELL when the config sets no Shell.
DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass(frozen=True)
class Child:
    """One platform image to verify.

    platform: what the index entry (or the single expected platform) claims;
    None for a lone manifest verified as whatever its config says.
    """

    descriptor: Descriptor
    platform: Platform | None


# ------------------------------------------------------------------ index


def normalise(p: Platform) -> Platform:
    """The canonical form of an entry's platform (arm -> arm/v7, arm64/v8 -> arm64); as given if unknown."""
    try:
        return parse_platform(str(p))
    except InputError:
        return p


def select_children(
    top: Manifest | Index, expected: Sequence[Platform]
) -> tuple[tuple[Child, ...], tuple[Finding, ...]]:
    """The images to verify and the index findings.

    `expected` empty: every platform the index holds is fine. A single
    manifest passes as one platform when at most one is expected.
    """
    if isinstance(top, Manifest):
        return _single(top, expected)
    children = tuple(Child(d, normalise(d.platform)) for d in top.platforms())  # type: ignore[arg-type]
    findings = [
        *_no_platform(top),
        *_duplicates(children),
        *_missing(children, expected),
        *_unexpected(children, expected),
    ]
    return children, tuple(findings)


def _single(
    top: Manifest, expected: Sequence[Platform]
) -> tuple[tuple[Child, ...], tuple[Finding, ...]]:
    descriptor = top.descriptor()
    if len(expected) <= 1:
        return (Child(descriptor, expected[0] if expected else None),), ()
    wanted = ", ".join(str(p) for p in expected)
    finding = Finding(
        rule="index.not-an-index",
        severity="error",
        platform="",
        path=str(descriptor.digest),
        message=f"a single image manifest, not an index: {len(expected)} platforms expected ({wanted})",
        detail={"expected": [str(p) for p in expected], "media_type": top.media_type},
    )
    return (Child(descriptor, None),), (finding,)


def _no_platform(top: Index) -> list[Finding]:
    return [
        Finding(
            rule="index.no-platform",
            severity="warning",
            platform="",
            path=str(d.digest),
            message=f"index entry {d.digest} ({d.media_type}) has no platform: not verified",
        )
        for d in top.manifests
        if d.platform is None and d.media_type not in mt.INDEX_TYPES  # nested.py reads those
    ]


def nothing_verified(top: Index | Manifest) -> Finding:
    """The error of an index that holds no platform image at all: a pass would be hollow."""
    return Finding(
        rule="index.empty",
        severity="error",
        platform="",
        path=str(top.digest),
        message=f"index {top.digest} holds no platform image (also in nested indexes): "
        "nothing verified (pass --allow-empty to accept that)",
    )


def _duplicates(children: Sequence[Child]) -> list[Finding]:
    first: dict[Platform, Descriptor] = {}
    findings = []
    for child in children:
        assert child.platform is not None
        seen = first.setdefault(child.platform, child.descriptor)
        if seen is not child.descriptor:
            findings.append(
                Finding(
                    rule="index.duplicate-platform",
                    severity="error",
                    platform=str(child.platform),
                    path=str(child.descriptor.digest),
                    message=(
                        f"{child.platform} appears twice in the index ({seen.digest} and "
                        f"{child.descriptor.digest}): a pull gets either"
                    ),
                    detail={"digests": [str(seen.digest), str(child.descriptor.digest)]},
                )
            )
    return findings


def _missing(children: Sequence[Child], expected: Sequence[Platform]) -> list[Finding]:
    present = ", ".join(str(c.platform) for c in children) or "none"
    return [
        Finding(
            rule="index.missing-platform",
            severity="error",
            platform=str(p),
            path="",
            message=f"{p} is not in the index (it has: {present})",
            detail={"present": [str(c.platform) for c in children]},
        )
        for p in expected
        if not any(matches(p, c.platform) for c in children)  # type: ignore[arg-type]
    ]


def _unexpected(children: Sequence[Child], expected: Sequence[Platform]) -> list[Finding]:
    if not expected:
        return []
    wanted = ", ".join(str(p) for p in expected)
    return [
        Finding(
            rule="index.unexpected-platform",
            severity="error",
            platform=str(c.platform),
            path=str(c.descriptor.digest),
            message=f"{c.platform} is in the index but not expected (expected: {wanted})",
        )
        for c in children
        if not any(matches(p, c.platform) for p in expected)  # type: ignore[arg-type]
    ]


# ------------------------------------------------------------------ config


def check_config_platform(claimed: Platform, config: ImageConfig, *, path: str) -> list[Finding]:
    """The config's os/architecture/variant must be the platform the entry claims."""
    if matches(claimed, config.platform):
        return []
    return [
        Finding(
            rule="config.platform-mismatch",
            severity="error",
            platform=str(claimed),
            path=path,
            message=f"the index entry says {claimed} but the image config says {config.platform}",
            detail={"entry": str(claimed), "config": str(config.platform)},
        )
    ]


def check_rootfs(platform: str, config: ImageConfig, layers: int, *, path: str) -> list[Finding]:
    """rootfs.type is "layers" and rootfs.diff_ids has one entry per manifest layer (runtimes refuse otherwise).

    Each diff_id's value is compared while the layer is scanned (archscan.py).
    """
    findings = []
    if config.rootfs_type != "layers":
        shown = f"'{config.rootfs_type}'" if config.rootfs_type else "missing"
        findings.append(
            Finding(
                rule="config.diff-ids",
                severity="error",
                platform=platform,
                path=path,
                message=f"the config's rootfs.type is {shown} (expected 'layers')",
                detail={"kind": "type", "type": config.rootfs_type},
            )
        )
    if len(config.diff_ids) != layers:
        findings.append(
            Finding(
                rule="config.diff-ids",
                severity="error",
                platform=platform,
                path=path,
                message=(
                    f"the manifest has {_count(layers, 'layer')} but the config's rootfs.diff_ids "
                    f"lists {len(config.diff_ids)} (expected one per layer; runtimes refuse this image)"
                ),
                detail={"kind": "count", "layers": layers, "diff_ids": len(config.diff_ids)},
            )
        )
    return findings


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# ------------------------------------------------------------------ policy


def check_size(
    platform: str,
    *,
    compressed: int,
    uncompressed: int | None,
    max_compressed: int | None,
    max_uncompressed: int | None,
) -> list[Finding]:
    """Budgets per platform image: compressed = layers + config as pulled; uncompressed = the layers' tar bytes."""
    findings = []
    for kind, size, budget in (
        ("compressed", compressed, max_compressed),
        ("uncompressed", uncompressed, max_uncompressed),
    ):
        if budget is None or size is None or size <= budget:
            continue
        findings.append(
            Finding(
                rule="policy.max-size",
                severity="error",
                platform=platform,
                path="/",
                message=f"{kind} size {_size(size)} is over the budget of {_size(budget)}",
                detail={"kind": kind, "size": size, "budget": budget},
            )
        )
    return findings


def check_non_root(platform: str, check: UserCheck) -> list[Finding]:
    """Root (uid 0) fails, and so does a name /etc/passwd cannot resolve (the runtime would refuse it)."""
    if check.uid is not None and not check.is_root:
        return []
    why = "runs as root" if check.is_root else "cannot be shown to run as non-root"
    return [
        Finding(
            rule="policy.non-root",
            severity="error",
            platform=platform,
            path="/etc/passwd" if check.spec.needs_lookup else "/",
            message=f"the image {why}: {check.reason} (set USER to a non-root uid or name)",
            detail={"user": str(check.spec), "uid": check.uid},
        )
    ]


def healthcheck_argv(healthcheck: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The argv a HEALTHCHECK runs: CMD args as given, CMD-SHELL through /bin/sh -c; None for none/NONE."""
    test = (healthcheck or {}).get("Test")
    if not isinstance(test, list) or not test or not all(isinstance(t, str) for t in test):
        return None
    kind, args = test[0], tuple(test[1:])
    if kind == "CMD" and args:
        return args
    if kind == "CMD-SHELL" and args:
        return (*DEFAULT_SHELL, " ".join(args))
    return None


def check_healthcheck(platform: str, healthcheck: Mapping[str, Any] | None) -> list[Finding]:
    if healthcheck_argv(healthcheck) is not None:
        return []
    test = (healthcheck or {}).get("Test")
    what = "HEALTHCHECK NONE" if test == ["NONE"] else "no HEALTHCHECK"
    return [
        Finding(
            rule="policy.healthcheck",
            severity="error",
            platform=platform,
            path="/",
            message=f"the image has {what} (add HEALTHCHECK CMD ... to the Dockerfile)",
            detail={"healthcheck": dict(healthcheck) if healthcheck else None},
        )
    ]


def check_labels(
    platform: str, labels: Mapping[str, str], required: Iterable[str]
) -> list[Finding]:
    findings = []
    for key in required:
        value = labels.get(key)
        if value is not None and value.strip():
            continue
        state = "missing" if value is None else "empty"
        findings.append(
            Finding(
                rule="policy.label",
                severity="error",
                platform=platform,
                path=key,
                message=f"required label {key} is {state}",
                detail={"label": key, "state": state},
            )
        )
    return findings


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1000 else f"{n} bytes ({_rounded(n)})"


def _rounded(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f}{unit}"
    return f"{n}B"


# ------------------------------------------------------------------ smoke


def check_smoke(platform: str, result: SmokeResult) -> list[Finding]:
    """smoke.ok (info, with the output), smoke.timeout or smoke.failed (errors)."""
    detail = result.to_json()
    command = " ".join(result.argv)
    if result.error:
        rule, severity, message = (
            "smoke.failed",
            "error",
            f"smoke run of '{command}' did not start: {result.error}",
        )
    elif result.timed_out:
        rule, severity = "smoke.timeout", "error"
        message = f"'{command}' did not finish within {result.seconds:.0f} s"
    elif result.exit_code != 0:
        rule, severity = "smoke.failed", "error"
        message = f"'{command}' exited with status {result.exit_code}" + _last_output(result.output)
    else:
        rule, severity = "smoke.ok", "info"
        message = f"'{command}' exited 0 in {result.seconds:.1f} s" + (
            " under emulation" if result.emulated else ""
        )
    return [Finding(rule, severity, platform, "/", message, detail)]  # type: ignore[arg-type]


def smoke_no_command(platform: str) -> Finding:
    return Finding(
        rule="smoke.no-command",
        severity="error",
        platform=platform,
        path="/",
        message="nothing to smoke-run: the image has no HEALTHCHECK and no smoke command was given "
        "(--smoke-cmd, or smoke = [...] in the target)",
    )


def smoke_no_emulation(platform: str, problem: str) -> Finding:
    return Finding(
        rule="smoke.no-emulation", severity="error", platform=platform, path="/", message=problem
    )


def _last_output(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    # buildah appends its own "subprocess exited..." / "Error: exit status N" lines.
    lines = [
        line
        for line in lines
        if not line.startswith(
            ("subprocess exited", "Error: exit status", "Error: while running runtime: exit status")
        )
    ]
    return f": {lines[-1]}" if lines else ""
