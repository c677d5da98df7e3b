"""Problems found while parsing or evaluating, with the line; the reader adds file and block."""

from __future__ import annotations


class Problem(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class SyntaxProblem(Problem):
    """The text is not HCL (or not bake's JSON form of it)."""


class EvalProblem(Problem):
    """An expression could not be evaluated (unknown variable, wrong type, failed function)."""
