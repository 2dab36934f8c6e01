"""Storing alerts from `monitoring.AlertRaised` events (idempotent) and reading them back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from openem.alerts.tables import AlertRow, EpisodeRow
from openem.auth import audit
from openem.core.time import parse_instant, utcnow

ALERT_TOPIC = "monitoring.AlertRaised"
EPISODE_TOPICS = ("monitoring.EpisodeOpened", "monitoring.EpisodeUpdated", "monitoring.EpisodeClosed")
EPISODE_STATES = ("open", "closed")


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


# -- triage: incidents ------------------------------------------------------------------------------------

RESOLUTION_CODES = ("reasonable_excuse", "authorised_absence", "equipment_fault", "no_breach", "duplicate",
                    "breach_confirmed_elsewhere")  # fmt: skip
HUMAN_STATES = ("resolved", "escalated", "acknowledged")
#: what a contact with the wearer established
CONTACT_OUTCOMES = ("reasonable_excuse", "authorised_absence", "no_answer", "wearer_returning", "other")
ACTIONS = ("acknowledge", "assign", "note", "contact", "resolve", "escalate")


class IncidentConflict(Exception):
    """The incident changed since the operator read it (another operator acted first), or is already closed."""


def _plain(ep: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ep.items() if not k.startswith("_")}


def _relevant_rows(session: Session, person: str, key: str, ep: dict[str, Any]) -> list[Any]:
    """The stored incidents one more episode can change: the latest of its grouping key, the wearer's recent
    device faults (they inhibit), and, when the episode is itself a fault, the recent curfew and zone incidents
    it may explain. Bounded by the wearer's recent days, not their whole history."""
    from sqlalchemy import and_, or_, select

    from openem.alerts.tables import IncidentRow as i
    from openem.alerts.triage import condition_of, parse_iso

    start = parse_iso(ep.get("start"))
    if start is None:
        return []
    since = start - timedelta(days=2)
    recent = or_(i.closed_at.is_(None), i.closed_at >= since)
    wanted = [and_(i.group_key == key)]
    wanted.append(and_(i.situation == "device fault", recent))
    if condition_of(str(ep.get("kind") or "")) == "device_fault":
        wanted.append(and_(i.situation != "device fault", i.opened_at >= since, recent))
    rows = list(session.scalars(select(i).where(i.person_id == person, or_(*wanted))))
    same = [r for r in rows if r.group_key == key]
    latest = max(same, key=lambda r: (r.opened_at, r.incident_id), default=None)
    return [r for r in rows if r.group_key != key or r is latest]


def _needing_elsewhere(session: Session, person: str, loaded: set[str]) -> int:
    from sqlalchemy import func, select

    from openem.alerts.tables import IncidentRow as i

    q = select(func.count()).where(i.person_id == person, i.needs_person.is_(True))
    if loaded:
        q = q.where(i.incident_id.not_in(sorted(loaded)))
    return int(session.execute(q).scalar_one())


def triage_episode(session: Session, episode: dict[str, Any], alert_only: bool = False) -> list[Any]:
    """Triage one more episode (or bare AlertRaised) incrementally: only the incidents it can change are loaded,
    re-decided from their stored episodes and written back; `alerts.IncidentEscalated` is returned for incidents
    that policy escalates (or confirms) for the first time."""
    from openem.alerts.rulebook import active_silences, effective_rules
    from openem.alerts.triage import Triage, condition_of, person_flags_from_order, situation_of
    from openem.orders.queries import order_documents

    person = str(episode.get("person_id") or "")
    order_ref = str(episode.get("order_ref") or "")
    probe = Triage()
    ep_in = dict(episode)
    if alert_only:
        ep_in.setdefault("episode_id", episode.get("alert_id") or episode.get("id"))
        ep_in.setdefault("revision", 0)
        ep_in.setdefault("state", "closed" if episode.get("end") else "open")
    probe.on_episode(ep_in)
    if probe.rejected:
        return []
    [parsed] = [e for inc in probe.incidents.values() for e in inc.episodes.values()]
    key = f"{person}|{order_ref}|{situation_of(parsed)}"
    rows = {r.incident_id: r for r in _relevant_rows(session, person, key, episode)}
    docs = order_documents(session, [order_ref]) if order_ref else {}
    flags = (
        frozenset().union(*(person_flags_from_order(d) for d, _ in docs.values())) if docs else frozenset()
    )
    triage = Triage(rules=effective_rules(session), silences=active_silences(session, parsed["_start"]),
                    person_flags={person: flags})  # fmt: skip
    triage.history_offset[person] = _needing_elsewhere(session, person, set(rows))
    # faults first, so that the incidents they explain see them; each incident under its stored id
    for row in sorted(
        rows.values(), key=lambda r: (r.situation != "device fault", r.opened_at, r.incident_id)
    ):
        triage.restore(row.incident_id, row.person_id, row.order_ref, row.situation, row.opened_at)
        for e in sorted(row.episodes, key=lambda e: (str(e["start"]), str(e.get("episode_id")))):
            triage.on_episode(e)
    triage.on_episode(ep_in)
    if condition_of(str(parsed["kind"])) == "device_fault":
        triage.redecide(person)
    return _write_back(session, triage, rows)


def _write_back(session: Session, triage: Any, rows: dict[str, Any]) -> list[Any]:
    from openem.alerts.events import IncidentEscalated
    from openem.alerts.tables import IncidentRow

    escalated: list[Any] = []
    esc_by_id = {e["incident_id"]: e for e in triage.escalations}
    for inc in triage.finish():
        row = rows.get(inc.incident_id)
        eps = [_plain(e) for e in inc.episodes.values()]
        if row is None:
            row = IncidentRow(incident_id=inc.incident_id, group_key=f"{inc.person_id}|{inc.order_ref}|{inc.situation}",
                              person_id=inc.person_id, order_ref=inc.order_ref, situation=inc.situation,
                              opened_at=inc.opened_at, assignee="", resolution="", notes=[], decisions=[],
                              kinds=[], episodes=[], state="open", needs_person=False, priority=0, severity="LOW")  # fmt: skip
            session.add(row)
        was = row.state
        if eps != row.episodes or row.decisions[: len(inc.decisions)] != inc.decisions:
            row.episodes, row.kinds, row.severity, row.priority = (
                eps,
                sorted(set(inc.kinds)),
                inc.severity,
                inc.priority,
            )
            human = [d for d in row.decisions if d.get("by")]
            row.decisions = list(inc.decisions) + [d for d in human if d not in inc.decisions]
            if was not in HUMAN_STATES and was != "confirmed":
                row.state, row.needs_person, row.closed_at = inc.state, inc.needs_person, inc.closed_at
        if (
            inc.incident_id in esc_by_id
            and was not in ("escalated", "confirmed")
            and row.state in ("escalated", "confirmed")
        ):
            escalated.append(IncidentEscalated(incident=esc_by_id[inc.incident_id]))
    session.flush()
    return escalated


def on_alert_for_triage(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `monitoring.AlertRaised` (works without episode events)."""
    for event in triage_episode(uow.session, payload, alert_only=True):
        uow.add_event(event)


def on_episode_for_triage(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `monitoring.Episode{Opened,Updated,Closed}` (payload key `episode`)."""
    episode = payload.get("episode")
    if isinstance(episode, dict):
        for event in triage_episode(uow.session, episode):
            uow.add_event(event)


def act_on_incident(uow: Any, incident_id: str, expected_version: int, actor: str, action: str,
                    reason: str = "", assignee: str = "", note: str = "") -> dict[str, Any]:  # fmt: skip
    """An operator's action: acknowledge, assign, note, contact, resolve (reason code), escalate. Optimistic
    locking: `expected_version` must be the version the operator saw, else IncidentConflict."""
    from openem.alerts.events import IncidentEscalated
    from openem.alerts.tables import IncidentRow
    from openem.alerts.triage import iso

    session: Session = uow.session
    row = session.get(IncidentRow, incident_id, with_for_update=True)
    if row is None:
        raise KeyError(incident_id)
    if row.row_version != expected_version:
        raise IncidentConflict(
            f"incident {incident_id} changed (version {row.row_version}, you saw {expected_version})"
        )
    if row.state == "resolved" and action in ("resolve", "escalate"):
        raise IncidentConflict(f"incident {incident_id} is already resolved")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action == "resolve" and reason not in RESOLUTION_CODES:
        raise ValueError(f"unknown resolution code {reason!r}; one of {', '.join(RESOLUTION_CODES)}")
    if action == "contact" and reason not in CONTACT_OUTCOMES:
        raise ValueError(f"unknown contact outcome {reason!r}; one of {', '.join(CONTACT_OUTCOMES)}")
    if action == "note" and not note.strip():
        raise ValueError("a note needs some text")
    if action == "assign" and not assignee.strip():
        raise ValueError("say who the incident is assigned to")
    if action == "acknowledge" and (
        row.state not in ("open", "escalated") or any(d.get("action") == "acknowledge" for d in row.decisions)
    ):
        raise IncidentConflict(f"incident {incident_id} is already acknowledged or closed")
    if row.state == "confirmed" and action == "escalate":
        raise IncidentConflict(f"incident {incident_id} was already sent to an official as a breach")
    now = utcnow()
    decision = {"action": action, "by": actor, "at": iso(now), "reason": reason[:200]}
    row.decisions = [*row.decisions, decision]
    if action == "acknowledge" and row.state == "open":
        row.state = "acknowledged"  # an escalated incident stays escalated; the decision says who has it
    if action == "assign":
        row.assignee = assignee.strip()[:80]
    if action in ("note", "contact"):
        row.notes = [
            *row.notes,
            {"by": actor, "at": iso(now), "kind": action, "text": note[:2000], "reason": reason[:80]},
        ]
    if action == "resolve":
        row.state, row.resolution, row.closed_at, row.needs_person = "resolved", reason, now, False
    if action == "escalate":
        if row.state == "escalated":
            raise IncidentConflict(f"incident {incident_id} is already escalated")
        row.state, row.needs_person = "escalated", False  # handed on to breaches: off the waiting queue
        uow.add_event(IncidentEscalated(incident={
            "incident_id": row.incident_id, "person_id": row.person_id, "order_ref": row.order_ref,
            "episode_ids": [str(e.get("episode_id") or e.get("alert_id") or e.get("id")) for e in row.episodes],
            "alert_ids": [str(e.get("episode_id") or e.get("alert_id") or e.get("id")) for e in row.episodes],
            "kinds": list(row.kinds), "priority": row.priority, "severity": row.severity,
            "opened_at": iso(row.opened_at), "confirmed_at": iso(now), "confirmed_by": actor,
            "reason": reason or "escalated by an operator", "situation": row.situation,
        }))  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, action=f"alerts:incident:{incident_id}:{action}",
                 records=[row.order_ref, row.person_id], details={"reason": reason[:80]})  # fmt: skip
    return {"incident_id": row.incident_id, "state": row.state, "row_version": row.row_version}


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v or abs(v) > 1e12:
        return None
    return float(v)


def store_episode(session: Session, episode: dict[str, Any]) -> bool:
    """Store one episode record, keeping the highest revision per id: a repeat or an older revision
    (redelivered, out of order) changes nothing. Returns True when the stored episode changed. A record
    without an id, kind or start is refused (ValueError), so the bus parks it and the rest go on."""
    if not isinstance(episode, dict) or not episode.get("episode_id") or not episode.get("kind"):
        raise ValueError("an episode needs episode_id and kind")
    eid = str(episode["episode_id"])[:64]
    revision = int(episode.get("revision") or 0)
    state = str(episode.get("state") or "open")
    if state not in EPISODE_STATES:
        raise ValueError(f"unknown episode state {state!r}")
    row = session.get(EpisodeRow, eid)
    if row is not None and row.revision >= revision:
        return False
    now = utcnow()
    measure = {str(k)[:40]: n for k, v in dict(episode.get("measure") or {}).items()
               if (n := _num(v)) is not None}  # fmt: skip
    values = {
        "kind": str(episode["kind"])[:40],
        "severity": str(episode.get("severity") or "LOW")[:10],
        "person_id": str(episode.get("person_id") or "")[:40],
        "order_ref": str(episode.get("order_ref") or "")[:40],
        "device_id": str(episode.get("device_id") or "")[:64],
        "condition_id": str(episode.get("condition_id") or "")[:80],
        "start": parse_instant(str(episode["start"])),
        "end": parse_instant(str(episode["end"])) if episode.get("end") else None,
        "state": state,
        "revision": revision,
        "closed_reason": str(episode["closed_reason"])[:20] if episode.get("closed_reason") else None,
        "confidence": "possible" if episode.get("confidence") == "possible" else "confirmed",
        "measure": dict(list(measure.items())[:20]),
        "evidence": list(episode.get("evidence") or [])[:500],
        "details": dict(episode.get("details") or {}),
        "detected_at": parse_instant(str(episode["detected_at"])) if episode.get("detected_at") else now,
        "updated_at": parse_instant(str(episode["updated_at"])) if episode.get("updated_at") else now,
        "stored_at": now,
    }
    if row is None:
        session.add(EpisodeRow(episode_id=eid, **values))
    else:
        for k, v in values.items():
            setattr(row, k, v)
    session.flush()
    return True


def on_episode(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `monitoring.EpisodeOpened / Updated / Closed` (payload key `episode`)."""
    store_episode(uow.session, payload["episode"])
