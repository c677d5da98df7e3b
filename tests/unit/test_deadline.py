"""The registry deadline: durations, the pure Deadline (fake clock), config and flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.config.durations import format_duration, parse_duration
from dockyard.config.loader import load_config
from dockyard.errors import DeadlineExceeded, InputError
from dockyard.oci.deadline import DEFAULT_DEADLINE, Deadline
from dockyard.workspace import Settings, Workspace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("1h", 3600), ("1h30m", 5400), ("45", 45), ("2.5s", 2.5),
     (" 10M ", 600), (7, 7)],
)  # fmt: skip
def test_durations(text, seconds):
    assert parse_duration(text, what="--timeout") == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "-5s", "5s3m", "1m1m", "1h 30m", "nan", "inf", "s"])
def test_bad_durations_are_one_line_naming_the_flag(text):
    with pytest.raises(InputError) as info:
        parse_duration(text, what="--timeout")
    message = str(info.value)
    assert message.startswith(f"--timeout: {text!r}")
    assert "90s, 30m, 1h" in message and "\n" not in message


def test_zero_is_refused():
    with pytest.raises(InputError, match="must be more than 0"):
        parse_duration("0s", what="--timeout")


@pytest.mark.parametrize(("seconds", "text"), [(1800, "30m"), (5400, "1h30m"), (3, "3s"), (2.5, "2.5s")])
def test_format(seconds, text):
    assert format_duration(seconds) == text


def test_deadline_counts_from_start_and_restart():
    clock = Clock()
    d = Deadline(10, clock=clock)
    clock.now += 9.5
    assert d.remaining() == pytest.approx(0.5) and not d.expired()
    clock.now += 0.5
    assert d.expired()
    d.restart("publish")
    assert d.remaining() == 10 and d.phase == "publish"


def test_deadline_error_names_the_request_and_the_bytes():
    clock = Clock()
    d = Deadline(90, clock=clock)
    clock.now += 91
    with pytest.raises(DeadlineExceeded) as info:
        d.check("r/x: blob sha256:ab")
    assert str(info.value) == (
        "r/x: blob sha256:ab: the 1m30s deadline for registry operations passed; "
        "give it more time with --timeout or [retry] deadline"
    )
    err = d.error("r/x: blob sha256:ab", moved=12, total=5000)
    assert "passed after 12 bytes of 5000;" in str(err)
    assert not err.temporary


def test_no_deadline_never_expires():
    clock = Clock()
    d = Deadline(None, clock=clock)
    clock.now += 1e9
    assert not d.expired()


def test_config_deadline_reaches_the_client_and_the_flag_wins(tmp_path: Path):
    (tmp_path / "dockyard.toml").write_text('[retry]\ndeadline = "1h"\n[targets.x]\ncontext = "."\n')
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert load_config(cwd=tmp_path, env={}).retry.deadline == 3600
    with Workspace(Settings(), cwd=tmp_path, environ={}) as ws:
        assert ws.registry_options.deadline == 3600
    with Workspace(Settings(deadline=5.0), cwd=tmp_path, environ={}) as ws:
        assert ws.registry_options.deadline == 5.0


def test_default_is_30_minutes_without_config(tmp_path: Path):
    from dockyard.oci.retry import RetryPolicy

    with Workspace(Settings(retry=RetryPolicy()), cwd=tmp_path, environ={}) as ws:
        assert ws.registry_options.deadline == DEFAULT_DEADLINE == 1800


@pytest.mark.parametrize("command", ["copy", "inspect", "retain", "verify", "merge", "release"])
def test_a_bad_timeout_flag_is_exit_2_one_line(command, tmp_path):
    args = {
        "copy": ["oci:a", "oci:b"],
        "inspect": ["127.0.0.1:9/x:y"],
        "retain": ["127.0.0.1:9/x", "--keep", "1"],
        "verify": ["127.0.0.1:9/x:y"],
        "merge": ["--digest-dir", "d"],
        "release": [],
    }[command]
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", command, *args, "--timeout", "soon"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: --timeout: 'soon' is not a duration "
        "(expected a duration such as 90s, 30m, 1h or 1h30m (a bare number is seconds))"
    ]
