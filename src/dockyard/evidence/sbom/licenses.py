"""Which license texts are SPDX expressions, and which must be named as found (pure).

    spdx_expression("BSD-3-clause")   # "BSD-3-Clause"
    spdx_expression("GPL")            # None: not an SPDX id as written (a LicenseRef, kept verbatim)

Packages carry licenses as their databases write them (syft's SPDX
expression where it made one, apk's `L:`, a Python `License` field). An
SBOM names a text as an SPDX expression only when SPDX's license list
(spdx-tools' licensing) knows every id in it as written, up to case: the
licensing library would also map aliases (`GPL` to `GPL-1.0-or-later`),
which says more than the package did, so such a text stays verbatim, as a
`LicenseRef-dockyard-` in SPDX or a license name in CycloneDX.
"""

from __future__ import annotations

import hashlib
import re

from spdx_tools.common.spdx_licensing import spdx_licensing

_SPACE = re.compile(r"\s+")
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def spdx_expression(text: str) -> str | None:
    """The normalised SPDX expression `text` is, or None if it is not one as written."""
    try:
        info = spdx_licensing.validate(text)
    except Exception:  # license_expression raises its own errors on odd syntax
        return None
    normalised = info.normalized_expression
    if info.errors or info.invalid_symbols or not normalised:
        return None
    return normalised if _plain(normalised) == _plain(text) else None


def license_ref(text: str) -> str:
    """A `LicenseRef-dockyard-…` id naming `text`, unique per text.

    SPDX allows letters, digits, `.` and `-`: a text with other characters
    gets a short hash of itself appended, so two texts never share an id.
    The `dockyard-` prefix keeps the id clear of the licensing library's
    aliases (`LicenseRef-GPL` would be read as GPL-1.0-or-later).
    """
    safe = _UNSAFE.sub("-", text).strip("-")
    if safe != text or not safe:
        safe = f"{safe}-{hashlib.sha256(text.encode()).hexdigest()[:8]}".lstrip("-")
    return f"LicenseRef-dockyard-{safe}"


def _plain(text: str) -> str:
    text = _SPACE.sub(" ", text).strip().lower()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text
