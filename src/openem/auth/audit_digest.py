"""The audit chain's digests, pure functions over plain data.

Rows written before the keyed chain (up to the sealed boundary) keep the original sha256 digest; every later
row carries an HMAC-SHA256 under a key kept outside the database, named by its key id, so that nobody with
write access to the database alone can recompute the chain. The boundary (`legacy_until` and the hash there)
and the anchors written outside the database are MACed under the same keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from openem.core.time import iso

GENESIS = "0" * 64


def row_body(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    records: list[str],
    purpose: str,
    outcome: str,
    details: dict[str, Any],
) -> str:
    return json.dumps(
        {
            "seq": seq,
            "at": iso(at),
            "actor": actor,
            "action": action,
            "records": records,
            "purpose": purpose,
            "outcome": outcome,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def row_digest(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    records: list[str],
    purpose: str,
    outcome: str,
    details: dict[str, Any],
) -> str:
    """The original, unkeyed digest (rows up to the keyed-chain boundary)."""
    body = row_body(seq, at, actor, action, records, purpose, outcome, details)
    return hashlib.sha256((prev_hash + "|" + body).encode("utf-8")).hexdigest()


def mac(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def keyed_digest(
    secret: bytes,
    key_id: str,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    records: list[str],
    purpose: str,
    outcome: str,
    details: dict[str, Any],
) -> str:
    body = row_body(seq, at, actor, action, records, purpose, outcome, details)
    return mac(secret, f"openem-audit-row|{key_id}|{prev_hash}|{body}")


def seal_message(legacy_until: int, legacy_hash: str) -> str:
    return f"openem-audit-legacy|{legacy_until}|{legacy_hash}"


def anchor_message(seq: int, row_hash: str, at: str, key_id: str) -> str:
    return f"openem-audit-anchor|{seq}|{row_hash}|{at}|{key_id}"


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)
