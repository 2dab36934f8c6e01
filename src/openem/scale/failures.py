"""One policy for engine input failures, for the in-server engine and the partition workers alike
(docs/decisions/0017): a batch on which the engine raises is retried from the last checkpoint, at most
`ATTEMPTS` times in all; then its messages are parked as an engine rejection (logged, counted, an alert an
operator sees with the messages as its evidence) and the engine carries on from its checkpoint without them.
One bad batch never holds the fleet, and nothing is dropped without a trace: the messages stay in the store."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter

from openem.core.time import utcnow
from openem.monitoring.model import make_alert, to_iso

log = logging.getLogger("openem.engine.failures")

ATTEMPTS = 3  # tries of one batch (the first and two retries from the checkpoint) before it is parked
REJECTED_KIND = "engine_input_rejected"
PARKED = Counter("openem_engine_parked_messages_total", "Telemetry messages the engine parked after failing on them",
                 ["engine"])  # fmt: skip
EVIDENCE_CAP = 500  # the alerts store keeps at most this many evidence entries; the count is in the details


def message_ids(messages: Sequence[Any]) -> list[tuple[str, int]]:
    """(device id, sequence) of wire dicts (workers) or stored `Message`s (the in-server engine)."""
    return [
        (m["device_id"], int(m["seq"])) if isinstance(m, dict) else (m.device_id, int(m.seq))
        for m in messages
    ]


def rejection_alert(
    engine: str, ids: Sequence[tuple[str, int]], error: BaseException | str, **where: Any
) -> dict[str, Any]:
    """The operator-visible record of a parked batch: its messages (evidence), the engine and the error. The id
    is deterministic in the messages, so parking the same batch again (after a restart) stores nothing new."""
    ids = sorted(set(ids))
    digest = hashlib.sha256(repr(ids).encode()).hexdigest()[:16]
    now = utcnow().timestamp()
    alert = make_alert(REJECTED_KIND, order=None, device_id=ids[0][0] if len(ids) == 1 else "",
                       condition_id=f"{engine}:{digest}", start=0.0, end=None, evidence=ids[:EVIDENCE_CAP],
                       details={"engine": engine, "messages": len(ids), "error": str(error)[:500],
                                "attempts": ATTEMPTS, **where})  # fmt: skip
    # `start` is in the id only as 0: the id depends on the messages, not on when they were parked
    alert["start"] = alert["detected_at"] = to_iso(now)
    alert["severity"] = "HIGH"
    PARKED.labels(engine=engine.split(":")[0]).inc(len(ids))
    log.error("engine input parked after %d attempts", ATTEMPTS,
              extra={"engine": engine, "messages": len(ids), "error": str(error)[:500], **where})  # fmt: skip
    return alert
