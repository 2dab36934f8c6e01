"""Partitions of the engine: names, leases, checkpoints, the server's publisher, loading a partition."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
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
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[Any] = mapped_column(UTCDateTime())


class EngineCheckpointDeltaRow(Base):
    """An incremental checkpoint (`Engine.checkpoint_delta`) after the partition's full one, n = 1, 2, ...:
    restore merges them into it in order; the next full checkpoint deletes them (decision 0033)."""

    __tablename__ = "engine_checkpoint_deltas"
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    delta: Mapped[dict[str, Any]] = mapped_column(JSON)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[Any] = mapped_column(UTCDateTime())


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
def restore_partition_engine(db: Database, k: int) -> Any:
    """The engine of partition k as its last checkpoint left it (an empty engine when it has none)."""
    from openem.monitoring.engine import Engine

    with db.uow() as uow:
        cp = uow.session.get(EngineCheckpointRow, k)
        return Engine.restore(cp.snapshot) if cp is not None else Engine()


def load_partition_engine(db: Database, k: int, partitions: int) -> Any:
    """The engine for partition k: its last checkpoint brought up to date with the orders and activations
    in force (or a fresh engine with them)."""
    from openem.scale.follow import OrderFollower, apply_change

    engine = restore_partition_engine(db, k)
    follower = OrderFollower(db, lambda ref: partition_of(ref, partitions))
    for change in follower.changes({k: engine}, takeover=True).get(k, []):
        apply_change(engine, change)
    return engine


def commit_batch(
    db: Database, k: int, engine: Any, messages: list[dict[str, Any]], changes: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Apply the order changes and process the messages in event-time order, then commit alerts + events +
    checkpoint together. Returns the new alerts."""
    from openem.alerts.service import store_alert, store_episode
    from openem.monitoring.events import AlertRaised, episode_event
    from openem.scale.follow import process_in_order

    alerts = process_in_order(engine, messages, list(changes))
    records = engine.take_episodes() if hasattr(engine, "take_episodes") else []
    with db.uow() as uow:
        for a in alerts:
            event = AlertRaised.from_alert(a)
            store_alert(uow.session, event.to_dict())
            uow.add_event(event)
        for (
            r
        ) in records:  # stored with the alerts and the checkpoint: a restart neither loses nor repeats one
            ep_event = episode_event(r)
            store_episode(uow.session, ep_event.episode)
            uow.add_event(ep_event)
        cp = uow.session.get(EngineCheckpointRow, k)
        snap = engine.snapshot()
        if cp is None:
            uow.session.add(
                EngineCheckpointRow(partition=k, snapshot=snap, messages=len(messages), updated_at=utcnow())
            )
        else:
            cp.snapshot = snap
            cp.messages = cp.messages + len(messages)
            cp.updated_at = utcnow()
    return alerts


def park_batch(db: Database, k: int, messages: list[dict[str, Any]], error: BaseException) -> dict[str, Any]:
    """Record a batch the partition's engine kept failing on as an engine rejection (decision 0017)."""
    from openem.alerts.service import store_alert
    from openem.monitoring.events import AlertRaised
    from openem.scale.failures import message_ids, rejection_alert

    alert = rejection_alert(f"partition:{k}", message_ids(messages), error, partition=k)
    with db.uow() as uow:
        event = AlertRaised.from_alert(alert)
        store_alert(uow.session, event.to_dict())
        uow.add_event(event)
    return alert


def try_lease(db: Database, k: int, owner: str, ttl_s: float) -> bool:
    now = utcnow()
    with db.uow() as uow:
        row = uow.session.execute(
            select(EngineLeaseRow).where(EngineLeaseRow.partition == k).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            uow.session.add(
                EngineLeaseRow(partition=k, owner=owner, expires_at=now + timedelta(seconds=ttl_s))
            )
            return True
        if row.owner == owner or row.expires_at <= now:
            row.owner = owner
            row.expires_at = now + timedelta(seconds=ttl_s)
            return True
        return False
