"""allow-foreign: a foreign ELF file matched by a glob is an info finding naming the glob,
not part of the arch.mismatch error; everything else foreign still fails."""

from __future__ import annotations

from dockyard.platform import parse_platform
from dockyard.verify.archscan import scan_layers
from tests.unit.test_archscan import AMD64, ARM64, Stream, f, layer, wh

QEMU = "/usr/bin/qemu-*-static"


def scan(*layers, allow=()):
    streams = [(desc, Stream(blob)) for desc, blob in layers]
    return scan_layers(streams, platform=parse_platform("linux/arm64"), allow_foreign=allow)


def by_rule(result, rule):
    return [x for x in result.findings if x.rule == rule]


IMAGE = layer(f("bin/busybox", ARM64), f("usr/bin/qemu-x86_64-static", AMD64))


def test_without_a_glob_a_foreign_file_fails():
    result = scan(IMAGE)
    assert not result.ok
    assert [p for p, _ in result.mismatches] == ["/usr/bin/qemu-x86_64-static"]


def test_a_matching_glob_makes_it_info_naming_the_glob():
    result = scan(IMAGE, allow=("/opt/**", QEMU))
    assert result.ok and result.mismatches == ()
    (allowed,) = by_rule(result, "arch.foreign-allowed")
    assert (allowed.severity, allowed.path) == ("info", "/usr/bin/qemu-x86_64-static")
    assert allowed.message == (
        f"/usr/bin/qemu-x86_64-static is x86-64, not aarch64: allowed by allow-foreign {QEMU}"
    )
    assert dict(allowed.detail) == {"arch": "x86-64", "expected": "aarch64", "glob": QEMU}
    assert by_rule(result, "arch.mismatch") == []
    # Still counted as checked.
    assert by_rule(result, "arch.checked")[0].detail["elf_files"] == 2


def test_each_allowed_file_is_listed_and_the_rest_still_fail():
    result = scan(
        layer(
            f("usr/bin/qemu-x86_64-static", AMD64),
            f("usr/bin/qemu-i386-static", AMD64),
            f("usr/bin/tool", AMD64),
            f("usr/bin/sub/qemu-a-static", AMD64),  # `*` does not cross `/`
        ),
        allow=(QEMU,),
    )
    assert [x.path for x in by_rule(result, "arch.foreign-allowed")] == [
        "/usr/bin/qemu-i386-static",
        "/usr/bin/qemu-x86_64-static",
    ]
    (mismatch,) = by_rule(result, "arch.mismatch")
    assert mismatch.detail["count"] == 2
    assert [p for p, _ in result.mismatches] == ["/usr/bin/sub/qemu-a-static", "/usr/bin/tool"]
    assert not result.ok


def test_a_glob_never_hides_a_native_file_nor_adds_findings_for_it():
    result = scan(layer(f("usr/bin/qemu-aarch64-static", ARM64)), allow=(QEMU,))
    assert result.ok and [x.rule for x in result.findings] == ["arch.checked"]


def test_the_final_view_counts_a_whiteout_removes_an_allowed_file():
    result = scan(IMAGE, layer(wh("usr/bin/qemu-x86_64-static")), allow=(QEMU,))
    assert result.ok and by_rule(result, "arch.foreign-allowed") == []
