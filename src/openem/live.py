"""The live monitoring loop inside `openem serve` (composition level: it joins orders, devices, telemetry
ingest and the monitoring engine without those capabilities importing each other).

- On start it loads every accepted or active order and every activation into the engine.
- After each telemetry batch is durably stored, the batch's new messages go through the engine.
- A ticker advances the watermark every few seconds so time-driven rules (curfew absence, no
  communication, missed check-ins) fire without new data.
- Order events from the bus apply variations and endings live.
- New alerts are published as `monitoring.AlertRaised` through the outbox; the alerts capability stores
  them (idempotent on the deterministic alert id).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import select

from openem.core.time import iso, utcnow
from openem.devices.tables import ActivationRow
from openem.monitoring.engine import Engine
from openem.monitoring.events import AlertRaised
from openem.orders.model import OrderStatus
from openem.orders.repository import OrderRow, OrderVersionRow
from openem.store.db import Database
from openem.telemetry.ingest import IngestResult

log = logging.getLogger("openem.live")

ACKNOWLEDGED = Counter("openem_telemetry_messages_acknowledged_total",
                       "Telemetry messages stored and acknowledged to their sender", ["outcome"])
PROCESSED = Counter("openem_engine_messages_processed_total", "Telemetry messages the in-server engine processed")
ALERTS_RAISED = Counter("openem_alerts_raised_total", "Alerts raised by the monitoring engine", ["kind"])
ENGINE_LAG = Gauge("openem_engine_lag_seconds", "Seconds since the in-server engine last ran (a batch or its ticker)")
WATERMARK_LAG = Gauge("openem_engine_watermark_lag_seconds", "How far the engine's watermark (event time) trails the clock")


def count_acknowledged(result: IngestResult) -> None:
    """An ingest hook: every stored batch's messages by outcome (the ingest rate is this counter's rate)."""
    ACKNOWLEDGED.labels("accepted").inc(len(result.accepted))
    ACKNOWLEDGED.labels("duplicate").inc(result.duplicates)
    ACKNOWLEDGED.labels("rejected").inc(len(result.rejections))


class LiveMonitor:
    def __init__(self, db: Database, wake: Any = None) -> None:
        self.db = db
        self.engine = Engine()
        self.lock = threading.Lock()
        self.wake = wake
        self.messages = 0
        self.alerts = 0
        self.last_latency_s: float | None = None
        self.failures = 0
        # Counted from the start: after a restart, gateways get the allowed lateness to deliver what they stored
        # before the clock alone moves time. Jumping to now first closed last night's curfew windows before
        # their readings arrived, and the demo's backlog raised "absent all night" for most curfew orders.
        self.last_ingest = time.time()
        self.last_run = time.time()  # the engine last processed a batch or ran its ticker: a stuck engine stops this
        self.last_batch_at: float | None = None
        self.last_batch_messages = 0
        self.running = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- state ----------------------------------------------------------------------------------------
    def load(self) -> None:
        live = (OrderStatus.ACCEPTED.value, OrderStatus.ACTIVE.value)
        with self.db.uow() as uow:
            rows = uow.session.execute(
                select(OrderVersionRow.ref, OrderVersionRow.document, OrderRow.person_id)
                .join(OrderRow, OrderRow.ref == OrderVersionRow.ref)
                .where(OrderVersionRow.status.in_(live))
            ).all()
            acts = uow.session.execute(select(ActivationRow)).scalars().all()
            activations = [self._act(a) for a in acts]
        with self.lock:
            for ref, doc, person_id in rows:
                self.engine.apply_order({**doc, "ref": ref, "person_id": person_id or doc.get("person_id")})
            for a in activations:
                self.engine.apply_activation(a)
        gc.freeze()  # the orders just loaded are long-lived: keep the collector's pauses off the alert path
        log.info("monitoring loaded", extra={"orders": len(rows), "activations": len(activations)})

    @staticmethod
    def _act(a: ActivationRow) -> dict[str, Any]:
        return {"activation_id": a.activation_id, "device_id": a.device_id, "device_kind": a.device_kind,
                "order_ref": a.order_ref, "person_id": a.person_id, "role": a.role, "start": a.start, "end": a.end}

    # -- inputs ---------------------------------------------------------------------------------------
    def on_ingested(self, result: IngestResult) -> None:
        if not result.accepted:
            return
        started = time.perf_counter()
        try:
            with self.lock:
                alerts = self.engine.process(result.accepted)
        except Exception:  # noqa: BLE001 - the batch is stored and acknowledged; log, count, keep serving
            self.failures += 1
            log.exception("monitoring engine failed on a stored batch", extra={"batch_id": result.batch_id})
            return
        self.messages += len(result.accepted)
        PROCESSED.inc(len(result.accepted))
        self.last_ingest = self.last_run = self.last_batch_at = time.time()
        self.last_batch_messages = len(result.accepted)
        self._publish(alerts)
        self.last_latency_s = time.perf_counter() - started

    def on_order(self, payload: dict[str, Any], uow: Any = None) -> None:
        doc = dict(payload.get("order") or {})
        ref = payload.get("order_ref") or doc.get("ref")
        if not ref:
            return
        doc["ref"] = ref
        if payload.get("person_id"):
            doc["person_id"] = payload["person_id"]
        with self.lock:
            self.engine.apply_order(doc)

    def on_order_ended(self, payload: dict[str, Any], uow: Any = None) -> None:
        with self.lock:
            self.engine.end_order(payload["order_ref"])

    def tick(self) -> int:
        """Move time forward without data. While data is flowing, only up to the newest event plus the allowed
        lateness (a backlog is judged as it arrives); when nothing has arrived for a while, to now."""
        now = utcnow().timestamp()
        with self.lock:
            self.last_run = time.time()
            eng = self.engine
            lateness = float(eng.defaults.get("late", {}).get("watermark_lateness_s", 300))
            quiet = now - self.last_ingest > lateness
            if not quiet and eng.event_high <= 0:
                return 0  # nothing received yet, and data may still be on its way
            target = now if quiet else min(now, eng.event_high + lateness)
            alerts = eng.advance_watermark(target)
        self._publish(alerts)
        return len(alerts)

    # -- outputs --------------------------------------------------------------------------------------
    def _publish(self, alerts: list[dict[str, Any]]) -> None:
        if not alerts:
            return
        with self.db.uow() as uow:
            for a in alerts:
                uow.add_event(AlertRaised.from_alert(a))
                ALERTS_RAISED.labels(a.get("kind", "")).inc()
            if self.wake is not None:
                uow.after_commit(self.wake)
        self.alerts += len(alerts)

    # -- operators ------------------------------------------------------------------------------------
    def status(self, now: float | None = None) -> dict[str, Any]:
        """For /health and /metrics. `lag_s` (time since the engine last ran) is what a stuck engine shows; the
        watermark's lag behind the clock is reported too, but a replayed fleet or a gateway's backlog makes it
        large by design, so it is information, not a failure."""
        now = time.time() if now is None else now
        wm = self.engine.watermark
        out = {"running": self.running, "lag_s": round(now - self.last_run, 1),
               "watermark": iso(_instant(wm)) if wm else None,
               "watermark_lag_s": round(now - wm, 1) if wm else None,
               "last_batch_at": iso(_instant(self.last_batch_at)) if self.last_batch_at else None,
               "last_batch_messages": self.last_batch_messages, "messages_processed": self.messages,
               "alerts_raised": self.alerts, "failures": self.failures}
        ENGINE_LAG.set(out["lag_s"] if self.running else 0)
        WATERMARK_LAG.set(out["watermark_lag_s"] or 0)
        return out

    # -- ticker ---------------------------------------------------------------------------------------
    def start(self, interval_s: float = 5.0) -> None:
        self.running = True
        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.tick()
                except Exception:  # noqa: BLE001
                    log.exception("monitoring tick failed")

        self._thread = threading.Thread(target=loop, name="monitoring-ticker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.running = False
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


def _instant(t: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC)
