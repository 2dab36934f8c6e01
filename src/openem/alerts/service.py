"""Storing alerts from `monitoring.AlertRaised` events (idempotent) and reading them back."""

from __future__ import annotations

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
