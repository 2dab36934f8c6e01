"""Real trackers inside `openem serve`: a GT06, a Teltonika and a phone (OsmAnd) fitted to wearers with an
exclusion zone raise the same alerts as the same fixes sent in the simulator's wire format."""

import copy
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.conftest import make_settings

from openem.alerts.tables import AlertRow
from openem.auth.service import issue_token
from openem.core.time import iso
from openem.devices.service import activate
from openem.orders import lifecycle
from openem.orders.repository import SqlOrderRepository
from openem.orders.samples import sample_order
from openem.server import create_app
from openem.telemetry import devices as d
from openem.telemetry import teltonika as tk

GT06_IMEI = "359710049095095"
TELTONIKA_IMEI = "356307042441013"


def _order_with_device(db, now, doc, suffix, device_id):
    doc = copy.deepcopy(doc)
    ref = doc.pop("ref") + suffix
    person = "PER-" + suffix
    with db.uow() as uow:
        record = lifecycle.new_draft(ref, doc, "test", now - timedelta(days=2), person)
        for action in ("submit", "accept", "activate"):
            record = lifecycle.apply(record, action, now - timedelta(days=2))
        SqlOrderRepository(uow.session).add(record)
        activate(uow.session, actor="test", activation={
            "activation_id": "ACT-" + suffix, "device_id": device_id, "device_kind": "GPS_TAG",
            "order_ref": ref, "person_id": person, "start": now - timedelta(days=1)})  # fmt: skip
    return ref


def _alert_kinds(db, ref):
    with db.uow() as uow:
        rows = uow.session.execute(select(AlertRow).where(AlertRow.order_ref == ref)).scalars().all()
        return sorted(a.kind for a in rows), {tuple(e)[0] for a in rows for e in a.evidence}


def _recv(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


@pytest.fixture
def served(db, db_url, tmp_path):
    settings = make_settings(tmp_path, db_url, OPENEM_GT06_PORT=0, OPENEM_TELTONIKA_PORT=0)
    app = create_app(settings, db, start_dispatcher=False)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:  # the lifespan starts the tracker listeners on the server's loop
        yield app, client


def test_trackers_and_phones_are_judged_like_the_simulator(served, db):
    app, client = served
    now = datetime.now(UTC).replace(microsecond=0)
    doc = sample_order(now - timedelta(days=2))
    ring = doc["conditions"]["exclusion_zones"][0]["geometry"]["coordinates"][0]
    lat, lon = sum(p[1] for p in ring[:4]) / 4, sum(p[0] for p in ring[:4]) / 4
    refs = {
        "wire": _order_with_device(db, now, doc, "W", "GPS-WIRE"),
        "gt06": _order_with_device(db, now, doc, "G", GT06_IMEI),
        "teltonika": _order_with_device(db, now, doc, "T", TELTONIKA_IMEI),
        "osmand": _order_with_device(db, now, doc, "P", "PHONE-9"),
    }
    with db.uow() as uow:
        gw = issue_token(uow.session, actor="test", name="gw", device_scope="gw-test")
        phone = issue_token(uow.session, actor="test", name="phone", device_scope="PHONE-9")
    app.state.live.load()
    times = [now - timedelta(minutes=10) + timedelta(seconds=30 * i) for i in range(10)]

    # the simulator's wire format, through the gateway API
    fixes = [{"v": 1, "device_id": "GPS-WIRE", "seq": i, "type": "gps", "device_time": iso(t),
              "payload": {"lat": lat, "lon": lon, "accuracy_m": 10.0, "speed_mps": 0.0, "heading_deg": 0.0,
                          "source": "GPS"}} for i, t in enumerate(times)]  # fmt: skip
    r = client.post(
        "/api/telemetry/batch", content=json.dumps(fixes), headers={"Authorization": f"Bearer {gw}"}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 10

    # a GT06 over TCP: login, fixes, a heartbeat whose reply comes only after the fixes are stored and judged
    with socket.create_connection(("127.0.0.1", app.state.tracker_ports["gt06"]), timeout=10) as s:
        s.sendall(d.login_frame(GT06_IMEI, serial=1))
        assert _recv(s, 10) == d.ack(0x01, 1)
        s.sendall(b"".join(d.location_frame(t, lat, lon, serial=2 + i) for i, t in enumerate(times)))
        s.sendall(d.frame(0x13, b"\x40\x04\x00\x01", 40))
        assert _recv(s, 10) == d.ack(0x13, 40)

    # a Teltonika over TCP: IMEI handshake, one AVL packet of ten records, the count acknowledged
    recs = [tk.Record(int(t.timestamp() * 1000), 0, lon, lat, 80, 0, 9, 0, 0, {}) for t in times]
    with socket.create_connection(("127.0.0.1", app.state.tracker_ports["teltonika"]), timeout=10) as s:
        s.sendall(tk.imei_packet(TELTONIKA_IMEI))
        assert _recv(s, 1) == b"\x01"
        s.sendall(tk.packet(recs, tk.CODEC_8E))
        assert _recv(s, 4) == (10).to_bytes(4, "big")

    # a phone (Traccar Client, OsmAnd query)
    for t in times:
        q = {"id": "PHONE-9", "lat": str(lat), "lon": str(lon), "timestamp": str(int(t.timestamp())),
             "accuracy": "10", "speed": "0", "bearing": "0"}  # fmt: skip
        r = client.post("/api/telemetry/osmand", params=q, headers={"Authorization": f"Bearer {phone}"})
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text

    app.state.dispatcher.drain()
    kinds = {name: _alert_kinds(db, ref) for name, ref in refs.items()}
    assert any("exclusion" in k for k in kinds["wire"][0]), kinds
    for name, device in (("gt06", GT06_IMEI), ("teltonika", TELTONIKA_IMEI), ("osmand", "PHONE-9")):
        assert kinds[name][0] == kinds["wire"][0], (name, kinds)
        assert kinds[name][1] == {device}
