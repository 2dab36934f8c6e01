"""What other capabilities may ask of orders (read-only, plain values; never the ORM rows; the tables stay
private to orders): the case scope that access rules decide on, for one order or many, the versions in
force that the monitoring engines follow, and what a map of the order shows (addresses, the curfew
address, zones and appointment places)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from openem.auth.policy import CaseScope
from openem.orders.model import OrderStatus
from openem.orders.repository import OrderRow, OrderVersionRow, SqlOrderRepository

LIVE = (OrderStatus.ACCEPTED.value, OrderStatus.ACTIVE.value)
ENDED = OrderStatus.ENDED.value
#: monitoring paused: followers treat it as ended at the suspension, and re-apply the order when it resumes
SUSPENDED = OrderStatus.SUSPENDED.value


@dataclasses.dataclass(frozen=True)
class OrderInForce:
    """The version of an order in force (accepted, active or ended), as the store has it; the document is
    fetched separately (`order_documents`), only for the orders whose version a reader lacks."""

    ref: str
    version: int
    status: str
    decided_at: datetime | None
    updated_at: datetime


def orders_in_force_since(
    session: Session, since: datetime | None = None, overlap_s: float = 0.0
) -> list[OrderInForce]:
    """Orders whose version in force is live or ended, changed at or after `since` minus `overlap_s` (all when
    `since` is None). The overlap covers transactions that stamped `updated_at` before they committed."""
    q = (
        select(OrderVersionRow.ref, OrderVersionRow.version, OrderVersionRow.status, OrderVersionRow.decided_at,
               OrderRow.updated_at)
        .join(OrderRow, OrderRow.ref == OrderVersionRow.ref)
        .where(OrderVersionRow.status.in_((*LIVE, ENDED, SUSPENDED)))
    )  # fmt: skip
    if since is not None:
        q = q.where(OrderRow.updated_at >= since - timedelta(seconds=overlap_s))
    return [OrderInForce(*row) for row in session.execute(q)]


def order_documents(session: Session, refs: Iterable[str]) -> dict[str, tuple[dict[str, Any], str | None]]:
    """ref -> (document of the version in force, person id) for these orders."""
    wanted = sorted(set(refs))
    out: dict[str, tuple[dict[str, Any], str | None]] = {}
    for i in range(0, len(wanted), 500):
        rows = session.execute(
            select(OrderVersionRow.ref, OrderVersionRow.document, OrderRow.person_id)
            .join(OrderRow, OrderRow.ref == OrderVersionRow.ref)
            .where(
                OrderVersionRow.ref.in_(wanted[i : i + 500]),
                OrderVersionRow.status.in_((*LIVE, ENDED, SUSPENDED)),
            )
        ).all()
        out.update({ref: (dict(doc), person_id) for ref, doc, person_id in rows})
    return out


def case_scope(row: OrderRow) -> CaseScope:
    return CaseScope(
        order_ref=row.ref,
        responsible_officer_email=row.responsible_officer_email,
        police_area=row.police_area,
        notifying_organisation_name=row.notifying_organisation_name,
        created_by=row.created_by,
        restricted=row.restricted,
    )


def case_scopes(session: Session, refs: Iterable[str]) -> dict[str, CaseScope]:
    """The case scope of each of these orders that exists, by order ref."""
    wanted = sorted({r for r in refs if r})
    out: dict[str, CaseScope] = {}
    for i in range(0, len(wanted), 500):
        for row in session.execute(select(OrderRow).where(OrderRow.ref.in_(wanted[i : i + 500]))).scalars():
            out[row.ref] = case_scope(row)
    return out


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def map_context_of(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What a map of this order document shows, as plain JSON: addresses with coordinates (the curfew address
    flagged: the one the curfew timetable names, the primary address by default), zones with their names and
    shapes, and appointment places."""
    conditions: dict[str, Any] = doc["conditions"] if isinstance(doc.get("conditions"), dict) else {}
    curfew = conditions.get("curfew") if isinstance(conditions.get("curfew"), dict) else None
    curfew_types = set()
    if curfew:
        slots = [s for s in (curfew.get("timetable") or []) if isinstance(s, dict)]
        curfew_types = {s.get("address_type") or "PRIMARY" for s in slots} or {"PRIMARY"}
        for s in slots:  # a slot kept at any of several addresses
            further = s.get("address_types")
            if isinstance(further, list):
                curfew_types.update(t for t in further if isinstance(t, str))
    addresses = []
    for a in doc.get("addresses") or []:
        if isinstance(a, dict) and _number(a.get("lat")) and _number(a.get("lon")):
            addresses.append(
                {
                    "label": f"{a.get('line1') or ''} {a.get('postcode') or ''}".strip(),
                    "lat": a["lat"],
                    "lon": a["lon"],
                    "curfew": (a.get("type") or "PRIMARY") in curfew_types,
                }
            )
    zones = []
    for kind in ("exclusion_zones", "inclusion_zones", "restriction_zones"):
        for z in conditions.get(kind) or []:
            if isinstance(z, dict):
                zones.append({"kind": kind, "name": z.get("name") or "", "geometry": z.get("geometry")})
    places = [
        {"label": p.get("name") or "Appointment", "lat": p["lat"], "lon": p["lon"]}
        for p in conditions.get("attendance") or []
        if isinstance(p, dict) and _number(p.get("lat")) and _number(p.get("lon"))
    ]
    return {"addresses": addresses, "zones": zones, "places": places}


def map_context(session: Session, ref: str) -> dict[str, list[dict[str, Any]]]:
    """The map context of the order version in force (else the latest); empty for an unknown order."""
    record = SqlOrderRepository(session).get(ref) if ref else None
    if record is None:
        return {"addresses": [], "zones": [], "places": []}
    version = record.current or record.latest
    return map_context_of(dict(version.document))


@dataclasses.dataclass(frozen=True)
class PersonOrder:
    """One order of a person, as the person view needs it (plain values)."""

    ref: str
    person_id: str
    wearer_name: str
    status: str
    police_area: str
    scope: CaseScope
    document: dict[str, Any]


def _person_order(row: OrderRow, doc: dict[str, Any]) -> PersonOrder:
    return PersonOrder(
        ref=row.ref,
        person_id=row.person_id or "",
        wearer_name=row.wearer_name,
        status=row.current_status or row.status,
        police_area=row.police_area,
        scope=case_scope(row),
        document=doc,
    )


def find_person_orders(session: Session, text: str, limit: int = 200) -> list[PersonOrder]:
    """Orders whose order ref or person id equals `text`, or whose wearer's name contains it (case-insensitive).
    The caller filters by who may see them; the documents are those in force (else the latest)."""
    text = text.strip()[:100]
    if not text:
        return []
    like = f"%{text.lower()}%"
    rows = list(
        session.execute(
            select(OrderRow)
            .where(
                or_(
                    OrderRow.ref == text.upper(),
                    OrderRow.person_id == text,
                    func.lower(OrderRow.wearer_name).like(like),
                )
            )
            .order_by(OrderRow.ref)
            .limit(limit)
        ).scalars()
    )
    return [_person_order(r, _doc_in_force(session, r.ref)) for r in rows]


def orders_of_person(session: Session, person_id: str) -> list[PersonOrder]:
    """Every order of this person (by person id), oldest ref first."""
    rows = session.execute(
        select(OrderRow).where(OrderRow.person_id == person_id[:40]).order_by(OrderRow.ref)
    )
    return [_person_order(r, _doc_in_force(session, r.ref)) for r in rows.scalars()]


def _doc_in_force(session: Session, ref: str) -> dict[str, Any]:
    record = SqlOrderRepository(session).get(ref)
    if record is None:
        return {}
    return dict((record.current or record.latest).document)


def find_orders_by_identifier(session: Session, keys: Iterable[str], limit: int = 200) -> list[PersonOrder]:
    """Orders any version of which carries one of these wearer identifier keys ("pnc:2004/1234567A",
    "crn:X123456", as `rules.duplicates.match_keys` writes them). The caller filters by who may see them."""
    from openem.orders.repository import OrderMatchKeyRow

    wanted = sorted({k[:120] for k in keys if k})[:50]
    if not wanted:
        return []
    refs = session.scalars(
        select(OrderMatchKeyRow.ref).where(OrderMatchKeyRow.key.in_(wanted)).distinct().limit(limit)
    ).all()
    rows = session.execute(select(OrderRow).where(OrderRow.ref.in_(sorted(refs))).order_by(OrderRow.ref))
    return [_person_order(r, _doc_in_force(session, r.ref)) for r in rows.scalars()]


def versions_of_orders(session: Session, refs: Iterable[str]) -> list[dict[str, Any]]:
    """Every version of these orders (plain values, no document): ref, version, status, request_type, created_by,
    created_at, submitted_at, decided_at; oldest first. The person view's timeline lists them."""
    v = OrderVersionRow
    rows = session.execute(
        select(v.ref, v.version, v.status, v.request_type, v.created_by, v.created_at, v.submitted_at,
               v.decided_at)
        .where(v.ref.in_(sorted(set(refs))[:500]))
        .order_by(v.created_at, v.ref, v.version)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]
