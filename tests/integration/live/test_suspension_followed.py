"""A suspension reaches the running engine through the reconciler (no bus): zone fixes while the order is
suspended raise nothing; after the resume the same zone visit is raised (issue 13). SQLite and PostgreSQL."""

from datetime import timedelta

from tests.integration.live.day import published
from tests.integration.live.test_following import send, until
from tests.integration.scale.scale_world import ZONE, Device, add_order, zone

from openem.bus import outbox
from openem.core.time import utcnow
from openem.live import LiveMonitor
from openem.orders import lifecycle
from openem.orders.repository import SqlOrderRepository


def _change(db, ref, action, at):
    with db.uow() as uow:
        repo = SqlOrderRepository(uow.session)
        record = repo.get(ref)
        if action == "suspend":
            record = lifecycle.suspend(record, "op", at, "In hospital", None)
        else:
            record = lifecycle.resume(record, "op", at)
        repo.save(record)


def test_no_zone_alert_while_suspended_and_one_after_the_resume(db):
    outbox.install(db)
    add_order(db, "ORD-SUSP", zones=[zone()], device="GPS-SUSP")
    live = LiveMonitor(db)
    live.load()
    _change(db, "ORD-SUSP", "suspend", utcnow() - timedelta(minutes=20))
    until(
        lambda: live.tick() is not None and "_ended_at" in live.engine.orders["ORD-SUSP"].doc,
        "the suspension",
    )
    gps = Device("GPS-SUSP")
    send(db, live, gps.fixes(utcnow() - timedelta(minutes=15), 8, ZONE, step_s=15))
    live.tick()
    assert published(db) == {}
    _change(db, "ORD-SUSP", "resume", utcnow() - timedelta(minutes=6))
    until(
        lambda: live.tick() is not None and "_ended_at" not in live.engine.orders["ORD-SUSP"].doc,
        "the resume",
    )
    send(db, live, gps.fixes(utcnow() - timedelta(minutes=4), 8, ZONE, step_s=15))
    until(lambda: live.tick() is not None and "exclusion_entry" in published(db).values(), "the zone alert")
