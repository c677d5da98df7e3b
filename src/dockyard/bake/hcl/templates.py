"""Templates: quoted strings and heredocs with `${}` interpolations and `%{}` directives.

A mixin of the HCL parser (parser.py): it needs the parser's expression() for what is inside
`${...}`. Handles the `$${` / `%%{` escapes, `~` strip markers, `%{if}/%{else}/%{endif}` and
`%{for}/%{endfor}` (nested into TemplateIf/TemplateFor), and `<<EOT` / `<<-EOT` heredocs (the
latter with the common indentation removed).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dockyard.bake.hcl import ast
from dockyard.bake.hcl.errors import SyntaxProblem

if TYPE_CHECKING:
    from dockyard.bake.hcl.parser import Parser

_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class TemplateParsing:
    """Template methods of Parser (self is a Parser)."""

    def heredoc(self: Parser) -> ast.Node:
        line = self.line()
        m = _HEREDOC.match(self.text, self.pos)
        if not m:
            raise self.fail("expected a heredoc marker like <<EOT followed by a newline")
        strip, marker = m.group(1) == "-", m.group(2)
        lines_ = []
        p = m.end()
        while True:
            if p >= len(self.text):
                raise self.fail(f"heredoc {marker} is never closed", m.start())
            end = self.text.find("\n", p)
            end = len(self.text) if end < 0 else end
            raw = self.text[p:end]
            if raw.strip() == marker:
                self.pos = end
                break
            lines_.append(raw + "\n")
            p = end + 1
        if strip:
            indents = [len(x) - len(x.lstrip(" \t")) for x in lines_ if x.strip()]
            cut = min(indents, default=0)
            lines_ = [x[cut:] if x.strip() else x.lstrip(" \t") for x in lines_]
        sub = type(self)("".join(lines_), line + 1)
        return sub.template(None)

    def template(self: Parser, closing: str | None) -> ast.Template:
        """Parse template text up to `closing` ('"') or the end (heredoc)."""
        line = self.line()
        flat: list[object] = []  # str | Node | ("if", Node) | ("else",) | ("endif",) | ...
        buf: list[str] = []
        t = self.text
        quoted = closing is not None

        def flush() -> None:
            if buf:
                flat.append("".join(buf))
                buf.clear()

        while True:
            if self.pos >= len(t):
                if quoted:
                    raise self.fail("unterminated string", self.pos)
                break
            c = t[self.pos]
            if quoted and c == '"':
                self.pos += 1
                break
            if quoted and c == "\n":
                raise self.fail("unterminated string (a quoted string cannot span lines)")
            if quoted and c == "\\":
                self.pos += 1
                e = t[self.pos : self.pos + 1]
                if e in _ESCAPES:
                    buf.append(_ESCAPES[e])
                    self.pos += 1
                elif e in ("u", "U"):
                    n = 4 if e == "u" else 8
                    try:
                        buf.append(chr(int(t[self.pos + 1 : self.pos + 1 + n], 16)))
                    except ValueError:
                        raise self.fail("invalid unicode escape") from None
                    self.pos += 1 + n
                else:
                    raise self.fail(f'invalid escape "\\{e}"')
                continue
            if t.startswith("$${", self.pos) or t.startswith("%%{", self.pos):
                buf.append(c + "{")
                self.pos += 3
                continue
            if t.startswith("${", self.pos) or t.startswith("%{", self.pos):
                flush()
                self.pos += 2
                strip_left = self.text.startswith("~", self.pos)
                if strip_left:
                    self.pos += 1
                    self._strip_trailing(flat)
                self.depth += 1
                if c == "$":
                    flat.append(self.expression())
                else:
                    flat.append(self.directive())
                self.skip()
                strip_right = self.eat("~")
                self.expect("}", "closing an interpolation")
                self.depth -= 1
                if strip_right:
                    while self.pos < len(t) and t[self.pos] in " \t\r\n":
                        self.pos += 1
                continue
            buf.append(c)
            self.pos += 1
        flush()
        return _build(flat, line, self)

    def _strip_trailing(self, flat: list[object]) -> None:
        if flat and isinstance(flat[-1], str):
            flat[-1] = flat[-1].rstrip(" \t\r\n")

    def directive(self: Parser) -> tuple[object, ...]:
        line = self.line()
        word = self.ident()
        if word == "if":
            return ("if", self.expression(), line)
        if word == "for":
            first = self.ident()
            second = self.ident() if self.eat(",") else None
            if first is None or self.ident() != "in":
                raise self.fail('expected "%{for NAME in ...}"')
            key, value = (first, second) if second else (None, first)
            return ("for", key, value, self.expression(), line)
        if word in ("else", "endif", "endfor"):
            return (word, line)
        raise self.fail(f'unknown template directive "%{{{word}"')


def _build(flat: list[object], line: int, p: Parser) -> ast.Template:
    """Nest the flat part list's if/else/endif and for/endfor into TemplateIf/TemplateFor."""
    stack: list[tuple[tuple[object, ...], list[object], list[object] | None]] = []
    parts: list[object] = []
    for item in flat:
        if isinstance(item, tuple):
            kind = item[0]
            if kind in ("if", "for"):
                stack.append((item, parts, None))
                parts = []
            elif kind == "else":
                if not stack or stack[-1][0][0] != "if" or stack[-1][2] is not None:
                    raise SyntaxProblem("%{else} without a matching %{if}", int(item[1]))  # type: ignore[call-overload]
                head, outer, _ = stack.pop()
                stack.append((head, outer, parts))
                parts = []
            else:
                want = "if" if kind == "endif" else "for"
                if not stack or stack[-1][0][0] != want:
                    raise SyntaxProblem(f"%{{{kind}}} without a matching %{{{want}}}", item[1])  # type: ignore[arg-type]
                head, outer, then = stack.pop()
                if want == "if":
                    cond, dline = head[1], head[2]
                    body = then if then is not None else parts
                    other = parts if then is not None else None
                    node: object = ast.TemplateIf(
                        dline,  # type: ignore[arg-type]
                        cond,  # type: ignore[arg-type]
                        ast.Template(dline, tuple(body)),  # type: ignore[arg-type]
                        ast.Template(dline, tuple(other)) if other is not None else None,  # type: ignore[arg-type]
                    )
                else:
                    node = ast.TemplateFor(
                        head[4],
                        head[1],
                        head[2],
                        head[3],
                        ast.Template(head[4], tuple(parts)),  # type: ignore[arg-type]
                    )
                parts = [*outer, node]
        else:
            parts.append(item)
    if stack:
        raise p.fail(f"%{{{stack[-1][0][0]}}} is never closed")
    return ast.Template(line, tuple(parts))
