"""Issue 17 items 7 and 11 (BOM): dockyard.toml expansion is bounded; a BOM is accepted."""

from __future__ import annotations

import pytest

from tests.integration.hostile import dockyard, one_error_line

pytestmark = pytest.mark.integration

RSS_CAP_MB = 300  # generous; the unbounded expansion went to 10 GB


def _project(tmp_path, variables: str, *, prefix: bytes = b"") -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    text = (
        '[project]\nname = "x"\nplatforms = ["linux/amd64"]\n'
        'registries = ["localhost:5000/${V29}"]\n'
        f"[variables]\n{variables}"
        '[targets.app]\ncontext = "."\n'
    )
    (tmp_path / "dockyard.toml").write_bytes(prefix + text.encode())


def test_exponential_expansion_is_one_line_naming_the_variable(tmp_path):
    # Each variable is eight of the previous: 8**29 characters if expanded (~600 bytes of TOML).
    lines = ['V0 = "aaaaaaaaaaaaaaaa"']
    lines += [f'V{i} = "' + f"${{V{i - 1}}}" * 8 + '"' for i in range(1, 30)]
    _project(tmp_path, "\n".join(lines) + "\n")
    result = dockyard("plan", cwd=tmp_path, timeout=60)
    line = one_error_line(result)
    assert result.returncode == 2
    assert "variables.V" in line and "expands to more than 262144 characters" in line
    assert "MemoryError" not in result.stderr
    assert result.max_rss_mb < RSS_CAP_MB


def test_a_3000_deep_chain_is_one_line_not_a_recursion_error(tmp_path):
    # Declared top-down, so the first one resolved needs the whole chain below it.
    lines = [f'V{i} = "${{V{i - 1}}}"' for i in range(2999, 0, -1)] + ['V0 = "x"']
    _project(tmp_path, "\n".join(lines) + "\n")
    result = dockyard("plan", cwd=tmp_path, timeout=60)
    line = one_error_line(result)
    assert result.returncode == 2
    assert "more than 64 deep" in line
    assert "RecursionError" not in result.stderr


def test_a_utf8_bom_is_accepted(tmp_path):
    _project(tmp_path, 'V29 = "team"\n', prefix=b"\xef\xbb\xbf")
    result = dockyard("plan", "--json", cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "localhost:5000/team" in result.stdout
