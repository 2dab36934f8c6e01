"""Store first, then process: a batch is parsed, written durably (raw body, messages, rejections) in one
transaction, and only then acknowledged and handed to the monitoring engine.

Idempotent on (device_id, seq): a message already stored is counted as a duplicate and not processed
again. Each message is resolved to the activation live at its event time; a message from a device with
no live activation is stored with the flag `no_activation`, not dropped.
"""

from __future__ import annotations

import gc
import threading
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from openem.core.time import utcnow
from openem.devices.queries import activation_probe, activations_live, all_activation_rows, resolve
from openem.telemetry import repository
from openem.telemetry.tables import (
    TelemetryBatchRow,
    TelemetryMessageRow,
    TelemetryRejectionRow,
    TrailPointRow,
)
from openem.telemetry.wire import Message, parse_batch


@dataclass
class IngestResult:
    batch_id: int
    accepted: list[Message] = field(default_factory=list)  # new messages, with activation flags applied
    duplicates: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    no_activation: int = 0
    activation_of: dict[tuple[str, int], tuple[str, str, str]] = field(
        default_factory=dict
    )  # -> (act, person, order)
    activation_probe: int | None = None  # the activation index's probe, read after receipt

    def summary(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "accepted": len(self.accepted),
            "duplicates": self.duplicates,
            "rejected": len(self.rejections),
            "no_activation": self.no_activation,
            "rejections": self.rejections[:100],
        }


def _text(value: str | None, limit: int = 4000) -> str | None:
    """Text as stored: NUL bytes (which PostgreSQL text refuses) shown as \\x00, length bounded."""
    if value is None:
        return None
    return value.replace("\x00", "\\x00")[:limit]


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return ins


class ActivationIndex:
    """Every device's activations in memory, for resolving each message's event time without a query per batch.

    Kept current the reconciler's way (scale/follow.py): each batch asks the cheap probe (the store's change
    counter of activations) and the index reloads only when it changed, i.e. after a fitting, an ending or any
    other write to the activations; so a message sent after a fitting was committed is always resolved against
    it, in every server process. Thread-safe: readers get an immutable snapshot; one reload at a time."""

    def __init__(self) -> None:
        self._probe: int | None = None
        self._by_device: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        self.reloads = 0

    def histories(self, session: Session) -> dict[str, list[Any]]:
        return self.read(session)[0]

    def read(self, session: Session) -> tuple[dict[str, list[Any]], int]:
        """Every device's activations and the probe they answer to (read now, in this session)."""
        probe = activation_probe(session)
        if probe != self._probe:
            with self._lock:
                if probe != self._probe:
                    by_device: dict[str, list[Any]] = {}
                    for row in all_activation_rows(session):
                        by_device.setdefault(row.device_id, []).append(row)
                    self._by_device, self._probe = by_device, probe
                    self.reloads += 1
                    # long-lived: keep the collector from walking them on every batch's allocations
                    gc.freeze()
        return self._by_device, probe


COPY_MIN_ROWS = 50  # below this a multi-row INSERT is as quick as a COPY round trip


def ingest_batch(
    session: Session,
    raw: bytes,
    *,
    source: str,
    sender: str = "",
    received_at: datetime | None = None,
    copy: bool | None = None,
    index: ActivationIndex | None = None,
    codec: str = "orjson",
) -> IngestResult:
    """`copy`: write messages with PostgreSQL COPY (None = when on PostgreSQL and the batch is large). `index`:
    resolve activations from memory (None: a query for this batch's devices, the path before 0027's second
    slice). `codec`: the JSON decoder (`wire.parse_batch`)."""
    received_at = received_at or utcnow()
    parsed = parse_batch(raw, received_at, codec=codec)
    batch = TelemetryBatchRow(
        received_at=received_at,
        source=source,
        sender=sender[:80],
        size_bytes=len(raw),
        body=zlib.compress(raw, 1),
    )
    session.add(batch)
    session.flush()
    result = IngestResult(batch_id=batch.id)
    for rej in parsed.rejections:
        result.rejections.append(rej.to_dict())
    if parsed.rejections:
        session.execute(
            _insert(session, TelemetryRejectionRow.__table__),
            [
                {
                    "batch_id": batch.id,
                    "code": r.code,
                    "reason": _text(r.reason, 2000),
                    "device_id": _text(r.device_id, 64),
                    "seq": r.seq if isinstance(r.seq, int) and -(2**63) <= r.seq < 2**63 else None,
                    "raw": _text(r.raw),
                }
                for r in parsed.rejections
            ],
        )

    # drop in-batch duplicates here; those already stored are the rows the insert skips (ON CONFLICT DO
    # NOTHING ... RETURNING says which were new). A lookup of the stored keys first scanned the whole primary
    # key on SQLite for every batch (a row-value IN list is not searched by index), so ingest slowed as the
    # store grew; and it raced: two gateways resending one message could both see it as new.
    unique: dict[tuple[str, int], Message] = {}
    for m in parsed.messages:
        key = (m.device_id, m.seq)
        if key in unique:
            result.duplicates += 1
        else:
            unique[key] = m
    if index is not None:
        history, result.activation_probe = index.read(session)
    else:
        history = activations_live(session, {m.device_id for m in unique.values()})
    resolved = {k: (m, resolve(history.get(m.device_id), m.device_time)) for k, m in unique.items()}
    use_copy = copy if copy is not None else len(resolved) >= COPY_MIN_ROWS
    trail_written = False
    if use_copy and session.get_bind().dialect.name == "postgresql":
        stored, trail_written = _copy_messages(session, batch.id, resolved)
    else:
        stored = _store_messages(session, batch.id, resolved)
    result.duplicates += len(unique) - len(stored)
    trail_rows = []
    of_activation: dict[str, tuple[str, str, str]] = {}  # one tuple per activation, not per message
    for key, (m, act) in resolved.items():
        if key not in stored:
            continue
        if act is None:
            result.no_activation += 1
            result.accepted.append(
                Message(
                    m.device_id,
                    m.seq,
                    m.type,
                    m.device_time,
                    m.receive_time,
                    m.payload,
                    (*m.flags, "no_activation"),
                )
            )
            continue
        who = of_activation.get(act.activation_id)
        if who is None:
            who = of_activation[act.activation_id] = (act.activation_id, act.person_id, act.order_ref)
        result.activation_of[key] = who
        result.accepted.append(m)
        if m.type == "gps" and not trail_written:
            trail_rows.append(
                {
                    "device_id": m.device_id,
                    "seq": m.seq,
                    "person_id": act.person_id,
                    "activation_id": act.activation_id,
                    "device_time": m.device_time,
                    "lat": m.payload["lat"],
                    "lon": m.payload["lon"],
                    "accuracy_m": m.payload["accuracy_m"],
                }
            )
    if trail_rows:
        session.execute(_insert(session, TrailPointRow.__table__).on_conflict_do_nothing(), trail_rows)
    batch.accepted = len(result.accepted)
    batch.duplicates = result.duplicates
    batch.rejected = len(result.rejections)
    session.flush()
    return result


def _store_messages(
    session: Session, batch_id: int, resolved: dict[tuple[str, int], tuple[Message, Any]]
) -> set[tuple[str, int]]:
    """Insert the messages, skipping any already stored; returns the keys of those inserted now."""
    if not resolved:
        return set()
    rows = []
    for m, act in resolved.values():
        rows.append(
            {
                "device_id": m.device_id,
                "seq": m.seq,
                "type": m.type,
                "device_time": m.device_time,
                "receive_time": m.receive_time,
                "payload": m.payload,
                "flags": [*m.flags, "no_activation"] if act is None else list(m.flags),
                "activation_id": act.activation_id if act else None,
                "person_id": act.person_id if act else None,
                "batch_id": batch_id,
            }
        )
    t = TelemetryMessageRow.__table__
    stmt = _insert(session, t).on_conflict_do_nothing().returning(t.c.device_id, t.c.seq)
    return {(r[0], r[1]) for r in session.execute(stmt, rows)}


def _copy_messages(
    session: Session, batch_id: int, resolved: dict[tuple[str, int], tuple[Message, Any]]
) -> tuple[set[tuple[str, int]], bool]:
    """PostgreSQL: the keys stored now, and whether the trail points were written with them
    (`repository`: straight COPY when nothing in the batch is stored yet, else staging and ON CONFLICT)."""
    if not resolved:
        return set(), True
    dbapi = session.connection().connection.driver_connection
    with dbapi.cursor() as cur:  # type: ignore[union-attr]
        if repository.copy_new(cur, batch_id, resolved):
            return set(resolved), True
        return repository.copy_skipping_stored(cur, batch_id, resolved), False
