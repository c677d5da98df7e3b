"""The rest of bake's stdlib: network (cidr*), time parsing, set products, Go path functions.

Kept apart from functions.py so that each file stays one screenful of concerns; STDLIB there
merges MORE in.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dockyard.bake.hcl.evaluate import equal, to_number, to_str
from dockyard.bake.model import clean_path


def _n(v: Any) -> int:
    x = to_number(v, 0)
    if not float(x).is_integer():
        raise ValueError(f"a whole number is required, got {x}")
    return int(x)


def _net(prefix: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(to_str(prefix, 0), strict=False)


def cidrhost(prefix: Any, num: Any) -> str:
    net, n = _net(prefix), _n(num)
    size = net.num_addresses
    if not -size <= n < size:
        raise ValueError(f"prefix of {net.prefixlen} bits cannot accommodate a host numbered {n}")
    base = int(net.network_address) + (n if n >= 0 else size + n)
    return str(ipaddress.ip_address(base))


def cidrnetmask(prefix: Any) -> str:
    net = _net(prefix)
    if net.version != 4:
        raise ValueError("only IPv4 networks have a netmask")
    return str(net.netmask)


def cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    net, bits, num = _net(prefix), _n(newbits), _n(netnum)
    subnets = list(itertools.islice(net.subnets(prefixlen_diff=bits), num, num + 1))
    if not subnets:
        raise ValueError(f"prefix extension of {bits} does not accommodate a subnet numbered {num}")
    return str(subnets[0])


def cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    net = _net(prefix)
    out, cursor = [], int(net.network_address)
    for nb in newbits:
        length = net.prefixlen + _n(nb)
        if length > net.max_prefixlen:
            raise ValueError(f"would extend prefix to {length} bits, too long for this network")
        size = 1 << (net.max_prefixlen - length)
        cursor = (cursor + size - 1) // size * size  # align to the new subnet's size
        sub = ipaddress.ip_network((cursor, length))
        if not sub.subnet_of(net):  # type: ignore[arg-type]
            raise ValueError(f"not enough remaining address space for a subnet of {length} bits")
        out.append(str(sub))
        cursor += size
    return out


def unixtimestampparse(ts: Any) -> dict[str, Any]:
    t = datetime.fromtimestamp(_n(ts), tz=UTC)
    iso_year, iso_week, _ = t.isocalendar()
    return {
        "year": t.year, "year_day": t.timetuple().tm_yday, "day": t.day, "month": t.month,
        "month_name": t.strftime("%B"), "weekday": (t.weekday() + 1) % 7,
        "weekday_name": t.strftime("%A"), "hour": t.hour, "minute": t.minute,
        "second": t.second, "rfc3339": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "iso_year": iso_year, "iso_week": iso_week,
    }  # fmt: skip


def setproduct(*sets: Any) -> list[list[Any]]:
    if not sets:
        raise ValueError("at least one argument is required")
    return [list(p) for p in itertools.product(*sets)]


def setsymmetricdifference(*sets: Any) -> list[Any]:
    out: list[Any] = []
    for i, s in enumerate(sets):
        for x in s:
            others = [o for j, o in enumerate(sets) if j != i]
            count = sum(1 for o in others if any(equal(x, y) for y in o))
            if count % 2 == 0 and not any(equal(x, y) for y in out):
                out.append(x)
    return out


def go_base(path: Any) -> str:
    p = to_str(path, 0).rstrip("/")
    if not to_str(path, 0):
        return "."
    return p.rsplit("/", 1)[-1] if p else "/"


def go_dir(path: Any) -> str:
    p = to_str(path, 0)
    head = p[: p.rfind("/") + 1]
    return clean_path(head) if head else "."


def bytesslice(buf: Any, offset: Any, length: Any) -> str:
    data = to_str(buf, 0).encode()
    o, n = _n(offset), _n(length)
    if o < 0 or n < 0 or o + n > len(data):
        raise ValueError("offset and length are out of range")
    return data[o : o + n].decode(errors="replace")


MORE: dict[str, Callable[[list[Any]], Any]] = {
    "basename": lambda a: go_base(a[0]),
    "bytesslice": lambda a: bytesslice(*a),
    "cidrhost": lambda a: cidrhost(*a),
    "cidrnetmask": lambda a: cidrnetmask(*a),
    "cidrsubnet": lambda a: cidrsubnet(*a),
    "cidrsubnets": lambda a: cidrsubnets(*a),
    "dirname": lambda a: go_dir(a[0]),
    "setproduct": lambda a: setproduct(*a),
    "setsymmetricdifference": lambda a: setsymmetricdifference(*a),
    "unixtimestampparse": lambda a: unixtimestampparse(*a),
}
