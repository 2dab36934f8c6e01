"""Issue 14: a supervisor sees urgent visits on nobody's plan and adds one to an officer's day (re-planned)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from sqlalchemy import select

from openem.auth.tables import AuditRow, UserRow
from openem.core.time import local_date, local_to_utc, utcnow
from openem.field import queries as fq
from openem.field import service as fs


def _ten_am() -> Any:
    return local_to_utc(local_date(utcnow()), time(10, 0))  # inside the shift, whenever the test runs


def _seed(world: Any) -> str:
    now = _ten_am()
    today = local_date(now).isoformat()
    with world.db.uow() as uow:
        user = uow.session.execute(
            select(UserRow).where(UserRow.username == "demo-field-officer")
        ).scalar_one()
        user.extra_permissions = ["visits:supervise"]  # a field supervisor: granted explicitly
        for ref, lat in (("ORD-PLANNED", 51.48), ("ORD-URGENT", 51.481), ("ORD-LATER", 51.482)):
            fs.create_visit(uow.session, actor="t", kind="FIT", order_ref=ref, at=now - timedelta(hours=30),
                            lat=lat, lon=-3.18)  # fmt: skip
        uow.session.get(fs.VisitRow, "FIT-ORD-URGENT").due_by = now - timedelta(hours=1)  # overdue
        later = uow.session.get(fs.VisitRow, "FIT-ORD-LATER")
        later.due_by = now + timedelta(days=3)
        fs.plan_day(uow.session, actor="t", officer=user.id, day=today, visit_ids=["FIT-ORD-PLANNED"])
        return str(user.id)


def test_a_supervisor_adds_an_urgent_visit_to_an_officers_day(world: Any, monkeypatch: Any) -> None:
    from openem.field.web import views

    fixed = _ten_am()
    monkeypatch.setattr(views, "utcnow", lambda: fixed)
    officer = _seed(world)
    c = world.signed_in("demo-field-officer")
    page = c.get("/field/supervise")
    assert page.status_code == 200
    assert (
        "order ORD-URGENT" in page.text and "order ORD-LATER" not in page.text
    )  # due in three days: not urgent
    assert "order ORD-PLANNED" not in page.text  # already on a plan
    import re

    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    done = c.post(
        "/field/supervise", data={"csrf_token": token, "visit_id": "FIT-ORD-URGENT", "officer": officer}
    )
    assert done.status_code == 200 and "FIT-ORD-URGENT is on the officer's re-planned day" in done.text
    assert "order ORD-URGENT" not in done.text.split("Success")[1]
    with world.db.uow() as uow:
        assert fq.visit(uow.session, "FIT-ORD-URGENT")["officer"] == officer  # type: ignore[index]
        actions = set(uow.session.execute(select(AuditRow.action)).scalars())
    assert (
        "field:supervise:read" in actions
        and f"field:plan:{officer}:{local_date(utcnow()).isoformat()}:replan" in actions
    )
    nobody = c.post(
        "/field/supervise", data={"csrf_token": token, "visit_id": "FIT-ORD-LATER", "officer": "ghost"}
    )
    assert nobody.status_code == 200 and "Choose an officer working today" in nobody.text
    missing = c.post("/field/supervise", data={"csrf_token": token, "visit_id": "NOPE", "officer": officer})
    assert missing.status_code == 200 and "No visit" in missing.text


def test_an_officer_without_the_permission_cannot_supervise(world: Any) -> None:
    assert world.signed_in("demo-field-officer").get("/field/supervise").status_code == 403
    assert world.signed_in("demo-mc-operator").get("/field/supervise").status_code == 403
