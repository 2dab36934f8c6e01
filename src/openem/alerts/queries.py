"""What other capabilities may ask of alerts (read-only, plain values; never the ORM rows): an order's
alerts for its page, and how many alerts are waiting for the monitoring centre."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openem.alerts.tables import AlertRow

#: Alerts not yet handled (triage states come with breach management; today every alert is NEW).
OPEN_STATUSES = ("NEW",)


def alerts_for_order(session: Session, order_ref: str, limit: int = 20) -> list[dict[str, Any]]:
    """An order's latest alerts, newest first: id, kind, severity, start, end, detected_at, status."""
    a = AlertRow
    rows = session.execute(
        select(a.alert_id, a.kind, a.severity, a.start, a.end, a.detected_at, a.status)
        .where(a.order_ref == order_ref)
        .order_by(a.detected_at.desc(), a.alert_id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def open_alert_count(session: Session) -> int:
    """Alerts raised and not yet handled, fleet-wide (the monitoring centre's figure)."""
    return int(session.execute(select(func.count()).where(AlertRow.status.in_(OPEN_STATUSES))).scalar_one())
