"""The demo's foreign-architecture base path, end to end, so it cannot rot unseen.

`make demo` makes its python:3.11 linux/arm64 base with `mmdebstrap --arch=arm64`,
which runs Debian's maintainer scripts under qemu and needs arch-test (issue 11: a
fresh machine failed there while every test passed). This runs the demo's own
`make_bases()` (examples/tools/make_bases.py: apt versions, mmdebstrap, import,
push) on a small spec, Debian's essential set plus dash, with an empty cache of
its own, and checks that what reached the registry is an arm64 image.
"""

from __future__ import annotations

import gzip
import importlib.util
import sys
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from dockyard.oci.models import parse_config, parse_manifest
from dockyard.oci.registry import RegistryClient
from dockyard.platform import parse_platform
from dockyard.verify.elf import matches_platform, parse_elf_header
from dockyard.verify.image import VerifyOptions
from tests.helpers.locations import verify_location

pytestmark = pytest.mark.integration

TOOLS = Path(__file__).resolve().parents[2] / "examples" / "tools"


def _make_bases():
    """examples/tools/make_bases.py as a module (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("demo_bases_foreign", TOOLS / "make_bases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


make_bases = _make_bases()

# Essential (dpkg, dash, coreutils, ...) is the demo's variant; dash is already in
# it, so the include adds no download but still goes through --include.
SMALL = make_bases.BaseSpec(
    name="essential",
    tag="arm64-test",
    arches=("arm64",),
    recipe="mmdebstrap",
    packages=("dash",),
    cmd=("/bin/sh",),
    description="Debian essential, arm64 (tests/integration/test_demo_bases_foreign.py)",
    licenses="GPL-2.0-or-later",
    dpkg_options=make_bases.DPKG_TRIM,
)
ARM64 = parse_platform("linux/arm64")


def _members(store, manifest, names: set[str]) -> dict[str, tarfile.TarInfo | bytes]:
    """The named entries of the image's one layer (TarInfo) and their first 64 bytes."""
    (layer,) = manifest.layers
    found: dict[str, tarfile.TarInfo | bytes] = {}
    with (
        store.blob_open(layer.digest) as blob,
        gzip.open(blob) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        for info in tar:
            name = info.name.removeprefix("./")
            if name in names:
                found[name] = info
                if info.isfile():
                    found[name + ":head"] = tar.extractfile(info).read(64)
    return found


def test_arm64_base_from_mmdebstrap_through_the_demo_path(tmp_path, registry):
    prefix = f"{registry.host}/foreign-{uuid.uuid4().hex[:8]}/base"
    lines: list[str] = []
    started = time.monotonic()

    (result,) = make_bases.make_bases(
        registry=prefix, cache=tmp_path, catalogue=(SMALL,), log=lines.append
    )

    took = time.monotonic() - started
    print(f"make_bases essential arm64, empty cache: {took:.0f} s; " + "; ".join(lines))
    assert (result.platforms, result.cached, result.up_to_date) == (("linux/arm64",), False, False)
    assert result.layout.is_relative_to(tmp_path)  # its own cache, not ~/.cache/dockyard
    (tarball,) = (tmp_path / "bases" / "rootfs").iterdir()  # mmdebstrap wrote here
    assert tarball.name.startswith("essential-arm64-") and tarball.suffix == ".tar"

    with RegistryClient() as client:
        store = client.store(f"{prefix}/essential")
        index = parse_manifest(store.manifest_get("arm64-test")[0])
        (child,) = index.platforms()
        assert str(child.platform) == "linux/arm64"
        manifest = parse_manifest(store.manifest_get(str(child.digest))[0])
        with store.blob_open(manifest.config.digest) as f:
            assert str(parse_config(f.read()).platform) == "linux/arm64"
        files = _members(store, manifest, {"usr/bin/dash", "bin", "etc/passwd", "home/nonroot"})

    header = parse_elf_header(files["usr/bin/dash:head"])
    assert header is not None and matches_platform(header, ARM64)
    assert not matches_platform(header, parse_platform("linux/amd64"))
    assert files["bin"].issym() and files["bin"].linkname == "usr/bin"  # merged-usr hook ran
    assert files["home/nonroot"].uid == 65532  # the demo's customize hook ran

    # dockyard's own reading: every ELF file in the layer is arm64.
    report = verify_location(
        f"{prefix}/essential:arm64-test", expect=VerifyOptions(platforms=(ARM64,))
    )
    assert [f.rule for f in report.findings if f.is_error] == []
    (platform,) = report.platforms
    assert platform.platform == "linux/arm64" and platform.elf_files > 20
