"""What other capabilities may ask of orders (read-only, plain values; never the ORM rows): the case scope
that access rules decide on, for one order or many; what a map of the order shows (addresses, the curfew
address, zones and appointment places)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth.policy import CaseScope
from openem.orders.repository import OrderRow, SqlOrderRepository


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
    conditions = doc.get("conditions") if isinstance(doc.get("conditions"), dict) else {}
    curfew = conditions.get("curfew") if isinstance(conditions.get("curfew"), dict) else None
    curfew_types = set()
    if curfew:
        slots = [s for s in (curfew.get("timetable") or []) if isinstance(s, dict)]
        curfew_types = {s.get("address_type") or "PRIMARY" for s in slots} or {"PRIMARY"}
    addresses = []
    for a in doc.get("addresses") or []:
        if isinstance(a, dict) and _number(a.get("lat")) and _number(a.get("lon")):
            addresses.append({"label": f"{a.get('line1') or ''} {a.get('postcode') or ''}".strip(),
                              "lat": a["lat"], "lon": a["lon"], "curfew": (a.get("type") or "PRIMARY") in curfew_types})
    zones = []
    for kind in ("exclusion_zones", "inclusion_zones"):
        for z in conditions.get(kind) or []:
            if isinstance(z, dict):
                zones.append({"kind": kind, "name": z.get("name") or "", "geometry": z.get("geometry")})
    places = [{"label": p.get("name") or "Appointment", "lat": p["lat"], "lon": p["lon"]}
              for p in conditions.get("attendance") or []
              if isinstance(p, dict) and _number(p.get("lat")) and _number(p.get("lon"))]
    return {"addresses": addresses, "zones": zones, "places": places}


def map_context(session: Session, ref: str) -> dict[str, list[dict[str, Any]]]:
    """The map context of the order version in force (else the latest); empty for an unknown order."""
    record = SqlOrderRepository(session).get(ref) if ref else None
    if record is None:
        return {"addresses": [], "zones": [], "places": []}
    version = record.current or record.latest
    return map_context_of(dict(version.document))
