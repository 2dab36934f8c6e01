"""What other capabilities may ask of the telemetry store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from openem.telemetry.tables import TelemetryMessageRow


def messages_by_key(session: Session, keys: Iterable[tuple[str, int]]) -> list[TelemetryMessageRow]:
    """The stored messages with these (device_id, seq) keys, found through the primary key: one
    `device_id = ? AND seq IN (...)` per device. (A row-value `IN` list is not searched by index on SQLite:
    it scanned every stored message.)"""
    by_device: dict[str, set[int]] = defaultdict(set)
    for device_id, seq in keys:
        by_device[device_id].add(int(seq))
    if not by_device:
        return []
    t = TelemetryMessageRow
    where = or_(*(and_(t.device_id == d, t.seq.in_(sorted(seqs))) for d, seqs in by_device.items()))
    return list(session.execute(select(t).where(where)).scalars())
