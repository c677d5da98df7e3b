"""Platforms (`os/arch[/variant]`): parse, normalise like containerd, match, and
know what each one's binaries look like (ELF header) and how qemu runs them.

Normalisation follows containerd's platforms.Normalize: `aarch64` -> arm64,
`x86_64` -> amd64, `arm64/v8` -> arm64, bare `arm` -> arm/v7, `armhf` ->
arm/v7, `armel` -> arm/v6, `i386` -> 386; plus uname's spellings (`armv7l`,
`i686`, ...) so `uname -m` output is accepted. Only an architecture given means
linux. Input is case-insensitive; the canonical form is lower-case.

This module is named `platform`; the stdlib module of that name is imported
as `_stdlib_platform` (absolute imports make the two distinct).
"""

from __future__ import annotations

import platform as _stdlib_platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dockyard.errors import InputError, Unsupported

OSES = ("linux", "windows")
# Windows container images exist only for these.
_WINDOWS_ARCHES = frozenset({"amd64", "arm64", "386"})

# spelling -> (architecture, variant it implies or None)
_ARCH_ALIASES: dict[str, tuple[str, str | None]] = {
    "amd64": ("amd64", None),
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "arm64": ("arm64", None),
    "aarch64": ("arm64", None),
    "arm": ("arm", None),
    "armhf": ("arm", "v7"),
    "armv7": ("arm", "v7"),
    "armv7l": ("arm", "v7"),
    "armv8l": ("arm", "v8"),  # uname on a 32-bit userland on an ARMv8 CPU
    "armel": ("arm", "v6"),
    "armv6": ("arm", "v6"),
    "armv6l": ("arm", "v6"),
    "armv5": ("arm", "v5"),
    "armv5l": ("arm", "v5"),
    "armv5tel": ("arm", "v5"),
    "386": ("386", None),
    "i386": ("386", None),
    "i486": ("386", None),
    "i586": ("386", None),
    "i686": ("386", None),
    "s390x": ("s390x", None),
    "ppc64le": ("ppc64le", None),
    "ppc64el": ("ppc64le", None),  # Debian's name
    "riscv64": ("riscv64", None),
    "mips64le": ("mips64le", None),
    "mips64el": ("mips64le", None),  # Debian's and uname's name
}

# architecture -> {variant spelling: canonical variant}; "" is "no variant".
# Go's GOARM64 levels: v8.0-v8.9 and v9.0-v9.5 (x.0 is spelled without it).
_ARM64_MINOR = {
    f"v{major}.{minor}": f"v{major}.{minor}"
    for major, top in ((8, 9), (9, 5))
    for minor in range(1, top + 1)
}
_VARIANTS: dict[str, dict[str, str]] = {
    "amd64": {"": "", "v1": "", "v2": "v2", "v3": "v3", "v4": "v4"},
    "arm64": {"": "", "8": "", "v8": "", "v8.0": "", "9": "v9", "v9": "v9", "9.0": "v9", "v9.0": "v9"}
    | _ARM64_MINOR,
    # containerd: a bare arm is arm/v7, the variant every armhf distribution targets.
    "arm": {"": "v7", "5": "v5", "v5": "v5", "6": "v6", "v6": "v6", "7": "v7", "v7": "v7", "8": "v8", "v8": "v8"},
    "386": {"": ""},
    "s390x": {"": ""},
    "ppc64le": {"": ""},
    "riscv64": {"": ""},
    "mips64le": {"": ""},
}


@dataclass(frozen=True, order=True)
class Platform:
    """An OCI platform (os/architecture[/variant]), normalised as containerd normalises it."""

    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")

    @property
    def slug(self) -> str:
        """One file-name-safe word: `linux-arm64`, `linux-arm-v7` (job keys, layout and file names)."""
        return f"{self.os}-{self.architecture}" + (f"-{self.variant}" if self.variant else "")

    @property
    def oci(self) -> dict[str, str]:
        """The `platform` object of an OCI index entry."""
        doc = {"os": self.os, "architecture": self.architecture}
        if self.variant:
            doc["variant"] = self.variant
        return doc


KNOWN_PLATFORMS: tuple[Platform, ...] = tuple(
    Platform(os_, arch, variant)
    for os_ in OSES
    for arch, variants in _VARIANTS.items()
    if os_ == "linux" or arch in _WINDOWS_ARCHES
    for variant in sorted(set(variants.values()))
)


def parse_platform(text: str) -> Platform:
    """Parse `os/arch[/variant]`, `arch[/variant]` (linux implied), normalised like containerd."""
    parts = text.strip().lower().split("/")
    if len(parts) == 1:
        os_, arch, variant = "linux", parts[0], None
    elif len(parts) == 2 and parts[0] in OSES:
        os_, arch, variant = parts[0], parts[1], None
    elif len(parts) == 2:
        os_, arch, variant = "linux", parts[0], parts[1]
    elif len(parts) == 3:
        os_, arch, variant = parts
    else:
        raise _not_a_platform(text)
    if os_ not in OSES or variant == "":
        raise _not_a_platform(text)
    platform = _canonical(os_, arch, variant or "")
    if platform is None or (os_ == "windows" and platform.architecture not in _WINDOWS_ARCHES):
        raise _not_a_platform(text)
    return platform


def parse_platforms(items: Iterable[str] | str) -> tuple[Platform, ...]:
    """Parse a list of platforms, each item possibly comma-separated; duplicates refused."""
    if isinstance(items, str):
        items = (items,)
    seen: dict[Platform, str] = {}
    for item in items:
        for piece in item.split(","):
            spelling = piece.strip()
            platform = parse_platform(spelling)
            if platform in seen:
                raise InputError(
                    f"'{seen[platform]}' and '{spelling}' are the same platform "
                    f"({platform}); list it once"
                )
            seen[platform] = spelling
    return tuple(seen)


def matches(want: Platform, entry: Mapping | Platform) -> bool:
    """Does an index entry's platform serve `want`?

    Both sides are normalised first, as containerd does: an arm64 entry with
    variant v8 or none serves linux/arm64, an arm entry without a variant
    serves linux/arm/v7. Otherwise the match is exact; os.version and
    os.features are not compared. A malformed entry matches nothing.
    """
    if isinstance(entry, Platform):
        got = _lenient(entry.os, entry.architecture, entry.variant)
    else:
        fields = (entry.get("os"), entry.get("architecture"), entry.get("variant") or "")
        if not all(isinstance(field, str) for field in fields):
            return False
        got = _lenient(*fields)
    return got == _lenient(want.os, want.architecture, want.variant)


def needs_emulation(target: Platform, host: Platform) -> bool:
    """Must the target's binaries run under qemu on this host?

    Conservative: only the identical platform, or 386 on an amd64 host, runs
    natively (an arm64 CPU may lack AArch32, so arm/v7 there still needs qemu).
    """
    if target == host:
        return False
    return not (
        target.os == host.os == "linux"
        and host.architecture == "amd64"
        and target.architecture == "386"
    )


def host_platform(*, machine: str | None = None) -> Platform:
    """The platform of this machine's CPU (`platform.machine()`), as a linux platform.

    Always linux: the images dockyard builds are linux images, and a docker
    on macOS or Windows runs them in a linux VM of the same architecture.
    """
    name = (_stdlib_platform.machine() if machine is None else machine).strip().lower()
    platform = _canonical("linux", name, "")
    if platform is None:
        raise Unsupported(
            f"host machine '{name}' is not a known platform "
            f"(known: {', '.join(sorted(_ARCH_ALIASES))})"
        )
    return platform


def qemu_binfmt_name(p: Platform) -> str | None:
    """The binfmt_misc entry (/proc/sys/fs/binfmt_misc/<name>) that runs this platform."""
    if p.os != "linux":
        return None
    return _QEMU.get(p.architecture)


_QEMU = {
    "amd64": "qemu-x86_64",
    "arm64": "qemu-aarch64",
    "arm": "qemu-arm",
    "386": "qemu-i386",
    "s390x": "qemu-s390x",
    "ppc64le": "qemu-ppc64le",
    "riscv64": "qemu-riscv64",
    "mips64le": "qemu-mips64el",
}


# --- ELF ------------------------------------------------------------------------

EM_386 = 3
EM_MIPS = 8
EM_PPC64 = 21
EM_S390 = 22
EM_ARM = 40
EM_X86_64 = 62
EM_AARCH64 = 183
EM_RISCV = 243
ELFCLASS32 = 1
ELFCLASS64 = 2
# e_flags bit of an ARM EABI binary built for the hard-float ABI (armhf).
EF_ARM_ABI_FLOAT_HARD = 0x400


@dataclass(frozen=True)
class ElfSignature:
    """What the ELF header of a platform's binaries says.

    arm_hard_float: the binaries must carry EF_ARM_ABI_FLOAT_HARD (arm/v7 and
    v8 are armhf). False means "not required", not "must be absent": arm/v6
    images exist in both ABIs (Debian armel is soft-float, Alpine's v6 is hard).
    """

    machine: int
    elf_class: int  # 1 = 32-bit, 2 = 64-bit
    little_endian: bool
    name: str
    arm_hard_float: bool = False


# (machine, class, little-endian) -> the name `file` and uname use for it.
_ELF_NAMES = {
    (EM_X86_64, ELFCLASS64, True): "x86-64",
    (EM_X86_64, ELFCLASS32, True): "x32",
    (EM_386, ELFCLASS32, True): "i386",
    (EM_AARCH64, ELFCLASS64, True): "aarch64",
    (EM_AARCH64, ELFCLASS64, False): "aarch64_be",
    (EM_ARM, ELFCLASS32, True): "arm",
    (EM_ARM, ELFCLASS32, False): "armeb",
    (EM_S390, ELFCLASS64, False): "s390x",
    (EM_S390, ELFCLASS32, False): "s390",
    (EM_PPC64, ELFCLASS64, True): "ppc64le",
    (EM_PPC64, ELFCLASS64, False): "ppc64",
    (EM_RISCV, ELFCLASS64, True): "riscv64",
    (EM_RISCV, ELFCLASS32, True): "riscv32",
    (EM_MIPS, ELFCLASS64, True): "mips64el",
    (EM_MIPS, ELFCLASS64, False): "mips64",
    (EM_MIPS, ELFCLASS32, True): "mipsel",
    (EM_MIPS, ELFCLASS32, False): "mips",
}

_ELF_ARCH = {
    "amd64": (EM_X86_64, ELFCLASS64, True),
    "arm64": (EM_AARCH64, ELFCLASS64, True),
    "arm": (EM_ARM, ELFCLASS32, True),
    "386": (EM_386, ELFCLASS32, True),
    "s390x": (EM_S390, ELFCLASS64, False),
    "ppc64le": (EM_PPC64, ELFCLASS64, True),
    "riscv64": (EM_RISCV, ELFCLASS64, True),
    "mips64le": (EM_MIPS, ELFCLASS64, True),
}


def elf_signature(p: Platform) -> ElfSignature:
    """The ELF machine, class and byte order every binary of a `p` image must have."""
    header = _ELF_ARCH.get(p.architecture) if p.os == "linux" else None
    if header is None:
        raise Unsupported(f"{p}: no ELF signature is known (its binaries are not linux ELF)")
    machine, elf_class, little_endian = header
    return ElfSignature(
        machine,
        elf_class,
        little_endian,
        describe_elf(machine, elf_class, little_endian),
        arm_hard_float=p.architecture == "arm" and p.variant in ("v7", "v8"),
    )


def describe_elf(machine: int, elf_class: int, little_endian: bool) -> str:
    """A human name for an ELF header ("x86-64", "aarch64", ...), for findings."""
    name = _ELF_NAMES.get((machine, elf_class, little_endian))
    if name is not None:
        return name
    bits = {ELFCLASS32: "32-bit", ELFCLASS64: "64-bit"}.get(elf_class, f"class {elf_class}")
    order = "little-endian" if little_endian else "big-endian"
    return f"ELF machine {machine} ({bits}, {order})"


# --- normalisation -------------------------------------------------------------


def _canonical(os_: str, arch: str, variant: str) -> Platform | None:
    """containerd's Normalize for a known architecture; None if arch or variant is unknown."""
    alias = _ARCH_ALIASES.get(arch)
    if alias is None:
        return None
    architecture, implied = alias
    canonical = _VARIANTS[architecture].get(variant)
    if implied is not None:
        # armhf/v7 is fine; armhf/v6 contradicts itself.
        if variant and canonical != implied:
            return None
        canonical = implied
    if canonical is None:
        return None
    return Platform(os_, architecture, canonical)


def _lenient(os_: str, arch: str, variant: str) -> tuple[str, str, str]:
    """Normalised if known, else lower-cased as given: for comparing index entries."""
    os_, arch, variant = os_.lower(), arch.lower(), variant.lower()
    known = _canonical(os_, arch, variant)
    if known is None:
        return (os_, arch, variant)
    return (known.os, known.architecture, known.variant)


def _not_a_platform(text: str) -> InputError:
    return InputError(f"'{text}' is not a platform (expected os/arch[/variant], e.g. linux/arm64)")


def platform_args(*, build: Platform, target: Platform) -> dict[str, str]:
    """The BUILD*/TARGET* args BuildKit predefines and buildah 1.28 does not set (design.md)."""
    return {
        "BUILDPLATFORM": str(build),
        "BUILDOS": build.os,
        "BUILDARCH": build.architecture,
        "BUILDVARIANT": build.variant,
        "TARGETPLATFORM": str(target),
        "TARGETOS": target.os,
        "TARGETARCH": target.architecture,
        "TARGETVARIANT": target.variant,
    }
