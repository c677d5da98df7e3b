"""The layer arch scan over small tar / tar.gz / tar.zst layers built in memory."""

from __future__ import annotations

import gzip
import io
import sys
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.digest import sha256_digest
from dockyard.errors import DigestMismatch, Unsupported
from dockyard.findings import Finding, has_errors
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor
from dockyard.platform import (
    EF_ARM_ABI_FLOAT_HARD,
    EM_386,
    EM_AARCH64,
    EM_ARM,
    EM_PPC64,
    EM_RISCV,
    EM_S390,
    EM_X86_64,
    parse_platform,
)
from dockyard.verify.archscan import ScanLimits, scan_layers
from dockyard.verify.elf import ET_REL
from dockyard.verify.layerstream import layer_compression
from tests.unit.test_elf import elf_bytes

ARM64 = elf_bytes(EM_AARCH64, 2, True) + b"\0" * 200
AMD64 = elf_bytes(EM_X86_64, 2, True) + b"\0" * 200
SCRIPT = b"#!/bin/sh\necho hello\n"

NATIVE = {
    "linux/amd64": AMD64,
    "linux/arm64": ARM64,
    "linux/arm/v7": elf_bytes(EM_ARM, 1, True, flags=0x05000000 | EF_ARM_ABI_FLOAT_HARD),
    "linux/386": elf_bytes(EM_386, 1, True),
    "linux/s390x": elf_bytes(EM_S390, 2, False),
    "linux/ppc64le": elf_bytes(EM_PPC64, 2, True),
    "linux/riscv64": elf_bytes(EM_RISCV, 2, True),
}


# ------------------------------------------------------------------ builders


def _info(name: str, kind: bytes, **fields) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def f(name: str, data: bytes = ARM64) -> tuple[tarfile.TarInfo, bytes]:
    return (_info(name, tarfile.REGTYPE, size=len(data), mode=0o755), data)


def d(name: str) -> tuple[tarfile.TarInfo, None]:
    return (_info(name, tarfile.DIRTYPE, mode=0o755), None)


def sym(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    return (_info(name, tarfile.SYMTYPE, linkname=target), None)


def hard(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    return (_info(name, tarfile.LNKTYPE, linkname=target), None)


def wh(path: str) -> tuple[tarfile.TarInfo, bytes]:
    parent, _, base = path.rpartition("/")
    return f(f"{parent}/.wh.{base}" if parent else f".wh.{base}", b"")


def opq(directory: str) -> tuple[tarfile.TarInfo, bytes]:
    return f(f"{directory}/.wh..wh..opq", b"")


def tar_bytes(entries, *, fmt=tarfile.PAX_FORMAT) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def compress(data: bytes, compression: str) -> tuple[bytes, str]:
    if compression == "gzip":
        return gzip.compress(data, mtime=0), mt.OCI_LAYER_GZIP
    if compression == "zstd":
        zstandard = pytest.importorskip("zstandard")
        return zstandard.ZstdCompressor().compress(data), mt.OCI_LAYER_ZSTD
    if compression == "docker":
        return gzip.compress(data, mtime=0), mt.DOCKER_LAYER_GZIP
    if compression == "sniff-gzip":
        return gzip.compress(data, mtime=0), "application/octet-stream"
    if compression == "sniff-tar":
        return data, "application/octet-stream"
    return data, mt.OCI_LAYER


def layer(*entries, compression: str = "gzip") -> tuple[Descriptor, bytes]:
    blob, media_type = compress(tar_bytes(entries), compression)
    return Descriptor(media_type, sha256_digest(blob), len(blob)), blob


def raw_layer(blob: bytes, media_type: str = mt.OCI_LAYER_GZIP) -> tuple[Descriptor, bytes]:
    return Descriptor(media_type, sha256_digest(blob), len(blob)), blob


class Stream(io.BytesIO):
    """A blob stream that remembers whether it was read and closed."""

    touched = False

    def read(self, n=-1):
        self.touched = True
        return super().read(n)


def scan(*layers, platform: str = "linux/arm64", limits: ScanLimits = ScanLimits()):
    streams = [(desc, Stream(blob)) for desc, blob in layers]
    return scan_layers(streams, platform=parse_platform(platform), limits=limits)


def rules(result) -> list[str]:
    return [x.rule for x in result.findings]


def mismatched(result) -> list[str]:
    return [path for path, _ in result.mismatches]


def finding(result, rule: str) -> Finding:
    (found,) = [x for x in result.findings if x.rule == rule]
    return found


# ------------------------------------------------------------------ arch


@pytest.mark.parametrize("platform", sorted(NATIVE))
def test_native_binaries_pass_and_foreign_ones_fail(platform):
    own = scan(layer(d("bin"), f("bin/app", NATIVE[platform])), platform=platform)
    assert own.ok and own.elf_files == 1 and own.mismatches == ()
    for other, data in NATIVE.items():
        if other != platform:
            result = scan(layer(f("bin/app", data)), platform=platform)
            assert mismatched(result) == ["/bin/app"], other
            assert not result.ok


def test_mismatch_finding_names_path_and_actual_arch():
    result = scan(layer(d("bin"), f("bin/busybox", AMD64), f("bin/ok", ARM64), f("etc/motd", SCRIPT)))
    found = finding(result, "arch.mismatch")
    assert found == Finding(
        rule="arch.mismatch",
        severity="error",
        platform="linux/arm64",
        path="/bin/busybox",
        message="1 of 2 ELF files are not aarch64: /bin/busybox (x86-64)",
        detail={"expected": "aarch64", "count": 1, "files": [{"path": "/bin/busybox", "arch": "x86-64"}]},
    )
    assert finding(result, "arch.checked").message == (
        "2 ELF executables and shared objects checked against aarch64"
    )
    assert rules(result) == ["arch.checked", "arch.mismatch"]


def test_mismatch_lists_first_ten_and_the_total():
    bad = [f(f"usr/lib/lib{i:02}.so", AMD64) for i in range(12)]
    result = scan(layer(*bad))
    found = finding(result, "arch.mismatch")
    assert found.detail["count"] == 12
    assert [x["path"] for x in found.detail["files"]] == [f"/usr/lib/lib{i:02}.so" for i in range(10)]
    assert found.message.startswith("12 of 12 ELF files are not aarch64: /usr/lib/lib00.so (x86-64), ")
    assert found.message.endswith("/usr/lib/lib09.so (x86-64) and 2 more")
    assert len(result.mismatches) == 12


def test_arm_v7_refuses_soft_float():
    soft = elf_bytes(EM_ARM, 1, True, flags=0x05000200)
    result = scan(layer(f("lib/libc.so.6", soft)), platform="linux/arm/v7")
    assert finding(result, "arch.mismatch").message == (
        "1 of 1 ELF files are not arm (EABI5 hard-float): /lib/libc.so.6 (arm (EABI5 soft-float))"
    )
    assert scan(layer(f("lib/libc.so.6", soft)), platform="linux/arm/v6").ok


def test_relocatable_objects_and_non_elf_files_are_not_checked():
    result = scan(
        layer(
            f("usr/lib/crt1.o", elf_bytes(EM_X86_64, 2, True, elf_type=ET_REL)),
            f("usr/bin/tool.sh", SCRIPT),
            f("usr/share/empty", b""),
            f("usr/share/short-elf", b"\x7fELF\x02\x01"),
        )
    )
    assert result.ok and result.elf_files == 0


# ------------------------------------------------------------------ layering


def test_whiteout_in_a_later_layer_removes_the_mismatching_file():
    lower = layer(d("bin"), f("bin/busybox", AMD64), f("bin/good", ARM64))
    upper = layer(d("bin"), wh("bin/busybox"))
    result = scan(lower, upper)
    assert result.ok and result.elf_files == 1
    assert mismatched(scan(lower)) == ["/bin/busybox"]


def test_whiteout_of_a_directory_removes_everything_under_it():
    lower = layer(f("opt/x/bin/tool", AMD64), f("opt/x/lib/a.so", AMD64), f("opt/y", ARM64))
    assert scan(lower, layer(wh("opt/x"))).elf_files == 1
    assert scan(lower, layer(wh("opt/x"))).ok


def test_opaque_directory_hides_lower_contents_but_keeps_its_own():
    lower = layer(f("app/old", AMD64), f("app/sub/older", AMD64), f("other/keep", AMD64))
    upper = layer(d("app"), opq("app"), f("app/new", ARM64))
    result = scan(lower, upper)
    assert mismatched(result) == ["/other/keep"]
    assert result.elf_files == 2


def test_whiteout_and_opaque_do_not_touch_their_own_layer():
    # The OCI spec: a whiteout applies to lower layers only, wherever it sits in the tar.
    result = scan(layer(f("app/bad", AMD64), wh("app/bad"), f("dir/bad", AMD64), opq("dir")))
    assert mismatched(result) == ["/app/bad", "/dir/bad"]


def test_a_later_layer_replacing_a_file_counts_in_its_last_version():
    x86_then_arm = scan(layer(f("bin/app", AMD64)), layer(f("bin/app", ARM64)))
    arm_then_x86 = scan(layer(f("bin/app", ARM64)), layer(f("bin/app", AMD64)))
    replaced_by_script = scan(layer(f("bin/app", AMD64)), layer(f("bin/app", SCRIPT)))
    replaced_by_symlink = scan(layer(f("bin/app", AMD64)), layer(sym("bin/app", "/bin/true")))
    assert x86_then_arm.ok and x86_then_arm.elf_files == 1
    assert mismatched(arm_then_x86) == ["/bin/app"]
    assert replaced_by_script.ok and replaced_by_script.elf_files == 0
    assert replaced_by_symlink.ok and replaced_by_symlink.elf_files == 0


def test_a_file_replacing_a_directory_hides_its_contents():
    result = scan(layer(f("opt/tool/bin/x", AMD64)), layer(f("opt/tool", SCRIPT)))
    assert result.ok and result.elf_files == 0


def test_a_directory_replacing_a_file_and_files_below_it():
    result = scan(layer(f("opt/tool", AMD64)), layer(d("opt/tool"), f("opt/tool/x", ARM64)))
    assert result.ok and result.elf_files == 1


def test_same_path_twice_in_one_layer_last_wins():
    assert scan(layer(f("bin/app", AMD64), f("bin/app", ARM64))).ok
    assert not scan(layer(f("bin/app", ARM64), f("bin/app", AMD64))).ok


@pytest.mark.parametrize("name", ["./bin/app", "bin/app", "/bin/app", "bin//app", "./bin/./app"])
def test_name_spellings_are_one_path(name):
    result = scan(layer(f(name, AMD64)), layer(wh("bin/app")))
    assert result.ok and result.elf_files == 0


# ------------------------------------------------------------------ hostile names and links


def test_dotdot_and_absolute_names_are_data_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = scan(
        layer(
            f("../../etc/passwd", AMD64),
            f("/usr/bin/abs", AMD64),
            sym("evil", "/etc"),
            f("evil/shadow", AMD64),
        )
    )
    assert mismatched(result) == ["/../../etc/passwd", "/evil/shadow", "/usr/bin/abs"]
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_named_like_a_binary_is_not_followed():
    result = scan(layer(f("usr/lib/x86/busybox", AMD64), sym("bin/busybox", "../usr/lib/x86/busybox")))
    assert mismatched(result) == ["/usr/lib/x86/busybox"]
    result = scan(layer(sym("bin/busybox", "/usr/lib/x86/busybox")))
    assert result.ok and result.elf_files == 0


def test_a_hardlink_is_the_file_it_names_even_after_the_name_is_deleted():
    lower = layer(f("bin/real", AMD64), hard("bin/alias", "bin/real"))
    assert mismatched(scan(lower)) == ["/bin/alias", "/bin/real"]
    assert mismatched(scan(lower, layer(wh("bin/real")))) == ["/bin/alias"]


@pytest.mark.parametrize("target", ["missing", "../../etc/shadow", "/etc/passwd", "bin/link"])
def test_a_hardlink_to_nothing_known_is_not_elf(target):
    result = scan(layer(f("etc/passwd", SCRIPT), sym("bin/sym", "real"), hard("bin/link", target)))
    assert result.ok and result.elf_files == 0


def test_hardlink_to_a_symlink_is_not_followed():
    result = scan(layer(f("opt/x86", AMD64), sym("bin/sym", "/opt/x86"), hard("bin/hl", "bin/sym")))
    assert mismatched(result) == ["/opt/x86"]


def test_devices_and_fifos_named_like_binaries_are_ignored():
    result = scan(
        layer(
            (_info("bin/sh", tarfile.CHRTYPE, devmajor=1, devminor=3), None),
            (_info("bin/ls", tarfile.BLKTYPE, devmajor=8, devminor=0), None),
            (_info("bin/cat", tarfile.FIFOTYPE), None),
        )
    )
    assert result.ok and result.elf_files == 0 and result.entries == 3


def test_deep_paths_do_not_recurse():
    deep = "/".join(["d"] * 3000)
    result = scan(layer(f(f"{deep}/bad", AMD64)), layer(wh("d")))
    assert result.ok and result.elf_files == 0


def test_control_characters_in_names_are_escaped():
    result = scan(layer(f("bin/ba\nd\x1b", AMD64)))
    assert mismatched(result) == ["/bin/ba\\nd\\x1b"]


# ------------------------------------------------------------------ compression and digests


@pytest.mark.parametrize("compression", ["gzip", "tar", "zstd", "docker", "sniff-gzip", "sniff-tar"])
def test_every_compression_gives_the_same_result(compression):
    result = scan(
        layer(f("bin/a", AMD64), f("bin/b", ARM64), compression=compression),
        layer(wh("bin/a"), compression=compression),
    )
    assert result.ok and result.elf_files == 1 and result.entries == 3
    assert rules(result) == ["arch.checked"]


@pytest.mark.parametrize(
    ("media_type", "kind"),
    [
        (mt.OCI_LAYER, "tar"),
        (mt.OCI_LAYER_GZIP, "gzip"),
        (mt.OCI_LAYER_ZSTD, "zstd"),
        (mt.DOCKER_LAYER_GZIP, "gzip"),
        (mt.DOCKER_FOREIGN_LAYER, "gzip"),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"),
        ("application/octet-stream", None),
    ],
)
def test_layer_compression_from_media_type(media_type, kind):
    assert layer_compression(media_type) == kind


def test_concatenated_gzip_members_are_one_layer():
    tar = tar_bytes([f("bin/a", ARM64), f("bin/b", AMD64)])
    desc, blob = raw_layer(gzip.compress(tar[:1024]) + gzip.compress(tar[1024:]))
    result = scan((desc, blob))
    assert mismatched(result) == ["/bin/b"] and result.entries == 2
    assert "layer.invalid" not in rules(result)


def test_sizes_are_counted():
    plain = tar_bytes([f("bin/a", AMD64)])
    desc, blob = layer(f("bin/a", AMD64))
    result = scan((desc, blob), platform="linux/amd64")
    assert (result.bytes_compressed, result.bytes_uncompressed) == (len(blob), len(plain))
    assert (result.entries, result.layers) == (1, 1)


def test_a_corrupted_layer_of_the_same_length_is_a_digest_mismatch():
    desc, blob = layer(f("bin/a", ARM64))
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0xFF
    with pytest.raises(DigestMismatch) as err:
        scan((desc, bytes(bad)))
    got = sha256_digest(bytes(bad))
    assert str(err.value) == f"layer {desc.digest}: content hashes to {got}, expected {desc.digest}"


def test_a_short_or_long_layer_is_a_digest_mismatch():
    desc, blob = layer(f("bin/a", ARM64))
    with pytest.raises(DigestMismatch) as err:
        scan((desc, blob[:-8]))
    assert str(err.value) == f"layer {desc.digest}: {len(blob) - 8} bytes, expected {len(blob)}"
    with pytest.raises(DigestMismatch) as err:
        scan((desc, blob + b"extra"))
    assert str(err.value) == f"layer {desc.digest}: more than the expected {len(blob)} bytes"


def test_streams_are_closed():
    desc, blob = layer(f("bin/a", ARM64))
    stream = Stream(blob)
    scan_layers([(desc, stream)], platform=parse_platform("linux/arm64"))
    assert stream.closed


def test_truncated_gzip_is_a_finding_not_a_traceback():
    _, blob = layer(*(f(f"bin/{i}", bytes(range(256)) * 40) for i in range(5)))
    desc, truncated = raw_layer(blob[: len(blob) // 2])
    result = scan((desc, truncated))
    found = finding(result, "layer.invalid")
    assert found.message.startswith(f"layer {desc.digest}: not a readable layer (")
    assert found.path == str(desc.digest) and found.severity == "error"


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"\x1f\x8bnot really gzip at all", "not a readable layer"),
        (b"this is not a tar archive" * 40, "not a readable layer"),
        (b"", "not a readable layer (empty file)"),
    ],
)
def test_garbage_layers_are_findings(blob, reason):
    desc, blob = raw_layer(blob, "application/octet-stream")
    assert reason in finding(scan((desc, blob)), "layer.invalid").message


def test_data_after_the_end_of_the_archive_is_a_finding():
    tar = tar_bytes([f("bin/a", ARM64)]) + b"\x01" + b"\0" * 511
    desc, blob = raw_layer(gzip.compress(tar))
    assert finding(scan((desc, blob)), "layer.invalid").message == (
        f"layer {desc.digest}: data after the end of the tar archive (a damaged or unreadable header)"
    )


def test_zstd_without_the_package_is_a_finding_and_the_digest_is_still_checked(monkeypatch):
    desc, blob = layer(f("bin/a", AMD64), compression="zstd")
    monkeypatch.setitem(sys.modules, "zstandard", None)
    result = scan((desc, blob))
    assert finding(result, "layer.unsupported").message == (
        f"layer {desc.digest}: layer compression zstd not supported "
        "(install the zstandard package); layer not scanned"
    )
    with pytest.raises(DigestMismatch):
        scan((desc, blob[:-1] + bytes([blob[-1] ^ 1])))


def test_xz_layers_are_unsupported():
    desc, blob = raw_layer(b"\xfd7zXZ\x00" + bytes(100), "application/octet-stream")
    assert finding(scan((desc, blob)), "layer.unsupported").message == (
        f"layer {desc.digest}: layer compression xz not supported; layer not scanned"
    )


# ------------------------------------------------------------------ caps


def test_entry_cap_stops_the_scan():
    first = layer(*(f(f"etc/f{i}", SCRIPT) for i in range(10)))
    second_desc, second_blob = layer(f("bin/a", AMD64))
    untouched = Stream(second_blob)
    streams = [(first[0], Stream(first[1])), (second_desc, untouched)]
    result = scan_layers(iter(streams), platform=parse_platform("linux/arm64"), limits=ScanLimits(max_entries=5))
    found = finding(result, "layer.limit")
    assert found.message == (
        f"layer {first[0].digest}: more than 5 entries in the image; layer scan stopped"
    )
    assert result.entries == 6 and result.layers == 1 and not untouched.touched
    assert has_errors(result.findings)


def test_decompressed_size_cap():
    desc, blob = layer(f("data/big", bytes(3 << 20)))
    result = scan((desc, blob), limits=ScanLimits(max_uncompressed=1 << 20))
    assert finding(result, "layer.limit").message == (
        f"layer {desc.digest}: more than 1 MiB decompressed in the image; layer scan stopped"
    )
    assert result.bytes_compressed == len(blob)  # drained to the end: digest verified


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_ratio_cap_stops_only_that_layer(compression):
    bomb_desc, bomb = layer(f("data/zeros", bytes(20 << 20)), compression=compression)
    fine = layer(f("bin/a", AMD64))
    result = scan((bomb_desc, bomb), fine, limits=ScanLimits(ratio_floor=0))
    message = finding(result, "layer.limit").message
    assert message.startswith(f"layer {bomb_desc.digest}: decompresses more than 200x (")
    assert message.endswith("); layer scan stopped")
    assert mismatched(result) == ["/bin/a"] and result.layers == 2


def test_ratio_is_not_judged_on_small_or_plain_layers():
    assert scan(layer(f("data/zeros", bytes(4 << 20)))).ok
    assert scan(
        layer(f("data/zeros", bytes(4 << 20)), compression="tar"), limits=ScanLimits(ratio_floor=0)
    ).ok


def test_huge_pax_header_is_refused_unread():
    desc, blob = layer(f("x" * (2 << 20), AMD64))
    assert finding(scan((desc, blob)), "layer.limit").message == (
        f"layer {desc.digest}: a tar metadata header of 2 MiB (more than 1 MiB); layer scan stopped"
    )


def test_windows_platform_is_unsupported_before_reading():
    stream = Stream(b"")
    with pytest.raises(Unsupported):
        scan_layers([(layer(f("a"))[0], stream)], platform=parse_platform("windows/amd64"))
    assert not stream.touched


# ------------------------------------------------------------------ properties


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from([mt.OCI_LAYER_GZIP, mt.OCI_LAYER, "x/unknown"]))
def test_any_bytes_give_a_result_never_a_traceback(blob, media_type):
    desc, blob = raw_layer(blob, media_type)
    result = scan((desc, blob))
    assert set(rules(result)) <= {"arch.checked", "arch.mismatch", "layer.invalid", "layer.unsupported"}


_PATHS = st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=3).map("/".join)
_OPS = st.lists(
    st.tuples(st.sampled_from(["good", "bad", "script", "dir", "wh", "opq"]), _PATHS),
    max_size=8,
)


def _model(layers_ops) -> list[str]:
    """The layer rules written naively over a dict: path -> (layer, bad?).

    An entry at P makes every ancestor of P a directory (a file there is gone);
    whiteouts and opaque markers remove what lower layers put there; a
    non-directory at P replaces P and hides lower layers' files below it.
    """
    view: dict[str, tuple[int, bool]] = {}

    def drop(pred) -> None:
        for key in [k for k in view if pred(k)]:
            del view[key]

    def below(k: str, top: str) -> bool:
        return k.startswith(top + "/") if top else True

    for n, ops in enumerate(layers_ops):
        for op, path in ops:
            parts = path.split("/")
            ancestors = {"/".join(parts[:i]) for i in range(1, len(parts))}
            drop(lambda k, a=ancestors: k in a)
            if op == "wh":
                drop(lambda k, p=path, n=n: view[k][0] < n and (k == p or below(k, p)))
            elif op == "opq":
                top = path.rpartition("/")[0]
                drop(lambda k, t=top, n=n: view[k][0] < n and below(k, t))
            elif op == "dir":
                drop(lambda k, p=path: k == p)
            else:
                drop(lambda k, p=path, n=n: k == p or (below(k, p) and view[k][0] < n))
                if op in ("good", "bad"):
                    view[path] = (n, op == "bad")
    return sorted("/" + k for k, (_, bad) in view.items() if bad)


def _entry(op: str, path: str):
    if op == "wh":
        return wh(path)
    if op == "opq":
        return opq(path.rpartition("/")[0]) if "/" in path else f(".wh..wh..opq", b"")
    if op == "dir":
        return d(path)
    return f(path, {"good": ARM64, "bad": AMD64, "script": SCRIPT}[op])


@settings(max_examples=300, deadline=None)
@given(st.lists(_OPS, min_size=1, max_size=4))
def test_the_view_follows_the_layer_rules(layers_ops):
    layers = [layer(*(_entry(op, path) for op, path in ops), compression="tar") for ops in layers_ops]
    assert mismatched(scan(*layers)) == _model(layers_ops)


# ------------------------------------------------------------------ findings


def test_finding_is_read_only_and_serialises():
    found = Finding("arch.mismatch", "error", "linux/arm64", "/bin/x", "msg", {"files": ({"p": 1},)})
    assert found.to_json() == {
        "rule": "arch.mismatch",
        "severity": "error",
        "platform": "linux/arm64",
        "path": "/bin/x",
        "message": "msg",
        "detail": {"files": [{"p": 1}]},
    }
    with pytest.raises(TypeError):
        found.detail["x"] = 1  # type: ignore[index]
    assert has_errors([found]) and not has_errors([])


def test_finding_refuses_an_unknown_severity():
    with pytest.raises(ValueError) as err:
        Finding("x.y", "fatal", "linux/amd64", "/", "m")  # type: ignore[arg-type]
    assert str(err.value) == "finding x.y: severity 'fatal' is not one of error, warning, info"
