"""Orders in, telemetry in, violations out: the live path inside the server, on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from openem.alerts.tables import AlertRow
from openem.auth.service import issue_token
from openem.core.time import iso
from openem.devices.service import activate
from openem.orders import lifecycle
from openem.orders.repository import SqlOrderRepository
from openem.orders.samples import sample_order


def _active_order(db, now):
    doc = sample_order(now - timedelta(days=2))
    ref, person = doc.pop("ref"), doc.get("person_id") or "PER-LIVE"
    with db.uow() as uow:
        repo = SqlOrderRepository(uow.session)
        record = lifecycle.new_draft(ref, doc, "test", now - timedelta(days=2), person)
        for action in ("submit", "accept", "activate"):
            record = lifecycle.apply(record, action, now - timedelta(days=2))
        repo.add(record)
        activate(
            uow.session,
            actor="test",
            activation={
                "activation_id": "ACT-LIVE",
                "device_id": "GPS-LIVE",
                "device_kind": "GPS_TAG",
                "order_ref": ref,
                "person_id": person,
                "start": now - timedelta(days=1),
            },
        )
        token = issue_token(uow.session, actor="test", name="gw", device_scope="gw-live")
    return ref, doc, token


def test_fixes_inside_an_exclusion_zone_become_a_stored_alert_with_evidence(world):
    now = datetime.now(UTC).replace(microsecond=0)
    ref, doc, token = _active_order(world.db, now)
    ring = doc["conditions"]["exclusion_zones"][0]["geometry"]["coordinates"][0]
    lat = sum(p[1] for p in ring[:4]) / 4
    lon = sum(p[0] for p in ring[:4]) / 4
    live = world.app.state.live
    live.load()
    c = world.client()
    c.headers["Authorization"] = f"Bearer {token}"
    fixes = [
        {
            "v": 1,
            "device_id": "GPS-LIVE",
            "seq": i,
            "type": "gps",
            "device_time": iso(now - timedelta(minutes=10) + timedelta(seconds=30 * i)),
            "payload": {"lat": lat, "lon": lon, "accuracy_m": 6.0, "source": "GPS"},
        }
        for i in range(10)
    ]
    r = c.post("/api/telemetry/batch", content=json.dumps(fixes))
    assert r.status_code == 200 and r.json()["accepted"] == 10
    world.app.state.dispatcher.drain()
    with world.db.uow() as uow:
        alerts = uow.session.execute(select(AlertRow).where(AlertRow.order_ref == ref)).scalars().all()
    zone_alerts = [a for a in alerts if "exclusion" in a.kind]
    assert zone_alerts, [a.kind for a in alerts]
    evidence = {tuple(e) for a in zone_alerts for e in a.evidence}
    assert evidence and all(d == "GPS-LIVE" for d, _ in evidence)
    # replaying the same batch raises nothing new
    before = len(alerts)
    c.post("/api/telemetry/batch", content=json.dumps(fixes))
    world.app.state.dispatcher.drain()
    with world.db.uow() as uow:
        assert (
            len(uow.session.execute(select(AlertRow).where(AlertRow.order_ref == ref)).scalars().all())
            == before
        )


def test_alert_pages_show_evidence_to_the_monitoring_centre_only_and_audit_the_read(world):
    from openem.auth.tables import AuditRow

    now = datetime.now(UTC).replace(microsecond=0)
    ref, doc, token = _active_order(world.db, now)
    ring = doc["conditions"]["exclusion_zones"][0]["geometry"]["coordinates"][0]
    lat, lon = sum(p[1] for p in ring[:4]) / 4, sum(p[0] for p in ring[:4]) / 4
    world.app.state.live.load()
    c = world.client()
    c.headers["Authorization"] = f"Bearer {token}"
    fixes = [
        {
            "v": 1,
            "device_id": "GPS-LIVE",
            "seq": i,
            "type": "gps",
            "device_time": iso(now - timedelta(minutes=10) + timedelta(seconds=30 * i)),
            "payload": {"lat": lat, "lon": lon, "accuracy_m": 6.0, "source": "GPS"},
        }
        for i in range(10)
    ]
    c.post("/api/telemetry/batch", content=json.dumps(fixes))
    world.app.state.dispatcher.drain()
    op = world.signed_in("demo-mc-operator")
    listed = op.get("/api/alerts").json()
    assert listed and all(a["label"] for a in listed)
    alert_id = next(a["alert_id"] for a in listed if "exclusion" in a["kind"])
    detail = op.get(f"/api/alerts/{alert_id}").json()
    assert detail["evidence"] and detail["evidence"][0]["lat"] == lat
    page = op.get(f"/alerts/{alert_id}")
    assert page.status_code == 200 and "evidence-map" in page.text and "Evidence (" in page.text
    assert op.get("/alerts").status_code == 200
    pp = world.signed_in("demo-probation-practitioner")  # not the responsible officer of this order
    assert pp.get(f"/api/alerts/{alert_id}").status_code == 404
    assert alert_id not in {a["alert_id"] for a in pp.get("/api/alerts").json()}
    assert world.signed_in("demo-analyst").get("/alerts").status_code == 403
    with world.db.uow() as uow:
        reads = (
            uow.session.execute(select(AuditRow).where(AuditRow.action == f"alerts:{alert_id}:read_evidence"))
            .scalars()
            .all()
        )
    assert reads and reads[0].records[1] == ref


def test_a_backlog_sent_after_a_start_is_judged_as_it_arrives_not_by_the_clock(world):
    # A restarted server whose gateways then forward last night: the clock alone must not close last night's
    # curfew windows before their readings arrive (it raised "absent all night" for most orders in the demo).
    live = world.app.state.live
    live.load()
    assert live.tick() == 0 and live.engine.watermark == 0.0  # just started, nothing received yet
    live.last_ingest -= 3600  # an hour with nothing at all: now the clock moves time
    live.tick()
    assert abs(live.engine.watermark - datetime.now(UTC).timestamp()) < 60
