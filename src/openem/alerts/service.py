"""Storing alerts from `monitoring.AlertRaised` events (idempotent) and reading them back."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from openem.alerts.tables import AlertRow
from openem.auth import audit
from openem.core.time import parse_instant, utcnow

ALERT_TOPIC = "monitoring.AlertRaised"


def store_alert(session: Session, payload: dict[str, Any]) -> bool:
    """Store one alert; a repeat of an alert id already stored changes nothing. Returns True when new."""
    alert_id = str(payload["alert_id"])[:64]
    if session.get(AlertRow, alert_id) is not None:
        return False
    row = AlertRow(
        alert_id=alert_id,
        kind=str(payload["kind"])[:40],
        severity=str(payload.get("severity", "LOW"))[:10],
        person_id=str(payload.get("person_id") or "")[:40],
        order_ref=str(payload.get("order_ref") or "")[:40],
        device_id=str(payload.get("device_id") or "")[:64],
        condition_id=str(payload.get("condition_id") or "")[:80],
        start=parse_instant(payload["start"]),
        end=parse_instant(payload["end"]) if payload.get("end") else None,
        detected_at=parse_instant(payload["detected_at"]) if payload.get("detected_at") else utcnow(),
        stored_at=utcnow(),
        late_detected=bool(payload.get("late_detected")),
        evidence=list(payload.get("evidence") or [])[:500],
        details=dict(payload.get("details") or {}),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor="system:monitoring",
        action=f"alerts:{alert_id}:raise",
        records=[row.order_ref, row.person_id],
        details={"kind": row.kind, "severity": row.severity},
    )
    return True


def on_alert_raised(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `monitoring.AlertRaised`."""
    store_alert(uow.session, payload)
