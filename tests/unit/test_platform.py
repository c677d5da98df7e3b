"""Platforms: containerd's normalisation, exact refusals, matching, ELF and binfmt tables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.errors import InputError, Unsupported
from dockyard.platform import (
    EF_ARM_ABI_FLOAT_HARD,
    KNOWN_PLATFORMS,
    ElfSignature,
    Platform,
    describe_elf,
    elf_signature,
    host_platform,
    matches,
    needs_emulation,
    parse_platform,
    parse_platforms,
    qemu_binfmt_name,
)

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
ARMV7 = Platform("linux", "arm", "v7")
ARMV6 = Platform("linux", "arm", "v6")
I386 = Platform("linux", "386")

ACCEPTED = [
    ("linux/amd64", "linux/amd64"),
    ("amd64", "linux/amd64"),
    ("x86_64", "linux/amd64"),
    ("x86-64", "linux/amd64"),
    ("X86_64", "linux/amd64"),
    ("linux/amd64/v1", "linux/amd64"),
    ("linux/amd64/v3", "linux/amd64/v3"),
    ("linux/arm64", "linux/arm64"),
    ("linux/arm64/v8", "linux/arm64"),
    ("arm64/v8", "linux/arm64"),
    ("aarch64", "linux/arm64"),
    ("arm64", "linux/arm64"),
    ("Linux/AArch64", "linux/arm64"),
    ("linux/arm64/v9.0", "linux/arm64/v9"),
    ("linux/arm64/v8.2", "linux/arm64/v8.2"),
    ("arm", "linux/arm/v7"),
    ("linux/arm", "linux/arm/v7"),
    ("armhf", "linux/arm/v7"),
    ("armv7l", "linux/arm/v7"),
    ("arm/v7", "linux/arm/v7"),
    ("linux/arm/7", "linux/arm/v7"),
    ("linux/armhf/v7", "linux/arm/v7"),
    ("armel", "linux/arm/v6"),
    ("armv6l", "linux/arm/v6"),
    ("arm/v6", "linux/arm/v6"),
    ("linux/arm/v5", "linux/arm/v5"),
    ("armv8l", "linux/arm/v8"),
    ("386", "linux/386"),
    ("i386", "linux/386"),
    ("i686", "linux/386"),
    ("linux/386", "linux/386"),
    ("s390x", "linux/s390x"),
    ("linux/ppc64le", "linux/ppc64le"),
    ("ppc64el", "linux/ppc64le"),
    ("riscv64", "linux/riscv64"),
    ("linux/mips64le", "linux/mips64le"),
    ("mips64el", "linux/mips64le"),
    ("windows/amd64", "windows/amd64"),
    (" linux/arm64 ", "linux/arm64"),
]


@pytest.mark.parametrize(("text", "canonical"), ACCEPTED)
def test_accepted_spellings_normalise_like_containerd(text, canonical):
    platform = parse_platform(text)
    assert str(platform) == canonical
    assert parse_platform(canonical) == platform


REFUSED = [
    "linux/arm65",
    "",
    "linux",
    "windows",
    "linux/",
    "/amd64",
    "linux/arm64/",
    "linux//arm64",
    "linux/amd64/v5",
    "linux/arm/v9",
    "linux/386/v1",
    "linux/s390x/v2",
    "armel/v7",  # armel is v6: the variant contradicts it
    "linux/armhf/v6",
    "darwin/arm64",
    "windows/s390x",
    "linux/arm64/v8/extra",
    "linux amd64",
    "linux/amd64,linux/arm64",
]


@pytest.mark.parametrize("text", REFUSED)
def test_refused_spellings_say_what_is_valid(text):
    with pytest.raises(InputError) as exc:
        parse_platform(text)
    assert str(exc.value) == (
        f"'{text}' is not a platform (expected os/arch[/variant], e.g. linux/arm64)"
    )


def test_str_and_oci_form():
    assert str(ARMV7) == "linux/arm/v7"
    assert ARMV7.oci == {"os": "linux", "architecture": "arm", "variant": "v7"}
    assert ARM64.oci == {"os": "linux", "architecture": "arm64"}
    assert (ARMV7.slug, ARM64.slug) == ("linux-arm-v7", "linux-arm64")


def test_platforms_sort_by_os_arch_variant():
    assert sorted([ARMV7, AMD64, ARMV6, I386]) == [I386, AMD64, ARMV6, ARMV7]


# --- lists --------------------------------------------------------------------


def test_parse_platforms_flattens_comma_lists_in_order():
    assert parse_platforms(["linux/amd64, linux/arm64", "arm/v7"]) == (AMD64, ARM64, ARMV7)
    assert parse_platforms("amd64,aarch64") == (AMD64, ARM64)
    assert parse_platforms([]) == ()


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["aarch64", "linux/arm64"],
         "'aarch64' and 'linux/arm64' are the same platform (linux/arm64); list it once"),
        (["linux/amd64,x86_64"],
         "'linux/amd64' and 'x86_64' are the same platform (linux/amd64); list it once"),
        (["arm", "armhf"], "'arm' and 'armhf' are the same platform (linux/arm/v7); list it once"),
        (["linux/amd64", "linux/arm65"],
         "'linux/arm65' is not a platform (expected os/arch[/variant], e.g. linux/arm64)"),
        (["linux/amd64,"], "'' is not a platform (expected os/arch[/variant], e.g. linux/arm64)"),
    ],
)
def test_parse_platforms_refusals(items, message):
    with pytest.raises(InputError) as exc:
        parse_platforms(items)
    assert str(exc.value) == message


# --- matching index entries ---------------------------------------------------

MATCHES = [
    (ARM64, {"os": "linux", "architecture": "arm64"}, True),
    (ARM64, {"os": "linux", "architecture": "arm64", "variant": "v8"}, True),
    (ARM64, {"os": "linux", "architecture": "arm64", "variant": ""}, True),
    (ARM64, {"os": "linux", "architecture": "aarch64"}, True),
    (ARM64, {"os": "linux", "architecture": "arm64", "variant": "v9"}, False),
    (ARM64, {"os": "linux", "architecture": "amd64"}, False),
    (ARM64, {"os": "windows", "architecture": "arm64"}, False),
    (ARMV7, {"os": "linux", "architecture": "arm"}, True),  # containerd: bare arm is v7
    (ARMV7, {"os": "linux", "architecture": "arm", "variant": "v7"}, True),
    (ARMV7, {"os": "linux", "architecture": "arm", "variant": "v6"}, False),
    (ARMV6, {"os": "linux", "architecture": "arm"}, False),
    (ARMV6, {"os": "linux", "architecture": "arm", "variant": "v6"}, True),
    (AMD64, {"os": "linux", "architecture": "amd64"}, True),
    (AMD64, {"os": "linux", "architecture": "amd64", "variant": "v1"}, True),
    (AMD64, {"os": "linux", "architecture": "amd64", "variant": "v2"}, False),
    (AMD64, {"os": "Linux", "architecture": "AMD64"}, True),
    (AMD64, {"os": "linux", "architecture": "amd64", "os.version": "6.1", "os.features": ["x"]}, True),
    (Platform("windows", "amd64"), {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2113"}, True),
    (I386, {"os": "linux", "architecture": "386"}, True),
    (I386, {"os": "linux", "architecture": "amd64"}, False),
    (AMD64, {"os": "unknown", "architecture": "unknown"}, False),  # buildx attestation entries
    (AMD64, {"architecture": "amd64"}, False),
    (AMD64, {"os": "linux", "architecture": 64}, False),
    (AMD64, {}, False),
    (ARM64, Platform("linux", "arm64", "v8"), True),
    (ARMV7, Platform("linux", "arm"), True),
    (AMD64, ARM64, False),
]


@pytest.mark.parametrize(("want", "entry", "expected"), MATCHES)
def test_matches_index_entries_like_containerd(want, entry, expected):
    assert matches(want, entry) is expected


# --- ELF and binfmt -----------------------------------------------------------

ELF = [
    ("linux/amd64", ElfSignature(62, 2, True, "x86-64")),
    ("linux/amd64/v3", ElfSignature(62, 2, True, "x86-64")),
    ("linux/arm64", ElfSignature(183, 2, True, "aarch64")),
    ("linux/arm/v7", ElfSignature(40, 1, True, "arm", arm_hard_float=True)),
    ("linux/arm/v6", ElfSignature(40, 1, True, "arm", arm_hard_float=False)),
    ("linux/386", ElfSignature(3, 1, True, "i386")),
    ("linux/s390x", ElfSignature(22, 2, False, "s390x")),
    ("linux/ppc64le", ElfSignature(21, 2, True, "ppc64le")),
    ("linux/riscv64", ElfSignature(243, 2, True, "riscv64")),
    ("linux/mips64le", ElfSignature(8, 2, True, "mips64el")),
]


@pytest.mark.parametrize(("text", "signature"), ELF)
def test_elf_signature(text, signature):
    assert elf_signature(parse_platform(text)) == signature


def test_hard_float_flag_value():
    assert EF_ARM_ABI_FLOAT_HARD == 0x400


def test_windows_has_no_elf_signature():
    with pytest.raises(Unsupported) as exc:
        elf_signature(Platform("windows", "amd64"))
    assert str(exc.value) == (
        "windows/amd64: no ELF signature is known (its binaries are not linux ELF)"
    )


@pytest.mark.parametrize(
    ("machine", "elf_class", "little_endian", "name"),
    [
        (62, 2, True, "x86-64"),
        (183, 2, True, "aarch64"),
        (40, 1, True, "arm"),
        (3, 1, True, "i386"),
        (22, 2, False, "s390x"),
        (21, 2, True, "ppc64le"),
        (21, 2, False, "ppc64"),
        (243, 2, True, "riscv64"),
        (8, 2, True, "mips64el"),
        (8, 1, False, "mips"),
        (62, 1, True, "x32"),
        (183, 1, True, "ELF machine 183 (32-bit, little-endian)"),
        (2, 2, False, "ELF machine 2 (64-bit, big-endian)"),
        (62, 7, True, "ELF machine 62 (class 7, little-endian)"),
    ],
)
def test_describe_elf(machine, elf_class, little_endian, name):
    assert describe_elf(machine, elf_class, little_endian) == name


def test_every_linux_platform_has_a_consistent_elf_signature():
    for platform in KNOWN_PLATFORMS:
        if platform.os == "linux":
            sig = elf_signature(platform)
            assert sig.name == describe_elf(sig.machine, sig.elf_class, sig.little_endian)
            assert qemu_binfmt_name(platform) is not None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("linux/arm64", "qemu-aarch64"),
        ("linux/arm/v7", "qemu-arm"),
        ("linux/arm/v6", "qemu-arm"),
        ("linux/amd64", "qemu-x86_64"),
        ("linux/386", "qemu-i386"),
        ("linux/s390x", "qemu-s390x"),
        ("linux/ppc64le", "qemu-ppc64le"),
        ("linux/riscv64", "qemu-riscv64"),
        ("linux/mips64le", "qemu-mips64el"),
        ("windows/amd64", None),
    ],
)
def test_qemu_binfmt_name(text, name):
    assert qemu_binfmt_name(parse_platform(text)) == name


# --- host and emulation -------------------------------------------------------


@pytest.mark.parametrize(
    ("machine", "platform"),
    [
        ("x86_64", AMD64),
        ("AMD64", AMD64),  # Windows' spelling
        ("aarch64", ARM64),
        ("arm64", ARM64),  # macOS' spelling
        ("armv7l", ARMV7),
        ("armv6l", ARMV6),
        ("i686", I386),
        ("s390x", Platform("linux", "s390x")),
        ("ppc64le", Platform("linux", "ppc64le")),
        ("riscv64", Platform("linux", "riscv64")),
        ("mips64", None),
    ],
)
def test_host_platform_from_machine(machine, platform):
    if platform is None:
        with pytest.raises(Unsupported) as exc:
            host_platform(machine=machine)
        assert str(exc.value).startswith("host machine 'mips64' is not a known platform (known: 386, ")
    else:
        assert host_platform(machine=machine) == platform


def test_host_platform_of_this_machine_is_known():
    assert host_platform() in KNOWN_PLATFORMS


@pytest.mark.parametrize(
    ("target", "host", "emulate"),
    [
        (AMD64, AMD64, False),
        (I386, AMD64, False),
        (ARM64, AMD64, True),
        (ARMV7, AMD64, True),
        (AMD64, ARM64, True),
        (ARMV7, ARM64, True),  # not every arm64 CPU runs AArch32
        (ARMV6, ARMV7, True),
        (AMD64, I386, True),
        (Platform("linux", "amd64", "v3"), AMD64, True),  # conservative: not identical
    ],
)
def test_needs_emulation(target, host, emulate):
    assert needs_emulation(target, host) is emulate


# --- properties ---------------------------------------------------------------


@given(st.sampled_from(KNOWN_PLATFORMS))
def test_known_platforms_round_trip(platform):
    assert parse_platform(str(platform)) == platform
    assert parse_platform(str(platform).upper()) == platform
    assert matches(platform, platform.oci)
    # The name-safe word is the canonical form with '-' for '/' (job keys, file names).
    assert platform.slug == str(platform).replace("/", "-")


_PLATFORM_ALPHABET = "linuxwdoamd64rv7/86_-.39 LA"


@given(st.one_of(st.text(), st.text(alphabet=_PLATFORM_ALPHABET, max_size=20)))
def test_parse_platform_returns_a_platform_or_raises_input_error(text):
    try:
        platform = parse_platform(text)
    except InputError as exc:
        assert str(exc) == f"'{text}' is not a platform (expected os/arch[/variant], e.g. linux/arm64)"
    else:
        assert platform in KNOWN_PLATFORMS
        assert parse_platform(str(platform)) == platform
