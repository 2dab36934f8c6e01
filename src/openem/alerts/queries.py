"""What other capabilities may ask of alerts (read-only, plain values; never the ORM rows): an order's
alerts for its page, and how many alerts are waiting for the monitoring centre."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openem.alerts.tables import AlertRow, EpisodeRow

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


EPISODE_FIELDS = ("episode_id", "kind", "severity", "order_ref", "person_id", "condition_id", "start", "end",
                  "state", "revision", "closed_reason", "confidence", "measure", "details", "updated_at")  # fmt: skip


def episodes_for_order(session: Session, order_ref: str, limit: int = 50) -> list[dict[str, Any]]:
    """An order's episodes, open ones first, then newest first: the fields in EPISODE_FIELDS."""
    e = EpisodeRow
    rows = session.execute(
        select(*(getattr(e, f) for f in EPISODE_FIELDS))
        .where(e.order_ref == order_ref)
        .order_by((e.state == "open").desc(), e.start.desc(), e.episode_id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def episode(session: Session, episode_id: str) -> dict[str, Any] | None:
    """One episode by id (= the alert id that opened it), or None."""
    row = session.get(EpisodeRow, episode_id)
    return None if row is None else {f: getattr(row, f) for f in EPISODE_FIELDS}


def episodes_for_alerts(session: Session, alert_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The episodes of these alerts, by id (an alert with none is missing from the answer)."""
    if not alert_ids:
        return {}
    e = EpisodeRow
    rows = session.execute(
        select(*(getattr(e, f) for f in EPISODE_FIELDS)).where(e.episode_id.in_(alert_ids))
    )
    return {r.episode_id: dict(r._mapping) for r in rows}
