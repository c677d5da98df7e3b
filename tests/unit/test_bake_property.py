"""Random HCL-ish input gives a Resolved or an InputError, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.bake import Resolved, resolve_sources
from dockyard.errors import InputError

# Fragments of real bake syntax, so random joins reach deep into the parser and evaluator.
TOKENS = [
    'target "a" {', 'target "b" {', "}", 'group "default" {', 'variable "V" {', 'function "f" {',
    "targets = [\"a\", \"b\"]", "inherits = [\"b\"]", "inherits = [\"a\"]", "default = 3",
    'default = "x"', "params = [p]", "result = p + 1", "tags = [", "]", "[", "{", "(", ")", ",",
    "args = {", "matrix = { m = [1, 2] }", 'name = "n-${m}"', "=", "==", "?", ":", "+", "-", "*",
    "/", "%", "&&", "||", "!", ".", "[*]", "...", '"${V}"', '"%{ if V == 3 }y%{ endif }"',
    "<<EOT\nhi ${V}\nEOT\n", "<<-EOT\n  x\n  EOT\n", "V", "f(1)", "upper(V)", "split(\",\", V)",
    "target.a.tags", "null", "true", "1.5", "[for x in [1,2] : x]", "{for k, v in {a=1} : k => v}",
    "\n", " ", "#c\n", "/* c */", '"\\u00e9"', "$${", "%{", "~}", "dockerfile", "context",
    "platforms", "no-cache", "output", "cache-from", "labels", "x-y_z",
]  # fmt: skip

hcl_text = st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)
json_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda c: (
        st.lists(c, max_size=3)
        | st.dictionaries(
            st.sampled_from(["target", "group", "variable", "a", "tags", "default", "targets"]),
            c,
            max_size=3,
        )
    ),
    max_leaves=12,
)


def _check(sources, targets, sets):
    try:
        result = resolve_sources(sources, targets, sets, {"V": "1,2"})
    except InputError:
        return
    assert isinstance(result, Resolved)
    assert isinstance(result.print_document(), dict)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=hcl_text,
    targets=st.lists(st.sampled_from(["a", "b", "default", "n-1", "zz"]), max_size=2),
    sets=st.lists(
        st.sampled_from(["a.tags=x", "*.platform=", "b.args.K=V", "a.tags+=y", "x", "a.pull=1"]),
        max_size=2,
    ),
)
def test_random_hcl_never_crashes(text: str, targets: list[str], sets: list[str]) -> None:
    _check([("docker-bake.hcl", text)], targets, sets)


@settings(max_examples=150, deadline=None)
@given(doc=json_text)
def test_random_json_never_crashes(doc: object) -> None:
    import json

    _check([("docker-bake.json", json.dumps(doc))], [], [])


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=60))
def test_random_text_never_crashes(text: str) -> None:
    _check([("docker-bake.hcl", text)], [], [])
    _check([("compose.yaml", text)], [], [])


# Structured input: well-formed files whose expressions are random, so the evaluator and the
# stdlib (not just the parser) meet odd values.
FUNCS = ["upper", "lower", "split", "join", "length", "concat", "flatten", "format", "coalesce",
         "replace", "substr", "lookup", "merge", "keys", "range", "regex", "jsonencode", "tonumber",
         "tostring", "element", "slice", "sanitize", "semvercmp", "formatdate", "indexof", "try",
         "can", "distinct", "contains", "max", "abs", "pow", "f"]  # fmt: skip
atoms = st.sampled_from(['"x"', '"1.2.3"', '""', "0", "-1", "2.5", "1e400", "true", "null", "V", "W",
                         "[]", "{}", '["a", 1]', '{a = "b"}', "m", '"${V}-${W}"', "target.a.tags"])  # fmt: skip


def _combine(children):
    bins = st.tuples(
        children, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", "&&", "||"]), children
    )
    calls = st.tuples(st.sampled_from(FUNCS), st.lists(children, max_size=3))
    return (
        bins.map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        | calls.map(lambda t: f"{t[0]}({', '.join(t[1])})")
        | st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})")
        | st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]")
        | st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]")
        | children.map(lambda x: f'"pre-${{{x}}}"')
        | children.map(lambda x: f"[for i in {x} : i]")
        | children.map(lambda x: f"{x}[*]")
    )


expressions = st.recursive(atoms, _combine, max_leaves=6)
attributes = st.sampled_from(["tags", "args", "platforms", "context", "no-cache", "labels",
                              "target", "output", "inherits"])  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    v=expressions,
    w=expressions,
    attrs=st.lists(st.tuples(attributes, expressions), max_size=3, unique_by=lambda t: t[0]),
    matrix=st.booleans(),
)
def test_random_expressions_never_crash(v, w, attrs, matrix) -> None:
    body = "\n".join(f"  {name} = {expr}" for name, expr in attrs)
    if matrix:
        body += '\n  matrix = { m = ["p", "q"] }\n  name = "a-${m}"'
    text = (
        f'variable "V" {{\n  default = {v}\n}}\nW = {w}\n'
        'function "f" {\n  params = [x]\n  result = x\n}\n'
        f'target "a" {{\n{body}\n}}\n'
    )
    _check([("docker-bake.hcl", text)], ["a"], [])
