"""binfmt_misc checks against a fake /proc/sys/fs/binfmt_misc in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.emulation import (
    BinfmtEntry,
    binfmt_status,
    ensure_emulation,
    parse_binfmt_entry,
)
from dockyard.errors import OperationError
from dockyard.platform import Platform

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
ARMV7 = Platform("linux", "arm", "v7")
I386 = Platform("linux", "386")
WINDOWS = Platform("windows", "amd64")

# What Debian 12's qemu-user-static registers (cat /proc/sys/fs/binfmt_misc/qemu-aarch64).
AARCH64_ENTRY = """enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: PF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
"""


def fake_binfmt(tmp_path: Path, entries: dict[str, str], *, status: str = "enabled") -> Path:
    root = tmp_path / "binfmt_misc"
    root.mkdir()
    (root / "status").write_text(status + "\n")
    (root / "register").write_text("")
    for name, text in entries.items():
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (AARCH64_ENTRY, BinfmtEntry(True, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P", "PF")),
        ("disabled\ninterpreter /usr/bin/qemu-arm-static\nflags: \n", BinfmtEntry(False, "/usr/bin/qemu-arm-static", "")),
        ("enabled\ninterpreter /q\nflags: OCF\n", BinfmtEntry(True, "/q", "OCF")),
        ("", BinfmtEntry(False, "", "")),
        ("enabled extra\n", BinfmtEntry(False, "", "")),
    ],
)
def test_parse_binfmt_entry(text, expected):
    assert parse_binfmt_entry(text) == expected


@pytest.mark.parametrize(
    ("target", "host"),
    [(AMD64, AMD64), (ARM64, ARM64), (I386, AMD64)],
)
def test_native_platforms_need_nothing_even_without_binfmt(tmp_path, target, host):
    status = binfmt_status(target, host=host, root=tmp_path / "absent")
    assert (status.needed, status.ok, status.problem) == (False, True, None)
    assert status.describe() == f"native on {host}"


def test_enabled_entry_with_fix_flag_is_ok(tmp_path):
    root = fake_binfmt(tmp_path, {"qemu-aarch64": AARCH64_ENTRY})
    status = binfmt_status(ARM64, host=AMD64, root=root)
    assert status.needed and status.ok
    assert status.name == "qemu-aarch64"
    assert status.interpreter == "/usr/libexec/qemu-binfmt/aarch64-binfmt-P"
    assert status.fix_flag
    assert status.problem is None
    assert status.describe() == (
        "qemu-aarch64 enabled (/usr/libexec/qemu-binfmt/aarch64-binfmt-P, flags F)"
    )


def test_amd64_on_an_arm64_host_uses_qemu_x86_64(tmp_path):
    root = fake_binfmt(tmp_path, {"qemu-x86_64": AARCH64_ENTRY})
    status = binfmt_status(AMD64, host=ARM64, root=root)
    assert (status.name, status.ok) == ("qemu-x86_64", True)


def _missing(platform: str, name: str) -> str:
    return (
        f"{platform} needs qemu emulation but binfmt_misc has no enabled {name} "
        f"(run: apt-get install qemu-user-static binfmt-support && update-binfmts --enable {name})"
    )


@pytest.mark.parametrize(
    ("entries", "global_status", "platform", "message"),
    [
        ({}, "enabled", ARM64, _missing("linux/arm64", "qemu-aarch64")),
        ({"qemu-aarch64": AARCH64_ENTRY.replace("enabled", "disabled", 1)}, "enabled", ARM64,
         _missing("linux/arm64", "qemu-aarch64")),
        ({"qemu-aarch64": AARCH64_ENTRY}, "disabled", ARM64, _missing("linux/arm64", "qemu-aarch64")),
        ({"qemu-aarch64": AARCH64_ENTRY}, "enabled", ARMV7, _missing("linux/arm/v7", "qemu-arm")),
        ({"qemu-aarch64": AARCH64_ENTRY.replace("flags: PF", "flags: P")}, "enabled", ARM64,
         "linux/arm64 needs qemu emulation but binfmt_misc entry qemu-aarch64 lacks the F "
         "(fix-binary) flag, so build containers cannot use it (run: update-binfmts --disable "
         "qemu-aarch64 && apt-get install --reinstall qemu-user-static && "
         "update-binfmts --enable qemu-aarch64)"),
    ],
)  # fmt: skip
def test_unusable_entries_say_what_to_run(tmp_path, entries, global_status, platform, message):
    root = fake_binfmt(tmp_path, entries, status=global_status)
    status = binfmt_status(platform, host=AMD64, root=root)
    assert status.needed and not status.ok
    assert status.problem == message
    assert status.describe() == message
    with pytest.raises(OperationError) as info:
        ensure_emulation([platform], host=AMD64, root=root)
    assert str(info.value) == message


def test_binfmt_misc_not_mounted(tmp_path):
    root = tmp_path / "binfmt_misc"
    root.mkdir()  # the mount point exists but nothing is mounted: no status file
    status = binfmt_status(ARM64, host=AMD64, root=root)
    assert (status.mounted, status.ok) == (False, False)
    assert status.problem == (
        f"linux/arm64 needs qemu emulation but binfmt_misc is not mounted at {root} "
        f"(run: mount -t binfmt_misc binfmt_misc {root} && apt-get install qemu-user-static "
        "binfmt-support && update-binfmts --enable qemu-aarch64)"
    )


def test_a_platform_qemu_cannot_emulate(tmp_path):
    root = fake_binfmt(tmp_path, {})
    status = binfmt_status(WINDOWS, host=AMD64, root=root)
    assert status.name is None
    assert status.problem == (
        "windows/amd64 cannot run on this linux/amd64 host (qemu has no emulator for it)"
    )


def test_ensure_emulation_returns_statuses_and_reports_every_problem(tmp_path):
    root = fake_binfmt(tmp_path, {"qemu-aarch64": AARCH64_ENTRY})
    statuses = ensure_emulation([AMD64, ARM64], host=AMD64, root=root)
    assert [(s.platform, s.needed, s.ok) for s in statuses] == [
        (AMD64, False, True),
        (ARM64, True, True),
    ]
    with pytest.raises(OperationError) as info:
        ensure_emulation([ARMV7, ARM64, Platform("linux", "s390x")], host=AMD64, root=root)
    assert str(info.value) == (
        _missing("linux/arm/v7", "qemu-arm") + "; " + _missing("linux/s390x", "qemu-s390x")
    )

