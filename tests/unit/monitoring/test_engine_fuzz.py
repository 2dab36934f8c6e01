"""The engine never crashes on hostile but schema-valid input, and a checkpoint resumes exactly."""

from __future__ import annotations

import json
from datetime import timedelta

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openem.core.time import iso
from openem.monitoring.engine import Engine
from openem.telemetry.wire import arrow_schema

from .fixtures import HOME, T0, activation, offset, order, square

DEVICES = ["GPS-1", "HMU-1", "ALC-1", "NFD-1", "VIC-1", "GHOST"]


def engine() -> Engine:
    eng = Engine()
    eng.apply_order(order(
        curfew={"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z",
                "timetable": [{"day": "MONDAY", "start": "13:00", "end": "14:00"}]},
        exclusion_zones=[{"id": "Z1", "name": "Z", "geometry": square(*offset(*HOME, 500, 0), 200)}],
        inclusion_zones=[{"id": "I1", "name": "I", "geometry": square(*HOME, 3000)}],
        attendance=[{"id": "A1", "name": "Office", "lat": HOME[0], "lon": HOME[1], "radius_m": 100,
                     "start": iso(T0), "end": iso(T0 + timedelta(hours=1))}],
        alcohol={"mode": "ABSTINENCE"}, proximity={"victim_device_id": "VIC-1"}))  # fmt: skip
    for dev, kind in (("GPS-1", "GPS_TAG"), ("HMU-1", "HMU"), ("ALC-1", "ALCOHOL_TAG"), ("NFD-1", "NFD")):
        eng.apply_activation(activation(dev, kind))
    eng.apply_activation(activation("VIC-1", "VICTIM", role="VICTIM"))
    return eng


message = st.fixed_dictionaries({
    "device_id": st.sampled_from(DEVICES), "seq": st.integers(0, 40),
    "type": st.sampled_from(["gps", "rf", "alcohol", "battery", "tamper", "checkin", "hmu_power", "hmu_moved", "heartbeat"]),
    "dt": st.integers(-3600, 4 * 3600), "delay": st.integers(0, 7200),
    "north": st.floats(-4000, 4000), "east": st.floats(-4000, 4000), "acc": st.floats(0, 2000),
    "flag": st.booleans(), "value": st.floats(0, 1),
})  # fmt: skip


def to_row(m: dict) -> dict:
    lat, lon = offset(*HOME, m["north"], m["east"])
    t = T0 + timedelta(seconds=m["dt"])
    row = {name: None for name in arrow_schema().names}
    row.update(device_id=m["device_id"], seq=m["seq"], type=m["type"], device_time=t,
               receive_time=t + timedelta(seconds=m["delay"]))  # fmt: skip
    if m["type"] == "gps":
        row.update(
            lat=lat,
            lon=lon,
            accuracy_m=m["acc"],
            source="GPS" if m["flag"] else "LBS",
            speed_mps=m["value"] * 5,
        )
    elif m["type"] == "rf":
        row.update(present=m["flag"])
    elif m["type"] == "alcohol":
        row.update(tac_gdl=m["value"] / 5, ir_skin=m["value"], temp_c=33.0)
    elif m["type"] == "battery":
        row.update(level_pct=m["value"] * 100, charging=m["flag"])
    elif m["type"] == "tamper":
        row.update(tamper_kind="strap", tamper_state="open" if m["flag"] else "closed")
    elif m["type"] == "checkin":
        row.update(result="pass" if m["flag"] else "missed")
    elif m["type"] in ("hmu_power", "hmu_moved"):
        row.update(mains=m["flag"], moved=m["flag"])
    return row


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(message, max_size=60), st.integers(1, 4))
def test_engine_survives_any_valid_stream_and_resumes_from_a_checkpoint(msgs, batches) -> None:
    rows = sorted((to_row(m) for m in msgs), key=lambda r: r["receive_time"])
    size = max(1, len(rows) // batches)
    parts = [
        pa.Table.from_pylist(rows[i : i + size], schema=arrow_schema()) for i in range(0, len(rows), size)
    ]
    straight = engine()
    ids = [a["id"] for p in parts for a in straight.process(p)]
    resumed = engine()
    got: list[str] = []
    for k, p in enumerate(parts):
        if k == len(parts) // 2:
            resumed = Engine.restore(json.loads(json.dumps(resumed.snapshot())))
        got += [a["id"] for a in resumed.process(p)]
    assert got == ids
    assert len(set(ids)) == len(ids)  # an alert is raised once
    end = (T0 + timedelta(days=1)).timestamp()
    assert [a["id"] for a in straight.advance_watermark(end)] == [
        a["id"] for a in resumed.advance_watermark(end)
    ]


def test_columnar_rows_with_missing_coordinates_are_flagged_not_fatal() -> None:
    eng = engine()
    row = to_row({"device_id": "GPS-1", "seq": 1, "type": "gps", "dt": 0, "delay": 1, "north": 0.0, "east": 0.0,
                  "acc": 5.0, "flag": True, "value": 0.0})  # fmt: skip
    row.update(lat=None, lon=None)
    eng.process(pa.Table.from_pylist([row], schema=arrow_schema()))
    assert ("GPS-1", 1, "invalid_position") in eng.flags
