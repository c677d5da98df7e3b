"""The Handlebars subset metadata-action's expressions use, rendered exactly.

metadata-action compiles every `value=`, `prefix=`, `suffix=`, `enable=`,
`pattern=` and label with Handlebars against a scope of plain values and
helper functions. What is implemented here, as Handlebars does it:

- text, `{{name}}` (HTML-escaped output: & < > " ' ` =), `{{{name}}}` and
  `{{&name}}` (not escaped), dotted paths into mappings;
- helper calls with literal arguments: `{{date 'YYYYMMDD' tz='Asia/Tokyo'}}`
  (strings, numbers, true/false/null/undefined; `key=value` hash pairs);
- `\\{{` escapes, `{{! comments }}`, `{{!-- comments --}}`, `~` whitespace control;
- an unknown name renders as ""; an unknown helper called with arguments is
  Handlebars' `Missing helper: "name"` error.

Blocks, partials, sub-expressions and `@data` are refused (TemplateError):
no tag rule needs them and metadata-action's scopes give them nothing to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dockyard.errors import TemplateError

# A helper gets the literal arguments and the hash (key=value pairs).
Helper = Callable[[tuple[object, ...], dict[str, object]], object]



@dataclass(frozen=True)
class Mustache:
    path: tuple[str, ...]
    params: tuple[object, ...] = ()
    hash: tuple[tuple[str, object], ...] = ()
    escape: bool = True
    strip_left: bool = False
    strip_right: bool = False


@dataclass(frozen=True)
class Comment:
    strip_left: bool = False
    strip_right: bool = False


Node = str | Mustache | Comment

_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#x27;",
    "`": "&#x60;",
    "=": "&#x3D;",
}
_BAD_CHARS = re.compile(r"[&<>\"'`=]")
# Handlebars' ID token: anything but whitespace and these punctuation marks.
_ID = re.compile(r"[^\s!\"#%-,./;->@\[-^`{-~]+")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?=[~}\s)])")
_LITERALS = {"true": True, "false": False, "null": None, "undefined": None}
_UNSUPPORTED_OPENERS = {
    "#": "block",
    "/": "block",
    "^": "inverse block",
    ">": "partial",
    "*": "decorator",
}


def parse(text: str) -> tuple[Node, ...]:
    """Split a template into text, mustaches and comments (no whitespace control applied)."""
    nodes: list[Node] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("{{", i)
        if j < 0:
            nodes.append(text[i:])
            break
        before = text[i:j]
        if before.endswith("\\") and not before.endswith("\\\\"):
            # `\{{`: the braces and what follows, up to the next `{{`, are text.
            if before[:-1]:
                nodes.append(before[:-1])
            end = _next_open(text, j + 2)
            nodes.append(text[j:end])
            i = end
            continue
        if before.endswith("\\\\"):
            before = before[:-1]  # `\\{{`: one literal backslash, then a mustache
        if before:
            nodes.append(before)
        node, i = _parse_mustache(text, j)
        nodes.append(node)
    return tuple(nodes)


def _next_open(text: str, start: int) -> int:
    """Where Handlebars' escaped-content state ends: before the next `{{` (or its escapes)."""
    k = text.find("{{", start)
    if k < 0:
        return len(text)
    for backslashes in ("\\\\", "\\"):
        if k - len(backslashes) >= start and text.endswith(backslashes, 0, k):
            return k - len(backslashes)
    return k


def _parse_mustache(text: str, start: int) -> tuple[Node, int]:
    pos = start + 2
    strip_left = text.startswith("~", pos)
    pos += strip_left
    if text.startswith("!", pos):
        return _parse_comment(text, pos, strip_left)
    opener = text[pos : pos + 1]
    if opener in _UNSUPPORTED_OPENERS or (text.startswith("else", pos) and _is_else(text, pos)):
        what = _UNSUPPORTED_OPENERS.get(opener, "else")
        raise TemplateError(f"unsupported Handlebars {what} in {text!r}")
    close = "}}"
    escape = True
    if opener == "{":
        close, escape, pos = "}}}", False, pos + 1
    elif opener == "&":
        escape, pos = False, pos + 1
    tokens, pos, strip_right = _parse_body(text, pos, close)
    return _build(tokens, escape, strip_left, strip_right, text), pos


def _is_else(text: str, pos: int) -> bool:
    after = text[pos + 4 : pos + 5]
    return after == "" or after.isspace() or after in "~}"


def _parse_comment(text: str, pos: int, strip_left: bool) -> tuple[Node, int]:
    long_form = text.startswith("!--", pos)
    m = re.compile(r"--(~?)\}\}" if long_form else r"(~?)\}\}").search(
        text, pos + (3 if long_form else 1)
    )
    if m is None:
        raise TemplateError(f"unclosed Handlebars comment in {text!r}")
    return Comment(strip_left, bool(m.group(1))), m.end()


def _parse_body(text: str, pos: int, close: str) -> tuple[list[tuple], int, bool]:
    tokens: list[tuple] = []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            raise TemplateError(f"unclosed Handlebars expression in {text!r}")
        for closer, strip in (("~" + close, True), (close, False)):
            if text.startswith(closer, pos):
                return tokens, pos + len(closer), strip
        token, pos = _parse_token(text, pos)
        tokens.append(token)


def _parse_token(text: str, pos: int) -> tuple[tuple, int]:
    c = text[pos]
    if c in "\"'":
        return _parse_string(text, pos)
    if c in "(@":
        what = "sub-expression" if c == "(" else "@data variable"
        raise TemplateError(f"unsupported Handlebars {what} in {text!r}")
    m = _NUMBER.match(text, pos)
    if m:
        return ("lit", float(m.group(0))), m.end()
    m = _ID.match(text, pos)
    if m and text.startswith("=", m.end()):
        value, end = _parse_hash_value(text, m.end() + 1)
        return ("hash", m.group(0), value), end
    if m and m.group(0) in _LITERALS and _literal_ends(text, m.end()):
        return ("lit", _LITERALS[m.group(0)]), m.end()
    return _parse_path(text, pos)


def _literal_ends(text: str, pos: int) -> bool:
    return pos >= len(text) or text[pos] in "~})" or text[pos].isspace()


def _parse_hash_value(text: str, pos: int) -> tuple[object, int]:
    token, end = _parse_token(text, pos)
    if token[0] != "lit":
        raise TemplateError(f"unsupported Handlebars hash value (only literals) in {text!r}")
    return token[1], end


def _parse_string(text: str, pos: int) -> tuple[tuple, int]:
    quote = text[pos]
    m = re.compile(rf"{quote}((?:\\{quote}|[^{quote}])*){quote}").match(text, pos)
    if m is None:
        raise TemplateError(f"unclosed string in Handlebars expression {text!r}")
    return ("lit", m.group(1).replace("\\" + quote, quote)), m.end()


def _parse_path(text: str, pos: int) -> tuple[tuple, int]:
    parts: list[str] = []
    while True:
        if text.startswith("[", pos):
            end = text.find("]", pos)
            if end < 0:
                raise TemplateError(f"unclosed [segment] in Handlebars expression {text!r}")
            parts.append(text[pos + 1 : end])
            pos = end + 1
        elif text.startswith("..", pos):
            raise TemplateError(f"unsupported Handlebars parent path '..' in {text!r}")
        elif text.startswith(".", pos):
            pos += 1  # `.`: the scope itself
        else:
            m = _ID.match(text, pos)
            if m is None:
                raise TemplateError(f"invalid Handlebars expression {text!r}")
            if m.group(0) != "this" or parts:  # `this`: the scope itself
                parts.append(m.group(0))
            pos = m.end()
        if pos < len(text) and text[pos] in "./" and not text.startswith("..", pos):
            pos += 1
            continue
        return ("path", tuple(parts)), pos


def _build(tokens: list[tuple], escape: bool, left: bool, right: bool, text: str) -> Mustache:
    if not tokens:
        raise TemplateError(f"empty Handlebars expression in {text!r}")
    head, rest = tokens[0], tokens[1:]
    if head[0] == "hash":
        raise TemplateError(f"invalid Handlebars expression {text!r}")
    path = head[1] if head[0] == "path" else (_to_text(head[1]),)
    params: list[object] = []
    pairs: list[tuple[str, object]] = []
    for token in rest:
        if token[0] == "path":
            raise TemplateError(f"unsupported Handlebars argument (only literals) in {text!r}")
        if token[0] == "hash":
            pairs.append((token[1], token[2]))
        elif pairs:
            raise TemplateError(
                f"invalid Handlebars expression (argument after key=value) {text!r}"
            )
        else:
            params.append(token[1])
    return Mustache(path, tuple(params), tuple(pairs), escape, left, right)


def is_raw_statement(text: str) -> bool:
    """metadata-action's isRawStatement: the pattern is exactly one `{{raw}}` mustache."""
    try:
        nodes = parse(text)
    except TemplateError:
        return False
    return len(nodes) == 1 and isinstance(nodes[0], Mustache) and nodes[0].path == ("raw",)


def render(text: str, scope: Mapping[str, object]) -> str:
    """Handlebars.compile(text)(scope)."""
    nodes = _apply_whitespace_control(list(parse(text)))
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Mustache):
            out.append(_evaluate(node, scope))
    return "".join(out)


def _apply_whitespace_control(nodes: list[Node]) -> list[Node]:
    for k, node in enumerate(nodes):
        if isinstance(node, str):
            continue
        if node.strip_left and k > 0 and isinstance(nodes[k - 1], str):
            nodes[k - 1] = nodes[k - 1].rstrip()
        if node.strip_right and k + 1 < len(nodes) and isinstance(nodes[k + 1], str):
            nodes[k + 1] = nodes[k + 1].lstrip()
    return nodes


def _evaluate(node: Mustache, scope: Mapping[str, object]) -> str:
    value: object = scope
    for part in node.path:
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping):
        value = "[object Object]"  # what JavaScript prints for an object
    if callable(value):
        value = value(node.params, dict(node.hash))
    elif (node.params or node.hash) and value is None:
        raise TemplateError(f'Missing helper: "{".".join(node.path)}"')
    text = _to_text(value)
    return _BAD_CHARS.sub(lambda m: _ESCAPES[m.group(0)], text) if node.escape else text


def _to_text(value: object) -> str:
    """JavaScript's String(value) for the values a scope holds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list | tuple):
        return ",".join(_to_text(v) for v in value)
    return str(value)
