"""Can this host run a platform's binaries? binfmt_misc's qemu entries, read and judged.

A RUN step of a foreign-architecture stage executes that architecture's
binaries; on linux the kernel hands them to qemu through a binfmt_misc
entry (`/proc/sys/fs/binfmt_misc/qemu-aarch64`). The entry must be enabled
and, because buildah runs steps chrooted into the image's rootfs (where the
host's /usr/libexec/qemu-binfmt/... does not exist), carry the F ("fix
binary") flag: the kernel then opens the interpreter once, at registration,
and every namespace can use it. Debian's qemu-user-static registers its
entries with F.

Only file reads under `root`: tests point it at a fake directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from dockyard.errors import OperationError
from dockyard.platform import Platform, host_platform, needs_emulation, qemu_binfmt_name

BINFMT_ROOT = Path("/proc/sys/fs/binfmt_misc")
_INSTALL = "apt-get install qemu-user-static binfmt-support"


@dataclass(frozen=True)
class BinfmtEntry:
    """What one binfmt_misc entry file says."""

    enabled: bool
    interpreter: str
    flags: str


@dataclass(frozen=True)
class BinfmtStatus:
    """Whether `platform` runs on this host, natively or through a usable qemu entry.

    `mounted`: binfmt_misc is mounted at the root (its `status` file exists);
    `registered`: the entry file exists; `enabled`: the entry and binfmt_misc
    as a whole are enabled; `fix_flag`: the entry has the F flag.
    """

    platform: Platform
    host: Platform
    needed: bool
    name: str | None  # "qemu-aarch64"; None when no qemu exists for the platform
    mounted: bool = False
    registered: bool = False
    enabled: bool = False
    interpreter: str = ""
    fix_flag: bool = False
    root: Path = BINFMT_ROOT

    @property
    def ok(self) -> bool:
        return not self.needed or (self.enabled and self.fix_flag)

    @property
    def problem(self) -> str | None:
        """One line saying what is wrong and the commands that fix it; None when ok."""
        if self.ok:
            return None
        if self.name is None:
            return (
                f"{self.platform} cannot run on this {self.host} host (qemu has no emulator for it)"
            )
        enable = f"update-binfmts --enable {self.name}"
        if not self.mounted:
            return (
                f"{self.platform} needs qemu emulation but binfmt_misc is not mounted at "
                f"{self.root} (run: mount -t binfmt_misc binfmt_misc {self.root} && "
                f"{_INSTALL} && {enable})"
            )
        if not self.enabled:
            return (
                f"{self.platform} needs qemu emulation but binfmt_misc has no enabled "
                f"{self.name} (run: {_INSTALL} && {enable})"
            )
        # Enabled without F: works on the host, fails inside a chrooted build step.
        return (
            f"{self.platform} needs qemu emulation but binfmt_misc entry {self.name} lacks "
            f"the F (fix-binary) flag, so build containers cannot use it (run: "
            f"update-binfmts --disable {self.name} && apt-get install --reinstall "
            f"qemu-user-static && {enable})"
        )

    def describe(self) -> str:
        """A one-line summary for `doctor`."""
        if not self.needed:
            return f"native on {self.host}"
        if self.ok:
            return f"{self.name} enabled ({self.interpreter}, flags {self._flags_text()})"
        return self.problem or ""

    def _flags_text(self) -> str:
        return "F" if self.fix_flag else "-"


def parse_binfmt_entry(text: str) -> BinfmtEntry:
    """Parse an entry file: `enabled`/`disabled`, `interpreter PATH`, `flags: PF`, ..."""
    enabled = False
    interpreter = ""
    flags = ""
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word in ("enabled", "disabled") and not rest:
            enabled = word == "enabled"
        elif word == "interpreter":
            interpreter = rest.strip()
        elif word == "flags:":
            flags = rest.strip()
    return BinfmtEntry(enabled=enabled, interpreter=interpreter, flags=flags)


def binfmt_status(
    platform: Platform, *, host: Platform | None = None, root: Path = BINFMT_ROOT
) -> BinfmtStatus:
    """Read binfmt_misc under `root` for what `platform` needs on `host` (default: this one)."""
    host = host_platform() if host is None else host
    name = qemu_binfmt_name(platform)
    base = BinfmtStatus(platform=platform, host=host, needed=False, name=name, root=root)
    if not needs_emulation(platform, host):
        return base
    needed = BinfmtStatus(platform=platform, host=host, needed=True, name=name, root=root)
    if name is None:
        return needed
    global_status = _read(root / "status")
    if global_status is None:
        return needed
    entry_text = _read(root / name)
    if entry_text is None:
        return replace(needed, mounted=True)
    entry = parse_binfmt_entry(entry_text)
    return replace(
        needed,
        mounted=True,
        registered=True,
        enabled=entry.enabled and global_status.strip() == "enabled",
        interpreter=entry.interpreter,
        fix_flag="F" in entry.flags,
    )


def ensure_emulation(
    platforms: Iterable[Platform], *, host: Platform | None = None, root: Path = BINFMT_ROOT
) -> tuple[BinfmtStatus, ...]:
    """Every platform's status; OperationError naming each unusable one and its fix."""
    statuses = tuple(binfmt_status(p, host=host, root=root) for p in platforms)
    problems = [s.problem for s in statuses if s.problem]
    if problems:
        raise OperationError("; ".join(problems))
    return statuses


def _read(path: Path) -> str | None:
    # A missing or unreadable entry is reported as absent: the fix is the same.
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
