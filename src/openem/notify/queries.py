"""What other capabilities and pages may ask of notify (plain values): an inbox's messages, and the deliveries
of a subject with their receipts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.notify.tables import AttemptRow, DeliveryRow, InboxMessageRow


def inbox(session: Session, inboxes: set[str], limit: int = 200) -> list[dict[str, Any]]:
    """Messages in these inboxes, unacknowledged first, newest first."""
    if not inboxes:
        return []
    m = InboxMessageRow
    rows = session.scalars(select(m).where(m.inbox.in_(sorted(inboxes)))
                           .order_by(m.acknowledged_at.is_not(None), m.created_at.desc()).limit(limit))  # fmt: skip
    return [{c.name: getattr(r, c.name) for c in m.__table__.columns} for r in rows]


def deliveries(session: Session, subject_id: str) -> list[dict[str, Any]]:
    """Every delivery of a subject (all versions) with its attempts (the receipts)."""
    out = []
    for d in session.scalars(select(DeliveryRow).where(DeliveryRow.subject_id == subject_id)
                             .order_by(DeliveryRow.created_at, DeliveryRow.delivery_id)):  # fmt: skip
        attempts = session.scalars(select(AttemptRow).where(AttemptRow.delivery_id == d.delivery_id)
                                   .order_by(AttemptRow.attempt_id))  # fmt: skip
        out.append({"delivery_id": d.delivery_id, "kind": d.kind, "address": d.address, "status": d.status,
                    "version": d.subject_version, "attempts": d.attempts, "last_error": d.last_error,
                    "delivered_at": d.delivered_at, "receipt": d.receipt, "next_attempt_at": d.next_attempt_at,
                    "receipts": [{"at": a.at, "ok": a.ok, "detail": a.detail, "seconds": a.seconds} for a in attempts]})  # fmt: skip
    return out


def inbox_messages_for(session: Session, subject_id: str) -> list[dict[str, Any]]:
    m = InboxMessageRow
    rows = session.scalars(select(m).where(m.subject_id == subject_id).order_by(m.created_at))
    return [{"inbox": r.inbox, "created_at": r.created_at, "acknowledged_at": r.acknowledged_at,
             "title": r.title, "version": r.subject_version} for r in rows]  # fmt: skip
