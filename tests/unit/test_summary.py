"""Release summaries: the Markdown table, the $GITHUB_OUTPUT text, the plain table."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.config.sizes import round_size
from dockyard.publish.summary import (
    SummaryRow,
    github_outputs,
    markdown,
    output_line,
    output_name,
    rows_json,
    table_text,
)

D = "sha256:" + "ab" * 32
ROWS = [
    SummaryRow("api", "ghcr.io/acme/api", ("1.2.3", "latest"), D, ("linux/amd64", "linux/arm64"),
               12_345_678, "passed", 3.21, "published"),
    SummaryRow("api", "docker.io/acme/api", ("1.2.3", "latest"), D, ("linux/amd64", "linux/arm64"),
               12_345_678, "passed", 1.0, "unchanged"),
]


def test_markdown_table():
    assert markdown(ROWS) == (
        "### dockyard release\n"
        "\n"
        "| Target | Registry | Tags | Index digest | Platforms | Size | Verify | Time | State |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        f"| api | ghcr.io/acme/api | `1.2.3` `latest` | `{D}` | linux/amd64, linux/arm64 "
        "| 12.3 MB | passed | 3.2 s | published |\n"
        f"| api | docker.io/acme/api | `1.2.3` `latest` | `{D}` | linux/amd64, linux/arm64 "
        "| 12.3 MB | passed | 1.0 s | unchanged |\n"
    )


def test_markdown_escapes_pipes_and_shows_missing_values():
    row = SummaryRow("a|b", "r/x", (), "", state="failed")
    assert markdown([row], title="t|1").splitlines()[0] == "### t\\|1"
    assert markdown([row]).splitlines()[-1] == "| a\\|b | r/x | - | - | - | - | - | 0.0 s | failed |"


def test_github_outputs_heredoc_for_multi_line_values():
    text = github_outputs(ROWS, document={"ok": True}, delimiter="EOF_1")
    assert text == (
        f"digest-api={D}\n"
        "tags-api<<EOF_1\n"
        "ghcr.io/acme/api:1.2.3\nghcr.io/acme/api:latest\n"
        "docker.io/acme/api:1.2.3\ndocker.io/acme/api:latest\n"
        "EOF_1\n"
        f'digests={{"api": "{D}"}}\n'
        'tags={"api": ["ghcr.io/acme/api:1.2.3", "ghcr.io/acme/api:latest", '
        '"docker.io/acme/api:1.2.3", "docker.io/acme/api:latest"]}\n'
        'json={"ok": true}\n'
    )


def test_github_outputs_default_json_is_the_rows():
    text = github_outputs(ROWS[:1], delimiter="X")
    line = next(x for x in text.splitlines() if x.startswith("json="))
    assert json.loads(line[len("json="):]) == {"rows": rows_json(ROWS[:1])}


def test_github_outputs_target_without_digest_has_only_tags():
    row = SummaryRow("web", "r/web", ("v1",), "", state="failed")
    assert github_outputs([row], document={}).splitlines()[:1] == ["tags-web=r/web:v1"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("one", "n=one\n"),
        ("", "n=\n"),
        ("a\nb", "n<<D\na\nb\nD\n"),
        ("a\r\nb", "n<<D\na\r\nb\nD\n"),
    ],
)
def test_output_line(value, expected):
    assert output_line("n", value, delimiter="D") == expected


def test_output_line_refuses_a_value_containing_its_delimiter():
    with pytest.raises(ValueError, match="contains its delimiter"):
        output_line("n", "a\nD\nb", delimiter="D")


def test_output_line_random_delimiter():
    text = output_line("n", "a\nb")
    first, *_, last = text.splitlines()
    assert first.startswith("n<<ghadelimiter_") and last == first[len("n<<"):]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_heredoc_round_trip(value):
    """Parse back as the runner does: the lines between `name<<D` and `D`."""
    text = output_line("n", value)
    if text.startswith("n="):
        assert text == f"n={value}\n"
        return
    head, _, rest = text.partition("\n")
    delimiter = head[len("n<<"):]
    body, sep, tail = rest.rpartition(f"\n{delimiter}\n")
    assert sep and tail == "" and body == value


@pytest.mark.parametrize(("target", "name"), [("api", "digest-api"), ("my.app", "digest-my_app")])
def test_output_name(target, name):
    assert output_name("digest", target) == name


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (12_345_678, "12.3 MB"),
                    (5 * 10**12, "5000.0 GB")]
)
def test_round_size(n, text):
    assert round_size(n) == text


def test_table_text_has_every_column_and_row():
    text = table_text(ROWS, width=200)
    for header in ("Target", "Registry", "Tags", "Index digest", "Platforms", "Size", "Verify", "Time"):
        assert header in text
    assert "ghcr.io/acme/api" in text and "docker.io/acme/api" in text
    assert "sha256:abababababab" in text and "12.3 MB" in text and "published" in text
