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


#: the queue's filters, in words: situation kinds (a prefix of the incident's situation), priority bands
QUEUE_KINDS = {"curfew": "curfew night", "zone": "zone visit", "tamper": "tamper", "proximity": "victim proximity",
               "alcohol": "alcohol", "device": "device fault"}  # fmt: skip
PRIORITY_BANDS = {"urgent": (90, None), "high": (60, 90), "medium": (30, 60), "low": (None, 30)}
QUEUE_STATES = {"waiting": ("open", "escalated", "acknowledged"), "open": ("open",),
                "acknowledged": ("acknowledged",), "escalated": ("escalated",), "resolved": ("resolved",),
                "confirmed": ("confirmed",),
                "held_back": ("suppressed", "inhibited", "held", "auto_closed", "suspended")}  # fmt: skip


def _queue_filter(q: Any, kind: str = "", band: str = "", assignee: str = "", state: str = "waiting") -> Any:
    from openem.alerts.tables import IncidentRow as i

    states = QUEUE_STATES.get(state, QUEUE_STATES["waiting"])
    q = q.where(i.state.in_(states))
    if state in ("", "waiting", "open", "acknowledged"):
        q = q.where(i.needs_person.is_(True))
    if kind in QUEUE_KINDS:
        q = q.where(i.situation.like(QUEUE_KINDS[kind] + "%"))
    if band in PRIORITY_BANDS:
        low, high = PRIORITY_BANDS[band]
        q = q.where(i.priority >= low) if low is not None else q
        q = q.where(i.priority < high) if high is not None else q
    if assignee == "unassigned":
        q = q.where(i.assignee == "")
    elif assignee:
        q = q.where(i.assignee == assignee[:80])
    return q


def incident_queue(session: Session, limit: int = 200, include_all: bool = False, *, kind: str = "",
                   band: str = "", assignee: str = "", state: str = "waiting", offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Incidents, most urgent first (plain values; `decisions` says why, for every one): by default those
    waiting for a person; filtered by situation kind, priority band, assignee and state."""
    from openem.alerts.tables import IncidentRow as i

    q = select(i.incident_id, i.person_id, i.order_ref, i.situation, i.state, i.needs_person, i.priority,
               i.severity, i.opened_at, i.closed_at, i.assignee, i.kinds, i.decisions, i.row_version)  # fmt: skip
    if not include_all:
        q = _queue_filter(q, kind, band, assignee, state)
    rows = session.execute(
        q.order_by(i.priority.desc(), i.opened_at, i.incident_id).offset(offset).limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def incident_count(session: Session, *, kind: str = "", band: str = "", assignee: str = "",
                   state: str = "waiting") -> int:  # fmt: skip
    """How many incidents the same filters give (the queue's total)."""
    return int(session.execute(_queue_filter(select(func.count()), kind, band, assignee, state)).scalar_one())


def assignees(session: Session) -> list[str]:
    """Who has incidents assigned (the assignee filter's choices)."""
    from openem.alerts.tables import IncidentRow as i

    q = select(i.assignee).where(i.assignee != "", i.needs_person.is_(True)).distinct().order_by(i.assignee)
    return [a for (a,) in session.execute(q.limit(200))]


def incident(session: Session, incident_id: str) -> dict[str, Any] | None:
    """One incident with its episodes, decisions and notes, or None."""
    from openem.alerts.tables import IncidentRow

    row = session.get(IncidentRow, incident_id)
    if row is None:
        return None
    return {c.name: getattr(row, c.name) for c in IncidentRow.__table__.columns}


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
