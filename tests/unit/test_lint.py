"""dockyard.lint.rules: each rule on a Dockerfile that trips it and one that does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.config.loader import load_config
from dockyard.errors import InputError
from dockyard.findings import Finding
from dockyard.lint.files import lint_files
from dockyard.lint.hadolint import hadolint_findings
from dockyard.lint.rules import (
    RULES,
    LintReport,
    filter_ignored,
    lint_text,
    parse_ignore,
)

FLEET = Path(__file__).resolve().parents[2] / "examples" / "fleet"
DIGEST = "sha256:" + "a" * 64
GO_FINAL = "FROM alpine:3.19\nCOPY --from=build /app /app\n"


def hits(text: str, rule: str, **kwargs) -> list[tuple[int, str]]:
    """(line, severity) of this rule's findings."""
    return [
        (f.detail["line"], f.severity)
        for f in lint_text(text, path="Dockerfile", **kwargs)
        if f.rule == rule
    ]


W, E, INFO = "warning", "error", "info"

CASES = [
    # --- DY001: latest or untagged bases (a tag is fine: dockyard pins digests per platform)
    ("DY001", "untagged", "FROM alpine\n", {}, [(1, W)]),
    ("DY001", "latest", "FROM alpine:latest AS a\nFROM a\n", {}, [(1, W)]),
    ("DY001", "arg default untagged", "ARG IMG=alpine\nFROM $IMG\n", {}, [(2, W)]),
    ("DY001", "arg default latest", "ARG TAG=latest\n\nFROM alpine:${TAG}\n", {}, [(3, W)]),
    ("DY001", "build arg latest", "ARG B\nFROM ${B}\n", {"args": {"B": "alpine:latest"}}, [(2, W)]),
    ("DY001", "registry port untagged", "FROM 127.0.0.1:5000/base/busybox\n", {}, [(1, W)]),
    ("DY001", "tagged", "FROM alpine:3.19\n", {}, []),
    ("DY001", "digest", f"FROM alpine@{DIGEST}\n", {}, []),
    ("DY001", "latest with digest", f"FROM alpine:latest@{DIGEST}\n", {}, []),
    ("DY001", "scratch", "FROM scratch\n", {}, []),
    ("DY001", "stage", "FROM alpine:3.19 AS a\nFROM a\n", {}, []),
    ("DY001", "arg without default", "ARG B\nFROM ${B}\n", {}, []),
    ("DY001", "build arg tagged", "ARG B\nFROM ${B}\n", {"args": {"B": "alpine:3"}}, []),
    # --- DY002: a compile under emulation, copied into the final image
    ("DY002", "go build", "FROM golang:1.22 AS build\nRUN go build -o /app .\n" + GO_FINAL, {}, [(2, W)]),
    ("DY002", "gcc after apt", "FROM debian:12 AS build\nRUN apt-get update && \\\n  gcc -o /app a.c\n" + GO_FINAL, {}, [(2, W)]),
    ("DY002", "single stage make", "FROM gcc:13\nRUN make\n", {}, [(2, W)]),
    ("DY002", "javac", "FROM eclipse-temurin:21 AS build\nRUN javac A.java\n" + GO_FINAL, {}, [(2, W)]),
    ("DY002", "cargo env prefix", "FROM rust:1 AS build\nRUN RUSTFLAGS=-g cargo build --release\n" + GO_FINAL, {}, [(2, W)]),
    ("DY002", "exec form", 'FROM golang:1.22 AS build\nRUN ["go", "build", "-o", "/app"]\n' + GO_FINAL, {}, [(2, W)]),
    ("DY002", "heredoc", "FROM golang:1.22 AS build\nRUN <<EOF\nset -e\ngo build -o /app\nEOF\n" + GO_FINAL, {}, [(2, W)]),
    ("DY002", "target platform", "FROM --platform=$TARGETPLATFORM golang:1.22 AS build\nRUN go build\n" + GO_FINAL, {}, [(2, W)]),
    ("DY002", "cross on build platform", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH go build -o /app\n" + GO_FINAL, {}, []),
    ("DY002", "stage not used", "FROM golang:1.22 AS unused\nRUN go build .\nFROM alpine:3.19\n", {}, []),
    ("DY002", "installing a compiler", "FROM debian:12\nRUN apt-get install -y make gcc\n", {}, []),
    ("DY002", "npm build", "FROM node:20 AS build\nRUN npm run build\n" + GO_FINAL, {}, []),
    ("DY002", "go test", "FROM golang:1.22\nRUN go test ./...\n", {}, []),
    # --- DY008: a compile on the build platform that does not target TARGETARCH
    ("DY008", "go build", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN go build -o /app .\n" + GO_FINAL, {}, [(2, E)]),
    ("DY008", "braced", "FROM --platform=${BUILDPLATFORM} rust:1 AS build\nRUN cargo build --release\n" + GO_FINAL, {}, [(2, E)]),
    ("DY008", "inherited platform", "FROM --platform=$BUILDPLATFORM golang:1.22 AS base\nFROM base AS build\nRUN go build -o /app .\n" + GO_FINAL, {}, [(3, E)]),
    ("DY008", "fixed platform", "FROM --platform=linux/amd64 gcc:13 AS build\nRUN gcc -o /app a.c\n" + GO_FINAL, {}, [(2, E)]),
    ("DY008", "make then gcc", "FROM --platform=$BUILDPLATFORM gcc:13 AS build\nRUN make gen\nRUN cc -o /app a.c\n" + GO_FINAL, {}, [(3, E)]),
    ("DY008", "GOARCH", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH go build -o /app\n" + GO_FINAL, {}, []),
    ("DY008", "xx-go", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN xx-go build -o /app\n" + GO_FINAL, {}, []),
    ("DY008", "cross CC", "FROM --platform=$BUILDPLATFORM gcc:13 AS build\nRUN CC=aarch64-linux-gnu-gcc make\n" + GO_FINAL, {}, []),
    ("DY008", "cargo --target", "FROM --platform=$BUILDPLATFORM rust:1 AS build\nRUN cargo build --target aarch64-unknown-linux-gnu\n" + GO_FINAL, {}, []),
    ("DY008", "ENV in parent stage", "FROM --platform=$BUILDPLATFORM golang:1.22 AS base\nARG TARGETARCH\nENV GOARCH=$TARGETARCH\nFROM base AS build\nRUN go build -o /app\n" + GO_FINAL, {}, []),
    ("DY008", "make only", "FROM --platform=$BUILDPLATFORM debian:12 AS build\nRUN make docs\n" + GO_FINAL, {}, []),
    ("DY008", "javac", "FROM --platform=$BUILDPLATFORM eclipse-temurin:21 AS build\nRUN javac A.java\n" + GO_FINAL, {}, []),
    ("DY008", "build-platform final stage", "FROM --platform=$BUILDPLATFORM golang:1.22\nRUN go build -o /app .\n", {}, [(2, E)]),
    ("DY008", "via mount", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN go build -o /gen .\nFROM alpine:3.19\nRUN --mount=from=build,source=/gen,target=/gen /gen\n", {}, [(2, E)]),
    ("DY008", "child stage copied", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN go build -o /app .\nFROM build AS more\nRUN true\n" + GO_FINAL.replace("build", "more"), {}, [(2, E)]),
    ("DY008", "generator feeds build stage", "FROM --platform=$BUILDPLATFORM golang:1.22 AS gen\nRUN go build -o /gen ./cmd/gen\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nARG TARGETARCH\nCOPY --from=gen /gen /gen\nRUN /gen && GOARCH=$TARGETARCH go build -o /app\n" + GO_FINAL, {}, []),
    ("DY008", "not copied", "FROM --platform=$BUILDPLATFORM golang:1.22 AS tool\nRUN go build .\nFROM alpine:3.19\n", {}, []),
    # recipes.md's runtime trap: no compile, so nothing lint can see
    ("DY008", "recipes trap", "ARG BASE\nFROM --platform=$BUILDPLATFORM ${BASE} AS build\nRUN echo hi > /tmp/marker\nFROM ${BASE}\nCOPY --from=build /tmp/marker /marker\n", {}, []),
    # --- DY003: a platform ARG used where it was not declared
    ("DY003", "RUN", "FROM alpine:3.19\nRUN echo $TARGETARCH\n", {}, [(2, E)]),
    ("DY003", "global ARG only", "ARG TARGETARCH\nFROM alpine:3.19\nRUN echo ${TARGETARCH}\n", {}, [(3, E)]),
    ("DY003", "before its ARG", "FROM alpine:3.19\nRUN echo $TARGETOS\nARG TARGETOS\n", {}, [(2, E)]),
    ("DY003", "COPY", "FROM alpine:3.19\nCOPY bin/$TARGETARCH/app /app\n", {}, [(2, E)]),
    ("DY003", "mount flag", "FROM alpine:3.19\nRUN --mount=type=cache,id=c-$TARGETARCH,target=/c true\n", {}, [(2, E)]),
    ("DY003", "heredoc", "FROM alpine:3.19\nRUN <<EOF\necho ${BUILDARCH:-x}\nEOF\n", {}, [(2, E)]),
    ("DY003", "other stage", "FROM alpine:3.19 AS a\nARG TARGETARCH\nFROM alpine:3.19\nRUN echo $TARGETARCH\n", {}, [(4, E)]),
    ("DY003", "two names once each", "FROM alpine:3.19\nRUN echo $TARGETOS $TARGETARCH\nRUN echo $TARGETOS\n", {}, [(2, E), (2, E)]),
    ("DY003", "ARG default", "FROM alpine:3.19\nARG ARCH=$TARGETARCH\n", {}, [(2, E)]),
    ("DY003", "declared", "FROM alpine:3.19\nARG TARGETARCH TARGETOS\nRUN echo $TARGETOS/$TARGETARCH\n", {}, []),
    ("DY003", "ENV", "FROM alpine:3.19\nENV TARGETARCH=amd64\nRUN echo $TARGETARCH\n", {}, []),
    ("DY003", "FROM platform", "FROM --platform=$BUILDPLATFORM alpine:3.19\nRUN true\n", {}, []),
    ("DY003", "parent stage", "FROM alpine:3.19 AS a\nARG TARGETARCH\nFROM a\nRUN echo $TARGETARCH\n", {}, []),
    ("DY003", "escaped", "FROM alpine:3.19\nRUN echo \\$TARGETARCH\n", {}, []),
    ("DY003", "longer name", "FROM alpine:3.19\nRUN echo $TARGETARCHIVE\n", {}, []),
    # --- DY004: an architecture written into a download URL
    ("DY004", "curl amd64", "FROM alpine:3.19\nRUN curl -fsSL https://example.com/tool-linux-amd64.tar.gz | tar xz\n", {}, [(2, W)]),
    ("DY004", "wget x86_64 continued", "FROM alpine:3.19\nRUN set -e; \\\n  wget -q https://example.com/x86_64/tool\n", {}, [(2, W)]),
    ("DY004", "ADD aarch64", "FROM alpine:3.19\nADD https://example.com/tool-aarch64 /tool\n", {}, [(2, W)]),
    ("DY004", "armhf", "FROM alpine:3.19\nRUN curl -O http://example.com/pool/tool_1.0_armhf.deb\n", {}, [(2, W)]),
    ("DY004", "TARGETARCH", "FROM alpine:3.19\nARG TARGETARCH\nRUN curl -O https://example.com/tool-linux-${TARGETARCH}.tgz\n", {}, []),
    ("DY004", "case over arch", "FROM alpine:3.19\nARG TARGETARCH\nRUN case $TARGETARCH in amd64) u=https://e.com/t-amd64;; arm64) u=https://e.com/t-arm64;; esac\n", {}, []),
    ("DY004", "uname", "FROM alpine:3.19\nRUN curl -O https://e.com/t-$(uname -m) || curl -O https://e.com/t-x86_64\n", {}, []),
    ("DY004", "arch outside URL", "FROM alpine:3.19\nRUN echo amd64 && curl -O https://example.com/tool.tgz\n", {}, []),
    ("DY004", "longer word", "FROM alpine:3.19\nRUN curl -O https://example.com/x86_64bit/tool\n", {}, []),
    # --- DY005: the final stage runs as root
    ("DY005", "no USER", "FROM alpine:3.19 AS b\nUSER 1000\n\nFROM alpine:3.19\nRUN true\n", {}, [(4, W)]),
    ("DY005", "USER root", "FROM alpine:3.19\nUSER root\n", {}, [(2, W)]),
    ("DY005", "USER 0:0", "FROM alpine:3.19\nUSER 1000\nUSER 0:0\n", {}, [(3, W)]),
    ("DY005", "USER root:root", "FROM alpine:3.19\nUSER root:root\n", {}, [(2, W)]),
    ("DY005", "USER uid", "FROM alpine:3.19\nUSER 65532:65532\n", {}, []),
    ("DY005", "USER name", "FROM alpine:3.19\nUSER app\n", {}, []),
    ("DY005", "from parent stage", "FROM alpine:3.19 AS base\nUSER 1000\nFROM base\n", {}, []),
    ("DY005", "target stage", "FROM alpine:3.19 AS b\nUSER 1000\nFROM alpine:3.19\n", {"target": "b"}, []),
    # --- DY006: no HEALTHCHECK in the final stage
    ("DY006", "none", "FROM alpine:3.19\nRUN true\n", {}, [(1, W)]),
    ("DY006", "only in build stage", "FROM alpine:3.19 AS b\nHEALTHCHECK CMD true\nFROM alpine:3.19\n", {}, [(3, W)]),
    ("DY006", "NONE", "FROM alpine:3.19\nHEALTHCHECK NONE\n", {}, [(2, INFO)]),
    ("DY006", "CMD", "FROM alpine:3.19\nHEALTHCHECK --interval=5s CMD [\"true\"]\n", {}, []),
    ("DY006", "from parent stage", "FROM alpine:3.19 AS base\nHEALTHCHECK CMD true\nFROM base\n", {}, []),
    # --- DY007: ADD of a URL
    ("DY007", "https", "FROM alpine:3.19\nADD https://example.com/a.tgz /a.tgz\n", {}, [(2, W)]),
    ("DY007", "git", "FROM alpine:3.19\nADD git@github.com:acme/repo.git /src\n", {}, [(2, W)]),
    ("DY007", "json form", 'FROM alpine:3.19\nADD ["http://example.com/a", "/a"]\n', {}, [(2, W)]),
    ("DY007", "checksum", f"FROM alpine:3.19\nADD --checksum={DIGEST} https://example.com/a.tgz /a.tgz\n", {}, []),
    ("DY007", "local file", "FROM alpine:3.19\nADD a.tgz /opt/\n", {}, []),
    ("DY007", "COPY", "FROM alpine:3.19\nCOPY https:/not-a-url /x\n", {}, []),
]


@pytest.mark.parametrize(
    ("rule", "text", "kwargs", "expected"),
    [pytest.param(rule, text, kw, exp, id=f"{rule}-{name}") for rule, name, text, kw, exp in CASES],
)
def test_rule(rule, text, kwargs, expected):
    assert hits(text, rule, **kwargs) == expected


def test_every_rule_has_a_positive_and_a_negative_case():
    for rule in RULES:
        cases = [c for c in CASES if c[0] == rule]
        assert any(c[4] for c in cases) and any(not c[4] for c in cases), rule


def test_finding_shape():
    (finding,) = [f for f in lint_text("FROM alpine:3.19\nRUN echo $TARGETARCH\n", path="svc/Dockerfile") if f.rule == "DY003"]
    assert finding.path == "svc/Dockerfile"
    assert finding.platform == ""
    assert finding.message == (
        "TARGETARCH is used in stage '0' but not declared there with ARG TARGETARCH: "
        "it expands to empty"
    )
    assert finding.to_json()["detail"] == {
        "line": 2,
        "name": "arg.undeclared",
        "hint": RULES["DY003"].hint,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ARG IMG=alpine\nFROM $IMG\n", "base image $IMG (= alpine) has no tag (that means :latest): builds are not repeatable"),
        ("FROM alpine:latest\n", "base image alpine:latest uses the tag 'latest': builds are not repeatable"),
        (
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN go build -o /app .\n" + GO_FINAL,
            "stage 'build' runs go build on --platform=$BUILDPLATFORM without targeting "
            "$TARGETARCH: the image gets binaries of the build machine's architecture",
        ),
        (
            "FROM golang:1.22 AS build\nRUN go build -o /app .\n" + GO_FINAL,
            "stage 'build' runs go build on the target platform: under emulation for foreign platforms",
        ),
        (
            "FROM alpine:3.19\nRUN curl -O https://e.com/t-arm64\n",
            "download URL https://e.com/t-arm64 names the architecture 'arm64': every platform gets that file",
        ),
        ("FROM alpine:3.19\nUSER 0\n", "USER 0: the container runs as root"),
        ("FROM alpine:3.19 AS app\n", "final stage 'app' has no USER: the container runs as the base image's user (root for most bases)"),
        ("FROM alpine:3.19 AS app\n", "final stage 'app' has no HEALTHCHECK"),
        ("FROM alpine:3.19\nADD https://e.com/a /a\n", "ADD https://e.com/a downloads without checking what it gets"),
    ],
)
def test_messages(text, message):
    assert message in [f.message for f in lint_text(text)]


def test_findings_sorted_by_line_then_rule():
    text = "FROM alpine\nRUN echo $TARGETARCH\nADD https://e.com/t-amd64 /t\n"
    assert [(f.detail["line"], f.rule) for f in lint_text(text)] == [
        (1, "DY001"), (1, "DY005"), (1, "DY006"), (2, "DY003"), (3, "DY004"), (3, "DY007"),
    ]  # fmt: skip


def test_parse_error_is_an_input_error_naming_the_line():
    with pytest.raises(InputError) as info:
        lint_text("FROM alpine:3.19\nBOGUS x\n", path="svc/Dockerfile")
    assert str(info.value).startswith("svc/Dockerfile:2: unknown instruction 'BOGUS'")


# --- the bundled example is clean ----------------------------------------------------


@pytest.mark.parametrize("target", ["api", "web", "worker"])
def test_fleet_example_is_clean_with_its_target_args(target):
    config = load_config(cwd=FLEET, env={})
    t = config.targets[target]
    assert lint_text(t.dockerfile.read_text(), path=str(t.dockerfile), args=dict(t.args)) == ()


def test_lint_files_on_the_fleet_config_without_hadolint():
    report = lint_files(cwd=FLEET, hadolint=False)
    assert report.files == (
        "services/api/Dockerfile", "services/web/Dockerfile", "services/worker/Dockerfile",
    )  # fmt: skip
    assert report.findings == ()
    assert report.to_json()["hadolint"] == {"ran": False, "executable": None}


def test_named_dockerfile_gets_its_targets_args_with_a_config_file(tmp_path):
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(
        "ARG BASE\nFROM ${BASE}\nUSER 1\nHEALTHCHECK CMD true\n"
    )
    (tmp_path / "dockyard.toml").write_text(
        '[project]\nname = "p"\nplatforms = ["linux/amd64"]\n'
        '[targets.svc]\ncontext = "svc"\nimage = "svc"\nargs = { BASE = "alpine:latest" }\n'
    )
    named = [Path("svc/Dockerfile")]
    assert lint_files(named, cwd=tmp_path, hadolint=False).findings == ()  # BASE unknown
    report = lint_files(named, config_file=Path("dockyard.toml"), cwd=tmp_path, hadolint=False)
    assert [(f.rule, f.path, f.detail["line"]) for f in report.findings] == [
        ("DY001", "svc/Dockerfile", 2)
    ]


def test_lint_files_names_a_missing_file_as_given(tmp_path):
    with pytest.raises(InputError) as info:
        lint_files([Path("nope/Dockerfile")], cwd=tmp_path, hadolint=False)
    assert str(info.value) == "nope/Dockerfile: file not found (give the path of a Dockerfile)"


# --- ignoring, the report, hadolint's JSON ---------------------------------------------


def test_parse_ignore_accepts_our_ids_and_hadolint_codes():
    assert parse_ignore(["DY001,dy005", "DL3008", "hadolint.SC2086"]) == {
        "DY001", "DY005", "hadolint.DL3008", "hadolint.SC2086",
    }  # fmt: skip


def test_parse_ignore_refuses_an_unknown_rule():
    with pytest.raises(InputError) as info:
        parse_ignore(["DY999"])
    assert str(info.value) == (
        "--ignore DY999: not a lint rule (expected DY001, DY002, DY003, DY004, DY005, DY006, "
        "DY007, DY008, or a hadolint code such as DL3008 or SC2086)"
    )


def test_filter_ignored_drops_only_those_rules():
    findings = lint_text("FROM alpine\n")
    assert [f.rule for f in filter_ignored(findings, frozenset({"DY001"}))] == ["DY005", "DY006"]


def test_report_json_counts_by_severity():
    findings = lint_text("FROM alpine:3.19\nRUN echo $TARGETARCH\nHEALTHCHECK NONE\n")
    report = LintReport(findings=findings, files=("Dockerfile",), hadolint="/x/hadolint")
    doc = report.to_json()
    assert (doc["errors"], doc["warnings"], doc["infos"]) == (1, 1, 1)
    assert report.has_errors
    assert doc["hadolint"] == {"ran": True, "executable": "/x/hadolint"}
    assert [f["rule"] for f in doc["findings"]] == ["DY005", "DY003", "DY006"]


HADOLINT_JSON = [
    {"code": "DL3008", "column": 1, "file": "-", "level": "warning", "line": 2, "message": "Pin versions"},
    {"code": "DL3015", "column": 1, "file": "-", "level": "info", "line": 2, "message": "Avoid\nadditional"},
    {"code": "DL3059", "column": 1, "file": "-", "level": "style", "line": 3, "message": "Consolidate"},
    {"code": "DL4000", "column": 1, "file": "-", "level": "error", "line": 5, "message": "MAINTAINER"},
]


def test_hadolint_levels_map_to_severities():
    findings = hadolint_findings(HADOLINT_JSON, path="svc/Dockerfile")
    assert [(f.rule, f.severity, f.detail["line"]) for f in findings] == [
        ("hadolint.DL3008", "warning", 2),
        ("hadolint.DL3015", "info", 2),
        ("hadolint.DL3059", "info", 3),
        ("hadolint.DL4000", "error", 5),
    ]
    assert findings[1].message == "Avoid additional"  # one line
    assert findings[0].detail["hint"] == "see https://github.com/hadolint/hadolint/wiki/DL3008"
    assert {f.path for f in findings} == {"svc/Dockerfile"}


def test_hadolint_parse_error_is_a_warning():
    # hadolint 2.15 refuses valid heredocs; our parser accepted the file before it ran.
    (finding,) = hadolint_findings(
        [{"code": "DL1000", "column": 1, "file": "-", "level": "error", "line": 6,
          "message": "unexpected 'R'\nexpecting a new line followed by the next instruction"}],
        path="Dockerfile",
    )  # fmt: skip
    assert (finding.rule, finding.severity) == ("hadolint.DL1000", "warning")
    assert finding.message == (
        "hadolint could not parse this Dockerfile, so its rules did not run: "
        "unexpected 'R' expecting a new line followed by the next instruction"
    )
    assert finding.detail["level"] == "error"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"a": 1}, "hadolint's JSON for Dockerfile is not a list of findings"),
        ([{"code": "DL1"}], "hadolint's JSON for Dockerfile has an unexpected entry: {'code': 'DL1'}"),
    ],
)
def test_hadolint_unexpected_json(document, message):
    from dockyard.errors import OperationError

    with pytest.raises(OperationError) as info:
        hadolint_findings(document, path="Dockerfile")
    assert str(info.value) == message


# --- properties ------------------------------------------------------------------------

_LINES = st.sampled_from(
    [
        "FROM alpine", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build", "FROM build",
        "FROM alpine:3.19 AS b", "ARG TARGETARCH", "RUN go build -o /app", "RUN echo $TARGETOS",
        "RUN GOARCH=$TARGETARCH go build", "COPY --from=build /app /app", "USER root", "USER 1000",
        "HEALTHCHECK NONE", "HEALTHCHECK CMD true", "ADD https://e.com/amd64 /x", "",
        "RUN curl https://e.com/x86_64 \\", "  && make",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_LINES, max_size=12))
def test_findings_point_inside_the_file(lines):
    text = "\n".join(["FROM alpine:3.19 AS build", *lines]) + "\n"
    try:
        findings = lint_text(text)
    except InputError:
        return  # e.g. a duplicate stage name: the parser's business, tested there
    for f in findings:
        assert isinstance(f, Finding)
        assert f.rule in RULES
        assert 1 <= f.detail["line"] <= text.count("\n")
    assert len({(f.rule, f.detail["line"], f.message) for f in findings}) == len(findings)
