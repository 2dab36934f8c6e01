"""The replay's packs say how the devices were at the time from the world's telemetry (as the server's do)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from openem.breaches.replay import _Telemetry


def test_replay_health_is_the_latest_reading_of_each_kind_up_to_the_instant():
    t0 = datetime(2026, 11, 3, 20, 0, tzinfo=UTC)
    rows = [
        ("TAG-1", 1, "battery", t0 - timedelta(hours=2), {"level_pct": 64.0, "charging": False}),
        ("TAG-1", 2, "battery", t0 - timedelta(hours=1), {"level_pct": 41.0, "charging": False}),
        ("HMU-1", 3, "rf", t0 - timedelta(minutes=10), {"present": False, "rssi_dbm": -90.0}),
        ("TAG-1", 4, "tamper", t0 - timedelta(minutes=5), {"tamper_kind": "strap", "tamper_state": "open"}),
        ("TAG-1", 5, "battery", t0 + timedelta(hours=1), {"level_pct": 99.0, "charging": True}),  # later
    ]
    cols = ("level_pct", "charging", "present", "rssi_dbm", "tamper_kind", "tamper_state")
    table = pa.table({
        "device_id": [r[0] for r in rows], "seq": [r[1] for r in rows], "type": [r[2] for r in rows],
        "device_time": [r[3] for r in rows], "receive_time": [r[3] for r in rows],
        **{c: [r[4].get(c) for r in rows] for c in cols},
    })  # fmt: skip
    health = _Telemetry(table, {"TAG-1", "HMU-1"}).health({"TAG-1", "HMU-1"}, t0)
    assert health["battery"]["payload"] == {"level_pct": 41.0, "charging": False}
    assert health["rf"]["payload"] == {"present": False, "rssi_dbm": -90.0}
    assert health["tamper"]["payload"] == {"kind": "strap", "state": "open"}
    assert health["last"]["type"] == "tamper" and "gps" not in health
