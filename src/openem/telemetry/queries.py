"""What other capabilities may ask of telemetry (read-only, plain values; never the ORM rows): an alert's
evidence, the batches stored after a position, and their messages as they were accepted (for an engine
catching up on what it had not processed before a restart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from openem.telemetry.tables import TelemetryBatchRow, TelemetryMessageRow
from openem.telemetry.wire import Message


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


def batches_after(session: Session, after: int) -> list[tuple[int, datetime, int]]:
    """(batch id, received at, messages accepted) of every batch stored after batch `after`, oldest first."""
    b = TelemetryBatchRow
    rows = session.execute(select(b.id, b.received_at, b.accepted).where(b.id > after).order_by(b.id))
    return [(int(i), at, int(n)) for i, at, n in rows]


def messages_of_batches(session: Session, batch_ids: Sequence[int]) -> dict[int, list[Message]]:
    """The messages each batch stored (its new ones: duplicates are not stored twice), with the flags ingest
    gave them, in the order of (device, sequence)."""
    m = TelemetryMessageRow
    out: dict[int, list[Message]] = {int(i): [] for i in batch_ids}
    ids = sorted(out)
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(m.batch_id, m.device_id, m.seq, m.type, m.device_time, m.receive_time, m.payload, m.flags)
            .where(m.batch_id.in_(ids[i : i + 500]))
            .order_by(m.batch_id, m.device_id, m.seq)
        )
        for batch_id, device_id, seq, kind, device_time, receive_time, payload, flags in rows:
            out[int(batch_id)].append(
                Message(
                    device_id,
                    int(seq),
                    kind,
                    device_time,
                    receive_time,
                    dict(payload or {}),
                    tuple(flags or ()),
                )
            )
    return out
