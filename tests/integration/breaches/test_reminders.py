"""No outcome recorded: the team is reminded after the threshold in reminders.json (police 24 h, probation
5 days), and its managers after the escalation threshold; each once; none once an outcome is recorded."""

from __future__ import annotations

from datetime import timedelta

from openem.breaches import queries
from openem.breaches.service import record_response, run_reminders
from openem.notify import queries as notify_queries

from .conftest import load, order_doc, pump, tamper


def test_reminder_then_escalation_then_nothing_after_the_outcome(db):
    load(db, order_doc("ORD-RMLIC0001", "PER-RM-1", "POST_RELEASE", seed=3))
    tamper(db, "ORD-RMLIC0001", "PER-RM-1")
    pump(db)
    with db.uow() as uow:
        (b,) = queries.breaches_where(uow.session)
    t0 = b["delivered_at"]
    with db.uow() as uow:
        assert run_reminders(uow, t0 + timedelta(days=4)) == []
    with db.uow() as uow:
        assert run_reminders(uow, t0 + timedelta(days=5, minutes=1)) == [(b["breach_id"], "remind")]
    with db.uow() as uow:
        assert run_reminders(uow, t0 + timedelta(days=6)) == []  # sent once
    with db.uow() as uow:
        assert run_reminders(uow, t0 + timedelta(days=10, minutes=1)) == [(b["breach_id"], "escalate")]
    pump(db)
    with db.uow() as uow:
        team = notify_queries.inbox(uow.session, {b["team"]})
        managers = notify_queries.inbox(uow.session, {b["team"] + ":managers"})
    assert any("No outcome recorded" in m["title"] for m in team)
    assert [m["title"] for m in managers] == [f"Escalated: breach {b['breach_id']} has no outcome"]
    with db.uow() as uow:
        for step, value in (("receive", ""), ("decide", "warning"), ("close", "")):
            record_response(uow, b["breach_id"], "probation", "officer-1", step, value)
    with db.uow() as uow:
        assert run_reminders(uow, t0 + timedelta(days=30)) == []
        assert queries.breach(uow.session, b["breach_id"])["state"] == "closed"


def test_the_server_loop_reminds_a_team_with_no_outcome_when_its_round_comes(db):
    """The reminder thread (a bus WakeableLoop): a breach delivered six days ago with no outcome gets its
    reminder from the running loop; woken, it runs a round at once instead of waiting out its interval."""
    import time

    from openem.breaches.service import ReminderLoop
    from openem.breaches.tables import BreachRow

    load(db, order_doc("ORD-RMLOOP001", "PER-RM-LOOP", "POST_RELEASE", seed=4))
    tamper(db, "ORD-RMLOOP001", "PER-RM-LOOP")
    pump(db)
    with db.uow() as uow:
        (b,) = queries.breaches_where(uow.session)
        row = uow.session.get(BreachRow, b["breach_id"])
        row.delivered_at = row.delivered_at - timedelta(days=6)
    loop = ReminderLoop(db)  # every 5 minutes: nothing would come in this test's time unless it is woken
    loop.start()
    try:
        assert loop.running
        deadline = time.monotonic() + 60
        sent: list = []
        while not sent and time.monotonic() < deadline:
            loop.wake()
            time.sleep(0.05)
            with db.uow() as uow:
                sent = list(queries.breach(uow.session, b["breach_id"])["reminders"])
    finally:
        loop.stop()
    assert not loop.running
    assert [r.get("level") for r in sent] == ["remind"]
    pump(db)
    with db.uow() as uow:
        team = notify_queries.inbox(uow.session, {b["team"]})
    assert [m["title"] for m in team if "No outcome recorded" in m["title"]]
