"""`dockyard bake --print` through the real entry point (a subprocess, as a user runs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
HCL = """variable "TAG" {
  default = "dev"
}
group "default" {
  targets = ["api"]
}
target "_common" {
  args = { GO = "1.22" }
}
target "api" {
  inherits = ["_common"]
  tags = ["r/api:${TAG}"]
}
"""


def _run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", "bake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environ,
    )


def test_print_uses_the_default_files_and_prints_buildx_shape(tmp_path: Path) -> None:
    (tmp_path / "docker-bake.hcl").write_text(HCL)
    (tmp_path / "docker-bake.override.hcl").write_text(
        'target "api" {\n  platforms = ["linux/arm64"]\n}\n'
    )
    out = _run(tmp_path, "--print", env={"TAG": "v1"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "group": {"default": {"targets": ["api"]}},
        "target": {
            "api": {
                "context": ".",
                "dockerfile": "Dockerfile",
                "args": {"GO": "1.22"},
                "tags": ["r/api:v1"],
                "platforms": ["linux/arm64"],
            }
        },
    }


def test_print_with_files_set_and_a_target(tmp_path: Path) -> None:
    (tmp_path / "a.hcl").write_text(HCL)
    out = _run(
        tmp_path,
        "--print",
        "-f",
        "a.hcl",
        "--set",
        "api.tags=r/api:x",
        "--set",
        "*.platform=linux/amd64",
        "api",
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["group"] == {"default": {"targets": ["api"]}}
    assert doc["target"]["api"]["tags"] == ["r/api:x"]
    assert doc["target"]["api"]["platforms"] == ["linux/amd64"]


def test_errors_exit_2_with_one_line_naming_file_line_and_block(tmp_path: Path) -> None:
    (tmp_path / "docker-bake.hcl").write_text('target "api" {\n  tags = [nope]\n}\n')
    out = _run(tmp_path, "--print", "api")
    assert out.returncode == 2 and out.stdout == ""
    assert (
        out.stderr == 'error: docker-bake.hcl:2: target "api": There is no variable named "nope".\n'
    )


def test_without_print_or_files_exit_2(tmp_path: Path) -> None:
    assert "only prints" in _run(tmp_path).stderr
    out = _run(tmp_path, "--print")
    assert out.returncode == 2 and "no bake file" in out.stderr
