"""A bounded look inside a PKCS#12 file before OpenSSL sees it: the largest iteration count it asks for.

Every key-derivation and MAC parameter block in PKCS#12 (MacData, the PBE and PBKDF2 parameters) is a
SEQUENCE holding a salt (OCTET STRING) followed by the iteration count (INTEGER). A file can ask for
two billion iterations in 2.6 KB and cost half a minute of CPU per upload; this finds that count with
plain Python, in a walk bounded in depth and in nodes.
"""

from __future__ import annotations

import contextlib

MAX_DEPTH = 32
MAX_NODES = 20_000
SEQUENCE, INTEGER, OCTET_STRING = 0x30, 0x02, 0x04


class DerError(ValueError):
    pass


def _items(data: bytes) -> list[tuple[int, bytes]]:
    items, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise DerError("truncated")
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 4 or pos + count > len(data):
                raise DerError("bad length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        if pos + length > len(data):
            raise DerError("truncated")
        items.append((tag, data[pos : pos + length]))
        pos += length
    return items


def largest_iteration_count(data: bytes) -> int:
    """The largest count any salt-and-iterations block asks for (0 if none). Raises DerError."""
    largest, budget = 0, [MAX_NODES]

    def walk(body: bytes, depth: int) -> None:
        nonlocal largest
        if depth > MAX_DEPTH:
            raise DerError("nested too deeply")
        children = _items(body)
        budget[0] -= len(children)
        if budget[0] < 0:
            raise DerError("too many elements")
        for (tag, value), following in zip(children, [*children[1:], (None, b"")], strict=True):
            if tag == OCTET_STRING and following[0] == INTEGER and 0 < len(following[1]) <= 16:
                largest = max(largest, int.from_bytes(following[1], "big", signed=True))
            constructed = tag is not None and tag & 0x20
            if constructed:
                walk(value, depth + 1)
            elif tag == OCTET_STRING and value[:1] in (bytes([SEQUENCE]),):
                with contextlib.suppress(DerError):  # an octet string that merely starts like DER
                    walk(value, depth + 1)

    walk(data, 0)
    return largest
