"""Dockerfile model: BuildKit's line rules, stages and dependencies, ARG expansion, errors."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.digest import Digest
from dockyard.dockerfile.parse import Dockerfile, parse_dockerfile
from dockyard.dockerfile.pinning import Pin, base_references, pin, platform_args, stage_platforms
from dockyard.dockerfile.shellexpand import expand
from dockyard.errors import InputError
from dockyard.platform import Platform

FLEET = Path(__file__).resolve().parents[2] / "examples" / "fleet" / "services"

# The cross-stage trap from recipes.md / design.md.
TRAP = """\
ARG BASE
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN echo hi > /tmp/marker
FROM ${BASE}
COPY --from=build /tmp/marker /marker
"""


def summary(df: Dockerfile) -> list[tuple]:
    """(index, name, FROM line, base, base_raw, platform_raw, depends_on) per stage."""
    return [
        (
            s.index,
            s.name,
            s.from_.line,
            s.from_.base,
            s.from_.base_raw,
            s.from_.platform_raw,
            s.depends_on,
        )
        for s in df.stages
    ]


# --- the fleet example and the trap -------------------------------------------------

FLEET_STAGES = {
    "api": [
        (
            0,
            "build",
            5,
            "127.0.0.1:5000/base/golang:1.19",
            "${BASE_REGISTRY}/golang:1.19",
            "$BUILDPLATFORM",
            (),
        ),
        (
            1,
            None,
            15,
            "127.0.0.1:5000/base/busybox:1.35",
            "${BASE_REGISTRY}/busybox:1.35",
            None,
            (0,),
        ),
    ],
    "web": [
        (
            0,
            "build",
            5,
            "127.0.0.1:5000/base/python:3.11",
            "${BASE_REGISTRY}/python:3.11",
            None,
            (),
        ),
        (
            1,
            None,
            10,
            "127.0.0.1:5000/base/python:3.11",
            "${BASE_REGISTRY}/python:3.11",
            None,
            (0,),
        ),
    ],
    "worker": [
        (
            0,
            "build",
            4,
            "127.0.0.1:5000/base/busybox:1.35",
            "${BASE_REGISTRY}/busybox:1.35",
            None,
            (),
        ),
        (
            1,
            None,
            8,
            "127.0.0.1:5000/base/busybox:1.35",
            "${BASE_REGISTRY}/busybox:1.35",
            None,
            (0,),
        ),
    ],
}


@pytest.mark.parametrize("service", sorted(FLEET_STAGES))
def test_fleet_dockerfiles(service: str) -> None:
    text = (FLEET / service / "Dockerfile").read_text()
    df = parse_dockerfile(text, path=f"{service}/Dockerfile")
    assert summary(df) == FLEET_STAGES[service]
    assert df.global_args == {"BASE_REGISTRY": "127.0.0.1:5000/base"}
    assert df.target_stage() is df.stages[-1]
    assert [s.index for s in df.needed_stages()] == [0, 1]
    assert [s.index for s in df.needed_stages("build")] == [0]
    assert df.stages[1].copies_from == ("build",)


def test_fleet_api_instructions() -> None:
    df = parse_dockerfile((FLEET / "api" / "Dockerfile").read_text())
    build = df.stages[0]
    assert [(i.line, i.keyword) for i in build.instructions] == [
        (6, "ARG"), (7, "ARG"), (8, "ARG"), (9, "ARG"), (10, "WORKDIR"), (11, "COPY"), (12, "RUN"),
    ]  # fmt: skip
    run = build.instructions[-1]
    assert (run.line, run.end_line) == (12, 13)
    assert run.value == (
        "CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} "
        '    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/api .'
    )
    final = df.stages[1]
    health = final.instructions[3]
    assert health.keyword == "HEALTHCHECK"
    assert health.flags == {"interval": "30s", "timeout": "3s"}
    assert health.value == 'CMD ["/app/api", "-healthcheck"]'


def test_trap() -> None:
    df = parse_dockerfile(TRAP)
    assert summary(df) == [
        (0, "build", 2, "", "${BASE}", "$BUILDPLATFORM", ()),
        (1, None, 4, "", "${BASE}", None, (0,)),
    ]
    assert df.global_args == {"BASE": None}
    with_base = parse_dockerfile(TRAP, args={"BASE": "127.0.0.1:5000/base/busybox:1.35"})
    assert [s.from_.base for s in with_base.stages] == ["127.0.0.1:5000/base/busybox:1.35"] * 2


# --- stages and dependencies ----------------------------------------------------------

STAGES = [
    pytest.param(
        "FROM alpine\n",
        [(0, None, 1, "alpine", "alpine", None, ())],
        id="one-unnamed",
    ),
    pytest.param(
        "FROM alpine AS Base\nFROM base AS next\nRUN true\nFROM next\n",
        [
            (0, "base", 1, "alpine", "alpine", None, ()),
            (1, "next", 2, "base", "base", None, (0,)),
            (2, None, 4, "next", "next", None, (1,)),
        ],
        id="from-earlier-stage-case-insensitive",
    ),
    pytest.param(
        "FROM a AS one\nFROM b AS two\nFROM scratch\nCOPY --from=0 /x /x\nCOPY --from=TWO /y /y\n",
        [
            (0, "one", 1, "a", "a", None, ()),
            (1, "two", 2, "b", "b", None, ()),
            (2, None, 3, "scratch", "scratch", None, (0, 1)),
        ],
        id="copy-from-index-and-name",
    ),
    pytest.param(
        "FROM a\nCOPY --from=busybox:1.35 /bin/busybox /bin/\n"
        "COPY --from=ghcr.io/acme/tools@sha256:" + "a" * 64 + " /t /t\n",
        [(0, None, 1, "a", "a", None, ())],
        id="copy-from-image",
    ),
    pytest.param(
        "FROM a AS deps\nFROM b\nRUN --mount=type=cache,target=/root/.cache,from=deps \\\n"
        "    --mount=type=bind,from=c,source=/x,target=/y make\n",
        [(0, "deps", 1, "a", "a", None, ()), (1, None, 2, "b", "b", None, (0,))],
        id="run-mount-from",
    ),
    pytest.param(
        "FROM later\nFROM a AS later\n",
        [(0, None, 1, "later", "later", None, ()), (1, "later", 2, "a", "a", None, ())],
        id="from-a-later-name-is-an-image",
    ),
    pytest.param(
        "FROM a\nCOPY --from=later /x /x\nFROM b AS later\n",
        [(0, None, 1, "a", "a", None, (1,)), (1, "later", 3, "b", "b", None, ())],
        id="copy-from-a-later-stage",
    ),
    pytest.param(
        "from alpine as build\nrun true\nfrom build\ncopy --from=build /a /b\n",
        [(0, "build", 1, "alpine", "alpine", None, ()), (1, None, 3, "build", "build", None, (0,))],
        id="lower-case-instructions",
    ),
    pytest.param(
        "FROM --platform=linux/arm64 scratch AS empty\n",
        [(0, "empty", 1, "scratch", "scratch", "linux/arm64", ())],
        id="scratch-with-platform",
    ),
    pytest.param(
        'FROM --platform="$TARGETPLATFORM" a\n',
        [(0, None, 1, "a", "a", "$TARGETPLATFORM", ())],
        id="quoted-platform-flag",
    ),
]


@pytest.mark.parametrize(("text", "want"), STAGES)
def test_stages(text: str, want: list[tuple]) -> None:
    assert summary(parse_dockerfile(text)) == want


def test_needed_stages_skips_unused() -> None:
    df = parse_dockerfile(
        "FROM a AS tools\nFROM b AS unused\nFROM c AS lib\nCOPY --from=tools / /\n"
        "FROM d\nCOPY --from=lib / /\n"
    )
    assert [s.label for s in df.needed_stages()] == ["tools", "lib", "3"]
    assert [s.label for s in df.needed_stages("unused")] == ["unused"]
    assert [s.label for s in df.needed_stages("LIB")] == ["tools", "lib"]
    assert df.target_stage("Tools").index == 0


def test_copies_from_keeps_what_is_written() -> None:
    df = parse_dockerfile(
        'FROM a AS x\nFROM b\nCOPY --from="x" /a /a\nRUN --mount=from=0,target=/m true\n'
    )
    assert df.stages[1].copies_from == ("x", "0")
    run = df.stages[1].instructions[1]
    assert run.flags == {"mount": "from=0,target=/m"}
    assert run.flag_values("mount") == ("from=0,target=/m",)


# --- lines: continuations, comments, heredocs, directives --------------------------------


def test_continuation_with_comments_and_blank_lines() -> None:
    df = parse_dockerfile(
        "FROM a\n"
        "RUN apt-get update && \\\n"
        "# a comment inside the instruction\n"
        "\n"
        "    apt-get install -y \\  \n"
        "      curl\n"
        "  # an indented comment\n"
        "USER 1000\n"
    )
    run, user = df.stages[0].instructions
    assert (run.line, run.end_line, run.keyword) == (2, 6, "RUN")
    assert run.value == "apt-get update &&     apt-get install -y       curl"
    assert (user.line, user.keyword, user.value) == (8, "USER", "1000")


def test_continued_from_line() -> None:
    df = parse_dockerfile("FROM \\\n  --platform=$BUILDPLATFORM \\\n  golang:1.22 \\\n  AS build\n")
    from_ = df.stages[0].from_
    assert (from_.line, from_.end_line, from_.base, from_.stage_name) == (
        1,
        4,
        "golang:1.22",
        "build",
    )
    assert from_.platform_raw == "$BUILDPLATFORM"


HEREDOCS = [
    pytest.param(
        "FROM a\nRUN <<EOF\nFROM evil\nset -e \\\nEOF\nUSER 1\n",
        [(2, 5, "RUN", ("FROM evil\nset -e \\\n",)), (6, 6, "USER", ())],
        id="body-looks-like-instructions",
    ),
    pytest.param(
        "FROM a\nRUN <<-EOT\n\techo hi\n\tEOT\nUSER 1\n",
        [(2, 4, "RUN", ("\techo hi\n",)), (5, 5, "USER", ())],
        id="chomp-terminator-with-tabs",
    ),
    pytest.param(
        "FROM a\nCOPY <<one <<'two' /dst/\nfirst\none\nsecond\ntwo\nUSER 1\n",
        [(2, 6, "COPY", ("first\n", "second\n")), (7, 7, "USER", ())],
        id="two-heredocs-one-quoted",
    ),
    pytest.param(
        "FROM a\nRUN cat <<EOF > /etc/x\nline\nEOF\n",
        [(2, 4, "RUN", ("line\n",))],
        id="heredoc-not-first-word",
    ),
    pytest.param(
        'FROM a\nRUN echo "<<EOF"\nUSER 1\n',
        [(2, 2, "RUN", ()), (3, 3, "USER", ())],
        id="quoted-is-not-a-heredoc",
    ),
    pytest.param(
        "FROM a\nENV X=<<EOF\nUSER 1\n",
        [(2, 2, "ENV", ()), (3, 3, "USER", ())],
        id="only-run-copy-add",
    ),
]


@pytest.mark.parametrize(("text", "want"), HEREDOCS)
def test_heredocs(text: str, want: list[tuple]) -> None:
    df = parse_dockerfile(text)
    got = [(i.line, i.end_line, i.keyword, i.heredocs) for i in df.stages[0].instructions]
    assert got == want
    assert len(df.stages) == 1


def test_escape_directive_backtick() -> None:
    df = parse_dockerfile(
        "# escape=`\n"
        "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n"
        "COPY testfile.txt c:\\\n"
        "RUN dir c:\\ `\n"
        "    && echo done\n"
    )
    copy, run = df.stages[0].instructions
    assert (copy.line, copy.value) == (3, "testfile.txt c:\\")
    assert (run.line, run.end_line, run.value) == (4, 5, "dir c:\\     && echo done")
    assert df.escape == "`"


@pytest.mark.parametrize(
    ("text", "escape"),
    [
        ("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n", "`"),
        ("#ESCAPE = `\nFROM a\n", "`"),
        ("# a comment\n# escape=`\nFROM a\n", "\\"),  # directives end at any other line
        ("\n# escape=`\nFROM a\n", "\\"),
        ("FROM a\n# escape=`\n", "\\"),
    ],
)
def test_directives_only_at_the_top(text: str, escape: str) -> None:
    assert parse_dockerfile(text).escape == escape


def test_crlf_and_bom() -> None:
    df = parse_dockerfile("\ufeffARG V=1\r\nFROM a:${V} AS b\r\nRUN x \\\r\n  y\r\n")
    assert df.stages[0].from_.base == "a:1"
    assert df.stages[0].name == "b"
    assert df.stages[0].instructions[0].value == "x   y"


def test_global_args() -> None:
    df = parse_dockerfile('ARG A=1 B C="x y"\nARG D=${A}\nFROM a\nARG E=2\n')
    assert df.global_args == {"A": "1", "B": None, "C": '"x y"', "D": "${A}"}
    assert [i.line for i in df.preamble] == [1, 2]


# --- errors ----------------------------------------------------------------------------

ERRORS = [
    ("", "Dockerfile: no FROM instruction (a Dockerfile needs at least one stage: FROM IMAGE)"),
    ("# only a comment\n\n", "Dockerfile: no FROM instruction (a Dockerfile needs at least one stage: FROM IMAGE)"),
    ("ARG A\nRUN true\nFROM a\n", "Dockerfile:2: RUN before the first FROM (only ARG may come before FROM)"),
    ("FROM a\nFOO bar\n", "Dockerfile:2: unknown instruction 'FOO' (expected one of ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)"),
    ("FROM\n", "Dockerfile:1: FROM takes an image and an optional 'AS name' (FROM [--platform=P] IMAGE [AS NAME]), got ''"),
    ("FROM a b\n", "Dockerfile:1: FROM takes an image and an optional 'AS name' (FROM [--platform=P] IMAGE [AS NAME]), got 'a b'"),
    ("FROM a AS\n", "Dockerfile:1: FROM takes an image and an optional 'AS name' (FROM [--platform=P] IMAGE [AS NAME]), got 'a AS'"),
    ("FROM a AS 1st\n", "Dockerfile:1: '1st' is not a valid stage name (a letter, then letters, digits, '-', '_' or '.')"),
    ("FROM a AS x\nFROM b AS X\n", "Dockerfile:2: stage name 'X' is already used by the stage on line 1"),
    ("FROM --pltform=linux/amd64 a\n", "Dockerfile:1: FROM does not take --pltform (only --platform)"),
    ("FROM --platform a\n", "Dockerfile:1: FROM --platform needs a value, e.g. --platform=$BUILDPLATFORM"),
    ("FROM Alpine\n", "Dockerfile:1: FROM 'Alpine' is not a valid image reference: repository names must be lower-case"),
    ("FROM a\nCOPY --from=Bulid /x /x\n", "Dockerfile:2: COPY --from=Bulid: not a stage (named stages: none) nor a valid image reference"),
    ("FROM a AS b\nFROM c\nCOPY --from=2 /x /x\n", "Dockerfile:3: COPY --from=2: there is no stage 2 (stages are 0 to 1)"),
    ("FROM a\nCOPY --from= /x /x\n", "Dockerfile:2: COPY --from=: needs a stage name, a stage index or an image"),
    ("FROM a AS x\nCOPY --from=x /a /a\n", "Dockerfile:1: circular dependency between stages: x -> x"),
    ("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /\n", "Dockerfile:1: circular dependency between stages: x -> y -> x"),
    ("FROM a\nRUN <<EOF\necho\n", "Dockerfile:2: heredoc <<EOF is not closed (no line 'EOF' after it)"),
    ("# escape=x\nFROM a\n", "Dockerfile:1: escape character 'x' is not valid (expected \\ or `)"),
    ("# escape=`\n# escape=`\nFROM a\n", "Dockerfile:2: the 'escape' parser directive is given twice"),
    ("ARG\nFROM a\n", "Dockerfile:1: ARG needs a name (ARG NAME[=default])"),
    ("ARG 9x=1\nFROM a\n", "Dockerfile:1: '9x' is not a valid ARG name (letters, digits and '_', not starting with a digit)"),
    ('ARG A="x\nFROM a\n', "Dockerfile:1: ARG has a quote that is not closed"),
    ("ARG B=${\nFROM a\n", "Dockerfile:1: cannot expand '${': bad substitution (expected ${NAME}, ${NAME:-default}, ...)"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_dockerfile(text)
    assert str(info.value) == message


def test_error_names_the_path() -> None:
    with pytest.raises(InputError, match=r"^services/api/Dockerfile:1: unknown instruction"):
        parse_dockerfile("FORM a\n", path="services/api/Dockerfile")


def test_unknown_target_stage() -> None:
    df = parse_dockerfile("FROM a AS build\nFROM b AS final\n")
    with pytest.raises(InputError) as info:
        df.target_stage("test")
    assert str(info.value) == "Dockerfile: no stage named 'test' (named stages: build, final)"


# --- expansion ---------------------------------------------------------------------------

ENV = {"A": "alpha", "EMPTY": "", "V": "v7", "PATH_": "a/b/c.tar.gz"}

EXPANSIONS = [
    ("plain", "plain"),
    ("$A", "alpha"),
    ("${A}", "alpha"),
    ("x-${A}-y", "x-alpha-y"),
    ("$A$A", "alphaalpha"),
    ("$UNSET", ""),
    ("${UNSET}", ""),
    ("${UNSET:-d}", "d"),
    ("${EMPTY:-d}", "d"),
    ("${EMPTY-d}", ""),
    ("${UNSET-d}", "d"),
    ("${A:-d}", "alpha"),
    ("${A:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET+alt}", ""),
    ("${UNSET:-${A}}", "alpha"),
    ("${UNSET:-${ALSO:-deep}}", "deep"),
    ("${V#v}", "7"),
    ("${PATH_#*/}", "b/c.tar.gz"),
    ("${PATH_##*/}", "c.tar.gz"),
    ("${PATH_%.*}", "a/b/c.tar"),
    ("${PATH_%%.*}", "a/b/c"),
    ("$", "$"),
    ("a$-b", "a$-b"),
    ("$1x", "x"),
    ("'$A'", "$A"),
    ('"$A b"', "alpha b"),
    ('"\\$A"', "$A"),
    ("\\$A", "$A"),
    ("${A:-'}'}", "alpha"),
    ("${UNSET:-'}'}", "}"),
]


@pytest.mark.parametrize(("text", "want"), EXPANSIONS)
def test_expand(text: str, want: str) -> None:
    assert expand(text, ENV) == want


def test_expand_with_backtick_escape() -> None:
    assert expand("`$A\\", ENV, escape="`") == "$A\\"


EXPAND_ERRORS = [
    ("${", "cannot expand '${': bad substitution (expected ${NAME}, ${NAME:-default}, ...)"),
    ("${}", "cannot expand '${}': bad substitution (expected ${NAME}, ${NAME:-default}, ...)"),
    ("${A", "cannot expand '${A': bad substitution at 'end of text' (supported: ${NAME}, :-, -, :+, +, :?, ?, #, ##, %, %%)"),
    ("${A:-x", "cannot expand '${A:-x': a '${' has no closing '}'"),
    ("${A/x/y}", "cannot expand '${A/x/y}': bad substitution at '/' (supported: ${NAME}, :-, -, :+, +, :?, ?, #, ##, %, %%)"),
    ("${UNSET?}", "cannot expand '${UNSET?}': UNSET: parameter not set"),
    ("'open", "cannot expand ''open': a single quote is not closed"),
    ('"open', "cannot expand '\"open': a double quote is not closed"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), EXPAND_ERRORS)
def test_expand_errors(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        expand(text, ENV)
    assert str(info.value) == message


ARG_EXPANSION = [
    pytest.param("ARG T=3.19\nFROM alpine:${T}\n", {}, "alpine:3.19", id="default"),
    pytest.param("ARG T=3.19\nFROM alpine:${T}\n", {"T": "3.20"}, "alpine:3.20", id="override"),
    pytest.param("ARG T\nFROM alpine:${T:-edge}\n", {}, "alpine:edge", id="default-in-from"),
    pytest.param("FROM alpine:${T:-edge}\n", {"T": "3.20"}, "alpine:edge", id="undeclared-arg-invisible"),
    pytest.param("ARG R=reg.io\nARG I=${R}/app\nFROM $I:1\n", {}, "reg.io/app:1", id="nested-defaults"),
    pytest.param("ARG R=reg.io\nARG I=${R}/app\nFROM $I:1\n", {"R": "x.io"}, "x.io/app:1", id="nested-override"),
    pytest.param("ARG T=1\nARG T\nFROM a:${T:-unset}\n", {}, "a:unset", id="redeclared-without-default"),
    pytest.param('ARG T="3.19"\nFROM alpine:${T}\n', {}, "alpine:3.19", id="quoted-default"),
    pytest.param("FROM a\nARG T=1\nFROM b:${T:-no}\n", {}, "b:no", id="stage-arg-invisible"),
    pytest.param("ARG A\nARG B=${A:?}\nFROM ${B:-x}:${A:?setA}\n", {}, "", id="unset-required-is-empty-at-parse"),
    pytest.param("ARG A\nARG B=${A:?}\nFROM ${B:-x}:${A:?setA}\n", {"A": "1"}, "1:1", id="required-given"),
    pytest.param("FROM img-${TARGETARCH}\n", {"TARGETARCH": "arm64"}, "img-arm64", id="platform-args-predefined"),
    pytest.param("FROM img-${TARGETARCH}\n", {}, "img-", id="platform-args-unknown-at-parse"),
    pytest.param("ARG TARGETARCH\nFROM img-${TARGETARCH}\n", {"TARGETARCH": "arm64"}, "img-arm64", id="platform-arg-redeclared"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "args", "base"), ARG_EXPANSION)
def test_arg_expansion_in_from(text: str, args: dict[str, str], base: str) -> None:
    df = parse_dockerfile(text, args=args)
    assert df.stages[-1].from_.base == base


# --- properties ---------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "FROM ", "from ", "ARG ", "RUN ", "COPY ", "--from=", "--platform=", "--mount=from=",
        "AS ", " as ", "alpine", "build", "0", "1", "$", "${", "}", "A", ":-", "\\", "`", "\n",
        "\r\n", " ", "\t", "#", "# escape=`\n", "<<", "EOF", "'", '"', "=", ",", "scratch",
        "\ufeff",
    ]
)  # fmt: skip
_TEXT = st.one_of(st.text(max_size=200), st.lists(_PIECES, max_size=40).map("".join))


@settings(max_examples=500)
@given(_TEXT)
def test_any_text_parses_or_is_an_input_error(text: str) -> None:
    try:
        df = parse_dockerfile(text)
    except InputError as exc:
        assert "\n" not in str(exc)  # one line
        return
    assert df.stages
    last = max((i.end_line for s in df.stages for i in (*s.instructions,)), default=0)
    assert last <= len(text.split("\n"))
    for stage in df.stages:
        assert all(0 <= d < len(df.stages) and d != stage.index for d in stage.depends_on)


@given(st.text(max_size=60))
def test_expand_returns_text_or_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        assert isinstance(expand(text, ENV), str)


# --- stage platforms, base references, pinning --------------------------------------------

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
ARMV7 = Platform("linux", "arm", "v7")
DA = Digest("sha256", "a" * 64)
DB = Digest("sha256", "b" * 64)
REG = "127.0.0.1:5000/base"

PLATFORMS = [
    pytest.param("FROM a\n", {}, [ARM64], id="none-is-target"),
    pytest.param("FROM --platform=$BUILDPLATFORM a\n", {}, [AMD64], id="buildplatform"),
    pytest.param("FROM --platform=${BUILDPLATFORM} a\n", {}, [AMD64], id="buildplatform-braced"),
    pytest.param("FROM --platform=$TARGETPLATFORM a\n", {}, [ARM64], id="targetplatform"),
    pytest.param("FROM --platform=$BUILDOS/$TARGETARCH a\n", {}, [ARM64], id="composed"),
    pytest.param("FROM --platform=linux/arm/v7 a\n", {}, [ARMV7], id="explicit"),
    pytest.param("FROM --platform=armhf a\n", {}, [ARMV7], id="explicit-normalised"),
    pytest.param("ARG P=linux/amd64\nFROM --platform=$P a\n", {}, [AMD64], id="global-arg"),
    pytest.param("ARG P=linux/amd64\nFROM --platform=$P a\n", {"P": "arm/v7"}, [ARMV7], id="global-arg-overridden"),
    pytest.param(
        "FROM --platform=$BUILDPLATFORM a AS b\nFROM b\nFROM --platform=linux/arm/v7 b\n",
        {}, [AMD64, AMD64, AMD64], id="from-stage-inherits",
    ),
    pytest.param(
        "ARG S=b\nFROM --platform=$BUILDPLATFORM a AS b\nFROM ${S}\n", {}, [AMD64, AMD64],
        id="from-stage-through-arg",
    ),
    pytest.param(
        "ARG S=b\nFROM --platform=$BUILDPLATFORM a AS b\nFROM ${S}\n", {"S": "c"}, [AMD64, ARM64],
        id="arg-makes-it-an-image",
    ),
    pytest.param("FROM --platform=linux/amd64 scratch\n", {}, [AMD64], id="scratch"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "args", "want"), PLATFORMS)
def test_stage_platforms(text: str, args: dict[str, str], want: list[Platform]) -> None:
    df = parse_dockerfile(text)
    got = stage_platforms(df, build=AMD64, target=ARM64, args=args)
    assert got == dict(enumerate(want))


def test_platform_args() -> None:
    assert platform_args(build=AMD64, target=ARMV7) == {
        "BUILDPLATFORM": "linux/amd64",
        "BUILDOS": "linux",
        "BUILDARCH": "amd64",
        "BUILDVARIANT": "",
        "TARGETPLATFORM": "linux/arm/v7",
        "TARGETOS": "linux",
        "TARGETARCH": "arm",
        "TARGETVARIANT": "v7",
    }


FLEET_REFS = {
    "api": [(0, f"{REG}/golang:1.19", AMD64), (1, f"{REG}/busybox:1.35", ARM64)],
    "web": [(0, f"{REG}/python:3.11", ARM64), (1, f"{REG}/python:3.11", ARM64)],
    "worker": [(0, f"{REG}/busybox:1.35", ARM64), (1, f"{REG}/busybox:1.35", ARM64)],
}

# The FROM lines pin() writes for the fleet (amd64 build machine, arm64 target),
# stage 0 pinned to DA and stage 1 to DB: line number -> new text.
FLEET_PINNED = {
    "api": {
        5: f"FROM --platform=$BUILDPLATFORM {REG}/golang@{DA} AS build",
        15: f"FROM {REG}/busybox@{DB}",
    },
    "web": {5: f"FROM {REG}/python@{DA} AS build", 10: f"FROM {REG}/python@{DB}"},
    "worker": {4: f"FROM {REG}/busybox@{DA} AS build", 8: f"FROM {REG}/busybox@{DB}"},
}


@pytest.mark.parametrize("service", sorted(FLEET_REFS))
def test_fleet_pinning(service: str) -> None:
    text = (FLEET / service / "Dockerfile").read_text()
    df = parse_dockerfile(text)
    refs = base_references(df, build=AMD64, target=ARM64, args={})
    assert refs == FLEET_REFS[service]
    pins = [
        Pin(stage=i, line=df.stages[i].from_.line, base=base, platform=p, digest=d)
        for (i, base, p), d in zip(refs, (DA, DB), strict=True)
    ]
    expected = text.split("\n")
    for number, line in FLEET_PINNED[service].items():
        expected[number - 1] = line
    assert pin(df, pins) == "\n".join(expected)


def test_fleet_base_registry_override() -> None:
    df = parse_dockerfile((FLEET / "worker" / "Dockerfile").read_text())
    refs = base_references(df, build=AMD64, target=ARM64, args={"BASE_REGISTRY": "reg.example/b"})
    assert [base for _, base, _ in refs] == ["reg.example/b/busybox:1.35"] * 2


def test_trap_pinned() -> None:
    df = parse_dockerfile(TRAP)
    args = {"BASE": f"{REG}/busybox:1.35"}
    refs = base_references(df, build=AMD64, target=ARM64, args=args)
    assert refs == [(0, f"{REG}/busybox:1.35", AMD64), (1, f"{REG}/busybox:1.35", ARM64)]
    pins = [Pin(0, 2, refs[0][1], AMD64, DA), Pin(1, 4, refs[1][1], ARM64, DB)]
    assert pin(df, pins) == (
        "ARG BASE\n"
        f"FROM --platform=$BUILDPLATFORM {REG}/busybox@{DA} AS build\n"
        "RUN echo hi > /tmp/marker\n"
        f"FROM {REG}/busybox@{DB}\n"
        "COPY --from=build /tmp/marker /marker\n"
    )


def test_pin_keeps_every_other_byte() -> None:
    text = (
        "\ufeff# syntax=docker/dockerfile:1\r\n"
        "ARG TAG=3.19\r\n"
        "  from \\\r\n"
        "   --platform=$BUILDPLATFORM \\\r\n"
        "# comment inside\r\n"
        "   alpine:${TAG} as Tools\r\n"
        "RUN <<EOF\r\n"
        "FROM not-a-stage\r\n"
        "EOF\r\n"
        "FROM tools AS next\r\n"
        "FROM scratch\r\n"
        "COPY --from=next / /"
    )
    df = parse_dockerfile(text)
    assert base_references(df, build=AMD64, target=ARM64, args={}) == [(0, "alpine:3.19", AMD64)]
    out = pin(df, [Pin(0, 3, "alpine:3.19", AMD64, DA)])
    assert out == text.replace(
        "  from \\\r\n   --platform=$BUILDPLATFORM \\\r\n# comment inside\r\n"
        "   alpine:${TAG} as Tools\r\n",
        f"  FROM --platform=$BUILDPLATFORM docker.io/library/alpine@{DA} AS Tools\r\n\r\n\r\n\r\n",
    )
    again = parse_dockerfile(out)
    assert [(s.from_.line, s.name) for s in again.stages] == [
        (3, "tools"),
        (10, "next"),
        (11, None),
    ]


def test_pin_nothing_is_identity() -> None:
    assert pin(parse_dockerfile(TRAP), []) == TRAP


def test_base_references_for_a_target_stage() -> None:
    df = parse_dockerfile(
        "FROM a AS tools\nFROM b AS unused\nFROM tools AS lib\nFROM --platform=$BUILDPLATFORM c\n"
        "COPY --from=lib / /\nCOPY --from=busybox / /\n"
    )
    assert base_references(df, build=AMD64, target=ARM64, args={}, stage="lib") == [(0, "a", ARM64)]
    assert base_references(df, build=AMD64, target=ARM64, args={}) == [
        (0, "a", ARM64), (1, "b", ARM64), (3, "c", AMD64),
    ]  # fmt: skip


RESOLVE_ERRORS = [
    ("ARG BASE\nFROM ${BASE}\n", {}, "Dockerfile:2: FROM ${BASE} expands to an empty image name (set the build arg BASE)"),
    ("FROM ${BASE}\n", {"BASE": "x"}, "Dockerfile:1: FROM ${BASE} expands to an empty image name (declare ARG BASE before the first FROM)"),
    ("ARG R\nFROM ${R}${IMG}\n", {}, "Dockerfile:2: FROM ${R}${IMG} expands to an empty image name (set the build arg R; declare ARG IMG before the first FROM)"),
    ("ARG B=Alpine\nFROM $B\n", {}, "Dockerfile:2: FROM 'Alpine' is not a valid image reference: repository names must be lower-case"),
    ("ARG B\nFROM ${B:?required}\n", {}, "Dockerfile:2: cannot expand '${B:?required}': B: required"),
    ("ARG P\nFROM --platform=$P a\n", {}, "Dockerfile:2: FROM --platform=$P expands to nothing (expected a platform such as linux/arm64)"),
    ("FROM --platform=linux/sparc a\n", {}, "Dockerfile:1: FROM --platform=linux/sparc: 'linux/sparc' is not a platform (expected os/arch[/variant], e.g. linux/arm64)"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "args", "message"), RESOLVE_ERRORS)
def test_resolve_errors(text: str, args: dict[str, str], message: str) -> None:
    df = parse_dockerfile(text)
    with pytest.raises(InputError) as info:
        base_references(df, build=AMD64, target=ARM64, args=args)
    assert str(info.value) == message


PIN_ERRORS = [
    (Pin(2, 1, "a", ARM64, DA), "Dockerfile: a pin names stage 2, but the stages are 0 to 1"),
    (Pin(1, 1, "a", ARM64, DA), "Dockerfile: the pin for stage 1 is for line 1, but that stage's FROM is on line 4"),
    (Pin(0, 2, "Bad", ARM64, DA), "'Bad' is not a valid image reference: repository names must be lower-case"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "message"), PIN_ERRORS)
def test_pin_errors(bad: Pin, message: str) -> None:
    with pytest.raises(InputError) as info:
        pin(parse_dockerfile(TRAP), [bad])
    assert str(info.value) == message


def test_pin_twice() -> None:
    p = Pin(0, 2, "a", AMD64, DA)
    with pytest.raises(InputError) as info:
        pin(parse_dockerfile(TRAP), [p, p])
    assert str(info.value) == "Dockerfile: stage 0 is pinned twice"


@settings(max_examples=300)
@given(_TEXT)
def test_pinning_every_image_keeps_the_line_structure(text: str) -> None:
    try:
        df = parse_dockerfile(text)
        refs = base_references(df, build=AMD64, target=ARM64, args={})
    except InputError:
        return
    pins = [Pin(i, df.stages[i].from_.line, base, p, DA) for i, base, p in refs]
    out = pin(df, pins)
    assert out.count("\n") == text.count("\n")
    again = parse_dockerfile(out)
    assert [s.from_.line for s in again.stages] == [s.from_.line for s in df.stages]
    assert [s.name for s in again.stages] == [s.name for s in df.stages]
    for i, _, _ in refs:
        assert again.stages[i].from_.base.endswith(f"@{DA}")
