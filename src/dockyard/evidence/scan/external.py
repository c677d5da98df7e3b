"""grype or trivy on PATH, run on one platform image and read back (the subprocess edge).

    scanner = find_scanner()                     # grype first, then trivy; None when neither
    findings = scanner.scan(source, digest, platform)

Each platform image is handed over by digest where the tool can take one
(a registry image: `host/repo@sha256:<child>`), else as the layout plus the
platform (`grype oci-dir:DIR --platform P`, `trivy image --input DIR
--platform P`). Registry options follow dockyard's: plain HTTP for loopback
and --insecure-registry hosts, the extra CA. The tools read credentials
from docker's config.json themselves; dockyard passes none.

Written from the tools' documentation and NOT run against the real
binaries (neither is installed here): the JSON parsing is tested on
fixtures (scannerjson.py), the command lines are not. A tool that exits
non-zero (no database, no network for its update) is a ScanFailed with the
end of its stderr: never a silent pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dockyard.errors import ScanFailed
from dockyard.evidence.scan.result import Finding
from dockyard.evidence.scan.scannerjson import parse_grype, parse_trivy

# A full image scan with a warm database takes seconds to a minute; a stuck
# database download should not hold a release forever.
TIMEOUT = 900.0
_TAIL = 600  # characters of the tool's stderr shown in an error


@dataclass(frozen=True)
class ImageSource:
    """Where the scanner reads the image: an OCI layout directory or a registry repository."""

    layout: str = ""  # the layout's directory
    repository: str = ""  # host[:port]/path
    plain_http: bool = False  # loopback or --insecure-registry
    ca_cert: str | None = None

    def by_digest(self, digest: str) -> str:
        return f"{self.repository}@{digest}"


@dataclass(frozen=True)
class ExternalScanner:
    name: str  # grype | trivy
    path: str  # the executable found on PATH

    def command(self, source: ImageSource, digest: str, platform: str) -> list[str]:
        if self.name == "grype":
            target = (
                f"oci-dir:{source.layout}"
                if source.layout
                else f"registry:{source.by_digest(digest)}"
            )
            platform_args = ["--platform", platform] if source.layout and platform else []
            return [self.path, target, "-o", "json", *platform_args]
        if source.layout:
            target_args = [
                "--input",
                source.layout,
                *(["--platform", platform] if platform else []),
            ]
        else:
            target_args = ["--image-src", "remote", source.by_digest(digest)]
            if source.plain_http:
                target_args[:0] = ["--insecure"]
        return [self.path, "image", "--format", "json", "--quiet", *target_args]

    def environment(self, source: ImageSource, base: Mapping[str, str]) -> dict[str, str]:
        env = dict(base)
        if self.name == "grype":
            env["GRYPE_CHECK_FOR_APP_UPDATE"] = "false"
            if source.plain_http:
                env["GRYPE_REGISTRY_INSECURE_USE_HTTP"] = "true"
            if source.ca_cert:
                env["GRYPE_REGISTRY_CA_CERT"] = source.ca_cert
        elif source.ca_cert:
            env["SSL_CERT_FILE"] = source.ca_cert
        return env

    def parse(self, data: bytes, platform: str) -> list[Finding]:
        parse = parse_grype if self.name == "grype" else parse_trivy
        return parse(data, platform=platform, shown=self.name)

    def scan(
        self,
        source: ImageSource,
        digest: str,
        platform: str,
        *,
        environ: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT,
    ) -> list[Finding]:
        argv = self.command(source, digest, platform)
        env = self.environment(source, os.environ if environ is None else environ)
        try:
            proc = subprocess.run(argv, capture_output=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ScanFailed(
                f"{self.name}: no answer within {timeout:g} s scanning {platform}"
            ) from None
        except OSError as exc:
            raise ScanFailed(
                f"{self.name}: could not run {self.path}: {exc.strerror or exc}"
            ) from None
        if proc.returncode != 0:
            tail = " ".join(proc.stderr.decode(errors="replace").split())[-_TAIL:]
            raise ScanFailed(
                f"{self.name} failed on {platform} (exit {proc.returncode}): {tail or 'no message'}"
            )
        return self.parse(proc.stdout, platform)


# The scanners dockyard runs when no OSV directory is given, in order of preference.
SCANNERS = ("grype", "trivy")


def find_scanner(which: Callable[[str], str | None] = shutil.which) -> ExternalScanner | None:
    for name in SCANNERS:
        path = which(name)
        if path:
            return ExternalScanner(name, path)
    return None
