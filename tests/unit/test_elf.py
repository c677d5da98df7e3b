"""ELF header parsing and platform comparison over hand-made headers."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.errors import Unsupported
from dockyard.platform import (
    EF_ARM_ABI_FLOAT_HARD,
    EM_386,
    EM_AARCH64,
    EM_ARM,
    EM_MIPS,
    EM_PPC64,
    EM_RISCV,
    EM_S390,
    EM_X86_64,
    elf_signature,
    parse_platform,
)
from dockyard.verify.elf import (
    ET_DYN,
    ET_EXEC,
    ET_REL,
    HEADER_SIZE,
    ElfHeader,
    describe_signature,
    matches_platform,
    matches_signature,
    parse_elf_header,
)

EABI5 = 0x05000000


def elf_bytes(
    machine: int,
    elf_class: int,
    little_endian: bool,
    *,
    flags: int = 0,
    elf_type: int = ET_EXEC,
    os_abi: int = 0,
) -> bytes:
    """A minimal, well-formed ELF header (what a linker writes, entry points zeroed)."""
    order = "<" if little_endian else ">"
    ident = b"\x7fELF" + bytes([elf_class, 1 if little_endian else 2, 1, os_abi]) + bytes(8)
    if elf_class == 1:
        rest = struct.pack(order + "HHIIIIIHHHHHH", elf_type, machine, 1, 0, 52, 0, flags, 52, 32, 0, 40, 0, 0)
    else:
        rest = struct.pack(order + "HHIQQQIHHHHHH", elf_type, machine, 1, 0, 64, 0, flags, 64, 56, 0, 64, 0, 0)
    return ident + rest


# platform -> the header its binaries carry
NATIVE = {
    "linux/amd64": (EM_X86_64, 2, True, 0),
    "linux/arm64": (EM_AARCH64, 2, True, 0),
    "linux/arm/v7": (EM_ARM, 1, True, EABI5 | EF_ARM_ABI_FLOAT_HARD),
    "linux/arm/v6": (EM_ARM, 1, True, EABI5 | 0x200),
    "linux/386": (EM_386, 1, True, 0),
    "linux/s390x": (EM_S390, 2, False, 0),
    "linux/ppc64le": (EM_PPC64, 2, True, 0),
    "linux/riscv64": (EM_RISCV, 2, True, 0x5),
    "linux/mips64le": (EM_MIPS, 2, True, 0),
}


@pytest.mark.parametrize(
    ("elf_class", "size"), [(1, 52), (2, 64)], ids=["32-bit", "64-bit"]
)
def test_header_sizes(elf_class, size):
    data = elf_bytes(EM_ARM if elf_class == 1 else EM_AARCH64, elf_class, True)
    assert len(data) == size <= HEADER_SIZE
    assert parse_elf_header(data) is not None
    assert parse_elf_header(data[:-1]) is None


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"#!/bin/sh\necho hi\n" * 4, "script"),
        (b"\x7fELF", "magic only"),
        (b"\x7fELF" + bytes(60), "class 0"),
        (b"\x7fELF\x03\x01" + bytes(58), "class 3"),
        (b"\x7fELF\x02\x03" + bytes(58), "byte order 3"),
        (b"\x7fELG\x02\x01" + bytes(58), "bad magic"),
        (b"MZ" + bytes(62), "PE"),
    ],
)
def test_not_elf(data, why):
    assert parse_elf_header(data) is None, why


@pytest.mark.parametrize("little_endian", [True, False], ids=["le", "be"])
@pytest.mark.parametrize("elf_class", [1, 2], ids=["32", "64"])
def test_fields_are_read_at_their_offsets(elf_class, little_endian):
    data = elf_bytes(0x1234, elf_class, little_endian, flags=0xA1B2C3D4, elf_type=ET_DYN, os_abi=3)
    assert parse_elf_header(data + b"trailing bytes are ignored") == ElfHeader(
        machine=0x1234,
        elf_class=elf_class,
        little_endian=little_endian,
        flags=0xA1B2C3D4,
        os_abi=3,
        type=ET_DYN,
    )


@pytest.mark.parametrize("platform", sorted(NATIVE))
def test_each_platform_accepts_its_own_binaries_only(platform):
    machine, elf_class, le, flags = NATIVE[platform]
    header = parse_elf_header(elf_bytes(machine, elf_class, le, flags=flags))
    for image in NATIVE:
        # arm/v6 does not require hard-float, so an armhf binary passes there;
        # arm/v7 refuses the soft-float v6 one.
        expected = image == platform or (platform, image) == ("linux/arm/v7", "linux/arm/v6")
        assert matches_platform(header, parse_platform(image)) is expected, image


@pytest.mark.parametrize(
    ("flags", "v7", "v6"),
    [
        (EABI5 | EF_ARM_ABI_FLOAT_HARD, True, True),
        (EABI5 | 0x200, False, True),  # armel: soft-float
        (EABI5, False, True),  # no float flag at all: soft-float calling convention
        (0x00000000, True, True),  # old GNU ABI: its flags are not the EABI float bits
        (0x04000000 | EF_ARM_ABI_FLOAT_HARD, True, True),  # EABI4: not judged
    ],
)
def test_arm_float_abi(flags, v7, v6):
    header = parse_elf_header(elf_bytes(EM_ARM, 1, True, flags=flags))
    assert matches_platform(header, parse_platform("linux/arm/v7")) is v7
    assert matches_platform(header, parse_platform("linux/arm/v6")) is v6


@pytest.mark.parametrize(
    ("header", "text"),
    [
        ((EM_X86_64, 2, True, 0), "x86-64"),
        ((EM_AARCH64, 2, True, 0), "aarch64"),
        ((EM_ARM, 1, True, EABI5 | EF_ARM_ABI_FLOAT_HARD), "arm (EABI5 hard-float)"),
        ((EM_ARM, 1, True, EABI5), "arm (EABI5 soft-float)"),
        ((EM_ARM, 1, True, 0), "arm"),
        ((EM_S390, 2, False, 0), "s390x"),
        ((4242, 2, False, 0), "ELF machine 4242 (64-bit, big-endian)"),
    ],
)
def test_describe(header, text):
    machine, elf_class, le, flags = header
    assert parse_elf_header(elf_bytes(machine, elf_class, le, flags=flags)).describe() == text


@pytest.mark.parametrize(
    ("platform", "text"),
    [("linux/amd64", "x86-64"), ("linux/arm/v7", "arm (EABI5 hard-float)"), ("linux/arm/v6", "arm")],
)
def test_describe_signature(platform, text):
    assert describe_signature(elf_signature(parse_platform(platform))) == text


@pytest.mark.parametrize(
    ("elf_type", "program"), [(ET_EXEC, True), (ET_DYN, True), (ET_REL, False), (4, False)]
)
def test_is_program(elf_type, program):
    header = parse_elf_header(elf_bytes(EM_X86_64, 2, True, elf_type=elf_type))
    assert header.is_program is program


def test_windows_platform_has_no_signature():
    header = parse_elf_header(elf_bytes(EM_X86_64, 2, True))
    with pytest.raises(Unsupported) as err:
        matches_platform(header, parse_platform("windows/amd64"))
    assert str(err.value) == "windows/amd64: no ELF signature is known (its binaries are not linux ELF)"


def test_signature_compares_class_and_byte_order():
    sig = elf_signature(parse_platform("linux/amd64"))
    assert matches_signature(parse_elf_header(elf_bytes(EM_X86_64, 2, True)), sig)
    assert not matches_signature(parse_elf_header(elf_bytes(EM_X86_64, 1, True)), sig)  # x32
    assert not matches_signature(parse_elf_header(elf_bytes(EM_X86_64, 2, False)), sig)


@given(
    machine=st.integers(0, 0xFFFF),
    elf_class=st.sampled_from([1, 2]),
    little_endian=st.booleans(),
    flags=st.integers(0, 0xFFFFFFFF),
    elf_type=st.integers(0, 0xFFFF),
    os_abi=st.integers(0, 255),
    tail=st.binary(max_size=16),
)
def test_parse_round_trips_every_field(machine, elf_class, little_endian, flags, elf_type, os_abi, tail):
    data = elf_bytes(machine, elf_class, little_endian, flags=flags, elf_type=elf_type, os_abi=os_abi)
    assert parse_elf_header(data + tail) == ElfHeader(
        machine, elf_class, little_endian, flags, os_abi, elf_type
    )


@given(st.binary(max_size=80))
def test_parse_never_raises(data):
    header = parse_elf_header(data)
    assert header is None or data.startswith(b"\x7fELF")
