"""`verify_image`: read an image or index from any Store, run every check, return a Report.

The order per platform image: its manifest (fetched by digest, checked
against the index entry), its config (size-capped, digest checked), the
config-vs-entry check, the rootfs check (type, one diff_id per layer), the
arch scan (every layer streamed once, digest and diff_id verified in that
one pass), the policy checks, and last (all platforms after the static
checks, one at a time: qemu is slow and memory-hungry) the smoke runs.

A blob that is corrupt, missing or malformed in one platform's image is a
finding (`blob.invalid`, `blob.missing`) and that platform's remaining
checks are skipped; the other platforms are still verified.

`release` calls verify_image with VerifyOptions.from_policy(target.policy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dockyard.config.model import HealthCheck, Policy
from dockyard.digest import sha256_digest
from dockyard.emulation import binfmt_status
from dockyard.errors import DigestMismatch, InputError, ManifestInvalid, NotFound, Unsupported
from dockyard.findings import Finding
from dockyard.oci.fetch import child_manifest, read_config
from dockyard.oci.models import Descriptor, ImageConfig, Index, Manifest, parse_manifest
from dockyard.oci.open import open_store
from dockyard.oci.store import Store
from dockyard.platform import Platform
from dockyard.ref import LayoutRef, is_loopback_host, parse_location
from dockyard.verify import checks
from dockyard.verify.archscan import ScanLimits, ScanResult, scan_manifest
from dockyard.verify.healthrun import HealthOptions, check_platforms
from dockyard.verify.nested import nested_children
from dockyard.verify.passwd import parse_user, resolve_user
from dockyard.verify.report import PlatformReport, Report
from dockyard.verify.rootfile import read_final_file
from dockyard.verify.smoke import DEFAULT_TIMEOUT, SmokeOptions, SmokeSession

Progress = Callable[[str], None]


@dataclass(frozen=True)
class VerifyOptions:
    """What to expect of the image. The defaults check index, config and content only."""

    platforms: tuple[Platform, ...] = ()  # expected; () = whatever the index holds
    max_size: int | None = None  # compressed bytes (config + layers) per platform image
    max_size_uncompressed: int | None = None  # the layers' tar bytes per platform image
    non_root: bool = False
    healthcheck: bool = False
    require_labels: tuple[str, ...] = ()
    allow_foreign: tuple[str, ...] = ()  # path globs (config.pathglob): foreign ELF files as info
    smoke: bool = False
    smoke_cmd: tuple[str, ...] = ()  # empty: the image's HEALTHCHECK command
    smoke_timeout: float = DEFAULT_TIMEOUT
    health: HealthCheck | None = None  # the live health check per platform; None = none
    limits: ScanLimits = field(default_factory=ScanLimits)
    allow_empty: bool = False  # an index with no platform image to verify passes

    @classmethod
    def from_policy(cls, policy: Policy, **overrides: Any) -> VerifyOptions:
        """A target's [policy] as options; platforms, smoke, ... given as keywords."""
        return cls(
            max_size=policy.max_size,
            non_root=policy.non_root,
            healthcheck=policy.healthcheck,
            require_labels=tuple(policy.require_labels),
            allow_foreign=tuple(policy.allow_foreign),
            **overrides,
        )


@dataclass(frozen=True)
class _Verified:
    """One platform image after the static checks (what the smoke run needs)."""

    report: PlatformReport
    config: ImageConfig | None
    platform: Platform | None


def verify_image(
    location: str | tuple[Store, str],
    *,
    expect: VerifyOptions = VerifyOptions(),
    name: str = "",
    smoke_image: str | None = None,
    insecure_registries: Iterable[str] = (),
    progress: Progress | None = None,
) -> Report:
    """Verify what `location` names: a layout (`oci:DIR[:TAG]`) or (store, reference).

    A registry image comes as (store, reference) from a workspace
    (`Workspace.open`, or `pipeline.locations.verify_location`), which owns the client.
    `insecure_registries` says which registries the smoke run reaches without
    verified TLS. `smoke_image`: what buildah pulls for smoke runs
    (`oci:DIR:TAG`, `docker://host/repo@digest`); derived from the location when None.
    """
    insecure = frozenset(insecure_registries)
    if isinstance(location, tuple):
        store, reference = location
        ref = getattr(store, "ref", None)  # a RegistryStore's repository
        plain = ref is not None and (is_loopback_host(ref.registry) or ref.registry in insecure)
        name = name or _describe(store, reference)
        return _verify(store, reference, expect, name, smoke_image, plain, progress)
    parsed = parse_location(location)
    if not isinstance(parsed, LayoutRef):
        raise InputError(
            f"{location}: verify_image opens layouts (oci:DIR[:TAG]); open a registry image "
            "with a workspace (Workspace.open, or dockyard.pipeline.locations.verify_location)"
        )
    store, reference = open_store(parsed)
    return _verify(store, reference, expect, name or location, smoke_image, False, progress)


def _describe(store: Store, reference: str) -> str:
    """A name for a (store, reference) pair, in the location syntax where possible."""
    path = getattr(store, "path", None)
    base = f"oci:{path}" if path is not None else str(store)
    if not reference:
        return base
    return base + ("@" if reference.startswith("sha256:") else ":") + reference


def _verify(
    store: Store,
    reference: str,
    expect: VerifyOptions,
    name: str,
    smoke_image: str | None,
    plain_http: bool,
    progress: Progress | None,
) -> Report:
    say = progress or (lambda _: None)
    raw, media_type = store.manifest_get(reference)
    if reference.startswith("sha256:") and str(sha256_digest(raw)) != reference:
        raise DigestMismatch(f"manifest {reference}: content hashes to {sha256_digest(raw)}")
    top = parse_manifest(raw, media_type)
    children, index_findings = checks.select_children(top, expect.platforms)
    findings: list[Finding] = list(index_findings)
    if isinstance(top, Index):
        nested, nested_findings = nested_children(store, top)
        children = (*children, *nested)
        findings += nested_findings
    if not children and not expect.allow_empty:
        findings.append(checks.nothing_verified(top))
    verified: list[_Verified] = []
    for child in children:
        say(f"checking {child.platform or 'the image'} ({child.descriptor.digest})")
        one, found = _verify_child(store, top, child, expect)
        verified.append(one)
        findings += found
    if expect.smoke or expect.health is not None:
        try:
            image = smoke_image or _smoke_image(store, reference, top)
        except Unsupported as e:
            rules = ["smoke.failed"] if expect.smoke else []
            rules += ["health.failed"] if expect.health is not None else []
            findings += [
                Finding(rule, "error", v.report.platform, "/", str(e))
                for v in verified
                for rule in rules
            ]
        else:
            ca_cert = _trusted_ca(store)
            if expect.smoke:
                verified, smoke_findings = _smoke_all(
                    verified, image, expect, plain_http, say, ca_cert=ca_cert
                )
                findings += smoke_findings
            if expect.health is not None:
                verified, health_findings = _health_all(
                    verified, image, expect.health, plain_http, say, ca_cert=ca_cert
                )
                findings += health_findings
    attestations = top.attestations() if isinstance(top, Index) else []
    return Report(
        reference=name,
        digest=str(top.digest),
        media_type=top.media_type,
        platforms=tuple(v.report for v in verified),
        findings=tuple(findings),
        attestations=tuple(str(d.digest) for d in attestations),
    )


# ------------------------------------------------------------------ one platform


def _verify_child(
    store: Store, top: Manifest | Index, child: checks.Child, expect: VerifyOptions
) -> tuple[_Verified, list[Finding]]:
    label = str(child.platform or "")
    empty = PlatformReport(
        label, str(child.descriptor.digest), "", child.descriptor.size, None, 0, 0, ""
    )
    try:
        manifest = top if isinstance(top, Manifest) else child_manifest(store, child.descriptor)
        config = read_config(store, manifest)
    except (DigestMismatch, ManifestInvalid, NotFound) as e:
        return _Verified(empty, None, child.platform), [_blob_finding(label, child.descriptor, e)]
    platform = child.platform or checks.normalise(config.platform)
    label = str(platform)
    findings: list[Finding] = []
    if child.platform is not None:
        findings += checks.check_config_platform(platform, config, path=str(manifest.config.digest))
    findings += checks.check_rootfs(
        label, config, len(manifest.layers), path=str(manifest.config.digest)
    )
    report = PlatformReport(
        platform=label,
        digest=str(child.descriptor.digest),
        config=str(manifest.config.digest),
        compressed_size=manifest.config.size + sum(layer.size for layer in manifest.layers),
        uncompressed_size=None,
        layers=len(manifest.layers),
        elf_files=0,
        user=config.user,
        checks=_checks_run(child.platform is not None, expect),
    )
    try:
        scan = _scan(store, manifest, config, platform, expect)
        findings += _scan_findings(label, scan)
        if scan is not None and not _scan_incomplete(scan):
            report = replace(
                report, uncompressed_size=scan.bytes_uncompressed, elf_files=scan.elf_files
            )
        findings += _policy(store, manifest, config, label, report, expect)
    except (DigestMismatch, ManifestInvalid, NotFound) as e:
        findings.append(_blob_finding(label, child.descriptor, e))
    return _Verified(report, config, platform), findings


def _checks_run(claimed: bool, expect: VerifyOptions) -> tuple[str, ...]:
    run = ["config.platform-mismatch"] if claimed else []
    run += ["config.diff-ids", "arch.mismatch"]
    if expect.max_size is not None or expect.max_size_uncompressed is not None:
        run.append("policy.max-size")
    if expect.non_root:
        run.append("policy.non-root")
    if expect.healthcheck:
        run.append("policy.healthcheck")
    if expect.require_labels:
        run.append("policy.label")
    if expect.smoke:
        run.append("smoke")
    if expect.health is not None:
        run.append("health")
    return tuple(run)


def _scan(
    store: Store, manifest: Manifest, config: ImageConfig, platform: Platform, expect: VerifyOptions
) -> ScanResult | None:
    try:
        return scan_manifest(
            store,
            manifest,
            platform=platform,
            limits=expect.limits,
            diff_ids=config.diff_ids,
            allow_foreign=expect.allow_foreign,
        )
    except Unsupported:
        return None  # no ELF signature for the platform (windows): reported by _scan_findings


def _scan_findings(label: str, scan: ScanResult | None) -> list[Finding]:
    if scan is not None:
        return list(scan.findings)
    return [
        Finding(
            rule="arch.skipped",
            severity="warning",
            platform=label,
            path="/",
            message=f"{label}: no ELF signature is known for this platform; content not scanned",
        )
    ]


def _scan_incomplete(scan: ScanResult) -> bool:
    return any(f.rule.startswith("layer.") for f in scan.findings)


def _policy(
    store: Store,
    manifest: Manifest,
    config: ImageConfig,
    label: str,
    report: PlatformReport,
    expect: VerifyOptions,
) -> list[Finding]:
    findings = checks.check_size(
        label,
        compressed=report.compressed_size,
        uncompressed=report.uncompressed_size,
        max_compressed=expect.max_size,
        max_uncompressed=expect.max_size_uncompressed,
    )
    if expect.non_root:
        findings += checks.check_non_root(
            label, _resolve_user(store, manifest, config.user, expect)
        )
    if expect.healthcheck:
        findings += checks.check_healthcheck(label, config.healthcheck)
    findings += checks.check_labels(label, config.labels, expect.require_labels)
    return findings


def _resolve_user(store: Store, manifest: Manifest, user: str, expect: VerifyOptions):
    passwd = None
    if parse_user(user).needs_lookup:
        data = read_final_file(store, manifest, "etc/passwd", limits=expect.limits)
        passwd = None if data is None else data.decode("utf-8", "replace")
    return resolve_user(user, passwd)


# ------------------------------------------------------------------ reading


def _blob_finding(label: str, entry: Descriptor, error: Exception) -> Finding:
    rule = "blob.missing" if isinstance(error, NotFound) else "blob.invalid"
    return Finding(
        rule=rule,
        severity="error",
        platform=label,
        path=str(entry.digest),
        message=f"{error}; the image's remaining checks were skipped",
    )


# ------------------------------------------------------------------ smoke


def _smoke_image(store: Store, reference: str, top: Manifest | Index) -> str:
    """What buildah pulls: the layout and its tag, or the registry repository at the digest read."""
    path = getattr(store, "path", None)
    if path is not None:
        if reference.startswith("sha256:"):
            reference = _layout_tag(store, reference)
        return f"oci:{path.resolve()}" + (f":{reference}" if reference else "")
    ref = getattr(store, "ref", None)
    if ref is None:
        raise Unsupported(f"smoke runs cannot pull from {store!r}: pass smoke_image")
    return f"docker://{ref.name}@{top.digest}"


def _layout_tag(store: Store, digest: str) -> str:
    # buildah 1.28 reads a layout only by tag (its ref.name annotation).
    for tag in store.tag_list():
        head = store.manifest_head(tag)
        if head is not None and str(head[0]) == digest:
            return tag
    raise Unsupported(
        f"smoke runs need a tag for {digest} in the layout (buildah reads layouts by tag)"
    )


def _trusted_ca(store: Store) -> str | None:
    """The --ca-cert a registry store's client trusts (None for a layout): buildah's pull trusts it too."""
    client = getattr(store, "client", None)
    options = getattr(client, "options", None)
    return getattr(options, "ca_cert", None)


def _smoke_all(
    verified: Sequence[_Verified],
    image: str,
    expect: VerifyOptions,
    plain_http: bool,
    say: Progress,
    *,
    ca_cert: str | None = None,
) -> tuple[list[_Verified], list[Finding]]:

    out: list[_Verified] = []
    findings: list[Finding] = []
    options = SmokeOptions(timeout=expect.smoke_timeout, tls_verify=not plain_http, ca_cert=ca_cert)
    with SmokeSession(options) as session:
        for one in verified:
            if one.config is None or one.platform is None:
                out.append(one)
                continue
            label = one.report.platform
            argv = expect.smoke_cmd or checks.healthcheck_argv(one.config.healthcheck)
            status = binfmt_status(one.platform)
            if not argv:
                findings.append(checks.smoke_no_command(label))
            elif not status.ok:
                findings.append(checks.smoke_no_emulation(label, status.problem or ""))
            else:
                say(f"smoke {label}: {' '.join(argv)}" + (" (qemu)" if status.needed else ""))
                result = session.run(
                    image,
                    platform=one.platform,
                    argv=argv,
                    config=sha256_digest(one.config.raw),
                    emulated=status.needed,
                )
                findings += checks.check_smoke(label, result)
                one = replace(one, report=replace(one.report, smoke=result))
            out.append(one)
    return out, findings


def _health_all(
    verified: Sequence[_Verified],
    image: str,
    check: HealthCheck,
    plain_http: bool,
    say: Progress,
    *,
    ca_cert: str | None = None,
) -> tuple[list[_Verified], list[Finding]]:
    """The live health check of every platform image whose static checks could read it."""
    runnable = [
        (v.report.platform, v.platform, v.config)
        for v in verified
        if v.config is not None and v.platform is not None
    ]
    options = HealthOptions(tls_verify=not plain_http, ca_cert=ca_cert)
    results, findings = check_platforms(runnable, image, check, options, say)
    out = [
        replace(v, report=replace(v.report, health=results[v.report.platform]))
        if v.report.platform in results
        else v
        for v in verified
    ]
    return out, findings
