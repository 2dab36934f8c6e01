"""The server's path (ingest resolving from its in-memory activation index, the in-server engine taking ingest's
probe) follows changes to the activations that keep their number as it was: a fitting time corrected after the
fact is used by the next batch, and an ending stops the device's messages being judged. SQLite and PostgreSQL."""

import json
from datetime import timedelta

import sqlalchemy as sa
from tests.integration.live.day import published
from tests.integration.scale.scale_world import ZONE, Device, add_order, fit, zone

from openem.bus import outbox
from openem.core.time import utcnow
from openem.devices.service import end_activation
from openem.live import LiveMonitor
from openem.telemetry.ingest import ActivationIndex, ingest_batch


def test_a_corrected_fitting_time_and_an_ending_reach_ingest_and_the_engine_on_the_next_batch(db):
    outbox.install(db)
    add_order(db, "ORD-FIXED", zones=[zone()])
    with db.uow() as uow:  # the fitting recorded five minutes late
        fit(uow.session, "ORD-FIXED", "GPS-FIXED", utcnow() - timedelta(minutes=5))
    live, index, gps = LiveMonitor(db), ActivationIndex(), Device("GPS-FIXED")
    live.load()

    def send(messages):
        with db.uow() as uow:
            result = ingest_batch(uow.session, json.dumps(messages).encode(), source="test", index=index)
        live.on_ingested(result)
        return result

    early = send(gps.fixes(utcnow() - timedelta(minutes=30), 8, ZONE))
    assert early.no_activation == 8 and published(db) == {}  # before the recorded fitting: not judged

    with db.uow() as uow:  # the time put right (no service for it: SQL), one activation still, none ended
        uow.session.execute(sa.text("UPDATE activations SET start = :s WHERE activation_id = 'ACT-GPS-FIXED'"),
                            {"s": utcnow() - timedelta(hours=1)})  # fmt: skip
    fixed = send(gps.fixes(utcnow() - timedelta(minutes=20), 8, ZONE))
    assert fixed.no_activation == 0
    assert list(published(db).values()) == ["exclusion_entry"]

    ended_at = (utcnow() - timedelta(minutes=10)).replace(microsecond=0)
    with db.uow() as uow:
        end_activation(uow.session, actor="fo-1", activation_id="ACT-GPS-FIXED", at=ended_at)
    after = send(gps.fixes(utcnow() - timedelta(minutes=8), 8, ZONE))
    assert after.no_activation == 8
    ends = {a.activation_id: a.end for a in live.engine.activations}
    assert ends["ACT-GPS-FIXED"] == ended_at.timestamp()  # the engine judges the device no more after it
