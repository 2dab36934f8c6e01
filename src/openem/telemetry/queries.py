"""What other capabilities may ask of telemetry (read-only, plain values; never the ORM rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from openem.telemetry.tables import TelemetryMessageRow


def evidence_messages(session: Session, keys: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    """The stored messages named by (device_id, seq), oldest device time first, as plain dicts
    (device_id, seq, type, device_time, payload, flags): an alert's evidence."""
    if not keys:
        return []
    m = TelemetryMessageRow
    rows = session.execute(
        select(m.device_id, m.seq, m.type, m.device_time, m.payload, m.flags).where(
            tuple_(m.device_id, m.seq).in_(list(keys))
        )
    ).all()
    return [
        {
            "device_id": r.device_id,
            "seq": r.seq,
            "type": r.type,
            "device_time": r.device_time,
            "payload": r.payload or {},
            "flags": list(r.flags or []),
        }
        for r in sorted(rows, key=lambda r: r.device_time)
    ]
