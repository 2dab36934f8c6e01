"""Issue 14: reminders before a booked visit are sent by the server itself (not only by `openem field remind`)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from openem.bus.outbox import OutboxRow
from openem.core.time import utcnow
from openem.field import planning
from openem.field import service as fs


def _reminders(db: Any) -> list[dict[str, Any]]:
    with db.uow() as uow:
        rows = uow.session.execute(
            select(OutboxRow).where(OutboxRow.topic == "field.VisitReminderDue")
        ).scalars()
        return [dict(r.payload) for r in rows]


def test_the_server_sends_the_reminder_of_a_visit_booked_for_soon(world: Any, tmp_path: Any) -> None:
    from fastapi.testclient import TestClient
    from tests.conftest import make_settings

    from openem.server import create_app

    now = utcnow()
    with world.db.uow() as uow:
        fs.create_visit(uow.session, actor="t", kind="FIT", order_ref="ORD-SOON", at=now - timedelta(hours=1))
        v = uow.session.get(fs.VisitRow, "FIT-ORD-SOON")
        v.appointment_at = now + timedelta(minutes=90)  # booked: inside the two-hour reminder
    assert _reminders(world.db) == []
    app = create_app(
        make_settings(tmp_path, str(world.db.engine.url.render_as_string(hide_password=False))), world.db
    )
    with TestClient(app):
        deadline = time.monotonic() + 30
        while not _reminders(world.db) and time.monotonic() < deadline:
            time.sleep(0.05)
    sent = _reminders(world.db)
    assert [(r["visit_id"], r["hours_before"]) for r in sent] == [("FIT-ORD-SOON", 2)]


def test_the_loop_sends_each_reminder_once(world: Any) -> None:
    now = utcnow()
    with world.db.uow() as uow:
        fs.create_visit(uow.session, actor="t", kind="FIT", order_ref="ORD-ONCE", at=now)
        uow.session.get(fs.VisitRow, "FIT-ORD-ONCE").appointment_at = now + timedelta(hours=20)
    loop = planning.VisitReminderLoop(world.db)
    loop.step()
    loop.step()
    assert [(r["visit_id"], r["hours_before"]) for r in _reminders(world.db)] == [("FIT-ORD-ONCE", 24)]
