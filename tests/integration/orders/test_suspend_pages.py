"""Suspending and resuming an active order from its page (issue 13): errors, confirmation, the event and the
audit row, the orders list's Suspended tab, role checks."""

from __future__ import annotations

from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.bus.outbox import OutboxRow

from .pages_helpers import errors_of
from .test_newcomer_pages import seed_orders, text_of


def test_the_operator_suspends_and_resumes_an_active_order(world, operator):
    [ref] = seed_orders(world, ["ACTIVE"])
    assert f'href="/orders/{ref}/suspend"' in operator.get(f"/orders/{ref}").text
    r = operator.post(
        f"/orders/{ref}/suspend",
        data={
            "csrf_token": operator.token,
            "reason": "",
            "until-day": "31",
            "until-month": "2",
            "until-year": "2027",
        },
    )
    assert r.status_code == 422
    assert [m for _, m in errors_of(r.text)] == [
        "Enter why monitoring is being suspended",
        "The planned resume date must be a real date, like 10 12 2026",
        "Confirm that monitoring should be suspended",
    ]
    r = operator.post(
        f"/orders/{ref}/suspend",
        data={
            "csrf_token": operator.token,
            "reason": "In hospital",
            "until-day": "10",
            "until-month": "12",
            "until-year": "2099",
            "confirm": "yes",
        },  # fmt: skip
    )
    assert r.status_code == 200 and "Monitoring is suspended" in text_of(r.text)
    assert "In hospital" in r.text and "2099-12-10" in r.text and "Resume monitoring" in r.text
    assert ref in operator.get("/orders?tab=suspended").text
    assert ref not in operator.get("/orders?tab=active").text
    r = operator.post(f"/orders/{ref}/resume", data={"csrf_token": operator.token})
    assert r.status_code == 200 and "Monitoring has resumed" in r.text
    assert ref in operator.get("/orders?tab=active").text
    with world.db.uow() as uow:
        topics = list(uow.session.execute(select(OutboxRow.topic)).scalars())
        actions = [a.action for a in uow.session.execute(select(AuditRow)).scalars()]
    assert "orders.OrderSuspended" in topics and "orders.OrderResumed" in topics
    assert f"orders:{ref}:suspend" in actions and f"orders:{ref}:resume" in actions


def test_only_the_monitoring_centre_can_suspend(world):
    [ref] = seed_orders(world, ["ACTIVE"])
    creator = world.signed_in("demo-order-creator-court")
    assert creator.get(f"/orders/{ref}/suspend").status_code in (403, 404)
