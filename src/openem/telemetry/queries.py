"""What other capabilities may ask of telemetry (read-only, plain values; never the ORM rows): an alert's
evidence, the batches stored after a position, and their messages as they were accepted (for an engine
catching up on what it had not processed before a restart)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from openem.telemetry.tables import TelemetryBatchRow, TelemetryMessageRow, TrailPointRow
from openem.telemetry.wire import Message


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


def evidence_messages(session: Session, keys: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    """The stored messages named by (device_id, seq), oldest device time first, as plain dicts
    (device_id, seq, type, device_time, payload, flags): an alert's evidence."""
    rows = messages_by_key(session, keys)
    return [
        {
            "device_id": r.device_id,
            "seq": r.seq,
            "type": r.type,
            "device_time": r.device_time,
            "payload": dict(r.payload or {}),
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


def trail_of_person(
    session: Session, person_id: str, start: datetime, end: datetime, limit: int = 200_000
) -> list[dict[str, Any]]:
    """A person's positions in [start, end), oldest first (the recent store's trail points), as plain dicts."""
    rows = session.execute(
        select(
            TrailPointRow.device_id,
            TrailPointRow.seq,
            TrailPointRow.device_time,
            TrailPointRow.lat,
            TrailPointRow.lon,
            TrailPointRow.accuracy_m,
        )
        .where(
            TrailPointRow.person_id == person_id[:40],
            TrailPointRow.device_time >= start,
            TrailPointRow.device_time < end,
        )
        .order_by(TrailPointRow.device_time, TrailPointRow.seq)
        .limit(limit)
    ).all()
    return [
        {"device_id": d, "seq": s, "time": t, "lat": la, "lon": lo, "accuracy_m": acc}
        for d, s, t, la, lo, acc in rows
    ]


def trail_points_between(
    session: Session, start: datetime, end: datetime, limit: int = 5_000_000
) -> list[tuple[str, str, datetime, float, float, float]]:
    """Every wearer's positions in [start, end] from the recent store as (person_id, device_id, device_time,
    lat, lon, accuracy_m) tuples: crime matching's input for a batch (older history is read from the lake)."""
    t = TrailPointRow
    rows = session.execute(
        select(t.person_id, t.device_id, t.device_time, t.lat, t.lon, t.accuracy_m)
        .where(t.device_time >= start, t.device_time <= end)
        .limit(limit)
    ).all()
    return [(p, d, tm, la, lo, acc) for p, d, tm, la, lo, acc in rows]


def position_sources(
    session: Session, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """(device_id, seq) -> {"source": GPS/LBS/WIFI or "", "speed_mps": float or None} for these stored
    positions (the trail table keeps no source; the message as received does)."""
    by_device: dict[str, list[int]] = defaultdict(list)
    for device_id, seq in keys:
        by_device[device_id].append(int(seq))
    t = TelemetryMessageRow
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for d, seqs in by_device.items():
        seqs = sorted(set(seqs))
        for i in range(0, len(seqs), 500):
            rows = session.execute(
                select(t.device_id, t.seq, t.payload).where(t.device_id == d, t.seq.in_(seqs[i : i + 500]))
            )
            for dev, seq, payload in rows:
                p = payload if isinstance(payload, dict) else {}
                speed = p.get("speed_mps")
                out[(dev, int(seq))] = {
                    "source": str(p.get("source") or "")[:8],
                    "speed_mps": float(speed) if isinstance(speed, int | float) else None,
                }
    return out


def trail_columns(session: Session, person_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """A person's positions in [start, end) as columns, oldest first: "t_us" (int64 microseconds since the epoch,
    UTC), "lat", "lon", "accuracy_m" (float64 arrays), "device_id" (list), "seq" (int64 array). The same rows as
    `trail_of_person`, read without building a datetime per row through the ORM type (for long windows: a
    90-day trail at a fix a minute is ~130,000 rows)."""
    import numpy as np

    sqlite = session.get_bind().dialect.name == "sqlite"
    # plain SQL, so that the driver's values come back untouched (no per-row ORM type processing)
    when = "device_time" if sqlite else "extract(epoch from device_time)::float8"
    lo: Any = start.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") if sqlite else start
    hi: Any = end.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ") if sqlite else end
    if sqlite:  # stored as "YYYY-MM-DD HH:MM:SS.ffffff": compare like with like
        lo, hi = f"{lo}.000000" if "." not in lo else lo, f"{hi}.000000" if "." not in hi else hi
    # the driver's own cursor: no SQLAlchemy Row per position (a third of the time for 130,000 rows); the
    # covering index ix_trail_person_time_cover answers it without reading the table
    mark = "?" if sqlite else "%s"
    cur = session.connection().connection.cursor()
    try:
        cur.execute(
            f"SELECT device_id, seq, {when}, lat, lon, accuracy_m FROM trail_points WHERE person_id = {mark} "
            f"AND device_time >= {mark} AND device_time < {mark} ORDER BY device_time, seq",
            (person_id[:40], lo, hi),
        )
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        empty = np.zeros(0)
        return {"t_us": np.zeros(0, np.int64), "lat": empty, "lon": empty, "accuracy_m": empty, "device_id": [],
                "seq": np.zeros(0, np.int64)}  # fmt: skip
    dev, seq, when_v, lat, lon, acc = zip(*rows, strict=True)
    if sqlite:
        t_us = np.array(when_v, dtype="datetime64[us]").astype(np.int64)
    else:
        t_us = np.round(np.array(when_v, dtype=np.float64) * 1e6).astype(np.int64)
    return {"t_us": t_us, "lat": np.array(lat, np.float64), "lon": np.array(lon, np.float64),
            "accuracy_m": np.array([a or 0.0 for a in acc], np.float64), "device_id": list(dev),
            "seq": np.array(seq, np.int64)}  # fmt: skip


#: the message types whose latest reading says how a wearer's devices were at an instant
HEALTH_TYPES = ("battery", "rf", "tamper", "gps")


def device_health_at(
    session: Session, person_id: str, at: datetime, lookback_s: float = 86_400.0
) -> dict[str, Any]:
    """How the person's devices were at `at`, from the stored telemetry up to then (at most `lookback_s` back):
    the last message of any type and, per type in HEALTH_TYPES, the latest message (device, type, device and
    receive time, payload). Types with nothing in the window are absent. One indexed query per type
    (person, device time), newest first, one row each."""
    from datetime import timedelta

    t = TelemetryMessageRow
    since = at - timedelta(seconds=lookback_s)
    base = select(t.device_id, t.seq, t.type, t.device_time, t.receive_time, t.payload).where(
        t.person_id == person_id, t.device_time <= at, t.device_time >= since
    )

    def one(q: Any) -> dict[str, Any] | None:
        r = session.execute(q.order_by(t.device_time.desc()).limit(1)).first()
        if r is None:
            return None
        return {"device_id": r.device_id, "seq": r.seq, "type": r.type, "device_time": r.device_time,
                "receive_time": r.receive_time, "payload": dict(r.payload or {})}  # fmt: skip

    out: dict[str, Any] = {}
    last = one(base)
    if last is None:
        return out
    out["last"] = last
    for kind in HEALTH_TYPES:
        found = last if last["type"] == kind else one(base.where(t.type == kind))
        if found is not None:
            out[kind] = found
    return out
