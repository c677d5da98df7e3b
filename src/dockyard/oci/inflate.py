"""The caps on inflating a layer, for every path that decompresses one (inspect, verify, sbom).

A decompression bomb is a few MB of gzip that inflates to GBs: `inspect`
took 2.1 GB of memory and 26 s on a 10 MB layer of 10 GiB zeros before
these caps applied to it. One set of limits (InflateLimits), one ratio
decision (`over_ratio`), and `gunzip` for the readers that count bytes
without reading the tar (inspect's uncompressed size). verify's arch scan
and the SBOM reader take the same limits (verify/archscan.ScanLimits is this
class) and also count tar entries.

The ratio is judged against max(compressed bytes read, ratio_floor): a
small layer may hold a zero-filled file up to ratio_floor x max_ratio
(50 MiB) without tripping it, and a bomb smaller than 1 MiB is still caught.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from isal import isal_zlib

from dockyard.errors import InflateLimitReached

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
CHUNK = 1 * MiB  # compressed bytes read per call
OUT_CHUNK = 4 * MiB  # decompressed bytes produced per call: memory stays bounded


@dataclass(frozen=True)
class InflateLimits:
    # Far above any real layer set; a decompression bomb stops here (per image).
    max_uncompressed: int = 8 * GiB
    # Real layers compress 2-10x; gzip tops out near 1030x and zstd far beyond.
    max_ratio: int = 200
    # The ratio is judged against at least this many compressed bytes: a small
    # layer holding a zero-filled file is legitimate, a small bomb is not.
    ratio_floor: int = 256 * KiB
    # Entries over all layers (readers of the tar); also the cap on paths kept in memory.
    max_entries: int = 1_000_000


def over_ratio(decompressed: int, compressed: int, limits: InflateLimits) -> bool:
    """True when `decompressed` bytes from `compressed` ones exceed the ratio cap."""
    return decompressed > limits.max_ratio * max(compressed, limits.ratio_floor)


def size_text(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def gunzip(stream: IO[bytes], *, name: str, limits: InflateLimits) -> Iterator[tuple[bytes, bytes]]:
    """(compressed chunk or b"", decompressed chunk) pairs of a gzip stream (several members
    allowed), never more than OUT_CHUNK decompressed at once; InflateLimitReached when the
    ratio or max_uncompressed is passed. Raises ValueError at the end of a truncated stream."""
    d = isal_zlib.decompressobj(wbits=31)
    compressed = decompressed = 0
    while chunk := stream.read(CHUNK):
        compressed += len(chunk)
        pending, first = chunk, True
        while pending:
            out = d.decompress(pending, OUT_CHUNK)
            pending = d.unconsumed_tail
            if d.eof and d.unused_data:
                # A gzip stream may hold several members (pigz, concatenation).
                pending = d.unused_data + pending
                d = isal_zlib.decompressobj(wbits=31)
            decompressed += len(out)
            _check(name, decompressed, compressed, limits)
            yield (chunk if first else b""), out
            first = False
            if not out and not pending:
                break
    if not d.eof:
        raise ValueError(f"{name}: the gzip stream is truncated")


def _check(name: str, decompressed: int, compressed: int, limits: InflateLimits) -> None:
    if over_ratio(decompressed, compressed, limits):
        raise InflateLimitReached(
            f"{name}: decompresses more than {limits.max_ratio}x "
            f"({size_text(decompressed)} from {size_text(compressed)}): a decompression bomb?"
        )
    if decompressed > limits.max_uncompressed:
        raise InflateLimitReached(
            f"{name}: decompresses to more than {size_text(limits.max_uncompressed)}"
        )
