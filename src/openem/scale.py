"""Scale-out of the monitoring engine across worker processes through NATS JetStream.

- Orders are split into P partitions by a stable hash of the order reference; each message is routed to
  the partition of the order its activation belongs to (by device id when it has no activation).
- The server, after storing a batch, publishes each new message to `<prefix>.tele.p<k>` (message id
  `device:seq`, so JetStream drops a re-publish).
- `openem worker --engine` processes claim partitions through leases in the database. For each partition they
  hold, they restore the engine from the partition's last checkpoint, pull its messages, and in ONE
  transaction store the new alerts (plus `AlertRaised` events in the outbox) and the new checkpoint; only
  then do they acknowledge the messages. A worker killed at any point loses nothing (unacknowledged messages
  are redelivered) and duplicates nothing (the checkpoint remembers the alert ids already raised, and the
  alerts table is keyed by the deterministic alert id).
- A lease not renewed in time (a killed worker) is taken over by another worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import zlib
from datetime import timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from openem.core.time import utcnow
from openem.store.base import Base
from openem.store.db import Database
from openem.store.types import UTCDateTime

log = logging.getLogger("openem.scale")


def stream_name(prefix: str) -> str:
    return f"{prefix.upper().replace('-', '_')}_TELEMETRY"


class EngineCheckpointRow(Base):
    __tablename__ = "engine_checkpoints"
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot: Mapped[dict] = mapped_column(JSON)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[Any] = mapped_column(UTCDateTime())


class EngineLeaseRow(Base):
    __tablename__ = "engine_leases"
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[Any] = mapped_column(UTCDateTime())


def partition_of(key: str, partitions: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % partitions


def tele_prefix(prefix: str) -> str:
    # a root of its own: JetStream streams may not overlap, and the event stream owns "<prefix>.>"
    return f"{prefix}-tele"


def subject(prefix: str, k: int) -> str:
    return f"{tele_prefix(prefix)}.p{k}"


# ---- server side -------------------------------------------------------------------------------------
class TelemetryPublisher:
    """Ingest hook in NATS mode: publish each stored message to its partition's subject."""

    def __init__(self, url: str, partitions: int, prefix: str = "openem") -> None:
        from openem.bus.nats import NatsPublisher

        self.partitions = partitions
        self.prefix = prefix
        self.pub = NatsPublisher(url, stream=stream_name(prefix), prefix=tele_prefix(prefix))

    def __call__(self, result: Any) -> None:
        for m in result.accepted:
            act = result.activation_of.get(m.message_id)
            key = act[2] if act else m.device_id
            k = partition_of(key, self.partitions)
            self.pub(f"p{k}", f"{m.device_id}:{m.seq}", m.to_wire())

    def close(self) -> None:
        self.pub.close()


# ---- worker side -------------------------------------------------------------------------------------
def load_partition_engine(db: Database, k: int, partitions: int) -> Any:
    """The engine for partition k: its last checkpoint, or a fresh engine with the partition's orders."""
    from openem.devices.tables import ActivationRow
    from openem.monitoring.engine import Engine
    from openem.orders.model import OrderStatus
    from openem.orders.repository import OrderRow, OrderVersionRow

    with db.uow() as uow:
        cp = uow.session.get(EngineCheckpointRow, k)
        if cp is not None:
            return Engine.restore(cp.snapshot)
        live = (OrderStatus.ACCEPTED.value, OrderStatus.ACTIVE.value)
        rows = uow.session.execute(
            select(OrderVersionRow.ref, OrderVersionRow.document, OrderRow.person_id)
            .join(OrderRow, OrderRow.ref == OrderVersionRow.ref).where(OrderVersionRow.status.in_(live))).all()
        acts = uow.session.execute(select(ActivationRow)).scalars().all()
        engine = Engine()
        for ref, doc, person_id in rows:
            if partition_of(ref, partitions) == k:
                engine.apply_order({**doc, "ref": ref, "person_id": person_id or doc.get("person_id")})
        for a in acts:
            if partition_of(a.order_ref, partitions) == k:
                engine.apply_activation({"activation_id": a.activation_id, "device_id": a.device_id,
                                         "device_kind": a.device_kind, "order_ref": a.order_ref,
                                         "person_id": a.person_id, "role": a.role, "start": a.start, "end": a.end})
        return engine


def commit_batch(db: Database, k: int, engine: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Process messages and commit alerts + events + checkpoint together. Returns the new alerts."""
    from openem.alerts.service import store_alert
    from openem.monitoring.events import AlertRaised

    alerts = engine.process(messages)
    with db.uow() as uow:
        for a in alerts:
            event = AlertRaised.from_alert(a)
            store_alert(uow.session, event.to_dict())
            uow.add_event(event)
        cp = uow.session.get(EngineCheckpointRow, k)
        snap = engine.snapshot()
        if cp is None:
            uow.session.add(EngineCheckpointRow(partition=k, snapshot=snap, messages=len(messages), updated_at=utcnow()))
        else:
            cp.snapshot = snap
            cp.messages = cp.messages + len(messages)
            cp.updated_at = utcnow()
    return alerts


def try_lease(db: Database, k: int, owner: str, ttl_s: float) -> bool:
    now = utcnow()
    with db.uow() as uow:
        row = uow.session.execute(select(EngineLeaseRow).where(EngineLeaseRow.partition == k).with_for_update()).scalar_one_or_none()
        if row is None:
            uow.session.add(EngineLeaseRow(partition=k, owner=owner, expires_at=now + timedelta(seconds=ttl_s)))
            return True
        if row.owner == owner or row.expires_at <= now:
            row.owner = owner
            row.expires_at = now + timedelta(seconds=ttl_s)
            return True
        return False


async def run_engine_worker(db: Database, url: str, partitions: int, *, prefix: str = "openem",
                            lease_s: float = 5.0, stop: asyncio.Event | None = None, batch: int = 500,
                            owner: str | None = None) -> dict[str, int]:
    """Hold as many partitions as are free, process their messages, renew leases; until `stop`."""
    import nats
    from nats.errors import TimeoutError as NatsTimeout

    from openem.bus import outbox
    from openem.bus.nats import ensure_stream

    outbox.install(db)
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    stream = stream_name(prefix)
    stop = stop or asyncio.Event()
    nc = await nats.connect(url, max_reconnect_attempts=3)
    js = nc.jetstream()
    await ensure_stream(js, stream, tele_prefix(prefix))
    held: dict[int, tuple[Any, Any]] = {}  # partition -> (engine, subscription)
    stats = {"messages": 0, "alerts": 0, "takeovers": 0}
    try:
        while not stop.is_set():
            for k in range(partitions):  # claim free or expired partitions; renew our own
                ok = await asyncio.to_thread(try_lease, db, k, owner, lease_s)
                if ok and k not in held:
                    engine = await asyncio.to_thread(load_partition_engine, db, k, partitions)
                    sub = await js.pull_subscribe(subject(prefix, k), durable=f"engine-p{k}", stream=stream)
                    held[k] = (engine, sub)
                    stats["takeovers"] += 1
                    log.info("partition taken", extra={"partition": k, "owner": owner})
                elif not ok and k in held:
                    held.pop(k)  # lost the lease (e.g. paused too long): stop processing it
            for k, (engine, sub) in list(held.items()):
                try:
                    msgs = await sub.fetch(batch, timeout=0.2)
                except (TimeoutError, NatsTimeout):
                    continue
                payloads = [json.loads(m.data)["payload"] for m in msgs]
                alerts = await asyncio.to_thread(commit_batch, db, k, engine, payloads)
                for m in msgs:
                    await m.ack()
                stats["messages"] += len(msgs)
                stats["alerts"] += len(alerts)
    finally:
        await nc.close()
    return stats
