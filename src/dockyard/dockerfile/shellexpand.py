r"""Variable expansion of one Dockerfile word, as BuildKit's shell lexer does it (pure).

This is what happens to a FROM image, its `--platform` value and a global
ARG default before they are used: `$X`, `${X}`, `${X:-default}`,
`${X-default}`, `${X:+alt}`, `${X+alt}`, `${X:?message}`, `${X?message}`,
`${X#glob}`, `${X##glob}`, `${X%glob}`, `${X%%glob}`; words inside braces
are expanded in turn (`${A:-${B}}`). Quotes are removed as a shell does:
'single' keeps its content literally, "double" still expands `$`. The escape
character (`\`, or a backtick after `# escape=\``) makes the next character
literal. An unset variable expands to "".

Unlike BuildKit this never splits into several words: a FROM value is one
word. Errors are `InputError`s that name the text; the Dockerfile parser puts
`path:line:` in front.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from dockyard.errors import InputError, UnsetVariable

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")



def expand(text: str, args: Mapping[str, str], *, escape: str = "\\") -> str:
    """`text` with every variable replaced from `args` and quotes removed."""
    return _Lexer(text, args, escape).word(stop=None)


class _Lexer:
    def __init__(self, text: str, args: Mapping[str, str], escape: str) -> None:
        self.text = text
        self.args = args
        self.escape = escape
        self.pos = 0

    def _fail(self, why: str) -> InputError:
        return InputError(f"cannot expand '{self.text}': {why}")

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def word(self, *, stop: str | None) -> str:
        """Read up to `stop` (a '}' closing a `${...}`) or the end, expanding as we go."""
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == stop:
                return "".join(out)
            self.pos += 1
            if ch == self.escape:
                # A trailing escape character stays as written.
                out.append(self.text[self.pos] if self.pos < len(self.text) else ch)
                self.pos += 1
            elif ch == "'":
                out.append(self._single_quoted())
            elif ch == '"':
                out.append(self._double_quoted())
            elif ch == "$":
                out.append(self._dollar())
            else:
                out.append(ch)
        if stop is not None:
            raise self._fail("a '${' has no closing '}'")
        return "".join(out)

    def _single_quoted(self) -> str:
        end = self.text.find("'", self.pos)
        if end < 0:
            raise self._fail("a single quote is not closed")
        content = self.text[self.pos : end]
        self.pos = end + 1
        return content

    def _double_quoted(self) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == '"':
                return "".join(out)
            if ch == self.escape and self._peek() in ('"', "$", self.escape):
                out.append(self.text[self.pos])
                self.pos += 1
            elif ch == "$":
                out.append(self._dollar())
            else:
                out.append(ch)
        raise self._fail("a double quote is not closed")

    def _dollar(self) -> str:
        ch = self._peek()
        if ch == "{":
            self.pos += 1
            return self._braced()
        if ch in _NAME_START:
            return self.args.get(self._name(), "")
        if ch.isdigit() and ch.isascii():
            # $1 and friends: positional parameters, never set in a Dockerfile.
            self.pos += 1
            return ""
        return "$"

    def _name(self) -> str:
        start = self.pos
        while self._peek() and self._peek() in _NAME_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def _braced(self) -> str:
        name = self._name()
        if not name:
            raise self._fail("bad substitution (expected ${NAME}, ${NAME:-default}, ...)")
        op = self._operator()
        if op == "}":
            return self.args.get(name, "")
        operand = self.word(stop="}")
        self.pos += 1  # the closing '}'
        return self._apply(name, op, operand)

    def _operator(self) -> str:
        for op in (":-", ":+", ":?", "##", "%%", "}", "-", "+", "?", "#", "%"):
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        shown = self._peek() or "end of text"
        raise self._fail(
            f"bad substitution at '{shown}' "
            "(supported: ${NAME}, :-, -, :+, +, :?, ?, #, ##, %, %%)"
        )

    def _apply(self, name: str, op: str, operand: str) -> str:
        value = self.args.get(name)
        # With ':' an empty value counts as unset, as in a POSIX shell.
        missing = value is None or (op.startswith(":") and value == "")
        if op in (":-", "-"):
            return operand if missing else value or ""
        if op in (":+", "+"):
            return "" if missing else operand
        if op in (":?", "?"):
            if missing:
                raise UnsetVariable(
                    f"cannot expand '{self.text}': {name}: {operand or 'parameter not set'}"
                )
            return value or ""
        return _trim(value or "", op, operand)


def _trim(value: str, op: str, pattern: str) -> str:
    """${X#p} ${X##p} ${X%p} ${X%%p}: remove the shortest/longest matching prefix/suffix."""
    cuts = range(len(value) + 1)
    if op in ("##", "%%"):
        cuts = reversed(cuts)
    for cut in cuts:
        if op.startswith("#") and fnmatchcase(value[:cut], pattern):
            return value[cut:]
        if op.startswith("%") and fnmatchcase(value[len(value) - cut :], pattern):
            return value[: len(value) - cut]
    return value
