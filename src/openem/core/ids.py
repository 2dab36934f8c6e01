"""Identifiers: sortable, random ids with a readable prefix (ORD-, ACT-, ALR-...)."""

from __future__ import annotations

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str = "") -> str:
    """A ULID-like id: 48-bit millisecond time + 80 random bits, Crockford base32, sortable by creation."""
    ms = int(time.time() * 1000)
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    body = "".join(reversed(chars))
    return f"{prefix}-{body}" if prefix else body
