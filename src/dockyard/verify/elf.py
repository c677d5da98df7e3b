"""ELF headers: parse the first bytes of a file, compare with a platform (pure).

Only the fixed part of the ELF header is read (52 bytes for 32-bit files, 64
for 64-bit ones), so a scan needs at most HEADER_SIZE bytes of each file.
What is compared is what decides whether the kernel (or qemu) can run the
file on a platform: the machine, the class (32/64-bit) and the byte order,
plus, on 32-bit ARM, the float ABI of EABI version 5 files (an armel
soft-float binary cannot use an armhf image's libraries). The OS/ABI byte is
kept but not compared: linux binaries carry SYSV (0) or GNU (3) alike.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from dockyard.platform import (
    EF_ARM_ABI_FLOAT_HARD,
    EM_ARM,
    ElfSignature,
    Platform,
    describe_elf,
    elf_signature,
)

MAGIC = b"\x7fELF"
# The larger of the two header sizes: read this much of each file.
HEADER_SIZE = 64
_HEADER_SIZES = {1: 52, 2: 64}  # ELFCLASS32, ELFCLASS64
# A file shorter than this cannot be ELF: scanners need not open it.
MIN_HEADER_SIZE = min(_HEADER_SIZES.values())
# Offset of e_flags: after e_entry, e_phoff and e_shoff (4 or 8 bytes each).
_FLAGS_OFFSET = {1: 36, 2: 48}

ET_REL = 1
ET_EXEC = 2
ET_DYN = 3
ET_CORE = 4
# What an image runs or loads: executables, PIEs and shared objects.
PROGRAM_TYPES = frozenset({ET_EXEC, ET_DYN})

EF_ARM_EABIMASK = 0xFF000000
EF_ARM_ABI_FLOAT_SOFT = 0x200


@dataclass(frozen=True)
class ElfHeader:
    machine: int
    elf_class: int  # 1 = 32-bit, 2 = 64-bit
    little_endian: bool
    flags: int
    os_abi: int
    type: int

    @property
    def is_program(self) -> bool:
        """An executable, position-independent executable or shared object."""
        return self.type in PROGRAM_TYPES

    @property
    def arm_eabi(self) -> int | None:
        """The ARM EABI version (5 for every current toolchain), None off ARM."""
        if self.machine != EM_ARM:
            return None
        return (self.flags & EF_ARM_EABIMASK) >> 24

    @property
    def arm_hard_float(self) -> bool:
        return self.machine == EM_ARM and bool(self.flags & EF_ARM_ABI_FLOAT_HARD)

    def describe(self) -> str:
        """A human name: "x86-64", "aarch64", "arm (EABI5 soft-float)", ..."""
        name = describe_elf(self.machine, self.elf_class, self.little_endian)
        if self.arm_eabi == 5:
            return f"{name} (EABI5 {'hard' if self.arm_hard_float else 'soft'}-float)"
        return name


def parse_elf_header(data: bytes) -> ElfHeader | None:
    """The ELF header at the start of `data`, or None when it is not one.

    Not ELF: no magic, an unknown class or byte order, or fewer bytes than the
    class's header size (a truncated file cannot be executed either).
    """
    if len(data) < 16 or not data.startswith(MAGIC):
        return None
    elf_class, byte_order, os_abi = data[4], data[5], data[7]
    size = _HEADER_SIZES.get(elf_class)
    if size is None or byte_order not in (1, 2) or len(data) < size:
        return None
    little_endian = byte_order == 1
    order = "<" if little_endian else ">"
    elf_type, machine = struct.unpack_from(order + "HH", data, 16)
    (flags,) = struct.unpack_from(order + "I", data, _FLAGS_OFFSET[elf_class])
    return ElfHeader(machine, elf_class, little_endian, flags, os_abi, elf_type)


def matches_signature(header: ElfHeader, signature: ElfSignature) -> bool:
    """Can a platform with this signature run the file?

    Machine, class and byte order must be equal. When the platform needs the
    hard-float ABI (arm/v7, arm/v8), an EABI5 file must carry the hard-float
    flag; files of other EABI versions (0: old GNU ABI, rare) are not judged
    on it, as their flags mean something else.
    """
    if (header.machine, header.elf_class, header.little_endian) != (
        signature.machine,
        signature.elf_class,
        signature.little_endian,
    ):
        return False
    if signature.arm_hard_float and header.arm_eabi == 5:
        return header.arm_hard_float
    return True


def describe_signature(signature: ElfSignature) -> str:
    """What a platform's files must be, in the words of ElfHeader.describe."""
    if signature.arm_hard_float:
        return f"{signature.name} (EABI5 hard-float)"
    return signature.name


def matches_platform(header: ElfHeader, platform: Platform) -> bool:
    """matches_signature against `platform`'s signature (Unsupported if it has none)."""
    return matches_signature(header, elf_signature(platform))
