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


def incident_queue(session: Session, limit: int = 200, include_all: bool = False) -> list[dict[str, Any]]:
    """Incidents needing a person, most urgent first (plain values; `decisions` says why, for every one)."""
    from openem.alerts.tables import IncidentRow as i

    q = select(i.incident_id, i.person_id, i.order_ref, i.situation, i.state, i.needs_person, i.priority,
               i.severity, i.opened_at, i.closed_at, i.assignee, i.kinds, i.decisions, i.row_version)  # fmt: skip
    if not include_all:
        q = q.where(i.needs_person.is_(True), i.state.not_in(("resolved",)))
    rows = session.execute(q.order_by(i.priority.desc(), i.opened_at, i.incident_id).limit(limit))
    return [dict(r._mapping) for r in rows]


def incident(session: Session, incident_id: str) -> dict[str, Any] | None:
    """One incident with its episodes, decisions and notes, or None."""
    from openem.alerts.tables import IncidentRow

    row = session.get(IncidentRow, incident_id)
    if row is None:
        return None
    return {c.name: getattr(row, c.name) for c in IncidentRow.__table__.columns}


def incidents_of_orders(session: Session, refs: list[str], limit: int = 500) -> list[dict[str, Any]]:
    """Incidents of these orders, newest first (plain values: id, situation, state, severity, opened, closed,
    resolution, kinds, how many episodes and notes): the person view's timeline lists them."""
    from openem.alerts.tables import IncidentRow as i

    rows = session.execute(
        select(i.incident_id, i.order_ref, i.situation, i.state, i.severity, i.opened_at, i.closed_at,
               i.resolution, i.kinds, i.episodes, i.notes)
        .where(i.order_ref.in_(sorted(set(refs))[:500]))
        .order_by(i.opened_at.desc())
        .limit(limit)
    )  # fmt: skip
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["episode_count"] = len(d.pop("episodes") or [])
        d["note_count"] = len(d.pop("notes") or [])
        out.append(d)
    return out
