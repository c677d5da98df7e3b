"""Issue 17 item 6: user regexes (`type=match` tag rules) run with a time bound.

`(a+)+$` is the issue's pattern: the `regex` module finishes it at once.
`(a|aa)+$` backtracks even there: it ends in one line (exit 2) when the
timeout fires, instead of never finishing.
"""

from __future__ import annotations

import pytest

from dockyard.oci.registry import RegistryClient
from tests.helpers.images import make_image, push_image
from tests.integration.hostile import dockyard, one_error_line

pytestmark = pytest.mark.integration

REF = "refs/tags/" + "a" * 40 + "!"
SHA = "0123456789abcdef0123456789abcdef01234567"


def _tags(pattern: str):
    return dockyard(
        "tags", "--ref", REF, "--sha", SHA, "--image", "x/app", "--tag", f"type=match,pattern={pattern}",
        timeout=60,
    )  # fmt: skip


def test_the_issue_pattern_finishes():
    result = _tags("(a+)+$")
    assert result.returncode == 0, result.stderr  # no match: no tag, a warning
    assert "no tag was generated" in result.stderr


def test_a_pattern_that_still_backtracks_is_one_line_exit_2():
    result = _tags("(a|aa)+$")
    assert result.returncode == 2
    line = one_error_line(result)
    assert "'(a|aa)+$' took more than 1 s on 'aaaa" in line
    assert "simplify the pattern" in line


def test_plan_with_the_rule_in_dockyard_toml_is_bounded_too(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "dockyard.toml").write_text(
        '[project]\nname = "x"\nplatforms = ["linux/amd64"]\nregistries = ["localhost:5000/x"]\n'
        '[tags]\nrules = ["type=match,pattern=(a|aa)+$"]\n'
        '[targets.app]\ncontext = "."\n'
    )
    result = dockyard("plan", "--ref", REF, "--sha", SHA, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "took more than 1 s" in one_error_line(result)


def test_retain_match_is_bounded_too(registry):
    """retain --match against a real registry whose tag makes the pattern backtrack."""
    repo = f"{registry.host}/hostile/retain"
    with RegistryClient() as client:
        push_image(client.store(repo, push=True), make_image((100,)), tag="a" * 40 + "-x")
    result = dockyard("retain", repo, "--keep", "0", "--match", "(a|aa)+$", "--dry-run", timeout=60)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert "--match '(a|aa)+$' took more than 1 s on 'aaaa" in line
