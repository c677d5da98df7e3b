"""HCL's JSON syntax as bake reads it (docker-bake.json), turned into the same tree as HCL.

Top-level `variable`, `target`, `group`, `function` keys are blocks: `{"target": {"a": {...}}}`
or the array-of-objects form metadata-action writes (`{"target": [{"a": [{...}]}]}`). Any other
top-level key is an attribute. Inside a body, `validation` (in a variable) is a block; every other
key is an attribute. Strings are templates (`"app:${TAG}"` interpolates), as in HCL's JSON spec.
A "//" property is a comment, as HCL's JSON spec says. JSON keeps no positions, so a block's line is found by searching for its label in the text.
"""

from __future__ import annotations

import json
from typing import Any

from dockyard.bake.hcl import ast
from dockyard.bake.hcl.errors import SyntaxProblem
from dockyard.bake.hcl.parser import parse_template

BLOCK_TYPES = {"variable": 1, "target": 1, "group": 1, "function": 1}
NESTED_BLOCKS = {"validation": 0}


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text

    def of(self, needle: str, start_line: int = 1) -> int:
        offset = 0
        for _ in range(start_line - 1):
            offset = self.text.find("\n", offset) + 1
        i = self.text.find(json.dumps(needle), offset)
        return self.text.count("\n", 0, i) + 1 if i >= 0 else start_line


def _expr(value: Any, line: int) -> ast.Node:
    if isinstance(value, str):
        return parse_template(value, line)
    if isinstance(value, list):
        return ast.Tuple(line, tuple(_expr(v, line) for v in value))
    if isinstance(value, dict):
        return ast.Object(
            line, tuple((ast.Literal(line, str(k)), _expr(v, line)) for k, v in value.items())
        )
    return ast.Literal(line, value)


def _bodies(value: Any, where: str) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, dict) for v in items):
        raise SyntaxProblem(f"{where} must be an object (or a list of objects)", 1)
    return items


def _body(obj: dict[str, Any], lines: _Lines, line: int) -> ast.Body:
    attrs, blocks = [], []
    for key, value in obj.items():
        if key == "//":  # HCL's JSON syntax: a "//" property is a comment
            continue
        if key in NESTED_BLOCKS:
            for b in _bodies(value, key):
                blocks.append(ast.Block(key, (), _body(b, lines, line), line))
        else:
            attrs.append(ast.Attribute(key, _expr(value, lines.of(key, line)), lines.of(key, line)))
    return ast.Body(tuple(attrs), tuple(blocks))


def parse_json(text: str) -> ast.Body:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SyntaxProblem(f"invalid JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(doc, dict):
        raise SyntaxProblem("a bake JSON file must be an object", 1)
    lines = _Lines(text)
    attrs, blocks = [], []
    for key, value in doc.items():
        if key == "//":
            continue
        if key not in BLOCK_TYPES:
            line = lines.of(key)
            attrs.append(ast.Attribute(key, _expr(value, line), line))
            continue
        for group in _bodies(value, key):
            for label, content in group.items():
                line = lines.of(label)
                for b in _bodies(content, f'{key} "{label}"'):
                    blocks.append(ast.Block(key, (label,), _body(b, lines, line), line))
    return ast.Body(tuple(attrs), tuple(blocks))
