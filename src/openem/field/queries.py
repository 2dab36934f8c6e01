"""What the field pages and other capabilities may ask of visits (plain dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.field import contract
from openem.field.rules import NEEDS_ADDRESS_CHECK, FittingMeasure, fitting_measure
from openem.field.tables import AddressPinRow, AttemptRow, VisitRow


def _visit(v: VisitRow) -> dict[str, Any]:
    return {"visit_id": v.visit_id, "kind": v.kind, "order_ref": v.order_ref, "person_id": v.person_id,
            "device_id": v.device_id, "status": v.status, "due_by": v.due_by, "officer": v.officer,
            "planned_for": v.planned_for, "sequence": v.sequence, "lat": v.lat, "lon": v.lon,
            "attempts": v.attempts, "last_outcome": v.last_outcome, "reminders": v.reminders,
            "postcode": v.postcode, "address_check": v.address_check, "address_message": v.address_message,
            "needs_address_check": v.address_check in NEEDS_ADDRESS_CHECK, "location": v.location, "rule": v.rule,
            "priority": v.priority, "appointment_at": v.appointment_at, "created_at": v.created_at,
            "partner": v.partner, "officers_needed": v.officers_needed, "needs_skill": v.needs_skill}  # fmt: skip


def visit(session: Session, visit_id: str) -> dict[str, Any] | None:
    v = session.get(VisitRow, visit_id)
    return None if v is None else _visit(v)


def todays_visits(session: Session, officer: str, day: str) -> list[dict[str, Any]]:
    """An officer's visits planned for a day, in route order (a two-officer visit is on both officers' days)."""
    from sqlalchemy import or_

    rows = session.execute(
        select(VisitRow)
        .where(or_(VisitRow.officer == officer, VisitRow.partner == officer), VisitRow.planned_for == day)
        .order_by(VisitRow.sequence)
    ).scalars()
    return [_visit(v) for v in rows]


def open_visits(session: Session, kind: str | None = None) -> list[dict[str, Any]]:
    q = select(VisitRow).where(VisitRow.status == "OPEN")
    if kind is not None:
        q = q.where(VisitRow.kind == kind)
    return [_visit(v) for v in session.execute(q.order_by(VisitRow.due_by)).scalars()]


def outstanding_recoveries(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Devices not yet back after an order ended, oldest first, with days outstanding."""
    out = []
    for v in open_visits(session, "RECOVER"):
        row = session.get(VisitRow, v["visit_id"])
        assert row is not None
        v["days_outstanding"] = (now - row.created_at).days
        out.append(v)
    return out


def fitting_kpi(session: Session) -> FittingMeasure:
    """Fitted within the standard two attempts (success) beside the contract's attempts-made measure, over every
    fitting visit not cancelled."""
    fits = session.execute(
        select(VisitRow.visit_id).where(VisitRow.kind == "FIT", VisitRow.status != "CANCELLED")
    ).scalars()
    ids = list(fits)
    outcomes: dict[str, list[str]] = {i: [] for i in ids}
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(AttemptRow.visit_id, AttemptRow.outcome)
            .where(AttemptRow.visit_id.in_(ids[i : i + 500]))
            .order_by(AttemptRow.attempt_id)
        )
        for vid, outcome in rows:
            outcomes[vid].append(outcome)
    return fitting_measure(outcomes.values())


def recovery_rate(session: Session) -> tuple[int, int]:
    """(recovery visits, recovered) over every recovery visit."""
    rows = list(
        session.execute(select(VisitRow.status, VisitRow.last_outcome).where(VisitRow.kind == "RECOVER"))
    )
    return len(rows), sum(1 for s, o in rows if s == "DONE" and o == "RECOVERED")


def contract_measure(session: Session) -> contract.ContractMeasure:
    """Fitted within the standard attempts (success) beside standard attempts made by the deadline (the
    contract's measure), per contract rule, over every fitting visit not cancelled."""
    fits = list(session.execute(select(VisitRow).where(VisitRow.kind == "FIT", VisitRow.status != "CANCELLED"))
                .scalars())  # fmt: skip
    attempts: dict[str, list[tuple[datetime, str]]] = {v.visit_id: [] for v in fits}
    ids = list(attempts)
    for i in range(0, len(ids), 500):
        for vid, at, outcome in session.execute(
            select(AttemptRow.visit_id, AttemptRow.at, AttemptRow.outcome)
            .where(AttemptRow.visit_id.in_(ids[i : i + 500]))
            .order_by(AttemptRow.attempt_id)
        ):
            attempts[vid].append((at, outcome))
    return contract.contract_measure(
        contract.FitVisit(v.rule, v.created_at, attempts[v.visit_id], v.due_by) for v in fits
    )


def backlog(session: Session, now: datetime) -> contract.Backlog:
    """Open visits, and those outstanding longer than the backlog limit (three days), by kind."""
    rows = session.execute(select(VisitRow.kind, VisitRow.created_at).where(VisitRow.status == "OPEN"))
    return contract.backlog(((k, c) for k, c in rows), now)


def needing_address_check(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    q = select(VisitRow).where(VisitRow.status == "OPEN", VisitRow.address_check.in_(NEEDS_ADDRESS_CHECK))
    return [_visit(v) for v in session.execute(q.order_by(VisitRow.due_by).limit(limit)).scalars()]


def visits_of_orders(session: Session, refs: list[str]) -> list[dict[str, Any]]:
    """Every visit for these orders with its attempts (at, officer, outcome), oldest first: the person view's
    timeline lists them."""
    rows = list(
        session.execute(
            select(VisitRow)
            .where(VisitRow.order_ref.in_(sorted(set(refs))[:500]))
            .order_by(VisitRow.created_at)
        ).scalars()
    )
    attempts: dict[str, list[dict[str, Any]]] = {}
    if rows:
        for a in session.execute(
            select(AttemptRow)
            .where(AttemptRow.visit_id.in_([v.visit_id for v in rows]))
            .order_by(AttemptRow.at)
        ).scalars():
            attempts.setdefault(a.visit_id, []).append(
                {"at": a.at, "officer": a.officer, "outcome": a.outcome}
            )
    return [
        {**_visit(v), "created_at": v.created_at, "attempt_log": attempts.get(v.visit_id, [])} for v in rows
    ]


PIN_SOURCES = {
    "LOCATED": "From the postcode",
    "GIVEN": "Given with the order",
    "CORRECTED": "Corrected by hand",
}


def pins_of_order(session: Session, ref: str) -> list[dict[str, Any]]:
    """Where each address of the order is (for the order's page and map): type, postcode, lat/lon (None when
    it could not be placed), how it was placed, why not, and who corrected it when."""
    rows = session.execute(
        select(AddressPinRow).where(AddressPinRow.order_ref == ref[:40]).order_by(AddressPinRow.address_type)
    ).scalars()
    return [{"address_type": p.address_type, "postcode": p.postcode, "lat": p.lat, "lon": p.lon, "check": p.check,
             "placed": p.lat is not None and p.lon is not None,
             "how": PIN_SOURCES.get(p.check, "Not placed") + (f" ({p.source})" if p.check == "LOCATED" else ""),
             "message": p.message, "corrected_by": p.corrected_by, "corrected_at": p.corrected_at}
            for p in rows]  # fmt: skip


def urgent_unplanned(
    session: Session, day: str, end_of_day: datetime, limit: int = 200
) -> list[dict[str, Any]]:
    """Open visits not on anyone's plan for `day` that are due by the end of it (or overdue) or carry a
    priority: a supervisor's work to place, most urgent first."""
    rows = session.execute(
        select(VisitRow)
        .where(VisitRow.status == "OPEN", VisitRow.planned_for != day)
        .where((VisitRow.due_by <= end_of_day) | (VisitRow.priority > 0))
        .order_by(VisitRow.due_by, VisitRow.visit_id)
        .limit(limit)
    ).scalars()
    return [_visit(v) for v in rows]


def officers_on(session: Session, day: str) -> list[tuple[str, int]]:
    """(officer, visits planned) for everyone with a plan on `day`."""
    from sqlalchemy import func

    rows = session.execute(
        select(VisitRow.officer, func.count()).where(VisitRow.planned_for == day, VisitRow.officer != "")
        .group_by(VisitRow.officer).order_by(VisitRow.officer)
    ).all()  # fmt: skip
    return [(str(o), int(n)) for o, n in rows]


def corrected_pins(session: Session) -> dict[str, dict[str, Any]]:
    """Pins corrected by hand, for the monitoring engines' reconciler: order ref -> {"at": the latest
    correction (ISO), "pins": {address type: [lat, lon]}}. Few rows: only corrections are read."""
    out: dict[str, dict[str, Any]] = {}
    rows = session.execute(select(AddressPinRow).where(AddressPinRow.check == "CORRECTED")).scalars()
    for p in rows:
        entry = out.setdefault(p.order_ref, {"at": "", "pins": {}})
        entry["pins"][p.address_type] = [p.lat, p.lon]
        at = p.corrected_at.isoformat() if p.corrected_at else ""
        entry["at"] = max(entry["at"], at)
    return out


def photos_of_visit(session: Session, visit_id: str) -> list[dict[str, Any]]:
    """The photos of fitted equipment stored with a visit's attempts (without their bytes)."""
    from openem.field.tables import AttemptPhotoRow

    rows = session.execute(
        select(AttemptPhotoRow).where(AttemptPhotoRow.visit_id == visit_id).order_by(AttemptPhotoRow.photo_id)
    ).scalars()
    return [{"photo_id": r.photo_id, "attempt_id": r.attempt_id, "media_type": r.media_type, "size": r.size,
             "uploaded_by": r.uploaded_by, "uploaded_at": r.uploaded_at} for r in rows]  # fmt: skip


def photos_of_order(session: Session, order_ref: str) -> list[dict[str, Any]]:
    """The photos of fitted equipment of all the order's visits (shown on the order's page; without bytes)."""
    ids = [
        v for v in session.execute(select(VisitRow.visit_id).where(VisitRow.order_ref == order_ref)).scalars()
    ]
    return [ph | {"visit_id": vid} for vid in ids for ph in photos_of_visit(session, vid)]


def officer_names(session: Session, officers: list[str]) -> dict[str, str]:
    """Officer id -> the name people read (the user's display name; the id when there is no such user)."""
    from openem.auth.tables import UserRow

    if not officers:
        return {}
    rows = session.execute(select(UserRow.id, UserRow.display_name).where(UserRow.id.in_(officers)))
    return {str(i): str(n or i) for i, n in rows}
