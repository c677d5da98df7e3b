"""The syntax tree both readers produce: HCL native syntax and its JSON form.

Every node keeps the line it starts on, so an evaluation error can name `FILE:LINE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Node:
    line: int


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class Template(Node):
    """A quoted string or heredoc: literal text and `${}` / `%{}` parts."""

    parts: tuple[Any, ...]  # str | Node | TemplateIf | TemplateFor


@dataclass(frozen=True)
class TemplateIf(Node):
    cond: Node
    then: Template
    other: Template | None


@dataclass(frozen=True)
class TemplateFor(Node):
    key: str | None
    value: str
    coll: Node
    body: Template


@dataclass(frozen=True)
class Var(Node):
    name: str


@dataclass(frozen=True)
class GetAttr(Node):
    obj: Node
    name: str


@dataclass(frozen=True)
class Index(Node):
    obj: Node
    key: Node


@dataclass(frozen=True)
class Splat(Node):
    """`obj[*].a.b` / `obj.*.a`: apply `ops` (GetAttr/Index on a SplatItem) to each element."""

    obj: Node
    each: Node  # an expression over SplatItem


@dataclass(frozen=True)
class SplatItem(Node):
    pass


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]
    expand: bool = False  # f(xs...)


@dataclass(frozen=True)
class Tuple(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Object(Node):
    items: tuple[tuple[Node, Node], ...]  # a bare identifier key is a Literal string


@dataclass(frozen=True)
class Unary(Node):
    op: str
    x: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Cond(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True)
class ForExpr(Node):
    key: str | None
    value: str
    coll: Node
    key_expr: Node | None  # object form {for k, v in x : key => value}
    value_expr: Node
    cond: Node | None
    group: bool = False  # value... (group values by key)


@dataclass(frozen=True)
class Attribute:
    name: str
    expr: Node
    line: int


@dataclass(frozen=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: Body
    line: int


@dataclass(frozen=True)
class Body:
    attributes: tuple[Attribute, ...] = field(default=())
    blocks: tuple[Block, ...] = field(default=())

    def attr(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None
