"""A recursive-descent parser for HCL native syntax (the subset bake files use, which is nearly all).

Bodies (attributes and blocks with labels), expressions with HCL's precedence (`? :`, `||`, `&&`,
`==`/`!=`, comparisons, `+ -`, `* / %`, unary `! -`), attribute/index/splat access, calls with
`...` expansion, tuples, objects (`=` or `:`; identifier keys are literal), for-expressions,
quoted templates with `${}`, `%{if}`/`%{for}` directives, `~` strip markers and the `$${`/`%%{`
escapes, and heredocs (`<<EOT`, `<<-EOT` with indentation removed).
Inside (), [] and {} newlines are insignificant; in a body they end an attribute.
Quoted strings and heredocs are parsed by the TemplateParsing mixin (templates.py).
"""

from __future__ import annotations

import re

from dockyard.bake.hcl import ast
from dockyard.bake.hcl.errors import SyntaxProblem
from dockyard.bake.hcl.templates import TemplateParsing

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_BINARY = [
    ("||",), ("&&",), ("==", "!="), ("<=", ">=", "<", ">"), ("+", "-"), ("*", "/", "%"),
]  # fmt: skip


class Parser(TemplateParsing):
    def __init__(self, text: str, line: int = 1) -> None:
        self.text = text
        self.pos = 0
        self.line0 = line
        self.depth = 0  # > 0 inside brackets: newlines are whitespace

    # -- positions and whitespace -------------------------------------------------------------
    def line(self, pos: int | None = None) -> int:
        p = self.pos if pos is None else pos
        return self.line0 + self.text.count("\n", 0, p)

    def fail(self, message: str, pos: int | None = None) -> SyntaxProblem:
        return SyntaxProblem(message, self.line(pos))

    def skip(self, newlines: bool | None = None) -> None:
        nl = self.depth > 0 if newlines is None else newlines
        t = self.text
        while self.pos < len(t):
            c = t[self.pos]
            if c in " \t\r" or (c == "\n" and nl):
                self.pos += 1
            elif c == "#" or t.startswith("//", self.pos):
                end = t.find("\n", self.pos)
                self.pos = len(t) if end < 0 else end
            elif t.startswith("/*", self.pos):
                end = t.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unterminated /* comment")
                self.pos = end + 2
            else:
                break

    def peek(self, s: str) -> bool:
        self.skip()
        return self.text.startswith(s, self.pos)

    def eat(self, s: str) -> bool:
        if self.peek(s):
            self.pos += len(s)
            return True
        return False

    def expect(self, s: str, what: str) -> None:
        if not self.eat(s):
            got = self.text[self.pos : self.pos + 10].split("\n")[0] or "end of input"
            raise self.fail(f'expected "{s}" {what}, found "{got}"')

    def ident(self) -> str | None:
        self.skip()
        m = _IDENT.match(self.text, self.pos)
        if not m:
            return None
        self.pos = m.end()
        return m.group()

    # -- bodies ---------------------------------------------------------------------------------
    def body(self, closing: str | None) -> ast.Body:
        attrs: list[ast.Attribute] = []
        blocks: list[ast.Block] = []
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text):
                if closing:
                    raise self.fail(f'missing "{closing}" closing a block')
                break
            if closing and self.text.startswith(closing, self.pos):
                self.pos += 1
                break
            start = self.pos
            name = self.ident()
            if name is None:
                raise self.fail("expected an attribute name or a block type")
            self.skip(newlines=False)
            if self.text.startswith("=", self.pos) and not self.text.startswith("==", self.pos):
                self.pos += 1
                expr = self.expression()
                earlier = next((a for a in attrs if a.name == name), None)
                if earlier is not None:
                    raise self.fail(
                        f'attribute redefined: "{name}" was already set on line {earlier.line}',
                        start,
                    )
                attrs.append(ast.Attribute(name, expr, self.line(start)))
                self.end_of_item()
                continue
            labels: list[str] = []
            while not self.peek("{"):
                self.skip(newlines=False)
                if self.text.startswith('"', self.pos):
                    self.pos += 1
                    tpl = self.template('"')
                    if len(tpl.parts) > 1 or (tpl.parts and not isinstance(tpl.parts[0], str)):
                        raise self.fail("a block label cannot hold an interpolation")
                    labels.append(tpl.parts[0] if tpl.parts else "")
                else:
                    label = self.ident()
                    if label is None:
                        raise self.fail(f'expected "=" or a block after "{name}"')
                    labels.append(label)
            self.pos += 1
            saved, self.depth = self.depth, 0
            inner = self.body("}")
            self.depth = saved
            blocks.append(ast.Block(name, tuple(labels), inner, self.line(start)))
            self.end_of_item()
        return ast.Body(tuple(attrs), tuple(blocks))

    def end_of_item(self) -> None:
        self.skip(newlines=False)
        if self.pos < len(self.text) and self.text[self.pos] not in "\n}":
            raise self.fail(f'unexpected "{self.text[self.pos]}" after an attribute or block')

    # -- expressions ----------------------------------------------------------------------------
    def expression(self) -> ast.Node:
        cond = self.binary(0)
        if self.eat("?"):
            line = cond.line
            self.depth += 1
            then = self.expression()
            self.expect(":", "in a conditional")
            other = self.expression()
            self.depth -= 1
            return ast.Cond(line, cond, then, other)
        return cond

    def binary(self, level: int) -> ast.Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            self.skip()
            op = next((o for o in _BINARY[level] if self.text.startswith(o, self.pos)), None)
            if op is None or (op == "<" and self.text.startswith("<<", self.pos)):
                return left
            self.pos += len(op)
            right = self.binary(level + 1)
            left = ast.Binary(left.line, op, left, right)

    def unary(self) -> ast.Node:
        self.skip()
        line = self.line()
        if self.text.startswith("!", self.pos) and not self.text.startswith("!=", self.pos):
            self.pos += 1
            return ast.Unary(line, "!", self.unary())
        if self.text.startswith("-", self.pos):
            self.pos += 1
            return ast.Unary(line, "-", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: ast.Node) -> ast.Node:
        while True:
            self.skip()
            if self.text.startswith(".*", self.pos) or self.text.startswith("[*]", self.pos):
                self.pos += 2 if self.text[self.pos] == "." else 3
                each = self.postfix(ast.SplatItem(node.line))
                return ast.Splat(node.line, node, each)
            if self.text.startswith(".", self.pos) and not self.text.startswith("...", self.pos):
                self.pos += 1
                m = re.compile(r"[0-9]+").match(self.text, self.pos)
                if m:  # legacy index: list.0
                    self.pos = m.end()
                    node = ast.Index(node.line, node, ast.Literal(node.line, int(m.group())))
                    continue
                name = self.ident()
                if name is None:
                    raise self.fail('expected an attribute name after "."')
                node = ast.GetAttr(node.line, node, name)
            elif self.text.startswith("[", self.pos):
                self.pos += 1
                self.depth += 1
                key = self.expression()
                self.expect("]", "closing an index")
                self.depth -= 1
                node = ast.Index(node.line, node, key)
            else:
                return node

    def primary(self) -> ast.Node:
        self.skip()
        line, t, p = self.line(), self.text, self.pos
        if p >= len(t):
            raise self.fail("expected an expression, found end of input")
        c = t[p]
        if c == '"':
            self.pos += 1
            return self.template('"')
        if t.startswith("<<", p):
            return self.heredoc()
        m = _NUMBER.match(t, p)
        if m:
            self.pos = m.end()
            s = m.group()
            return ast.Literal(line, float(s) if ("." in s or "e" in s or "E" in s) else int(s))
        if c == "(":
            self.pos += 1
            self.depth += 1
            inner = self.expression()
            self.expect(")", "closing a parenthesis")
            self.depth -= 1
            return inner
        if c == "[":
            return self.tuple_or_for()
        if c == "{":
            return self.object_or_for()
        name = self.ident()
        if name is None:
            raise self.fail(f'expected an expression, found "{c}"')
        if name in ("true", "false"):
            return ast.Literal(line, name == "true")
        if name == "null":
            return ast.Literal(line, None)
        self.skip(newlines=False)
        if self.text.startswith("(", self.pos):
            return self.call(name, line)
        return ast.Var(line, name)

    def call(self, name: str, line: int) -> ast.Node:
        self.pos += 1
        self.depth += 1
        args: list[ast.Node] = []
        expand = False
        while not self.eat(")"):
            args.append(self.expression())
            if self.eat("..."):
                expand = True
            if not self.eat(","):
                self.expect(")", f"closing the call to {name}()")
                break
        self.depth -= 1
        return ast.Call(line, name, tuple(args), expand)

    def for_intro(self) -> tuple[str | None, str, ast.Node]:
        first = self.ident()
        second = self.ident() if self.eat(",") else None
        if first is None:
            raise self.fail("expected a variable name after for")
        if self.ident() != "in":
            raise self.fail('expected "in" in a for expression')
        coll = self.expression()
        self.expect(":", "in a for expression")
        return (first, second, coll) if second else (None, first, coll)

    def for_cond(self) -> ast.Node | None:
        save = self.pos
        if self.ident() == "if":
            return self.expression()
        self.pos = save
        return None

    def tuple_or_for(self) -> ast.Node:
        line = self.line()
        self.pos += 1
        self.depth += 1
        save = self.pos
        if self.ident() == "for":
            key, value, coll = self.for_intro()
            expr = self.expression()
            cond = self.for_cond()
            self.expect("]", "closing a for expression")
            self.depth -= 1
            return ast.ForExpr(line, key, value, coll, None, expr, cond)
        self.pos = save
        items: list[ast.Node] = []
        while not self.eat("]"):
            items.append(self.expression())
            if not self.eat(","):
                self.expect("]", "closing a list")
                break
        self.depth -= 1
        return ast.Tuple(line, tuple(items))

    def object_or_for(self) -> ast.Node:
        line = self.line()
        self.pos += 1
        self.depth += 1
        save = self.pos
        if self.ident() == "for":
            key, value, coll = self.for_intro()
            kexpr = self.expression()
            self.expect("=>", "in an object for expression")
            vexpr = self.expression()
            group = self.eat("...")
            cond = self.for_cond()
            self.expect("}", "closing a for expression")
            self.depth -= 1
            return ast.ForExpr(line, key, value, coll, kexpr, vexpr, cond, group)
        self.pos = save
        items: list[tuple[ast.Node, ast.Node]] = []
        while not self.eat("}"):
            self.skip()
            kline = self.line()
            m = _IDENT.match(self.text, self.pos)
            after = m and self.text[m.end() :].lstrip(" \t")
            if m and after and after[0] in "=:" and not after.startswith("=="):
                self.pos = m.end()
                key: ast.Node = ast.Literal(kline, m.group())
            else:
                key = self.expression()
            if not (self.eat("=") or self.eat(":")):
                raise self.fail('expected "=" or ":" after an object key')
            items.append((key, self.expression()))
            self.eat(",")
        self.depth -= 1
        return ast.Object(line, tuple(items))


def parse(text: str) -> ast.Body:
    """Parse a whole HCL file into its body."""
    return Parser(text).body(None)


def parse_template(text: str, line: int = 1) -> ast.Template:
    """Parse `text` as template content (the inside of a quoted string, without escapes)."""
    return Parser(text, line).template(None)
