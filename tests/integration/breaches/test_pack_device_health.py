"""The pack says how the devices were at the time of the breach (battery, last message, home unit signal,
strap), from the telemetry stored up to then, not only from the alert's evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openem.breaches import queries
from openem.telemetry.tables import TelemetryMessageRow

from .conftest import load, order_doc, pump, tamper


def test_the_pack_shows_device_health_at_the_time(db):
    load(db, order_doc("ORD-BRHEALTH1", "PER-BR-H", "POST_RELEASE"))
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [
        ("battery", now - timedelta(minutes=50), {"level_pct": 37, "charging": False}),
        ("rf", now - timedelta(minutes=30), {"present": False, "rssi_dbm": -81.0, "tag_id": "T1"}),
        ("tamper", now - timedelta(minutes=20), {"kind": "strap", "state": "open"}),
        (
            "gps",
            now - timedelta(minutes=19),
            {"lat": 53.8, "lon": -1.55, "accuracy_m": 12.0, "source": "GPS"},
        ),
        (
            "battery",
            now + timedelta(hours=3),
            {"level_pct": 99, "charging": True},
        ),  # after: not "at the time"
    ]
    with db.uow() as uow:
        uow.session.add_all(
            TelemetryMessageRow(device_id="DEV-H", seq=i, type=kind, device_time=at, receive_time=at + timedelta(seconds=5),
                                payload=payload, flags=[], person_id="PER-BR-H", batch_id=1)
            for i, (kind, at, payload) in enumerate(rows)
        )  # fmt: skip
    tamper(db, "ORD-BRHEALTH1", "PER-BR-H", alert_id="H1", minutes_ago=20)  # ends 15 minutes ago
    pump(db)
    with db.uow() as uow:
        (b,) = queries.breaches_where(uow.session)
        health = queries.pack_document(uow.session, b["breach_id"])["device_health"]
        html = queries.pack_file(uow.session, b["breach_id"], None, "html")[0].decode()
    assert health["battery_percent"] == 37 and health["charging"] is False
    assert health["home_unit_in_range"] is False and health["signal_dbm"] == -81.0
    assert health["strap"] == "strap open" and health["last_message_type"] == "gps"
    assert "37%" in html and "Tag out of range, signal -81.0 dBm" in html and "Strap open" in html
    assert "No battery reading" not in html
