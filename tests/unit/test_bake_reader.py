"""The reader's pieces one at a time: HCL syntax corners, evaluation rules, JSON and compose."""

from __future__ import annotations

import pytest

from dockyard.bake import resolve_sources
from dockyard.bake.hcl.parser import parse
from dockyard.bake.model import clean_path
from dockyard.errors import BakeError

H = "docker-bake.hcl"


def _target(text: str, name: str = "t", env: dict | None = None, files: dict | None = None) -> dict:
    sources = list((files or {H: text}).items())
    return resolve_sources(sources, [name], [], env or {}).targets[name]


def _arg(expr: str, env: dict | None = None, prelude: str = "") -> str:
    return _target(f'{prelude}target "t" {{\n  args = {{\n    x = {expr}\n  }}\n}}\n', env=env)[
        "args"
    ]["x"]


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('"a ${"b"} c"', "a b c"),
        ('"%{ for x in ["a", "b"] }${x};%{ endfor }"', "a;b;"),
        ('"x ${~ "y" ~} z"', "xyz"),
        ('"%{ if false }a%{ else }b%{ endif }"', "b"),
        ('([{n = "a"}, {n = "b"}][*].n)[1]', "b"),
        ('{for k, v in {a = 1, b = 2} : v => k}["2"]', "b"),
        ('length({for s in ["a", "b", "a"] : s => s...}["a"])', "2"),
        ('[for i, v in ["p", "q"] : "${i}${v}" if i > 0][0]', "1q"),
        ("(1 + 2) * 3 - 4 / 2", "7"),
        ("7 % 3", "1"),
        ("!true || (1 < 2 && 2 >= 2)", "true"),
        ('"5" + 1', "6"),
        ('"1" == 1', "false"),
        ("-(3)", "-3"),
        ("0.1 + 0.2", "0.30000000000000004"),
        ('join("-", [["a"], ["b"]]...)', "a-b"),
        ('["a", "b"].1', "b"),
        ('"\\u00e9\\t"', "é\t"),
        ("<<-EOT\n    one\n      two\n    EOT", "one\n  two\n"),
        ('try(nope.x, "fallback")', "fallback"),
        ('can(regex("^v", "v1"))', "true"),
        ('format("%q|%5s|%-3s|%.2f|%x", "a", "b", "c", 1.234, 255)', '"a"|    b|c  |1.23|ff'),
        (
            'formatdate("DD MMM YYYY hh:mm ZZZ", "2024-03-05T07:08:09+02:00")',
            "05 Mar 2024 07:08 UTC+02:00",
        ),
        ('regex("(?P<major>\\\\d+)\\\\.(\\\\d+)", "v1.2")["major"]', "1"),
        ('regex_replace("a-b", "(a)-(b)", "$2-$1")', "b-a"),
        ('semvercmp("1.2.3-rc1", ">= 1.2.0")', "false"),
        ('semvercmp("1.4.0", "~1.4 || ^2")', "true"),
        ('coalesce(null, "x")', "x"),
        ('jsonencode("<&>")', '"\\u003c\\u0026\\u003e"'),
        ('timeadd("2024-01-01T00:00:00Z", "90m")', "2024-01-01T01:30:00Z"),
    ],
)
def test_expressions(expr: str, want: str) -> None:
    assert _arg(expr) == want


def test_comments_and_single_line_blocks() -> None:
    body = parse('# c\n// c\n/* multi\nline */ target "a" { tags = ["x"] }\ntarget b {}\n')
    assert [(b.type, b.labels) for b in body.blocks] == [("target", ("a",)), ("target", ("b",))]


def test_typed_variable_from_the_environment() -> None:
    prelude = 'variable "N" {\n  type = number\n  default = 1\n}\nvariable "M" {\n  type = map(string)\n  default = {}\n}\n'
    assert _arg("N * 2", {"N": "21"}, prelude) == "42"
    assert _arg('M["k"]', {"M_JSON": '{"k": "v"}'}, prelude) == "v"
    with pytest.raises(BakeError, match="failed to parse N as number"):
        _arg("N", {"N": "NaN"}, prelude)


def test_a_variable_without_default_or_type_is_the_empty_string() -> None:
    assert _arg('"[${V}]"', prelude='variable "V" {}\n') == "[]"


def test_name_requires_matrix_and_groups_take_neither() -> None:
    with pytest.raises(BakeError, match="name requires matrix"):
        _target('target "t" {\n  name = "x"\n}\n')
    with pytest.raises(BakeError, match="matrix is not supported for groups"):
        resolve_sources([(H, 'group "g" {\n  matrix = {a = [1]}\n}\n')], ["g"], [], {})


def test_cache_entries_may_be_objects() -> None:
    t = _target('target "t" {\n  cache-from = [{type = "registry", ref = "r/c"}, "type=gha"]\n}\n')
    assert t["cache-from"] == ["type=registry,ref=r/c", "type=gha"]


def test_context_is_cleaned_as_buildx_prints_it() -> None:
    assert [clean_path(p) for p in ("./db", "a/../b/", ".", "", "/x/./y", "https://g/r.git#main")] == [
        "db", "b", ".", ".", "/x/y", "https://g/r.git#main",
    ]  # fmt: skip


def test_json_function_blocks_and_interpolation() -> None:
    doc = '{"variable": {"R": {"default": "r"}}, "function": {"tag": {"params": ["v"], "result": "${R}:${v}"}}, "target": {"t": {"tags": ["${tag(\\"1\\")}"]}}}'
    assert _target("", files={"docker-bake.json": doc})["tags"] == ["r:1"]


def test_compose_context_unset_lets_an_hcl_parent_provide_it() -> None:
    files = {
        "compose.yaml": "services:\n  app:\n    build:\n      args:\n        A: 1\n",
        H: 'target "base" {\n  context = "src"\n}\ntarget "app" {\n  inherits = ["base"]\n}\n',
    }
    t = resolve_sources(list(files.items()), ["app"], [], {}).targets["app"]
    assert t["context"] == "src" and t["args"] == {"A": "1"}


def test_compose_details() -> None:
    compose = (
        "services:\n"
        "  web.app:\n"
        "    environment:\n      FROM_SVC: s\n"
        "    build:\n"
        "      context: ./web\n"
        "      args:\n        - FROM_SVC\n        - FROM_ENV\n        - MISSING\n"
        "      platforms: [linux/amd64]\n"
        "      secrets: [token]\n"
        "      labels: [a=b]\n"
        "      network: host\n"
        "      ssh: [default]\n"
        "      additional_contexts:\n        base: docker-image://alpine\n"
        "      x-bake:\n        platforms: linux/arm64\n        cache-to: type=inline\n"
        "secrets:\n  token:\n    environment: TOKEN\n"
    )
    r = resolve_sources([("compose.yaml", compose)], [], [], {"FROM_ENV": "e"})
    assert r.groups == {"default": ["web_app"]}
    t = r.targets["web_app"]
    assert t["context"] == "web" and t["args"] == {"FROM_SVC": "s", "FROM_ENV": "e"}
    assert t["platforms"] == ["linux/amd64", "linux/arm64"]
    assert t["secret"] == ["id=token,env=TOKEN"] and t["labels"] == {"a": "b"}
    assert t["cache-to"] == ["type=inline"]
    assert t["network"] == "host" and t["ssh"] == ["default"]
    assert t["contexts"] == {"base": "docker-image://alpine"}
    assert t["entitlements"] == ["network.host"]  # buildx adds it for network=host


def test_compose_interpolation_forms() -> None:
    from dockyard.bake.compose import interpolate

    env = {"SET": "v", "EMPTY": ""}
    assert interpolate(
        "$SET ${SET} $$SET ${NO:-d} ${EMPTY:-d} ${EMPTY-d} ${SET:+alt} ${NO+alt}", env, "f"
    ) == ("v v $SET d d  alt ")


def test_bake_local_platform_defaults_to_this_machine(tmp_path) -> None:
    from dockyard.bake import resolve
    from dockyard.platform import host_platform

    (tmp_path / H).write_text('target "t" {\n  platforms = [BAKE_LOCAL_PLATFORM]\n}\n')
    assert resolve([tmp_path / H], ["t"], env={}).targets["t"]["platforms"] == [
        str(host_platform())
    ]


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('cidrhost("10.12.112.0/20", 16)', "10.12.112.16"),
        ('cidrhost("10.12.112.0/20", -2)', "10.12.127.254"),
        ('cidrnetmask("172.16.0.0/12")', "255.240.0.0"),
        ('cidrsubnet("172.16.0.0/12", 4, 2)', "172.18.0.0/16"),
        (
            'join(",", cidrsubnets("10.1.0.0/16", 4, 4, 8, 4))',
            "10.1.0.0/20,10.1.16.0/20,10.1.32.0/24,10.1.48.0/20",
        ),
        ("unixtimestampparse(1350000000).rfc3339", "2012-10-12T00:00:00Z"),
        ("unixtimestampparse(0).weekday_name", "Thursday"),
        ("length(setproduct([1, 2], [3, 4]))", "4"),
        ('join(",", setsymmetricdifference(["a", "b"], ["b", "c"]))', "a,c"),
        ('basename("/a/b.txt")', "b.txt"),
        ('dirname("a/b/c")', "a/b"),
        ('dirname("c")', "."),
        ("convert(5, string)", "5"),
        ('convert("5", number) + 1', "6"),
        ('length(convert(["a", "a"], list(string)))', "2"),
        ('bytesslice("hello", 1, 3)', "ell"),
    ],
)
def test_network_time_set_and_conversion_functions(expr: str, want: str) -> None:
    assert _arg(expr) == want


def test_functions_buildx_does_not_have_are_unknown() -> None:
    # Terraform's tostring()/tobool()... are not in bake's stdlib (hclparser/stdlib.go).
    with pytest.raises(BakeError, match='There is no function named "tostring"'):
        _arg("tostring(1)")


TYPED = (
    'variable "L" {\n  type = list(string)\n  default = ["a"]\n}\n'
    'variable "M" {\n  type = map(string)\n  default = {k = "d"}\n}\n'
    'variable "T" {\n  type = tuple([number, string])\n  default = [1, "x"]\n}\n'
    'variable "U" {\n  default = ["untyped"]\n}\n'
)


@pytest.mark.parametrize(
    ("expr", "env", "want"),
    [
        ('join("|", L)', {"L": 'a,"b,c",d'}, "a|b,c|d"),  # one CSV record, quotes as CSV
        ('join("|", L)', {"L": "x", "L_JSON": '["j1", "j2"]'}, "j1|j2"),  # NAME_JSON wins
        ('M["k"]', {"M_JSON": '{"k": "v"}'}, "v"),
        ("T[0] + 1", {"T": "41,y"}, "42"),
        ('join("|", L)', {"L": "x", "BUILDX_BAKE_DISABLE_VARS_ENV_LOOKUP": "1"}, "a"),
    ],
)
def test_typed_variables_from_the_environment(expr: str, env: dict, want: str) -> None:
    assert _arg(expr, env, TYPED) == want


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"M": "k=v"}, "M: a map is read only as JSON from the M_JSON variable"),
        (
            {"U": "x"},
            "variable U has a tuple default: overriding it from the environment needs a type",
        ),
        ({"L_JSON": "[oops"}, "failed to parse L_JSON as JSON"),
    ],
)
def test_typed_variable_overrides_that_are_refused(env: dict, message: str) -> None:
    with pytest.raises(BakeError, match=message):
        _arg('"x"', env, TYPED)


def test_json_comments_and_array_bodies() -> None:
    doc = '{"//": "generated", "target": [{"t": [{"//": "note", "tags": ["a"]}, {"platforms": ["linux/arm64"]}]}]}'
    t = _target("", files={"docker-bake.json": doc})
    assert t["tags"] == ["a"] and t["platforms"] == ["linux/arm64"]


def test_bake_cmd_context_is_the_local_directory() -> None:
    # reference.md "Built-in variables": BAKE_CMD_CONTEXT; --print shows the cleaned path.
    t = _target(
        'target "t" {\n  context = BAKE_CMD_CONTEXT\n  dockerfile = "${BAKE_CMD_CONTEXT}/x"\n}\n'
    )
    assert t["context"] == "." and t["dockerfile"] == "cwd:///x"


def test_json_matrix_and_target_references() -> None:
    doc = (
        '{"target": {"base": {"tags": ["b"]}, "app": {"matrix": {"v": ["1", "2"]}, '
        '"name": "app-${v}", "args": {"V": "${v}"}, "tags": "${target.base.tags}"}}}'
    )
    r = resolve_sources([("docker-bake.json", doc)], ["app"], [], {})
    assert r.groups == {"app": ["app-1", "app-2"], "default": ["app"]}
    assert r.targets["app-2"]["args"] == {"V": "2"} and r.targets["app-2"]["tags"] == ["b"]


def test_printed_groups_follow_buildx() -> None:
    # bake.json "nested_groups_dedupe": "The --print output would list groups default, a, b, c, e."
    import json
    from pathlib import Path

    cases = json.loads((Path(__file__).parent / "data" / "bake.json").read_text())
    case = next(c for c in cases if c["name"] == "nested_groups_dedupe")
    r = resolve_sources(list(case["files"].items()), case["targets"], [], {})
    assert sorted(r.groups) == ["a", "b", "c", "default", "e"]
    assert r.groups["default"] == ["e"] and r.groups["e"] == ["a", "f"]
    assert list(r.print_document()["group"]) == ["a", "b", "c", "default", "e"]


def test_two_compose_files_make_one_default_group() -> None:
    files = {
        "compose.yaml": "services:\n  a:\n    build: .\n  b:\n    build: .\n",
        "compose.override.yaml": "services:\n  a:\n    build:\n      args:\n        X: 1\n",
    }
    r = resolve_sources(list(files.items()), [], [], {})
    assert r.groups == {"default": ["a", "b"]} and r.targets["a"]["args"] == {"X": "1"}
