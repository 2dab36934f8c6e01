"""Signed webhooks (pure): HMAC-SHA256 over "<timestamp>.<delivery id>.<body>", sent in headers. A receiver
checks the signature in constant time, refuses a timestamp outside its tolerance (a replay of an old request)
and a delivery id it has already seen (a replay inside the tolerance)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping

SIGNATURE = "X-OpenEM-Signature"
TIMESTAMP = "X-OpenEM-Timestamp"
DELIVERY = "X-OpenEM-Delivery"
TOLERANCE_S = 300


def signature(secret: str, timestamp: int, delivery_id: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{delivery_id}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def sign(secret: str, timestamp: int, delivery_id: str, body: bytes) -> dict[str, str]:
    """The headers to send with the body."""
    return {TIMESTAMP: str(timestamp), DELIVERY: delivery_id, SIGNATURE: signature(secret, timestamp, delivery_id, body),
            "Content-Type": "application/json"}  # fmt: skip


class Refused(ValueError):
    pass


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float,
           seen: Callable[[str], bool], tolerance_s: int = TOLERANCE_S) -> str:  # fmt: skip
    """The delivery id of a genuine, fresh, first-seen request; else Refused. `seen(id)` records the id and says
    whether it had been seen before (the receiver's store)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        ts = int(lower.get(TIMESTAMP.lower(), ""))
    except ValueError:
        raise Refused("no or bad timestamp") from None
    delivery = lower.get(DELIVERY.lower(), "")
    sent = lower.get(SIGNATURE.lower(), "")
    if not delivery or len(delivery) > 200 or not sent:
        raise Refused("no delivery id or signature")
    if not hmac.compare_digest(sent, signature(secret, ts, delivery, body)):
        raise Refused("bad signature")
    if abs(now - ts) > tolerance_s:
        raise Refused("timestamp outside the tolerance (a replay?)")
    if seen(delivery):
        raise Refused("delivery id already seen (a replay)")
    return delivery
