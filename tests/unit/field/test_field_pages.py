"""A field officer's pages: today's visits, recording an outcome, and nobody else's visits."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from openem.auth.tables import AuditRow, UserRow
from openem.core.time import utcnow
from openem.devices import service as ds
from openem.field import queries as fq
from openem.field import service as fs


def _plan(world: Any) -> str:
    with world.db.uow() as uow:
        officer = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-field-officer")
        ).scalar_one()
        ds.register_devices(
            uow.session, actor="stock", devices=[{"device_id": "TAG9", "device_kind": "RF_TAG"}]
        )
        for ref in ("ORD-A", "ORD-B"):
            fs.create_visit(uow.session, actor="t", kind="FIT", order_ref=ref, at=datetime(2026, 12, 1, tzinfo=UTC),
                            person_id="P9")  # fmt: skip
        fs.plan_day(uow.session, actor="t", officer=officer.id, day=utcnow().date().isoformat(),
                    visit_ids=["FIT-ORD-B", "FIT-ORD-A"])  # fmt: skip
        return str(officer.id)


def test_officer_sees_todays_route_and_records_a_fitting(world: Any) -> None:
    _plan(world)
    c = world.signed_in("demo-field-officer")
    page = c.get("/field/visits")
    assert page.status_code == 200
    assert page.text.index("order ORD-B") < page.text.index("order ORD-A")  # route order
    visit = c.get("/field/visits/FIT-ORD-A")
    token = re.search(r'name="csrf_token" value="([^"]*)"', visit.text).group(1)  # type: ignore[union-attr]
    bad = c.post("/field/visits/FIT-ORD-A", data={"csrf_token": token, "outcome": "FITTED", "device_id": ""})
    assert bad.status_code == 422 and "Enter the serial of the device fitted" in bad.text
    unknown = c.post(
        "/field/visits/FIT-ORD-A", data={"csrf_token": token, "outcome": "FITTED", "device_id": "X"}
    )
    assert unknown.status_code == 422 and "No device" in unknown.text
    ok = c.post(
        "/field/visits/FIT-ORD-A", data={"csrf_token": token, "outcome": "FITTED", "device_id": "TAG9"}
    )
    assert ok.status_code == 200 and "Outcome recorded for visit FIT-ORD-A" in ok.text
    with world.db.uow() as uow:
        assert fq.visit(uow.session, "FIT-ORD-A")["status"] == "DONE"  # type: ignore[index]
        actions = set(uow.session.execute(select(AuditRow.action)).scalars())
    assert {"field:FIT-ORD-A:read", "field:FIT-ORD-A:attempt", "field:visits:list:read"} <= actions


def test_other_roles_and_other_officers_cannot_see_visits(world: Any) -> None:
    _plan(world)
    mc = world.signed_in("demo-mc-operator")
    assert mc.get("/field/visits").status_code == 403
    with world.db.uow() as uow:
        fs.plan_day(uow.session, actor="t", officer="someone-else", day="2026-12-01", visit_ids=["FIT-ORD-A"])
    fo = world.signed_in("demo-field-officer")
    assert fo.get("/field/visits/FIT-ORD-A").status_code == 404
    assert fo.get("/field/visits?day=not-a-date").status_code == 200


def test_an_outcome_kept_on_the_phone_offline_is_recorded_at_its_own_time(world: Any) -> None:
    from datetime import timedelta

    from openem.field.tables import AttemptRow

    _plan(world)
    c = world.signed_in("demo-field-officer")
    visit = c.get("/field/visits/FIT-ORD-A")
    assert 'id="outcome-form"' in visit.text and "/static/field/offline.js" in visit.text
    token = re.search(r'name="csrf_token" value="([^"]*)"', visit.text).group(1)  # type: ignore[union-attr]
    old = (utcnow() - timedelta(days=2)).isoformat()
    stale = c.post(
        "/field/visits/FIT-ORD-A", data={"csrf_token": token, "outcome": "NOT_AT_HOME", "recorded_at": old}
    )
    assert stale.status_code == 422 and "within the last day" in stale.text
    when = utcnow() - timedelta(hours=3)
    ok = c.post("/field/visits/FIT-ORD-A",
                data={"csrf_token": token, "outcome": "NOT_AT_HOME", "recorded_at": when.isoformat()})  # fmt: skip
    assert ok.status_code == 200
    with world.db.uow() as uow:
        (attempt,) = uow.session.execute(
            select(AttemptRow).where(AttemptRow.visit_id == "FIT-ORD-A")
        ).scalars()
        assert abs((attempt.at - when).total_seconds()) < 1
    sw = c.get("/field/sw.js")
    assert sw.status_code == 200 and sw.headers["service-worker-allowed"] == "/field/" and "caches" in sw.text
