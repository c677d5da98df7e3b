"""Go build info of a binary: the Go version, the main module and every dependency (pure).

    finder = BuildInfoFinder()
    for chunk in chunks_of_the_file:
        if finder.feed(chunk):
            break
    info = finder.finish()              # BuildInfo, or None: not a Go binary (or a pre-1.18 one)
    packages = go_packages(info, path="/usr/bin/app")

The Go linker writes a blob into every binary (`.go.buildinfo`, 16-byte
aligned): the 14-byte magic `\\xff Go buildinf:`, a pointer size (4 or 8),
a flags byte, padding to 32 bytes; then, since Go 1.18 (flag bit 2), the Go
version and the module information inline, each a uvarint length and its
bytes (Go's debug/buildinfo). The module information is runtime/debug's
text between two 16-byte sentinels, one line each: `path`, `mod` (the main
module), `dep` (a dependency), `=>` (the line before it was replaced), and
`build` settings.

The finder reads the file as it streams by, never more than the blob past a
candidate: a magic that is not 16-byte aligned, or whose header or strings
do not decode, is skipped (a Go tool that reads build info carries the magic
as a string constant). Binaries of Go before 1.18 keep pointers into their
data segment instead of inline strings: they are recognised and give no
packages (not read: that needs the whole file and its address map).
"""

from __future__ import annotations

from dataclasses import dataclass

from packageurl import PackageURL

from dockyard.evidence.packages import GO, Package

MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
ALIGN = 16
_INLINE = 0x2  # flags: version and modinfo are inline strings (Go 1.18+)
# A version or module list longer than this is not build info (real ones are a few KiB).
MAX_STRING = 1 << 20
_SENTINEL = 16
DEVEL = "(devel)"


@dataclass(frozen=True)
class Module:
    path: str
    version: str = ""
    sum: str = ""


@dataclass(frozen=True)
class BuildInfo:
    go_version: str  # e.g. "go1.23.4" (may carry experiments: "go1.23.1 X:nocoverageredesign")
    path: str = ""  # the main package's import path
    main: Module | None = None  # None for a binary built outside module mode
    deps: tuple[Module, ...] = ()  # replacements applied: what was compiled in
    settings: tuple[tuple[str, str], ...] = ()  # `build` lines: (key, value)


class BuildInfoFinder:
    """Fed a file's bytes in order, finds its Go build info; see the module docstring."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._base = 0  # file offset of _buf[0]
        self._result: BuildInfo | None = None
        self.done = False
        self.old_format = False  # a pre-1.18 blob was found (no packages read from it)

    def feed(self, data: bytes) -> bool:
        """Take the next bytes of the file; True when done (the rest need not be read)."""
        if self.done:
            return True
        self._buf += data
        self._search(eof=False)
        return self.done

    def finish(self) -> BuildInfo | None:
        """The end of the file: the build info found, or None."""
        if not self.done:
            self._search(eof=True)
            self.done = True
        return self._result

    def _search(self, *, eof: bool) -> None:
        buf, start = self._buf, 0
        while (at := buf.find(MAGIC, start)) >= 0:
            if (self._base + at) % ALIGN:
                start = at + 1
                continue
            state, info = _decode(memoryview(buf)[at:], eof=eof)
            if state == "more":
                self._drop(at)  # keep the candidate until its strings have arrived
                return
            if state in ("ok", "old"):
                self._result, self.old_format, self.done = info, state == "old", True
                self._buf = bytearray()
                return
            start = at + 1
        # Keep only what may be the start of a magic split across two chunks.
        self._drop(max(start, len(buf) - (len(MAGIC) - 1)))

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        self._base += n


def _decode(blob: memoryview, *, eof: bool) -> tuple[str, BuildInfo | None]:
    """("ok", info), ("old", None), ("bad", None), or ("more", None) if the bytes end too soon."""
    more = ("bad" if eof else "more"), None
    if len(blob) < HEADER_SIZE:
        return more
    if blob[14] not in (4, 8):
        return "bad", None
    if not blob[15] & _INLINE:
        return "old", None
    version, at = _string(blob, HEADER_SIZE)
    if version is None:
        return more if at == -1 else ("bad", None)
    modinfo, at = _string(blob, at)
    if modinfo is None:
        return more if at == -1 else ("bad", None)
    go_version = version.decode("utf-8", "replace")
    if not go_version.startswith(("go", "devel")) or not go_version.isprintable():
        return "bad", None
    return "ok", parse_modinfo(go_version, _unwrap(modinfo))


def _string(blob: memoryview, at: int) -> tuple[bytes | None, int]:
    """(bytes, next offset) of the uvarint-prefixed string at `at`; (None, -1) if the blob ends
    first, (None, -2) if it is not a string."""
    length, shift = 0, 0
    for i in range(10):  # a uvarint is at most 10 bytes
        if at + i >= len(blob):
            return None, -1
        byte = blob[at + i]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    else:
        return None, -2
    if length > MAX_STRING:
        return None, -2
    start = at + i + 1
    if start + length > len(blob):
        return None, -1
    return bytes(blob[start : start + length]), start + length


def _unwrap(modinfo: bytes) -> str:
    """The module text between its sentinels (Go's debug/buildinfo rule); "" if there is none."""
    if len(modinfo) >= 2 * _SENTINEL + 1 and modinfo[-(_SENTINEL + 1)] == ord("\n"):
        return modinfo[_SENTINEL:-_SENTINEL].decode("utf-8", "replace")
    return ""


def parse_modinfo(go_version: str, text: str) -> BuildInfo:
    """BuildInfo from runtime/debug's module text (lines `path`, `mod`, `dep`, `=>`, `build`)."""
    path, main = "", None
    deps: list[Module] = []
    settings: list[tuple[str, str]] = []
    for line in text.split("\n"):
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "path":
            path = rest
        elif kind in ("mod", "dep", "=>") and fields[0]:
            module = Module(*[*fields, "", ""][:3])
            if kind == "mod":
                main = module
            elif kind == "dep":
                deps.append(module)
            elif deps:  # `=>` replaces the dep above it; a local directory has no version
                deps[-1] = module if module.version else Module(deps[-1].path, DEVEL)
        elif kind == "build":
            key, _, value = rest.partition("=")
            settings.append((key, value))
    return BuildInfo(go_version, path, main, tuple(deps), tuple(settings))


def go_packages(info: BuildInfo, *, path: str) -> list[Package]:
    """The Go standard library, the main module and the dependencies a binary at `path` holds.

    The standard library is package `stdlib` at the toolchain's version
    (`go1.23.4`), as syft names it: its advisories are filed against it.
    """
    packages = []
    toolchain = info.go_version.split()[0] if info.go_version else ""
    if toolchain.startswith("go"):
        packages.append(_package(Module("stdlib", toolchain), path))
    if info.main is not None:
        packages.append(_package(Module(info.main.path, info.main.version or DEVEL), path))
    packages += [_package(dep, path) for dep in info.deps]
    return packages


def _package(module: Module, path: str) -> Package:
    namespace, _, name = module.path.rpartition("/")
    purl = PackageURL(type="golang", namespace=namespace or None, name=name, version=module.version)
    return Package(
        ecosystem=GO,
        name=module.path,
        version=module.version,
        purl=purl.to_string(),
        path="/" + path.lstrip("/"),
    )
