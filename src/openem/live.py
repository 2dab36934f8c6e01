"""The live monitoring loop inside `openem serve` (composition level: it joins orders, devices, telemetry
ingest and the monitoring engine without those capabilities importing each other).

- On start it restores its last checkpoint, brings it up to date with the orders and activations in force,
  and processes every stored batch it had not processed (a restart at any instant, clean or killed, gives the
  alerts of a run without one: docs/decisions/0017).
- After each telemetry batch is durably stored, the reconciler shared with the partition workers
  (`scale/follow.py`, decision 0008) applies the order and activation changes the engine lacks, cut into the
  batch at the instant each takes effect; then the batch goes through the engine.
- A ticker advances the watermark every few seconds so time-driven rules (curfew absence, no
  communication, missed check-ins) fire without new data; order events from the bus only wake it early.
- The engine is checkpointed (engine_checkpoints, with its position in the telemetry store) every
  `checkpoint_every_s` and on a clean stop.
- New alerts are published as `monitoring.AlertRaised` through the outbox; the alerts capability stores
  them (idempotent on the deterministic alert id, so alerts raised again by a replay are stored once).
- A batch on which the engine raises is retried from the checkpoint, then parked (`scale/failures.py`).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter as MetricCounter
from prometheus_client import Gauge
from sqlalchemy import delete, select

from openem.core.time import iso, utcnow
from openem.monitoring.engine import Engine
from openem.monitoring.events import AlertRaised, episode_event
from openem.scale.failures import ATTEMPTS, message_ids, rejection_alert
from openem.scale.follow import Change, OrderFollower, process_in_order
from openem.scale.partitions import EngineCheckpointDeltaRow, EngineCheckpointRow
from openem.scale.position import Position
from openem.store.db import Database
from openem.telemetry.ingest import IngestResult
from openem.telemetry.queries import batches_after, messages_of_batches

log = logging.getLogger("openem.live")

ACKNOWLEDGED = MetricCounter(
    "openem_telemetry_messages_acknowledged_total",
    "Telemetry messages stored and acknowledged to their sender",
    ["outcome"],
)
PROCESSED = MetricCounter(
    "openem_engine_messages_processed_total", "Telemetry messages the in-server engine processed"
)
ALERTS_RAISED = MetricCounter(
    "openem_alerts_raised_total", "Alerts raised by the monitoring engine", ["kind"]
)
ENGINE_LAG = Gauge(
    "openem_engine_lag_seconds", "Seconds since the in-server engine last ran (a batch or its ticker)"
)
WATERMARK_LAG = Gauge(
    "openem_engine_watermark_lag_seconds", "How far the engine's watermark (event time) trails the clock"
)


def count_acknowledged(result: IngestResult) -> None:
    """An ingest hook: every stored batch's messages by outcome (the ingest rate is this counter's rate)."""
    ACKNOWLEDGED.labels("accepted").inc(len(result.accepted))
    ACKNOWLEDGED.labels("duplicate").inc(result.duplicates)
    ACKNOWLEDGED.labels("rejected").inc(len(result.rejections))


CHECKPOINT_SECONDS = Gauge(
    "openem_engine_checkpoint_seconds", "How long the engine's last checkpoint took", ["kind"]
)  # kind: full (the whole engine) or delta (what changed since the last one)

LIVE_PARTITION = -1  # the in-server engine's row in engine_checkpoints (partition workers use 0..N-1)
REPLAY_CHUNK = 20_000  # messages read from the store at a time when catching up


ORDERS_EVERY_S = 1.0  # orders read at most once a second on the live path (activations: every batch)


def _one_partition(ref: str) -> int:
    return 0


def _follower(db: Database) -> OrderFollower:
    return OrderFollower(db, _one_partition, orders_every_s=ORDERS_EVERY_S)


class LiveMonitor:
    def __init__(self, db: Database, wake: Any = None, *, checkpoint_every_s: float | None = None) -> None:
        self.db = db
        self.engine = Engine()
        self.position = Position()
        self.follower = _follower(db)
        self.lock = threading.Lock()
        self.wake = wake
        self.messages = 0
        self.alerts = 0
        self.last_latency_s: float | None = None
        self.failures = 0
        self.attempts: Counter[int] = Counter()  # failed tries per stored batch
        self.parked: set[int] = set()  # batches given up on (their rejection is recorded)
        self.loaded = False
        self.stale = False  # the engine may hold a half-processed batch: restore before anything else
        every = (
            checkpoint_every_s
            if checkpoint_every_s is not None
            else os.environ.get("OPENEM_ENGINE_CHECKPOINT_S", 30)
        )
        self.checkpoint_every_s = float(every)
        # Incremental checkpoints (decision 0033): what changed since the last one, a full one after this many
        # (0: always full). A restore merges the deltas into the full one in order.
        self.full_every = int(os.environ.get("OPENEM_ENGINE_CHECKPOINT_DELTAS", 40))
        self.deltas = 0  # deltas written since the last full checkpoint
        self.full_next = (
            True  # the engine's changes since the stored checkpoint are not known: write it whole
        )
        self.last_checkpoint = time.monotonic()
        # Counted from the start: after a restart, gateways get the allowed lateness to deliver what they stored
        # before the clock alone moves time. Jumping to now first closed last night's curfew windows before
        # their readings arrived, and the demo's backlog raised "absent all night" for most curfew orders.
        self.last_ingest = time.time()
        self.last_run = (
            time.time()
        )  # the engine last processed a batch or ran its ticker: a stuck engine stops this
        self.last_batch_at: float | None = None
        self.last_batch_messages = 0
        self.running = False
        self._stop = threading.Event()
        self._nudge = threading.Event()
        self._thread: threading.Thread | None = None

    # -- state ----------------------------------------------------------------------------------------
    def load(self) -> None:
        """Restore the last checkpoint, follow what is in force, process what the store holds beyond it."""
        with self.lock:
            self._recover()
            self.loaded = True
        gc.freeze()  # the orders just loaded are long-lived: keep the collector's pauses off the alert path
        log.info("monitoring loaded", extra={"orders": len(self.engine.orders),
                                             "activations": len(self.engine.activations),
                                             "through_batch": self.position.through})  # fmt: skip

    def _recover(self) -> None:
        """From the checkpoint, catch up on the store. A batch that raises is counted against it; one that has
        used its attempts is parked; either way the engine starts again from the checkpoint, since a batch
        that raised may have left it half-changed."""
        while True:
            self.engine, self.position = self._restore()
            for b in self.parked:
                self.position.mark(b)
            self.follower = _follower(self.db)  # a fresh cursor: compare everything
            failed = self._catch_up(self.follower.changes({0: self.engine}).get(0, []))
            self.stale = False
            if failed is None:
                return
            batch_id, exc = failed
            self.attempts[batch_id] += 1
            if self.attempts[batch_id] >= ATTEMPTS:
                self._park(batch_id, exc)

    def _restore(self) -> tuple[Engine, Position]:
        with self.db.uow() as uow:
            cp = uow.session.get(EngineCheckpointRow, LIVE_PARTITION)
            if cp is None:
                self.full_next = True
                return Engine(), Position()
            deltas = uow.session.scalars(select(EngineCheckpointDeltaRow.delta)
                                         .where(EngineCheckpointDeltaRow.partition == LIVE_PARTITION)
                                         .order_by(EngineCheckpointDeltaRow.n)).all()  # fmt: skip
            base = cp.snapshot
            engine = Engine.restore(dict(base["engine"]), [d["engine"] for d in deltas])
            position = (deltas[-1] if deltas else base).get("position")
            self.deltas, self.full_next = len(deltas), False  # the restored engine is what is stored
            return engine, Position.from_json(position)

    def _catch_up(self, changes: list[Change]) -> tuple[int, BaseException] | None:
        """Process the stored batches the position lacks, oldest first. Returns the batch that raised, if any."""
        with self.db.uow() as uow:
            pending = [(i, n) for i, _, n in batches_after(uow.session, self.position.through)
                       if not self.position.done(i)]  # fmt: skip
        if not pending:
            self._publish(process_in_order(self.engine, [], changes))
            return None
        for chunk in _chunks(pending):
            with self.db.uow() as uow:
                stored = messages_of_batches(uow.session, chunk)
            for batch_id in chunk:
                try:
                    self._run(batch_id, stored[batch_id], changes)
                except Exception as exc:  # noqa: BLE001 - counted against the batch by the caller
                    log.exception("monitoring engine failed on a stored batch", extra={"batch_id": batch_id})
                    return batch_id, exc
                changes = []
        log.info("monitoring caught up on the store", extra={"batches": len(pending)})
        return None

    def _run(self, batch_id: int, messages: Sequence[Any], changes: list[Change]) -> None:
        alerts = process_in_order(self.engine, list(messages), changes)
        self._publish(alerts)  # before the position moves: a checkpoint never covers an unpublished alert
        self.position.mark(batch_id)
        self.messages += len(messages)
        PROCESSED.inc(len(messages))
        self.last_run = self.last_batch_at = time.time()
        self.last_batch_messages = len(messages)

    def _park(self, batch_id: int, exc: BaseException) -> None:
        with self.db.uow() as uow:
            stored = messages_of_batches(uow.session, [batch_id])[batch_id]
        if stored:
            self._publish(
                [rejection_alert("in-server", message_ids(stored), exc, batch_id=batch_id)], episodes=False
            )  # the failed batch's half-made episode records are not published
        self.parked.add(batch_id)

    def _recover_safely(self) -> None:
        try:
            self._recover()
        except Exception:  # noqa: BLE001 - e.g. the database is away: try again on the next batch or tick
            self.stale = True
            log.exception("monitoring could not restore its checkpoint; will try again")

    # -- inputs ---------------------------------------------------------------------------------------
    def on_ingested(self, result: IngestResult) -> None:
        started = time.perf_counter()
        with self.lock:
            if self.stale:
                self._recover_safely()  # also processes this batch: it is stored
            if self.stale or self.position.done(result.batch_id):
                return  # processed by a catch-up already (or the engine will catch up on it later)
            try:
                changes = self.follower.changes({0: self.engine}, seen_probe=result.activation_probe)
                self._run(result.batch_id, result.accepted, changes.get(0, []))
            except Exception:  # noqa: BLE001 - the batch is stored and acknowledged: retry it from the checkpoint
                self.failures += 1
                self.attempts[result.batch_id] += 1
                log.exception(
                    "monitoring engine failed on a stored batch", extra={"batch_id": result.batch_id}
                )
                self._recover_safely()
            self.last_ingest = time.time()
            self._checkpoint_if_due()
        self.last_latency_s = time.perf_counter() - started

    def on_order(self, payload: dict[str, Any], uow: Any = None) -> None:
        """An order was accepted, varied or ended: the reconciler will find it; wake the ticker so it does now.
        (Applying the event here would be a second, edge-triggered way in, and would take the engine's lock
        inside the dispatcher's transaction.)"""
        self.follower.last_orders = 0.0  # read orders at the next reconciliation, however recent the last
        self._nudge.set()

    on_order_ended = on_order

    def tick(self) -> int:
        """Follow orders, then move time forward without data. While data is flowing, only up to the newest event
        plus the allowed lateness (a backlog is judged as it arrives); when nothing has arrived for a while, to
        now."""
        now = utcnow().timestamp()
        with self.lock:
            self.last_run = time.time()
            if self.stale:
                self._recover_safely()
                if self.stale:
                    return 0
            try:
                alerts = self._follow_and_advance(now)
            except Exception:  # noqa: BLE001 - as for a batch: start again from the checkpoint
                log.exception("monitoring tick failed")
                self._recover_safely()
                return 0
            self._checkpoint_if_due()
        return len(alerts)

    def _follow_and_advance(self, now: float) -> list[dict[str, Any]]:
        eng = self.engine
        changes = self.follower.changes({0: eng}).get(0, [])
        if changes:
            self._publish(process_in_order(eng, [], changes))
        lateness = float(eng.defaults.get("late", {}).get("watermark_lateness_s", 300))
        quiet = now - self.last_ingest > lateness
        if not quiet and eng.event_high <= 0:
            return []  # nothing received yet, and data may still be on its way
        target = now if quiet else min(now, eng.event_high + lateness)
        alerts = eng.advance_watermark(target)
        self._publish(alerts)
        return alerts

    # -- outputs --------------------------------------------------------------------------------------
    def _publish(self, alerts: list[dict[str, Any]], episodes: bool = True) -> None:
        records = self.engine.take_episodes() if episodes else []
        if not alerts and not records:
            return
        with self.db.uow() as uow:
            for a in alerts:
                uow.add_event(AlertRaised.from_alert(a))
                ALERTS_RAISED.labels(a.get("kind", "")).inc()
            for r in records:  # after the alerts: an episode's AlertRaised comes first
                uow.add_event(episode_event(r))
            if self.wake is not None:
                uow.after_commit(self.wake)
        self.alerts += len(alerts)

    def _checkpoint_if_due(self) -> None:
        if time.monotonic() - self.last_checkpoint >= self.checkpoint_every_s:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write the engine and its position in the store, together (call with the lock held): what changed
        since the last checkpoint, or the whole engine every `full_every` checkpoints."""
        if not self.loaded or self.stale:
            return  # nothing to keep, or an engine that may hold a half-processed batch
        self.last_checkpoint = time.monotonic()
        started = time.perf_counter()
        full = self.full_next or self.deltas >= self.full_every
        try:
            with self.db.uow() as uow:
                self.position.settle(batches_after(uow.session, self.position.through), utcnow())
                if full:
                    self._write_full(uow.session)
                else:
                    delta = {"engine": self.engine.checkpoint_delta(), "position": self.position.to_json()}
                    self.full_next = True  # until this commits: the tracker has been reset
                    uow.session.add(EngineCheckpointDeltaRow(partition=LIVE_PARTITION, n=self.deltas + 1,
                                                             delta=delta, messages=self.messages,
                                                             created_at=utcnow()))  # fmt: skip
        except Exception:  # noqa: BLE001 - the previous checkpoint stands; a restart replays a little more
            self.full_next = True
            log.exception("monitoring checkpoint failed")
            return
        if full:
            self.engine.checkpointed()
            self.deltas = 0
        else:
            self.deltas += 1
        self.full_next = False
        CHECKPOINT_SECONDS.labels("full" if full else "delta").set(time.perf_counter() - started)

    def _write_full(self, session: Any) -> None:
        snap = {"engine": self.engine.snapshot(), "position": self.position.to_json()}
        session.execute(
            delete(EngineCheckpointDeltaRow).where(EngineCheckpointDeltaRow.partition == LIVE_PARTITION)
        )
        row = session.get(EngineCheckpointRow, LIVE_PARTITION)
        if row is None:
            session.add(EngineCheckpointRow(partition=LIVE_PARTITION, snapshot=snap, messages=self.messages,
                                            updated_at=utcnow()))  # fmt: skip
        else:
            row.snapshot, row.messages, row.updated_at = snap, self.messages, utcnow()

    # -- operators ------------------------------------------------------------------------------------
    def status(self, now: float | None = None) -> dict[str, Any]:
        """For /health and /metrics. `lag_s` (time since the engine last ran) is what a stuck engine shows; the
        watermark's lag behind the clock is reported too, but a replayed fleet or a gateway's backlog makes it
        large by design, so it is information, not a failure."""
        now = time.time() if now is None else now
        wm = self.engine.watermark
        out = {
            "running": self.running,
            "lag_s": round(now - self.last_run, 1),
            "watermark": iso(_instant(wm)) if wm else None,
            "watermark_lag_s": round(now - wm, 1) if wm else None,
            "last_batch_at": iso(_instant(self.last_batch_at)) if self.last_batch_at else None,
            "last_batch_messages": self.last_batch_messages,
            "messages_processed": self.messages,
            "alerts_raised": self.alerts,
            "failures": self.failures,
        }
        ENGINE_LAG.set(float(out["lag_s"] or 0) if self.running else 0.0)
        WATERMARK_LAG.set(float(out["watermark_lag_s"] or 0))
        return out

    # -- ticker ---------------------------------------------------------------------------------------
    def start(self, interval_s: float = 5.0) -> None:
        self.running = True

        def loop() -> None:
            while not self._stop.is_set():
                self._nudge.wait(interval_s)
                self._nudge.clear()
                if self._stop.is_set():
                    break
                self.tick()

        self._thread = threading.Thread(target=loop, name="monitoring-ticker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.running = False
        self._stop.set()
        self._nudge.set()
        if self._thread:
            self._thread.join(timeout=5)
        with self.lock:
            self.checkpoint()


def _chunks(pending: list[tuple[int, int]]) -> list[list[int]]:
    """Batch ids in groups of about REPLAY_CHUNK messages (a batch is never split)."""
    out: list[list[int]] = [[]]
    size = 0
    for batch_id, n in pending:
        if out[-1] and size + n > REPLAY_CHUNK:
            out.append([])
            size = 0
        out[-1].append(batch_id)
        size += n
    return out


def _instant(t: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC)
