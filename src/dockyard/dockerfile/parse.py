"""The Dockerfile model: stages, FROMs, ARG expansion, dependencies, base pinning (pure).

It takes the Dockerfile's text, never a path, and does no I/O.

Why a small parser of our own and not `dockerfile-parse` (PyPI): its
`DockerfileParser.structure` reads through a file object and gives line
numbers, but (checked with 2.0.1) it does not know heredocs (`RUN <<EOF`
... `EOF`: the body's lines come back as instructions, so a `FROM` inside a
heredoc would become a stage), it ends an instruction at a blank line inside
a continuation where BuildKit skips the blank line (the next line then comes
back as an unknown instruction), it does not parse flags (`--platform`,
`--from`, `--mount`), and `parent_images` drops the `--platform` of each
FROM, the one thing pinning needs. Fixing that around it would be as long as
the line scanner below, which follows BuildKit's
frontend/dockerfile/parser: parser directives (`# escape=`), the escape
character, comment and blank lines inside continuations, heredocs, flags.

The semantics follow BuildKit where builders differ: stage names are
case-insensitive; only ARGs declared before the first FROM (plus the
predefined BUILD*/TARGET* platform args) are visible in FROM; a FROM names
an earlier stage or an image; `COPY --from` / `RUN --mount=from=` name any
stage (by name or index) or else an image; a stage FROM an earlier stage
runs on that stage's platform.

Which platform each stage runs on, the base references to resolve and the
rewriting of FROMs to digests are in `dockyard.dockerfile.pinning`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from dockyard.dockerfile.lines import LogicalLine, logical_lines, unquote
from dockyard.dockerfile.shellexpand import expand
from dockyard.errors import InputError, UnsetVariable
from dockyard.ref import parse_ref

__all__ = [
    "PLATFORM_ARGS",
    "Dockerfile",
    "FromLine",
    "Instruction",
    "Stage",
    "expand",
    "expand_word",
    "from_scope",
    "parse_dockerfile",
]

INSTRUCTIONS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
        "WORKDIR",
    }
)  # fmt: skip
# Instructions whose leading --flags BuildKit reads; elsewhere `--x` is plain text.
_FLAGGED = frozenset({"ADD", "COPY", "FROM", "HEALTHCHECK", "RUN"})
PLATFORM_ARGS = (
    "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
)  # fmt: skip
SCRATCH = "scratch"
_STAGE_NAME = re.compile(r"[a-z][a-z0-9_.-]*")
_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Instruction:
    """One instruction; `value` is the text after the keyword and its flags.

    `flag_items` keeps every `--name=value` in order (RUN may repeat
    `--mount`); `flags` is the same as a mapping, the last one winning. A bare
    flag (`--link`) has the value "". Flag names are given without `--`.
    """

    line: int  # 1-based, the instruction's first line
    end_line: int  # its last line, continuation and heredoc bodies included
    keyword: str  # upper-case
    value: str
    flag_items: tuple[tuple[str, str], ...] = ()
    heredocs: tuple[str, ...] = ()  # heredoc bodies, in order

    @property
    def flags(self) -> Mapping[str, str]:
        return MappingProxyType(dict(self.flag_items))

    def flag_values(self, name: str) -> tuple[str, ...]:
        return tuple(value for key, value in self.flag_items if key == name)


@dataclass(frozen=True)
class FromLine:
    line: int
    base: str  # after expansion with global ARG defaults and the parse's args
    base_raw: str  # as written
    platform_raw: str | None  # the --platform value as written
    stage_name: str | None  # as written after AS
    index: int  # the stage's number
    end_line: int = 0  # the FROM's last line (a FROM may be continued)


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None  # lower-case: BuildKit's stage names are case-insensitive
    from_: FromLine
    instructions: tuple[Instruction, ...]  # after the FROM
    copies_from: tuple[str, ...]  # COPY --from= / RUN --mount=...,from= values as written
    depends_on: tuple[int, ...]  # stages it needs: FROM <stage>, COPY --from, mount from

    @property
    def label(self) -> str:
        return self.name if self.name is not None else str(self.index)


@dataclass(frozen=True)
class Dockerfile:
    text: str
    global_args: Mapping[str, str | None]  # ARGs before the first FROM: default as written
    stages: tuple[Stage, ...]
    path: str = "Dockerfile"
    preamble: tuple[Instruction, ...] = ()  # the ARGs before the first FROM
    escape: str = "\\"

    def target_stage(self, name: str | None = None) -> Stage:
        """The stage called `name` (case-insensitive); the last stage by default."""
        if name is None:
            return self.stages[-1]
        for stage in self.stages:
            if stage.name == name.lower():
                return stage
        names = ", ".join(s.name for s in self.stages if s.name) or "none"
        raise InputError(f"{self.path}: no stage named '{name}' (named stages: {names})")

    def needed_stages(self, target: str | None = None) -> tuple[Stage, ...]:
        """The target stage and every stage it needs, transitively, in file order."""
        seen: set[int] = set()
        todo = [self.target_stage(target).index]
        while todo:
            index = todo.pop()
            if index not in seen:
                seen.add(index)
                todo.extend(self.stages[index].depends_on)
        return tuple(self.stages[i] for i in sorted(seen))


# --- parsing ---------------------------------------------------------------------


def parse_dockerfile(
    text: str, *, path: str = "Dockerfile", args: Mapping[str, str] | None = None
) -> Dockerfile:
    """Parse a Dockerfile's text; InputError `path:line: ...` on anything BuildKit refuses.

    `args` (build args) only affect `FromLine.base` and so which FROMs name an
    earlier stage. The BUILD*/TARGET* platform args among them are visible in
    FROM without an ARG, as BuildKit's automatic platform args are; without
    them, `FromLine.base` is what the FROM gives with those unset.
    """
    escape, lines = logical_lines(text, path=path)
    instructions = [_instruction(line, path) for line in lines]
    preamble, groups = _split_stages(instructions, path)
    global_args = _global_args(preamble, path)
    args = args or {}
    env = _from_env(preamble, args, path=path, escape=escape, strict=False)
    stages = _stages(groups, env, path=path, escape=escape)
    _check_cycles(stages, path)
    return Dockerfile(
        text=text,
        global_args=MappingProxyType(global_args),
        stages=tuple(stages),
        path=path,
        preamble=tuple(preamble),
        escape=escape,
    )


def _instruction(logical: LogicalLine, path: str) -> Instruction:
    parts = logical.text.strip().split(None, 1)
    keyword, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    upper = keyword.upper()
    if upper not in INSTRUCTIONS:
        raise InputError(
            f"{path}:{logical.line}: unknown instruction '{keyword}' "
            f"(expected one of {', '.join(sorted(INSTRUCTIONS))})"
        )
    flags: tuple[tuple[str, str], ...] = ()
    if upper in _FLAGGED:
        flags, rest = _flags(rest, logical.escape)
    return Instruction(
        line=logical.line,
        end_line=logical.end_line,
        keyword=upper,
        value=rest,
        flag_items=flags,
        heredocs=logical.heredocs,
    )


_FLAG_WORD = re.compile(r"""--(?:[^\s"']|"[^"]*"|'[^']*')*""")


def _flags(rest: str, escape: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """Leading `--name[=value]` words (quotes allowed in the value) and what follows."""
    flags: list[tuple[str, str]] = []
    while True:
        match = _FLAG_WORD.match(rest)
        if match is None:
            return tuple(flags), rest
        word = match.group()
        rest = rest[match.end() :].lstrip()
        if word == "--":
            return tuple(flags), rest  # `--` ends the flags, as with getopt
        name, _, value = word[2:].partition("=")
        flags.append((name.lower(), unquote(value, escape)))


def _split_stages(
    instructions: list[Instruction], path: str
) -> tuple[list[Instruction], list[list[Instruction]]]:
    preamble: list[Instruction] = []
    groups: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            groups.append([instruction])
        elif groups:
            groups[-1].append(instruction)
        elif instruction.keyword == "ARG":
            preamble.append(instruction)
        else:
            raise InputError(
                f"{path}:{instruction.line}: {instruction.keyword} before the first FROM "
                "(only ARG may come before FROM)"
            )
    if not groups:
        raise InputError(
            f"{path}: no FROM instruction (a Dockerfile needs at least one stage: FROM IMAGE)"
        )
    return preamble, groups


def _arg_items(instruction: Instruction, path: str) -> list[tuple[str, str | None]]:
    """`ARG A B=1 C="x y"`: each name with its default as written (None: no default)."""
    words = _words(instruction.value)
    if words is None:
        raise InputError(f"{path}:{instruction.line}: ARG has a quote that is not closed")
    if not words:
        raise InputError(f"{path}:{instruction.line}: ARG needs a name (ARG NAME[=default])")
    items: list[tuple[str, str | None]] = []
    for word in words:
        name, sep, default = word.partition("=")
        if not _ARG_NAME.fullmatch(name):
            raise InputError(
                f"{path}:{instruction.line}: '{name}' is not a valid ARG name "
                "(letters, digits and '_', not starting with a digit)"
            )
        items.append((name, default if sep else None))
    return items


_SPACE = re.compile(r"\s")
_WORD = re.compile(r"""(?:[^\s"']|"(?:\\.|[^"\\])*"|'[^']*')+""")


def _words(text: str) -> list[str] | None:
    """Whitespace-separated words, quotes kept (they are removed at expansion); None if a
    quote is not closed."""
    words = _WORD.findall(text)
    return words if _SPACE.sub("", "".join(words)) == _SPACE.sub("", text) else None


def _global_args(preamble: list[Instruction], path: str) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for instruction in preamble:
        result.update(_arg_items(instruction, path))
    return result


def from_scope(df: Dockerfile, args: Mapping[str, str]) -> dict[str, str]:
    """The variables a FROM sees for these build args; `${X:?}` on an unset X is an error."""
    return _from_env(df.preamble, args, path=df.path, escape=df.escape, strict=True)


def expand_word(df: Dockerfile, text: str, env: Mapping[str, str], *, line: int) -> str:
    """`text` (from the instruction on `line`) expanded; errors name path and line."""
    return _expand_at(text, env, line, path=df.path, escape=df.escape)


def _from_env(
    preamble: Sequence[Instruction],
    args: Mapping[str, str],
    *,
    path: str,
    escape: str,
    strict: bool,
) -> dict[str, str]:
    """What a FROM sees: platform args, then each global ARG (build arg, else its default)."""
    predefined = {name: args[name] for name in PLATFORM_ARGS if name in args}
    env = dict(predefined)
    for instruction in preamble:
        for name, default in _arg_items(instruction, path):
            if name in args:
                env[name] = args[name]
            elif default is not None:
                try:
                    env[name] = _expand_at(default, env, instruction.line, path=path, escape=escape)
                except UnsetVariable:
                    if strict:
                        raise
                    env.pop(name, None)  # the build's args may set what it needs
            elif name not in predefined:
                # No default and no build arg: unset, even if declared before with one.
                env.pop(name, None)
    return env


def _expand_at(text: str, env: Mapping[str, str], line: int, *, path: str, escape: str) -> str:
    try:
        return expand(text, env, escape=escape)
    except InputError as exc:
        raise type(exc)(f"{path}:{line}: {exc}") from None


def _stages(
    groups: list[list[Instruction]], env: Mapping[str, str], *, path: str, escape: str
) -> list[Stage]:
    stages: list[Stage] = []
    names: dict[str, int] = {}
    for index, (from_instruction, *rest) in enumerate(groups):
        from_ = _from_line(from_instruction, index, env, path=path, escape=escape)
        name = from_.stage_name.lower() if from_.stage_name is not None else None
        if name is not None:
            if name in names:
                raise InputError(
                    f"{path}:{from_.line}: stage name '{from_.stage_name}' is already used "
                    f"by the stage on line {stages[names[name]].from_.line}"
                )
            names[name] = index
        stages.append(
            Stage(
                index=index,
                name=name,
                from_=from_,
                instructions=tuple(rest),
                copies_from=tuple(src for _, src in _sources(rest)),
                depends_on=(),
            )
        )
    all_names = {stage.name: stage.index for stage in stages if stage.name is not None}
    return [
        _with_dependencies(stage, stages, _names_before(stages, stage.index), all_names, path)
        for stage in stages
    ]


def _names_before(stages: Sequence[Stage], index: int) -> dict[str, int]:
    return {s.name: s.index for s in stages[:index] if s.name is not None}


def _from_line(
    instruction: Instruction, index: int, env: Mapping[str, str], *, path: str, escape: str
) -> FromLine:
    where = f"{path}:{instruction.line}"
    for name, _ in instruction.flag_items:
        if name != "platform":
            raise InputError(f"{where}: FROM does not take --{name} (only --platform)")
    platform_raw = instruction.flags.get("platform")
    if platform_raw == "":
        raise InputError(f"{where}: FROM --platform needs a value, e.g. --platform=$BUILDPLATFORM")
    words = instruction.value.split()
    if len(words) == 3 and words[1].lower() == "as":
        base_raw, stage_name = words[0], words[2]
        if not _STAGE_NAME.fullmatch(stage_name.lower()):
            raise InputError(
                f"{where}: '{stage_name}' is not a valid stage name "
                "(a letter, then letters, digits, '-', '_' or '.')"
            )
    elif len(words) == 1:
        base_raw, stage_name = words[0], None
    else:
        raise InputError(
            f"{where}: FROM takes an image and an optional 'AS name' "
            f"(FROM [--platform=P] IMAGE [AS NAME]), got '{instruction.value}'"
        )
    try:
        base = _expand_at(base_raw, env, instruction.line, path=path, escape=escape)
    except UnsetVariable:
        base = ""  # `${X:?...}` with X unset here may well be set by the build's args
    return FromLine(
        line=instruction.line,
        base=base,
        base_raw=base_raw,
        platform_raw=platform_raw,
        stage_name=stage_name,
        index=index,
        end_line=instruction.end_line,
    )


def _check_base(from_: FromLine, path: str) -> None:
    """A FROM without variables must name an earlier stage, scratch or a valid image."""
    try:
        parse_ref(from_.base)
    except InputError as exc:
        raise InputError(f"{path}:{from_.line}: FROM {exc}") from None


def _sources(instructions: Sequence[Instruction]) -> list[tuple[Instruction, str]]:
    """(instruction, value) of every COPY --from= and RUN --mount=...,from=..."""
    found: list[tuple[Instruction, str]] = []
    for instruction in instructions:
        if instruction.keyword == "COPY" and "from" in instruction.flags:
            found.append((instruction, instruction.flags["from"]))
        elif instruction.keyword == "RUN":
            for mount in instruction.flag_values("mount"):
                for field in mount.split(","):
                    key, sep, value = field.partition("=")
                    if sep and key.strip().lower() == "from":
                        found.append((instruction, unquote(value.strip(), "\\")))
    return found


def _with_dependencies(
    stage: Stage,
    stages: Sequence[Stage],
    earlier: Mapping[str, int],
    all_names: Mapping[str, int],
    path: str,
) -> Stage:
    depends: set[int] = set()
    base_stage = earlier.get(stage.from_.base.lower())
    if base_stage is not None:
        depends.add(base_stage)
    elif "$" not in stage.from_.base_raw and stage.from_.base != SCRATCH:
        _check_base(stage.from_, path)
    for instruction, source in _sources(stage.instructions):
        resolved = _source_stage(instruction, source, len(stages), all_names, path)
        if resolved is not None:
            depends.add(resolved)
    return Stage(
        index=stage.index,
        name=stage.name,
        from_=stage.from_,
        instructions=stage.instructions,
        copies_from=stage.copies_from,
        depends_on=tuple(sorted(depends)),
    )


def _source_stage(
    instruction: Instruction, source: str, count: int, names: Mapping[str, int], path: str
) -> int | None:
    """The stage a --from names, None for an image; InputError if it is neither."""
    where = f"{path}:{instruction.line}: {instruction.keyword} --from={source}"
    if source == "":
        raise InputError(f"{where}: needs a stage name, a stage index or an image")
    if source.isdigit():
        index = int(source)
        if index >= count:
            raise InputError(f"{where}: there is no stage {index} (stages are 0 to {count - 1})")
        return index
    if source.lower() in names:
        return names[source.lower()]
    if "$" in source:
        return None  # BuildKit expands an image named with ARGs when it pulls it
    try:
        parse_ref(source)
    except InputError:
        known = ", ".join(sorted(names)) or "none"
        raise InputError(
            f"{where}: not a stage (named stages: {known}) nor a valid image reference"
        ) from None
    return None


def _check_cycles(stages: Sequence[Stage], path: str) -> None:
    """COPY --from may name a later stage; BuildKit refuses a cycle, and so do we."""
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done

    def visit(index: int, trail: list[int]) -> None:
        state[index] = 1
        for dep in stages[index].depends_on:
            if state.get(dep) == 1:
                cycle = [*trail[trail.index(dep) :], dep] if dep in trail else [index, dep]
                shown = " -> ".join(stages[i].label for i in cycle)
                raise InputError(
                    f"{path}:{stages[dep].from_.line}: circular dependency between stages: {shown}"
                )
            if dep not in state:
                visit(dep, [*trail, dep])
        state[index] = 2

    for stage in stages:
        if stage.index not in state:
            visit(stage.index, [stage.index])
