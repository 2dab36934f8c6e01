"""A hand-made order (no simulator person, no real personal data) and alerts for the operator-queue tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from openem.core.time import iso, utcnow
from openem.orders import lifecycle
from openem.orders.repository import SqlOrderRepository

HOME = (53.8, -1.55)


def add_order(db: Any, ref: str, person: str, specials: bool = False, **conditions: Any) -> None:
    at = utcnow() - timedelta(days=1)
    doc = {
        "person_id": person,
        "device_wearer": {"first_name": "Alex", "last_name": "Example", "date_of_birth": "1990-04-01"},
        "contact": {"phone": "07700900123"},
        "offence_risk": {
            "risk_level": "HIGH",
            "specials": specials,
            "risk_categories": ["SAFEGUARDING_DOMESTIC_ABUSE"],
        },  # fmt: skip
        "conditions": {
            "curfew": {"timetable": [{"start": "19:00", "end": "07:00", "address_type": "PRIMARY"}]},
            **conditions,
        },
        "addresses": [
            {
                "type": "PRIMARY",
                "line1": "1 Test Street",
                "postcode": "LS1 1AA",
                "lat": HOME[0],
                "lon": HOME[1],
            }
        ],  # fmt: skip
        "monitoring": {"start": iso(at - timedelta(days=2)), "end": iso(at + timedelta(days=30))},
    }
    with db.uow() as uow:
        record = lifecycle.new_draft(ref, doc, "test", at, person)
        for action in ("submit", "accept", "activate"):
            record = lifecycle.apply(record, action, at)
        SqlOrderRepository(uow.session).add(record)


def alert(aid: str, kind: str, start: Any, end: Any = None, person: str = "PER-Q1", order: str = "EM-Q1",
          **kw: Any) -> dict[str, Any]:  # fmt: skip
    base = {"alert_id": aid, "kind": kind, "severity": "HIGH", "person_id": person, "order_ref": order,
            "device_id": "D-Q1", "condition_id": "", "start": iso(start) if not isinstance(start, str) else start,
            "end": (iso(end) if not isinstance(end, str) else end) if end else None}  # fmt: skip
    base.update(kw)
    return base
