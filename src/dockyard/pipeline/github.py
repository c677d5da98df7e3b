"""GitHub Actions' step files: the summary table and the outputs a later step reads.

The text is made by publish.summary (pure); this module appends it to
$GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT, each only when GitHub sets it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.errors import OperationError
from dockyard.publish.summary import SummaryRow, github_outputs, markdown


def write_github(
    rows: Sequence[SummaryRow],
    *,
    document: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    title: str = "dockyard release",
    outputs: bool = True,
) -> None:
    """Append the Markdown summary to $GITHUB_STEP_SUMMARY and the outputs to $GITHUB_OUTPUT
    (each only when set, as GitHub Actions sets them).

    `outputs=False` (nothing was published: a dry run, a stopped release)
    writes the summary only, so no later step reads a digest that is not there.
    """
    env = os.environ if environ is None else environ
    for variable, text in (
        ("GITHUB_STEP_SUMMARY", lambda: markdown(rows, title=title)),
        ("GITHUB_OUTPUT", lambda: github_outputs(rows, document=document)),
    ):
        path = env.get(variable)
        if not path or (variable == "GITHUB_OUTPUT" and not outputs):
            continue
        try:
            with open(path, "a", encoding="utf-8") as out:
                out.write(text())
        except OSError as exc:
            raise OperationError(f"${variable} ({path}): cannot append: {exc.strerror}") from None
