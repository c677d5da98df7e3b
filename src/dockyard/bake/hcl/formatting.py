"""The three stdlib functions with a small language of their own: format, formatdate, semvercmp.

- format(): cty's verbs %v %s %q %d %f %e %g %t %x %o %b %% with flags, width, precision.
- formatdate(): Terraform's tokens (YYYY YY MMMM MMM MM M DD D EEEE EEE hh h HH H AA aa mm m
  ss s ZZZZZ ZZZZ ZZZ Z, 'quoted literal').
- semvercmp(version, constraint): Masterminds/semver constraints (=, !=, >, <, >=, <=, ~, ^,
  x wildcards, `,` for and, `||` for or), as bake implements it with that library.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from dockyard.bake.fields import render

_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def format_go(spec: str, args: list[Any]) -> str:
    out, i, pos = [], 0, 0
    for m in _VERB.finditer(spec):
        out.append(spec[pos : m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if i >= len(args):
            raise ValueError(f"not enough arguments for %{verb}")
        v = args[i]
        i += 1
        pyflags = flags.replace("#", "")
        w = width or ""
        p = f".{prec}" if prec is not None else ""
        if verb in ("s", "v"):
            text = (
                v
                if isinstance(v, str)
                else json.dumps(v)
                if isinstance(v, (list, dict))
                else render(v)
            )
            out.append(
                format(text[: int(prec)] if prec else text, f"{'<' if '-' in flags else '>'}{w}")
            )
        elif verb == "q":
            out.append(json.dumps(render(v)))
        elif verb == "t":
            out.append("true" if v is True or v == "true" else "false")
        elif verb in ("d", "x", "X", "o", "b"):
            n = int(float(v))
            code = {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb]
            out.append(
                format(n, f"{'<' if '-' in flags else ''}{pyflags.replace('-', '')}{w}{code}")
            )
        elif verb in ("f", "e", "g", "E", "G"):
            f = float(v)
            p = p or (".6" if verb in "fe" else "")
            out.append(format(f, f"{pyflags.replace('-', '')}{w}{p}{verb}"))
        else:
            raise ValueError(f"unsupported format verb %{verb}")
    out.append(spec[pos:])
    if i < len(args):
        raise ValueError(f"too many arguments; only {i} used by format string")
    return "".join(out)


_DATE_TOKENS = re.compile(
    r"'[^']*'|YYYY|YY|MMMM|MMM|MM|M|DD|D|EEEE|EEE|hh|h|HH|H|AA|aa|mm|m|ss|s|ZZZZZ|ZZZZ|ZZZ|Z|."
)


def _offset(t: datetime, colon: bool) -> str:
    off = t.utcoffset()
    mins = int(off.total_seconds() // 60) if off else 0
    sign = "-" if mins < 0 else "+"
    h, m = divmod(abs(mins), 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


def format_date(spec: str, ts: str) -> str:
    try:
        t = datetime.fromisoformat(ts.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f'"{ts}" is not an RFC 3339 timestamp') from None
    if t.tzinfo is None:
        raise ValueError(f'"{ts}" is not an RFC 3339 timestamp (no time zone)')
    h12 = t.hour % 12 or 12
    table = {
        "YYYY": f"{t.year:04d}", "YY": f"{t.year % 100:02d}", "MMMM": t.strftime("%B"),
        "MMM": t.strftime("%b"), "MM": f"{t.month:02d}", "M": str(t.month),
        "DD": f"{t.day:02d}", "D": str(t.day), "EEEE": t.strftime("%A"), "EEE": t.strftime("%a"),
        "hh": f"{t.hour:02d}", "h": str(t.hour), "HH": f"{h12:02d}", "H": str(h12),
        "AA": "PM" if t.hour >= 12 else "AM", "aa": "pm" if t.hour >= 12 else "am",
        "mm": f"{t.minute:02d}", "m": str(t.minute), "ss": f"{t.second:02d}", "s": str(t.second),
        "ZZZZZ": _offset(t, True), "ZZZZ": _offset(t, False), "ZZZ": t.tzname() or "UTC",
    }  # fmt: skip
    out = []
    for tok in _DATE_TOKENS.findall(spec):
        if tok.startswith("'"):
            out.append(tok[1:-1] if tok != "''" else "'")
        elif tok == "Z":
            out.append("Z" if not t.utcoffset() else _offset(t, True))
        elif tok in table:
            out.append(table[tok].replace("UTC", "UTC"))
        elif tok.isalpha():
            raise ValueError(f'invalid date format token "{tok}"')
        else:
            out.append(tok)
    return "".join(out)


_SEMVER = re.compile(
    r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


def _parse(v: str) -> tuple[list[int | None], str]:
    m = _SEMVER.match(v.strip())
    if not m:
        raise ValueError(f'"{v}" is not a semantic version')
    parts = [None if g is None or g in "xX*" else int(g) for g in m.group(1, 2, 3)]
    return parts, m.group(4) or ""


def _pre_key(pre: str) -> tuple[Any, ...]:
    if not pre:
        return (1,)
    return (0, *[(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")])


def _key(parts: list[int | None], pre: str) -> tuple[Any, ...]:
    return (*[p or 0 for p in parts], _pre_key(pre))


def _check(version: tuple[list[int | None], str], op: str, target: str) -> bool:
    vp, vpre = version
    tp, tpre = _parse(target)
    v, t = _key(vp, vpre), _key(tp, tpre)
    if vpre and not tpre:
        return False  # Masterminds: a pre-release only satisfies constraints naming one
    wild = [i for i, p in enumerate(tp) if p is None]
    if op in ("", "=") and wild:
        n = wild[0]
        return all(vp[i] == tp[i] for i in range(n))
    if op == "~":
        upper = [tp[0] or 0, (tp[1] or 0) + 1, 0] if tp[1] is not None else [(tp[0] or 0) + 1, 0, 0]
        return t <= v < _key(upper, "0")  # type: ignore[arg-type]
    if op == "^":
        base = tp[0] or 0
        if base > 0 or tp[1] is None:
            upper = [base + 1, 0, 0]
        elif (tp[1] or 0) > 0 or tp[2] is None:
            upper = [0, (tp[1] or 0) + 1, 0]
        else:
            upper = [0, 0, (tp[2] or 0) + 1]
        return t <= v < _key(upper, "0")  # type: ignore[arg-type]
    return {"": v == t, "=": v == t, "!=": v != t, ">": v > t, "<": v < t, ">=": v >= t,
            "<=": v <= t}[op]  # fmt: skip


def semver_compare(version: str, constraint: str) -> bool:
    v = _parse(version)
    for alternative in constraint.split("||"):
        terms = re.findall(
            r"(>=|<=|!=|=>|=<|[=<>~^]|~>)?\s*(v?[0-9xX*][0-9A-Za-z.+-]*)", alternative
        )
        if not terms:
            raise ValueError(f'invalid constraint "{constraint}"')
        if all(_check(v, {"=>": ">=", "=<": "<=", "~>": "~"}.get(op, op), t) for op, t in terms):
            return True
    return False
