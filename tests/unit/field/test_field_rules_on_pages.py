"""The contract rule and the place of a fitting as an officer reads them on the visit page."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from openem.auth.tables import UserRow
from openem.core.time import local_date, utcnow
from openem.field import service as fs


def test_youth_and_at_source_visits_say_so(world: Any) -> None:
    with world.db.uow() as uow:
        officer = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-field-officer")
        ).scalar_one()
        fake = SimpleNamespace(session=uow.session, add_event=uow.add_event)
        now = utcnow()
        fs.on_order_accepted({"order_ref": "ORD-YTH", "request_type": "NEW", "accepted_at": now.isoformat(),
                              "order": {"person_id": "P1", "device_wearer": {"date_of_birth": "2012-05-01"},
                                        "addresses": [{"type": "PRIMARY", "postcode": "CF10 1AA"}]}}, fake)  # fmt: skip
        fs.on_order_accepted({"order_ref": "ORD-CRT", "request_type": "NEW", "accepted_at": now.isoformat(),
                              "order": {"person_id": "P2", "installation": {"location": "COURT"},
                                        "addresses": [{"type": "PRIMARY", "postcode": "CF10 1AA"}]}}, fake)  # fmt: skip
        fs.plan_day(uow.session, actor="t", officer=officer.id, day=local_date(now).isoformat(),
                    visit_ids=["FIT-ORD-YTH", "FIT-ORD-CRT"])  # fmt: skip
    c = world.signed_in("demo-field-officer")
    youth = c.get("/field/visits/FIT-ORD-YTH").text
    assert (
        "Youth: a responsible adult must be present" in youth and "Youth: 2 attempts by the deadline" in youth
    )
    court = c.get("/field/visits/FIT-ORD-CRT").text
    assert "This visit needs an address check" in court  # at court, and the order names no court address
    assert "At Court" in c.get("/field/visits").text
