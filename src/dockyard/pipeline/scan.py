"""`dockyard scan REF` and release's vulnerability gate: options -> one scanner -> ScanResult.

    with Workspace(Settings(retry=RetryPolicy())) as ws:
        result = scan_location(ws, "oci:dist/oci/api:1.2.3", osv_db=Path("osv"))
    result.ok        # no finding at or above the threshold that an ignore does not cover

The options: the flags (`--osv-db`, `--fail-on`) over dockyard.toml's
[scan] (`osv-db`, `fail-on`, `ignore`), read when the command is run inside
a project (or given `-f FILE`); outside one, the flags alone. The scanner:
the OSV directory when one is given, else grype, else trivy on PATH, else
exit 2 (NO_SCANNER): a gate without a database never passes silently.

`release` runs the gate when the config has a [scan] table (release_gate):
the scanner is found before anything is built, so a missing database stops
the release at once; after verify, every target's index in its layout is
scanned, and a finding at or above the threshold stops the release at
"scan" with nothing published.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dockyard.builder.result import BuildResult
from dockyard.config.loader import display_path, find_config
from dockyard.config.model import DEFAULT_FAIL_ON, SCAN_SEVERITIES, IgnoreRule, ScanConfig
from dockyard.errors import InputError, OperationError
from dockyard.evidence.scan.external import ImageSource, find_scanner
from dockyard.evidence.scan.image import OsvMatcher, Scanner, scan_image
from dockyard.evidence.scan.osv import load_osv_dir
from dockyard.evidence.scan.result import ScanResult
from dockyard.oci.layout import LayoutStore
from dockyard.plan.model import Plan
from dockyard.platform import parse_platforms
from dockyard.ref import LayoutRef, Reference, is_loopback_host, parse_location
from dockyard.workspace import Workspace

Say = Callable[[str], None]
Which = Callable[[str], str | None]

NO_SCANNER = (
    "no vulnerability database: pass --osv-db DIR (a directory of OSV *.json advisories), "
    "set [scan] osv-db in dockyard.toml, or put grype or trivy on PATH"
)


@dataclass(frozen=True)
class ScanOptions:
    osv_db: Path | None = None
    fail_on: str = DEFAULT_FAIL_ON
    ignore: tuple[IgnoreRule, ...] = ()


def scan_options(
    ws: Workspace, *, osv_db: Path | None = None, fail_on: str | None = None
) -> ScanOptions:
    """The flags over the project's [scan] (when run in a project)."""
    if fail_on is not None and fail_on not in SCAN_SEVERITIES:
        raise InputError(
            f"--fail-on {fail_on!r}: not a severity (valid: {', '.join(SCAN_SEVERITIES)})"
        )
    config = project_scan(ws) or ScanConfig()
    return ScanOptions(
        osv_db=ws.cwd / osv_db if osv_db is not None else config.osv_db,
        fail_on=fail_on or config.fail_on,
        ignore=config.ignore,
    )


def project_scan(ws: Workspace) -> ScanConfig | None:
    """dockyard.toml's [scan] when the command runs in a project (or was given -f), else None."""
    if ws.settings.config_file is None:
        try:
            find_config(ws.cwd)
        except InputError:
            return None  # not in a project: the flags alone
    return ws.config.scan


def choose_scanner(
    osv_db: Path | None, *, which: Which = shutil.which, cwd: Path | None = None
) -> Scanner:
    """The OSV directory when given, else grype or trivy from PATH; InputError when none.
    Errors name the directory relative to `cwd` when under it."""
    if osv_db is not None:
        shown = display_path(osv_db, cwd) if cwd is not None else str(osv_db)
        return OsvMatcher(load_osv_dir(osv_db, shown=shown))
    found = find_scanner(which)
    if found is None:
        raise InputError(NO_SCANNER)
    return found


def scan_location(
    ws: Workspace,
    location: str,
    *,
    osv_db: Path | None = None,
    fail_on: str | None = None,
    platforms: Sequence[str] = (),
    today: date | None = None,
    which: Which = shutil.which,
    say: Say | None = None,
) -> ScanResult:
    """`dockyard scan LOCATION`: the image or index a location names, scanned and judged."""
    parsed = parse_location(location)
    wanted = parse_platforms(platforms)
    options = scan_options(ws, osv_db=osv_db, fail_on=fail_on)
    scanner = choose_scanner(options.osv_db, which=which, cwd=ws.cwd)
    store, reference = ws.open(parsed)
    return scan_image(
        store,
        reference,
        scanner=scanner,
        today=today or date.today(),
        source=_source(ws, parsed),
        platforms=wanted,
        fail_on=options.fail_on,
        ignore=options.ignore,
        name=location,
        say=say,
    )


def _source(ws: Workspace, parsed: Reference | LayoutRef) -> ImageSource:
    """Where grype or trivy read the image, with dockyard's registry options."""
    if isinstance(parsed, LayoutRef):
        return ImageSource(layout=parsed.path)
    plain = is_loopback_host(parsed.registry) or parsed.registry in ws.settings.insecure_registries
    return ImageSource(repository=parsed.name, plain_http=plain, ca_cert=ws.settings.ca_cert)


# ---------------------------------------------------------------- release's gate


@dataclass(frozen=True)
class TargetScan:
    """One target's scan in a release: its result, or why the scan could not run."""

    target: str
    result: ScanResult | None
    seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.result is not None and self.result.ok

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "error": self.error or None,
            "result": None if self.result is None else self.result.to_json(),
        }


@dataclass(frozen=True)
class ReleaseGate:
    """The scanner and options a release scans its targets with."""

    scanner: Scanner
    options: ScanOptions

    def run(
        self, plan: Plan, built: BuildResult, *, today: date | None = None, say: Say | None = None
    ) -> tuple[TargetScan, ...]:
        say = say or (lambda _: None)
        results = {t.name: t for t in built.targets}
        scans = []
        for target in plan.targets:
            result = results[target.name]
            started = time.monotonic()
            name = f"oci:{result.layout}@{result.index_digest}"
            try:
                scanned = scan_image(
                    LayoutStore(result.layout),
                    str(result.index_digest),
                    scanner=self.scanner,
                    today=today or date.today(),
                    source=ImageSource(layout=str(result.layout)),
                    fail_on=self.options.fail_on,
                    ignore=self.options.ignore,
                    name=name,
                    say=lambda message, t=target.name: say(f"scan {t}: {message}"),
                )
            except OperationError as exc:  # the scanner failed: the gate does not pass
                scans.append(
                    TargetScan(
                        target.name, None, time.monotonic() - started, f"{target.name}: {exc}"
                    )
                )
                continue
            scans.append(TargetScan(target.name, scanned, time.monotonic() - started))
        return tuple(scans)


def release_gate(ws: Workspace, *, which: Which = shutil.which) -> ReleaseGate | None:
    """The gate when the config has [scan] (None otherwise); the scanner is found now,
    before anything is built (no database: InputError, exit 2)."""
    config = ws.config.scan
    if config is None:
        return None
    options = ScanOptions(osv_db=config.osv_db, fail_on=config.fail_on, ignore=config.ignore)
    return ReleaseGate(choose_scanner(options.osv_db, which=which, cwd=ws.cwd), options)


def gate_message(failed: Sequence[TargetScan]) -> str:
    """Why the gate stopped the release (one line)."""
    parts = []
    for scan in failed:
        if scan.error:
            parts.append(scan.error)
        elif scan.result is not None:
            parts.append(f"{scan.target}: {scan.result.verdict()}")
    return "scan failed, nothing was published: " + "; ".join(parts)
