"""Bad bake input: one BakeError (exit 2) naming file, line and block, never a traceback."""

from __future__ import annotations

import pytest

from dockyard.bake import find_default_files, resolve, resolve_sources
from dockyard.errors import EXIT_INPUT, BakeError

H = "docker-bake.hcl"


def _err(files: dict[str, str], targets=(), overrides=(), env=None) -> str:
    with pytest.raises(BakeError) as err:
        resolve_sources(list(files.items()), targets, overrides, env or {})
    assert err.value.exit_code == EXIT_INPUT
    assert "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('target "a" {\n  tags = ["x"\n}\n', f"{H}:3: "),
        ('target "a" {\n  tags = "unterminated\n}\n', f"{H}:2: unterminated string"),
        ('target "a" {\n', 'missing "}" closing a block'),
        ('target "a" {\n  dockerfile-inline = <<EOT\nFROM x\n}\n', "heredoc EOT is never closed"),
        ('target "a" {\n  args = { A = "%{ if true }x" }\n}\n', "%{if} is never closed"),
        (
            'target "a" {\n  tags = ["x"]\n  tags = ["y"]\n}\n',
            f'{H}:3: attribute redefined: "tags" was already set on line 2',
        ),
    ],
)
def test_syntax_errors_name_file_and_line(text: str, want: str) -> None:
    assert want in _err({H: text})


def test_an_unknown_variable_names_the_block_and_line() -> None:
    msg = _err({H: 'target "api" {\n  context = "."\n  tags = ["${NOPE}"]\n}\n'}, ["api"])
    assert msg.startswith(f'{H}:3: target "api": There is no variable named "NOPE"')


def test_an_unknown_attribute_is_refused() -> None:
    msg = _err({H: 'target "api" {\n  tagz = ["x"]\n}\n'}, ["api"])
    assert msg == f'{H}:2: target "api": an argument named "tagz" is not expected here'


def test_a_wrong_type_names_the_attribute() -> None:
    msg = _err({H: 'target "api" {\n  tags = "x"\n}\n'}, ["api"])
    assert "tags must be a list of strings, got string" in msg and f"{H}:2:" in msg


def test_an_inheritance_cycle_is_refused_unlike_buildx() -> None:
    # buildx drops a cycle silently (its visited map returns nil); dockyard names it.
    msg = _err(
        {H: 'target "a" {\n  inherits = ["b"]\n}\ntarget "b" {\n  inherits = ["a"]\n}\n'}, ["a"]
    )
    assert "inherits cycle a -> b -> a" in msg and f"{H}:4:" in msg


def test_an_unknown_inherited_target_names_the_child() -> None:
    msg = _err({H: 'target "a" {\n  inherits = ["ghost"]\n}\n'}, ["a"])
    assert msg == f'{H}:1: target "a": failed to find target ghost'


def test_a_variable_cycle_is_refused() -> None:
    text = 'variable "A" {\n  default = B\n}\nvariable "B" {\n  default = A\n}\ntarget "t" {\n  tags = [A]\n}\n'
    assert "variable cycle" in _err({H: text}, ["t"])


def test_unsupported_and_refused_functions_name_themselves() -> None:
    assert 'There is no function named "nosuch"' in _err(
        {H: 'target "t" {\n  target = nosuch(1)\n}\n'}, ["t"]
    )
    for name in ("bcrypt", "rsadecrypt", "homedir"):
        msg = _err({H: f'target "t" {{\n  target = {name}("x")\n}}\n'}, ["t"])
        assert f"function {name}() is not supported by dockyard" in msg


def test_a_failing_function_names_itself() -> None:
    assert "indexof(): item not found" in _err(
        {H: 'target "t" {\n  target = indexof(["a"], "b")\n}\n'}, ["t"]
    )


@pytest.mark.parametrize(
    ("override", "want"),
    [
        ("notarget", "invalid override key notarget, expected target.name"),
        ("a.frobnicate=1", "unknown key: frobnicate"),
        ("a.args=1", "invalid format for args, expecting args.<name>=<value>"),
        ("zz*.tags=x", "could not find any target matching 'zz*'"),
        ("a.no-cache=maybe", "invalid value maybe for boolean key no-cache"),
        ("a.push=true", "key push is not supported here"),
        ("a.load=true", "key load is not supported here"),
    ],
)
def test_bad_set_values(override: str, want: str) -> None:
    assert want in _err({H: 'target "a" {}\n'}, ["a"], [override])


def test_an_unknown_block_type_is_refused() -> None:
    msg = _err({H: 'resource "a" {\n}\n'})
    assert msg.startswith(f"{H}:1: resource: unsupported block type")


def test_bad_compose_and_json_name_the_file() -> None:
    assert _err({"compose.yaml": "services: [\n"}).startswith("compose.yaml:")
    assert _err({"b.json": '{"target": \n'}).startswith("b.json:")
    assert "required variable X is missing a value: need X" in _err(
        {"compose.yaml": "services:\n  a:\n    build:\n      context: ${X:?need X}\n"}
    )


def test_missing_file_is_an_input_error(tmp_path) -> None:
    with pytest.raises(BakeError, match="cannot read the bake file"):
        resolve([tmp_path / "nope.hcl"])


def test_default_files_in_buildx_order(tmp_path) -> None:
    for name in ("docker-bake.override.hcl", "docker-bake.hcl", "compose.yaml", "other.hcl"):
        (tmp_path / name).write_text("")
    assert [p.name for p in find_default_files(tmp_path)] == [
        "compose.yaml", "docker-bake.hcl", "docker-bake.override.hcl",
    ]  # fmt: skip


def test_compose_dotenv_is_read_beside_the_compose_file(tmp_path) -> None:
    (tmp_path / ".env").write_text("# comment\nTAG=from-dotenv\nexport OTHER='q'\n")
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: r/a:${TAG}\n    build: .\n")
    r = resolve([tmp_path / "compose.yaml"], env={})
    assert r.targets["a"]["tags"] == ["r/a:from-dotenv"]
    r = resolve([tmp_path / "compose.yaml"], env={"TAG": "env-wins"})
    assert r.targets["a"]["tags"] == ["r/a:env-wins"]


def test_a_group_naming_a_missing_target_points_at_the_group() -> None:
    msg = _err({H: 'target "a" {}\n\ngroup "all" {\n  targets = ["a", "ghost"]\n}\n'}, ["all"])
    assert msg == f'{H}:3: group "all": failed to find target ghost'


def test_an_unused_variable_is_still_validated() -> None:
    text = 'variable "V" {\n  validation {\n    condition = V != ""\n    error_message = "V is required."\n  }\n}\ntarget "t" {}\n'
    assert "V is required." in _err({H: text}, ["t"])


def test_errors_inside_functions_and_target_references_keep_the_line() -> None:
    assert _err(
        {H: 'target "t" {\n  context = "."\n  target = upper(null)\n}\n'}, ["t"]
    ).startswith(f'{H}:3: target "t": upper(): a string is required, got null')
    msg = _err({H: 'target "t" {\n\n  target = target.nope.dockerfile\n}\n'}, ["t"])
    assert msg == f'{H}:3: target "t": target "nope" has no attribute "dockerfile"'


def test_an_unknown_requested_name_lists_what_exists() -> None:
    msg = _err({H: 'target "a" {}\ntarget "b" {}\ngroup "g" {\n  targets = ["a"]\n}\n'}, ["nope"])
    assert msg == f"{H}: failed to find target nope (targets: a, b; groups: g)"
