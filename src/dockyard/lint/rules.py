"""Multi-arch lint rules over the parsed Dockerfile model (pure).

Each rule has an id (`DY001`...), a severity and a fix hint; a finding's
`detail` carries the 1-based `line`, the rule's `name` and the `hint`, and
its `platform` is empty (a Dockerfile is linted for every platform at once).

The shell in RUN is not parsed: the compile and download rules look at the
first word of each simple command (after `VAR=value` prefixes) and at URLs,
so they are heuristics. They aim at no false errors on usual Dockerfiles:
an error (DY003, DY008) is only reported where the build surely goes wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.dockerfile.parse import SCRATCH, Dockerfile, Instruction, Stage, parse_dockerfile
from dockyard.errors import InputError
from dockyard.findings import Finding, Severity
from dockyard.ref import parse_ref

__all__ = [
    "RULES",
    "LintReport",
    "Rule",
    "filter_ignored",
    "lint_dockerfile",
    "lint_text",
    "parse_ignore",
]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity  # the usual severity; a rule may report a milder one (DY006 NONE)
    hint: str


RULES: Mapping[str, Rule] = {
    r.id: r
    for r in (
        Rule("DY001", "base.unpinned", "warning",
             "name a version tag (dockyard pins each platform's digest at build time)"),
        Rule("DY002", "compile.emulated", "warning",
             "use FROM --platform=$BUILDPLATFORM for the build stage and cross-compile "
             "for $TARGETOS/$TARGETARCH (emulated compiles are 8-25x slower)"),
        Rule("DY003", "arg.undeclared", "error",
             "declare it with ARG in this stage, after its FROM (BuildKit predefines "
             "it, but each stage must declare it to see it)"),
        Rule("DY004", "url.arch", "warning",
             "build the URL from $TARGETARCH (declared with ARG) so each platform "
             "downloads its own file"),
        Rule("DY005", "user.root", "warning",
             "add USER with a non-root uid (e.g. USER 65532:65532) to the final stage"),
        Rule("DY006", "healthcheck.missing", "warning",
             "add HEALTHCHECK CMD ... to the final stage (dockyard's smoke test runs it)"),
        Rule("DY007", "add.url", "warning",
             "use ADD --checksum=sha256:..., RUN curl ... with a checksum check, or COPY"),
        Rule("DY008", "arch.cross-stage", "error",
             "cross-compile for the target: GOOS=$TARGETOS GOARCH=$TARGETARCH, "
             "cargo --target, CC=<arch>-linux-gnu-gcc (with ARG TARGETARCH in the stage)"),
    )
}  # fmt: skip

_PLATFORM_VARS = (
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
    "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
)  # fmt: skip
_USE = re.compile(r"(?<!\\)\$\{?(" + "|".join(_PLATFORM_VARS) + r")(?![A-Za-z0-9_])")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_BUILD_PLATFORM = frozenset({"$BUILDPLATFORM", "${BUILDPLATFORM}"})
_TARGET_PLATFORM = frozenset({"$TARGETPLATFORM", "${TARGETPLATFORM}"})

# What shows a stage builds for the target rather than for the machine it runs on.
_CROSS = re.compile(
    r"\$\{?TARGET(?:ARCH|OS|PLATFORM|VARIANT)\b"
    r"|\bGOARCH\b|\bCARGO_BUILD_TARGET\b|\bCROSS_COMPILE\b"
    r"|(?<![\w-])--?target\b"
    r"|(?<![\w-])xx-[a-z]"  # tonistiigi/xx helpers: xx-go, xx-cargo, xx-clang
    r"|\b[a-z0-9_]+-linux-(?:gnu|musl)\w*-"  # a cross toolchain: aarch64-linux-gnu-gcc
)
_URL = re.compile(r"""(?:https?|ftp)://[^\s"'`<>|;)]+""")
_ARCH_WORD = re.compile(
    r"(?<![A-Za-z0-9])(amd64|x86_64|x86-64|aarch64|arm64|armhf|armel|armv7l?|i386|i686"
    r"|ppc64le|s390x|riscv64)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# A RUN that picks the architecture itself (e.g. a `case` over it) may name several.
_ARCH_CHOICE = re.compile(
    r"\$\{?(?:TARGET|BUILD)(?:ARCH|PLATFORM)\b|uname\s+-m|dpkg\s+--print-architecture"
    r"|apk\s+--print-arch|\$\(\s*arch\s*\)|`arch`"
)
_SEPARATORS = re.compile(r"&&|\|\||[;|&()\n`]|\$\(|\b(?:then|do|else|elif)\b")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = frozenset({"sudo", "env", "time", "exec", "nice", "nohup", "command"})
_CC = frozenset({"gcc", "g++", "cc", "c++", "clang", "clang++"})
_CROSS_CC = re.compile(r".+-(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+)")
_ROOT_USERS = frozenset({"root", "0"})


@dataclass(frozen=True)
class Compile:
    instruction: Instruction
    what: str  # "go build", "gcc", ...
    # Surely machine code for the machine it runs on (go, cargo, a C compiler); not
    # for Java/.NET bytecode, nor for make & co., which may only generate files.
    native: bool


# --- entry points -----------------------------------------------------------------


def lint_text(
    text: str,
    *,
    path: str = "Dockerfile",
    args: Mapping[str, str] | None = None,
    target: str | None = None,
) -> tuple[Finding, ...]:
    """Parse and lint; InputError `path:line: ...` when the Dockerfile does not parse."""
    args = dict(args or {})
    return lint_dockerfile(parse_dockerfile(text, path=path, args=args), args=args, target=target)


def lint_dockerfile(
    df: Dockerfile, *, args: Mapping[str, str] | None = None, target: str | None = None
) -> tuple[Finding, ...]:
    """Every rule's findings, sorted by line then rule.

    `args` are the build args `df` was parsed with (they decide whether an
    ARG-named base can be checked); `target` is the stage built (default: last).
    """
    args = args or {}
    final = df.target_stage(target)
    needed = df.needed_stages(target)
    findings: list[Finding] = []
    for stage in df.stages:
        findings.extend(_base_unpinned(df, stage, args))
        findings.extend(_undeclared_args(df, stage))
        findings.extend(_url_arch(df, stage))
        findings.extend(_add_url(df, stage))
    reaching = _reaching_target(df, final, needed)
    for stage in needed:
        findings.extend(_compiles(df, stage, reaches_target=stage.index in reaching))
    findings.extend(_user(df, final))
    findings.extend(_healthcheck(df, final))
    return tuple(sorted(findings, key=lambda f: (f.detail["line"], f.rule, f.message)))


def _finding(
    df: Dockerfile, rule: str, line: int, message: str, *, severity: Severity | None = None
) -> Finding:
    r = RULES[rule]
    return Finding(
        rule=rule,
        severity=severity or r.severity,
        platform="",
        path=df.path,
        message=message,
        detail={"line": line, "name": r.name, "hint": r.hint},
    )


# --- stage structure --------------------------------------------------------------


def _parent(df: Dockerfile, stage: Stage) -> Stage | None:
    """The earlier stage this stage's FROM names, if it names one."""
    base = stage.from_.base.lower()
    for earlier in df.stages[: stage.index]:
        if earlier.name is not None and earlier.name == base:
            return earlier
    return None


def _lineage(df: Dockerfile, stage: Stage) -> list[Stage]:
    """The stage and the stages it is FROM, nearest first: they share a filesystem."""
    chain = [stage]
    while (parent := _parent(df, chain[-1])) is not None:
        chain.append(parent)
    return chain


def _platform_raw(df: Dockerfile, stage: Stage) -> str | None:
    """The --platform the stage runs on, as written (inherited from a parent stage)."""
    root = _lineage(df, stage)[-1]
    raw = root.from_.platform_raw
    if raw is None or raw.strip("\"'") in _TARGET_PLATFORM:
        return None
    return raw.strip("\"'")


# --- DY001 ------------------------------------------------------------------------


def _base_unpinned(df: Dockerfile, stage: Stage, args: Mapping[str, str]) -> Iterator[Finding]:
    from_ = stage.from_
    if _parent(df, stage) is not None or from_.base == SCRATCH:
        return
    unset = [v for v in _VARIABLE.findall(from_.base_raw) if not _has_value(df, v, args)]
    if unset:
        return  # named by a build arg this lint was not given: nothing to check
    try:
        ref = parse_ref(from_.base, default_tag=None)
    except InputError:
        return  # the builder reports a bad reference; lint is not the place
    if ref.digest is not None or ref.tag not in (None, "latest"):
        return
    shown = from_.base_raw if from_.base_raw == from_.base else f"{from_.base_raw} (= {from_.base})"
    what = "has no tag (that means :latest)" if ref.tag is None else "uses the tag 'latest'"
    yield _finding(df, "DY001", from_.line, f"base image {shown} {what}: builds are not repeatable")


def _has_value(df: Dockerfile, name: str, args: Mapping[str, str]) -> bool:
    return name in args or df.global_args.get(name) is not None


# --- DY002 / DY008 ----------------------------------------------------------------


def _reaching_target(df: Dockerfile, final: Stage, needed: Iterable[Stage]) -> set[int]:
    """Stages whose files a target-platform stage takes (COPY --from, mount, FROM).

    A build-platform stage that only feeds another build-platform stage (a
    code generator, say) leaves no build-platform binary in the image. What
    the consuming build-platform stage passes on is not knowable here, so
    only direct consumers count; a stage's files are those of its FROM
    ancestors too. The final stage itself reaches the image.
    """
    reaching = {s.index for s in _lineage(df, final)}
    for stage in needed:
        if _platform_raw(df, stage) is None:
            for dep in stage.depends_on:
                reaching.update(s.index for s in _lineage(df, df.stages[dep]))
    return reaching


def _compiles(df: Dockerfile, stage: Stage, *, reaches_target: bool) -> Iterator[Finding]:
    compiles = list(_stage_compiles(stage))
    if not compiles:
        return
    platform = _platform_raw(df, stage)
    label = f"stage '{stage.label}'"
    native = next((c for c in compiles if c.native), None)
    if platform is None:
        found = compiles[0]
        yield _finding(
            df, "DY002", found.instruction.line,
            f"{label} runs {found.what} on the target platform: under emulation for "
            "foreign platforms",
        )  # fmt: skip
    elif native is not None and reaches_target and not _cross_evidence(df, stage):
        yield _finding(
            df, "DY008", native.instruction.line,
            f"{label} runs {native.what} on --platform={platform} without targeting "
            "$TARGETARCH: the image gets binaries of the build machine's architecture",
        )  # fmt: skip


def _stage_compiles(stage: Stage) -> Iterator[Compile]:
    for instruction in stage.instructions:
        if instruction.keyword != "RUN":
            continue
        for words in _commands(_run_script(instruction)):
            what = _compiler(words)
            if what is not None:
                yield Compile(instruction, what[0], what[1])


def _cross_evidence(df: Dockerfile, stage: Stage) -> bool:
    for member in _lineage(df, stage):
        for instruction in member.instructions:
            if instruction.keyword in ("RUN", "ENV") and _CROSS.search(_run_script(instruction)):
                return True
    return False


def _run_script(instruction: Instruction) -> str:
    """The RUN's shell text (exec form joined, heredoc bodies appended)."""
    value = instruction.value
    if value.startswith("["):
        try:
            words = json.loads(value)
        except ValueError:
            words = None
        if isinstance(words, list):
            value = " ".join(str(w) for w in words)
    return "\n".join((value, *instruction.heredocs))


def _commands(script: str) -> Iterator[list[str]]:
    """Each simple command's words, without leading VAR=value and wrappers like sudo."""
    for part in _SEPARATORS.split(script):
        words = part.split()
        while words and (_ASSIGNMENT.match(words[0]) or words[0] in _WRAPPERS):
            words.pop(0)
        if words:
            yield words


def _compiler(words: list[str]) -> tuple[str, bool] | None:
    """(what, native) when the command compiles, else None."""
    name = words[0].rsplit("/", 1)[-1]
    sub = next((w for w in words[1:] if not w.startswith("-")), "")
    name = name.removeprefix("xx-")  # xx-go build is go build (cross by construction)
    if name == "go" and sub in ("build", "install"):
        return f"go {sub}", True
    if name == "cargo" and sub in ("build", "install", "rustc", "zigbuild"):
        return f"cargo {sub}", True
    if name == "rustc" or name in _CC or _CROSS_CC.fullmatch(name):
        return name, True
    if name in ("make", "ninja"):
        return name, False
    if name == "cmake" and "--build" in words:
        return "cmake --build", False
    if name == "javac":
        return name, False
    if name in ("mvn", "mvnw", "gradle", "gradlew") and sub:
        return f"{name} {sub}", False
    if name == "dotnet" and sub in ("build", "publish"):
        return f"dotnet {sub}", False
    return None


# --- DY003 ------------------------------------------------------------------------


def _undeclared_args(df: Dockerfile, stage: Stage) -> Iterator[Finding]:
    declared = {n for s in _lineage(df, stage)[1:] for i in s.instructions for n in _declares(i)}
    reported: set[str] = set()
    for instruction in stage.instructions:
        for name in _USE.findall(_expanded_text(instruction)):
            if name not in declared and name not in reported:
                reported.add(name)
                yield _finding(
                    df, "DY003", instruction.line,
                    f"{name} is used in stage '{stage.label}' but not declared there with "
                    f"ARG {name}: it expands to empty",
                )  # fmt: skip
        declared.update(_declares(instruction))


def _declares(instruction: Instruction) -> list[str]:
    """The names an ARG or ENV makes visible to the instructions after it."""
    if instruction.keyword == "ARG":
        return [w.split("=", 1)[0] for w in instruction.value.split()]
    if instruction.keyword == "ENV":
        words = instruction.value.split()
        if words and "=" not in words[0]:
            return [words[0]]  # legacy form: ENV NAME value
        return [w.split("=", 1)[0] for w in words if "=" in w]
    return []


def _expanded_text(instruction: Instruction) -> str:
    """What the builder or the shell expands: ARG defaults (not the names), else everything."""
    if instruction.keyword == "ARG":
        return " ".join(w.split("=", 1)[1] for w in instruction.value.split() if "=" in w)
    if instruction.keyword == "ONBUILD":
        return ""  # expanded in the stage that builds FROM this image, not here
    flags = " ".join(v for _, v in instruction.flag_items)
    return "\n".join((flags, instruction.value, *instruction.heredocs))


# --- DY004 / DY007 ----------------------------------------------------------------


def _url_arch(df: Dockerfile, stage: Stage) -> Iterator[Finding]:
    for instruction in stage.instructions:
        if instruction.keyword == "RUN":
            text = _run_script(instruction)
            if _ARCH_CHOICE.search(text):
                continue
            urls = _URL.findall(text)
        elif instruction.keyword == "ADD":
            urls = [u for u in _add_sources(instruction) if _URL.fullmatch(u)]
        else:
            continue
        for url in urls:
            match = _ARCH_WORD.search(url)
            if match is not None:
                yield _finding(
                    df, "DY004", instruction.line,
                    f"download URL {url} names the architecture '{match.group(1)}': "
                    "every platform gets that file",
                )  # fmt: skip
                break


def _add_url(df: Dockerfile, stage: Stage) -> Iterator[Finding]:
    for instruction in stage.instructions:
        if instruction.keyword != "ADD" or "checksum" in instruction.flags:
            continue
        for source in _add_sources(instruction):
            if re.match(r"(?:https?|ftp)://|git@", source):
                yield _finding(
                    df, "DY007", instruction.line,
                    f"ADD {source} downloads without checking what it gets",
                )
                break


def _add_sources(instruction: Instruction) -> list[str]:
    value = instruction.value.strip()
    words: Any = None
    if value.startswith("["):
        try:
            words = json.loads(value)
        except ValueError:
            words = None
    if not isinstance(words, list):
        words = value.split()
    return [str(w) for w in words[:-1]]  # the last word is the destination


# --- DY005 / DY006 ----------------------------------------------------------------


def _last(df: Dockerfile, stage: Stage, keyword: str) -> Instruction | None:
    """The stage's last `keyword` instruction, looking into the stages it is FROM."""
    for member in _lineage(df, stage):
        for instruction in reversed(member.instructions):
            if instruction.keyword == keyword:
                return instruction
    return None


def _user(df: Dockerfile, final: Stage) -> Iterator[Finding]:
    user = _last(df, final, "USER")
    if user is None:
        yield _finding(
            df, "DY005", final.from_.line,
            f"final stage '{final.label}' has no USER: the container runs as the base "
            "image's user (root for most bases)",
        )  # fmt: skip
        return
    name = user.value.strip().split(":", 1)[0]
    if name in _ROOT_USERS:
        yield _finding(df, "DY005", user.line, f"USER {user.value.strip()}: the container runs as root")


def _healthcheck(df: Dockerfile, final: Stage) -> Iterator[Finding]:
    check = _last(df, final, "HEALTHCHECK")
    if check is None:
        yield _finding(
            df, "DY006", final.from_.line,
            f"final stage '{final.label}' has no HEALTHCHECK",
        )  # fmt: skip
    elif check.value.strip().upper() == "NONE":
        yield _finding(
            df, "DY006", check.line,
            "HEALTHCHECK NONE: the image deliberately has no health check",
            severity="info",
        )  # fmt: skip


# --- ignoring and reporting -------------------------------------------------------

_HADOLINT_CODE = re.compile(r"(?:hadolint\.)?((?:DL|SC)\d{4})")


def parse_ignore(values: Iterable[str]) -> frozenset[str]:
    """Rule ids to drop: DY001..., hadolint's DL3008 / SC2086 (with or without `hadolint.`).

    Values may be comma-separated; an unknown id is an InputError (a typo
    would otherwise silently ignore nothing).
    """
    ids: set[str] = set()
    for value in values:
        for word in filter(None, (w.strip() for w in value.split(","))):
            upper = word.upper() if not word.startswith("hadolint.") else word
            if upper in RULES:
                ids.add(upper)
            elif (match := _HADOLINT_CODE.fullmatch(upper)) is not None:
                ids.add(f"hadolint.{match.group(1)}")
            else:
                raise InputError(
                    f"--ignore {word}: not a lint rule (expected {', '.join(RULES)}, "
                    "or a hadolint code such as DL3008 or SC2086)"
                )
    return frozenset(ids)


def filter_ignored(findings: Iterable[Finding], ignore: frozenset[str]) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.rule not in ignore)


@dataclass(frozen=True)
class LintReport:
    """What `dockyard lint` found in some Dockerfiles."""

    findings: tuple[Finding, ...]
    files: tuple[str, ...]  # as shown to the user
    hadolint: str | None  # the hadolint executable that ran; None when none is installed
    ignored: tuple[str, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def has_errors(self) -> bool:
        return self.count("error") > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": [f.to_json() for f in self.findings],
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "infos": self.count("info"),
            "files": list(self.files),
            "hadolint": {"ran": self.hadolint is not None, "executable": self.hadolint},
            "ignored": list(self.ignored),
        }
