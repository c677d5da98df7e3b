"""`[tags] latest-only-stable` and `--latest-only-stable`: read from dockyard.toml, honoured by
`dockyard plan` and `dockyard tags` (subprocesses), refused by exact message when mistyped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.config.loader import load_config
from dockyard.errors import InputError

SHA = "0123456789abcdef0123456789abcdef01234567"
API = '[targets.api]\nimage = "api"\n'


def dockyard(*args, cwd: Path):
    # Outside GitHub Actions: only the flags and the config count.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DOCKYARD_"))}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def project(tmp_path: Path, tags: str) -> Path:
    (tmp_path / "dockyard.toml").write_text(f'[project]\nname = "x"\n[tags]\n{tags}\n{API}')
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[tags]\nlatest-only-stable = "yes"\n' + API,
            "dockyard.toml: tags.latest-only-stable: expected true or false, got a string",
        ),
        (
            "[tags]\nlatest_only_stable = true\n" + API,
            "dockyard.toml: tags.latest_only_stable: unknown key (did you mean 'latest-only-stable'?)",
        ),
        (
            "[tags]\nlatest-only = true\n" + API,
            "dockyard.toml: tags.latest-only: unknown key (did you mean 'latest-only-stable'?)",
        ),
    ],
    ids=["type", "snake", "typo"],
)
def test_a_mistyped_option_is_refused_by_exact_message(tmp_path, text, message):
    (tmp_path / "dockyard.toml").write_text(text)
    with pytest.raises(InputError) as exc:
        load_config(cwd=tmp_path, env={})  # found from cwd: named relative to it
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("line", "value"),
    [("", False), ("latest-only-stable = true", True), ("latest-only-stable = false", False)],
)
def test_the_option_is_read_and_off_by_default(tmp_path, line, value):
    config = load_config(project(tmp_path, line) / "dockyard.toml", env={})
    assert config.tags.latest_only_stable is value


def _plan_tags(cwd: Path, ref: str) -> list[str]:
    proc = dockyard("plan", "--json", "--ref", ref, "--sha", SHA, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["targets"][0]["tags"]


RULES = 'rules = ["type=ref,event=tag"]'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", ["api:v2.0.0-rc.1", "api:latest"]),  # metadata-action's answer
        ("latest-only-stable = true", ["api:v2.0.0-rc.1"]),
    ],
)
def test_plan_honours_the_option_on_a_prerelease_tag(tmp_path, line, expected):
    assert _plan_tags(project(tmp_path, f"{RULES}\n{line}"), "refs/tags/v2.0.0-rc.1") == expected


def test_plan_keeps_latest_for_a_stable_tag_with_the_option(tmp_path):
    cwd = project(tmp_path, f"{RULES}\nlatest-only-stable = true")
    assert _plan_tags(cwd, "refs/tags/v2.0.0") == ["api:v2.0.0", "api:latest"]


def test_plan_pushes_a_tag_the_engine_repeats_once(tmp_path):
    # metadata-action lists api:latest twice here (the raw rule's and the vote's); one push is enough.
    cwd = project(tmp_path, 'rules = ["type=ref,event=tag", "type=raw,latest"]')
    assert _plan_tags(cwd, "refs/tags/v2.0.0") == ["api:v2.0.0", "api:latest"]


@pytest.mark.parametrize(
    ("flags", "stdout"),
    [
        ((), "api:v2.0.0-rc.1\napi:latest\n"),
        (("--latest-only-stable",), "api:v2.0.0-rc.1\n"),
    ],
)
def test_tags_command_takes_the_option(tmp_path, flags, stdout):
    proc = dockyard(
        "tags",
        "--ref",
        "refs/tags/v2.0.0-rc.1",
        "--sha",
        SHA,
        "--image",
        "api",
        "--tag",
        "type=ref,event=tag",
        *flags,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == stdout
