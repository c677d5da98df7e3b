"""Bake's standard library: the functions buildx registers (bake/hclparser/stdlib.go).

Semantics follow go-cty's stdlib where bake takes them from there: coalesce() skips only null
(so coalesce("", "x") is ""), numbers print in shortest form, equality does not convert types.
Terraform-only functions bake lacks (tostring, tobool, ...) are unknown here too. Network, time
parsing and set products live in functions_more.py; format/formatdate/semvercmp in
formatting.py; convert() is evaluated by the evaluator (its second argument is a type).
Refused with an error naming them (REFUSED): bcrypt (random salt), rsadecrypt (needs a private
key) and homedir (the machine's state): a build definition should not depend on them here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dockyard.bake.fields import type_name
from dockyard.bake.hcl.errors import EvalProblem
from dockyard.bake.hcl.evaluate import equal, to_bool, to_number, to_str
from dockyard.bake.hcl.formatting import format_date, format_go, semver_compare
from dockyard.bake.hcl.functions_more import MORE

REFUSED = {
    "bcrypt": "it salts randomly, so the definition would change on every read",
    "rsadecrypt": "it needs a private key; pass secrets with `secret` instead",
    "homedir": "it reads the machine's state; use a variable",
}


def _n(v: Any) -> int | float:
    return to_number(v, 0)


def _s(v: Any) -> str:
    return to_str(v, 0)


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise ValueError(f"a list is required, got {type_name(v)}")
    return v


def _num(x: float) -> int | float:
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _go_regex(pattern: str) -> re.Pattern[str]:
    # RE2 named groups (?P<n>) are Python's too; \z is \Z.
    return re.compile(pattern.replace(r"\z", r"\Z"))


def _go_repl(repl: str) -> str:
    # Go's ${1} / $1 / $name expansion -> Python's \g<1> / \g<name>.
    return re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", repl.replace("\\", "\\\\"))


def _regex(pattern: str, s: str) -> Any:
    rx = _go_regex(pattern)
    m = rx.search(s)
    if m is None:
        raise ValueError("pattern did not match any part of the given string")
    if rx.groupindex:
        return m.groupdict()
    return list(m.groups()) if rx.groups else m.group()


def _regexall(pattern: str, s: str) -> list[Any]:
    rx = _go_regex(pattern)
    out = []
    for m in rx.finditer(s):
        out.append(m.groupdict() if rx.groupindex else list(m.groups()) if rx.groups else m.group())
    return out


def _jsonencode(v: Any) -> str:
    text = json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    # Go's json.Marshal escapes HTML-sensitive characters.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _flatten(v: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in v:
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


def _distinct(v: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in v:
        if not any(equal(x, y) for y in out):
            out.append(x)
    return out


def _index_of(v: list[Any], x: Any) -> int:
    for i, y in enumerate(v):
        if equal(x, y):
            return i
    raise ValueError("item not found")


def _lookup(m: dict[str, Any], k: Any, *default: Any) -> Any:
    key = _s(k)
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise ValueError(f'the given map has no key "{key}"')


def _merge(*ms: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in ms:
        if m is not None:
            out.update(m)
    return out


def _range(*a: Any) -> list[Any]:
    nums = [_n(x) for x in a]
    start, stop, step = (
        (0, nums[0], 1) if len(nums) == 1 else (*nums[:2], nums[2] if len(nums) > 2 else 1)
    )
    if step == 0:
        raise ValueError("step may not be zero")
    out, x = [], start
    while (x < stop) if step > 0 else (x > stop):
        out.append(_num(x))
        x += step
        if len(out) > 1024:
            raise ValueError("more than 1024 values")
    return out


def _substr(s: str, offset: Any, length: Any) -> str:
    o, n = int(_n(offset)), int(_n(length))
    if o < 0:
        o = max(len(s) + o, 0)
    return s[o:] if n < 0 else s[o : o + n]


def _slice(v: list[Any], a: Any, b: Any) -> list[Any]:
    i, j = int(_n(a)), int(_n(b))
    if not 0 <= i <= j <= len(v):
        raise ValueError(f"invalid slice [{i}:{j}] of a list of {len(v)}")
    return v[i:j]


def _indent(n: Any, s: str) -> str:
    pad = " " * int(_n(n))
    return s.replace("\n", "\n" + pad)


def _timeadd(ts: str, dur: str) -> str:
    t = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    total, pos = 0.0, 0
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    sign = -1 if dur.startswith("-") else 1
    body = dur.lstrip("+-")
    for m in re.finditer(r"([0-9.]+)(ns|us|µs|ms|h|m|s)", body):
        if m.start() != pos:
            raise ValueError(f'invalid duration "{dur}"')
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(body) or not body:
        raise ValueError(f'invalid duration "{dur}"')
    out = t + timedelta(seconds=sign * total)
    return out.isoformat().replace("+00:00", "Z")


def _parseint(s: Any, base: Any) -> int:
    return int(_s(s), int(_n(base)))


def _sanitize(s: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "_", s)


def _chunk(v: list[Any], n: Any) -> list[Any]:
    size = int(_n(n))
    if size <= 0:
        return [v]
    return [v[i : i + size] for i in range(0, len(v), size)]


STDLIB: dict[str, Callable[[list[Any]], Any]] = {
    "absolute": lambda a: abs(_n(a[0])),
    "add": lambda a: _num(_n(a[0]) + _n(a[1])),
    "and": lambda a: to_bool(a[0], 0) and to_bool(a[1], 0),
    "base64decode": lambda a: base64.b64decode(_s(a[0]), validate=True).decode(),
    "base64encode": lambda a: base64.b64encode(_s(a[0]).encode()).decode(),
    "byteslen": lambda a: len(_s(a[0]).encode()),
    "ceil": lambda a: math.ceil(_n(a[0])),
    "chomp": lambda a: re.sub(r"(\r\n|\n|\r)+\Z", "", _s(a[0])),
    "chunklist": lambda a: _chunk(_list(a[0]), a[1]),
    "coalesce": lambda a: next((x for x in a if x is not None), None),
    "coalescelist": lambda a: next((x for x in a if isinstance(x, list) and x), []),
    "compact": lambda a: [x for x in _list(a[0]) if x not in (None, "")],
    "concat": lambda a: [x for v in a for x in _list(v)],
    "contains": lambda a: any(equal(a[1], x) for x in _list(a[0])),
    "csvdecode": lambda a: _csvdecode(_s(a[0])),
    "distinct": lambda a: _distinct(_list(a[0])),
    "divide": lambda a: _num(_n(a[0]) / _n(a[1])),
    "element": lambda a: _list(a[0])[int(_n(a[1])) % len(a[0])],
    "equal": lambda a: equal(a[0], a[1]),
    "flatten": lambda a: _flatten(_list(a[0])),
    "floor": lambda a: math.floor(_n(a[0])),
    "format": lambda a: format_go(_s(a[0]), a[1:]),
    "formatdate": lambda a: format_date(_s(a[0]), _s(a[1])),
    "formatlist": lambda a: _formatlist(a),
    "greaterthan": lambda a: _n(a[0]) > _n(a[1]),
    "greaterthanorequalto": lambda a: _n(a[0]) >= _n(a[1]),
    "hasindex": lambda a: _hasindex(a[0], a[1]),
    "indent": lambda a: _indent(a[0], _s(a[1])),
    "index": lambda a: _hasindex(a[0], a[1]) and (a[0][a[1]] if isinstance(a[0], dict) else a[0][int(_n(a[1]))]),
    "indexof": lambda a: _index_of(_list(a[0]), a[1]),
    "int": lambda a: int(_n(a[0])),
    "join": lambda a: _s(a[0]).join(_s(x) for v in a[1:] for x in _list(v)),
    "jsondecode": lambda a: json.loads(_s(a[0])),
    "jsonencode": lambda a: _jsonencode(a[0]),
    "keys": lambda a: sorted(a[0]),
    "length": lambda a: len(a[0]) if isinstance(a[0], (list, dict)) else len(_s(a[0])),
    "lessthan": lambda a: _n(a[0]) < _n(a[1]),
    "lessthanorequalto": lambda a: _n(a[0]) <= _n(a[1]),
    "log": lambda a: math.log(_n(a[0]), _n(a[1])),
    "lookup": lambda a: _lookup(a[0], *a[1:]),
    "lower": lambda a: _s(a[0]).lower(),
    "max": lambda a: max(_n(x) for x in a),
    "md5": lambda a: hashlib.md5(_s(a[0]).encode(), usedforsecurity=False).hexdigest(),
    "merge": lambda a: _merge(*a),
    "min": lambda a: min(_n(x) for x in a),
    "modulo": lambda a: _num(math.fmod(_n(a[0]), _n(a[1]))),
    "multiply": lambda a: _num(_n(a[0]) * _n(a[1])),
    "negate": lambda a: _num(-_n(a[0])),
    "not": lambda a: not to_bool(a[0], 0),
    "notequal": lambda a: not equal(a[0], a[1]),
    "or": lambda a: to_bool(a[0], 0) or to_bool(a[1], 0),
    "parseint": lambda a: _parseint(a[0], a[1]),
    "pow": lambda a: _num(math.pow(_n(a[0]), _n(a[1]))),
    "range": lambda a: _range(*a),
    "regex": lambda a: _regex(_s(a[0]), _s(a[1])),
    "regex_replace": lambda a: _go_regex(_s(a[1])).sub(_go_repl(_s(a[2])), _s(a[0])),
    "regexall": lambda a: _regexall(_s(a[0]), _s(a[1])),
    "replace": lambda a: _s(a[0]).replace(_s(a[1]), _s(a[2])),
    "reverse": lambda a: _s(a[0])[::-1],
    "reverselist": lambda a: list(reversed(_list(a[0]))),
    "sanitize": lambda a: _sanitize(_s(a[0])),
    "semvercmp": lambda a: semver_compare(_s(a[0]), _s(a[1])),
    "sethaselement": lambda a: any(equal(a[1], x) for x in _list(a[0])),
    "setintersection": lambda a: [x for x in _distinct(_list(a[0])) if all(any(equal(x, y) for y in s) for s in a[1:])],
    "setsubtract": lambda a: [x for x in _distinct(_list(a[0])) if not any(equal(x, y) for y in _list(a[1]))],
    "setunion": lambda a: _distinct([x for s in a for x in _list(s)]),
    "sha1": lambda a: hashlib.sha1(_s(a[0]).encode(), usedforsecurity=False).hexdigest(),
    "sha256": lambda a: hashlib.sha256(_s(a[0]).encode()).hexdigest(),
    "sha512": lambda a: hashlib.sha512(_s(a[0]).encode()).hexdigest(),
    "signum": lambda a: (_n(a[0]) > 0) - (_n(a[0]) < 0),
    "slice": lambda a: _slice(_list(a[0]), a[1], a[2]),
    "sort": lambda a: sorted(_s(x) for x in _list(a[0])),
    "split": lambda a: _s(a[1]).split(_s(a[0])) if _s(a[0]) else list(_s(a[1])),
    "strlen": lambda a: len(_s(a[0])),
    "substr": lambda a: _substr(_s(a[0]), a[1], a[2]),
    "subtract": lambda a: _num(_n(a[0]) - _n(a[1])),
    "timeadd": lambda a: _timeadd(_s(a[0]), _s(a[1])),
    "timestamp": lambda a: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "title": lambda a: re.sub(r"\b([a-z])", lambda m: m.group(1).upper(), _s(a[0])),
    "trim": lambda a: _s(a[0]).strip(_s(a[1])),
    "trimprefix": lambda a: _s(a[0]).removeprefix(_s(a[1])),
    "trimspace": lambda a: _s(a[0]).strip(),
    "trimsuffix": lambda a: _s(a[0]).removesuffix(_s(a[1])),
    "upper": lambda a: _s(a[0]).upper(),
    "urlencode": lambda a: urllib.parse.quote(_s(a[0]), safe=""),
    "uuidv4": lambda a: str(uuid.uuid4()),
    "uuidv5": lambda a: str(uuid.uuid5(_UUID_NS.get(_s(a[0]), uuid.UUID(_s(a[0])) if len(_s(a[0])) == 36 else uuid.NAMESPACE_DNS), _s(a[1]))),
    "values": lambda a: [a[0][k] for k in sorted(a[0])],
    "zipmap": lambda a: dict(zip((_s(k) for k in _list(a[0])), _list(a[1]), strict=True)),
    "try": lambda a: _try(a),
    "can": lambda a: _can(a),
    "convert": lambda a: a[0],  # evaluated by the evaluator (its type argument is syntax)
}  # fmt: skip
_UUID_NS = {"dns": uuid.NAMESPACE_DNS, "url": uuid.NAMESPACE_URL, "oid": uuid.NAMESPACE_OID,
            "x500": uuid.NAMESPACE_X500}  # fmt: skip


def _hasindex(coll: Any, key: Any) -> bool:
    if isinstance(coll, dict):
        return _s(key) in coll
    return isinstance(coll, list) and 0 <= int(_n(key)) < len(coll)


def _csvdecode(text: str) -> list[dict[str, str]]:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    head = rows[0]
    return [dict(zip(head, r, strict=True)) for r in rows[1:]]


def _formatlist(a: list[Any]) -> list[str]:
    lists = [x for x in a[1:] if isinstance(x, list)]
    n = len(lists[0]) if lists else 1
    out = []
    for i in range(n):
        out.append(format_go(_s(a[0]), [x[i] if isinstance(x, list) else x for x in a[1:]]))
    return out


def _try(thunks: list[Any]) -> Any:
    for t in thunks:
        try:
            return t()
        except EvalProblem:
            continue
    raise ValueError("no expression succeeded")


def _can(thunks: list[Any]) -> bool:
    try:
        thunks[0]()
    except EvalProblem:
        return False
    return True


STDLIB.update(MORE)
for _name, _why in REFUSED.items():
    STDLIB[_name] = lambda a, _name=_name, _why=_why: refused_function(_name, _why)


def refused_function(name: str, why: str) -> Any:
    raise EvalProblem(f"function {name}() is not supported by dockyard: {why}", 0)
