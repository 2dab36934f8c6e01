"""Alcohol, device health, check-ins, proximity, unmonitored, snapshot/restore."""

from __future__ import annotations

import json
from datetime import timedelta

from openem.monitoring.engine import Engine
from openem.monitoring.events import AlertRaised
from openem.monitoring.model import default_thresholds
from openem.monitoring.rules import alcohol, health

from .fixtures import HOME, T0, Device, activation, offset, order

TH = default_thresholds()


def run_curve(tacs: list[float], ir: float = 0.9, every_s: float = 1800) -> list[str]:
    st = alcohol.new_state()
    out = []
    for i, tac in enumerate(tacs):
        out += [a["kind"] for a in alcohol.step(st, i * every_s, tac, ir, ("AT-1", i), TH["alcohol"])]
    return out


def test_alcohol_curves_are_told_apart() -> None:
    drinking = [0.0, 0.01, 0.025, 0.04, 0.05, 0.045, 0.03, 0.015, 0.0]  # ~0.02-0.03 g/dl/h rise
    assert run_curve(drinking) == ["alcohol_drinking"]
    contaminant = [0.0, 0.0, 0.09, 0.01, 0.0]  # 0.18 g/dl/h: faster than any body absorbs
    assert run_curve(contaminant) == ["alcohol_contaminant"]
    assert run_curve([0.0, 0.0, 0.0], ir=0.1) == ["alcohol_skin_tamper"]
    assert run_curve([0.0, 0.01, 0.015, 0.01]) == []  # below 0.02 g/dl


def test_low_battery_predicts_hours_left_from_the_drain_rate() -> None:
    st: dict = {}
    assert health.battery(st, 0, 30.0, False, ("D", 1), TH["battery"]) == []
    [alert] = health.battery(st, 3 * 3600, 15.0, False, ("D", 2), TH["battery"])  # 5 %/h
    assert alert["kind"] == "low_battery" and alert["details"]["predicted_hours_left"] == 3.0
    assert health.battery(st, 4 * 3600, 10.0, False, ("D", 3), TH["battery"]) == []  # once per discharge


def engine(**conditions) -> Engine:
    eng = Engine()
    eng.apply_order(order(**conditions))
    return eng


def test_tamper_hmu_and_checkin_alerts_through_the_engine() -> None:
    eng = engine()
    for dev, kind in (("GPS-1", "GPS_TAG"), ("HMU-1", "HMU"), ("NFD-1", "NFD")):
        eng.apply_activation(activation(dev, kind))
    g, h, n = Device("GPS-1"), Device("HMU-1"), Device("NFD-1")
    msgs = [g.msg("tamper", T0, kind="strap", state="open"), g.msg("tamper", T0, kind="strap", state="open"),
            h.msg("hmu_power", T0, mains=False), h.msg("hmu_moved", T0, moved=True),
            n.msg("checkin", T0, result="fail"), n.msg("checkin", T0 + timedelta(hours=1), result="missed")]  # fmt: skip
    kinds = sorted(a["kind"] for a in eng.process(msgs) if a["kind"] != "no_comms")
    assert kinds == ["checkin_failed", "checkin_missed", "hmu_moved", "hmu_power_loss", "strap_tamper"]


def test_no_comms_after_silence_beyond_the_expected_interval() -> None:
    eng = engine()
    eng.apply_activation(activation("GPS-1"))
    g = Device("GPS-1")
    eng.process([g.msg("heartbeat", T0)])
    assert eng.advance_watermark((T0 + timedelta(minutes=4)).timestamp()) == []
    [alert] = eng.advance_watermark((T0 + timedelta(minutes=7)).timestamp())
    assert alert["kind"] == "no_comms" and alert["evidence"] == [["GPS-1", 1]]


def test_unmonitored_order_with_no_device_and_silent_device() -> None:
    eng = engine()
    kinds = [a["kind"] for a in eng.advance_watermark(T0.timestamp())]
    assert kinds == ["unmonitored_no_device"]  # started 3 days ago, nothing fitted
    eng2 = engine()
    eng2.apply_activation(activation("GPS-1"))
    eng2.process([Device("GPS-1").msg("heartbeat", T0)])
    later = [a["kind"] for a in eng2.advance_watermark((T0 + timedelta(days=14, minutes=1)).timestamp())]
    assert "unmonitored_silent" in later


def test_proximity_rings_from_either_side_and_graceful_without_a_fix() -> None:
    eng = engine(proximity={"victim_device_id": "VIC-1", "pre_alert_m": 1000, "alert_m": 500})
    eng.apply_activation(activation("GPS-1"))
    eng.apply_activation(activation("VIC-1", "VICTIM", role="VICTIM"))
    w, v = Device("GPS-1"), Device("VIC-1")
    assert eng.process([w.fix(T0, *HOME)]) == []  # victim has no fix yet: nothing raised
    first = eng.process([v.fix(T0 + timedelta(seconds=30), *offset(*HOME, 800, 0))])
    assert [a["kind"] for a in first] == ["proximity_pre_alert"]
    second = eng.process([w.fix(T0 + timedelta(seconds=60), *offset(*HOME, 500, 0))])
    assert [a["kind"] for a in second] == ["proximity"] and second[0]["details"]["distance_m"] < 500


def test_snapshot_restore_resumes_with_no_lost_and_no_duplicated_alerts() -> None:
    def world() -> tuple[Engine, list[dict]]:
        eng = engine(curfew={"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z",
                             "timetable": [{"day": "MONDAY", "start": "19:00", "end": "07:00"}]})  # fmt: skip
        eng.apply_activation(activation("HMU-1", "HMU"))
        h = Device("HMU-1")
        msgs = [h.msg("rf", T0.replace(hour=18), present=True), h.msg("rf", T0.replace(hour=21), present=False),
                h.msg("rf", T0.replace(hour=23), present=True), h.msg("rf", T0.replace(hour=23, minute=30), present=False)]  # fmt: skip
        msgs += [h.msg("heartbeat", T0.replace(hour=23, minute=30) + timedelta(minutes=m)) for m in range(0, 600, 4)]
        return eng, msgs

    eng, msgs = world()
    alerts = [a for i in range(0, len(msgs), 10) for a in eng.process(msgs[i : i + 10])]
    straight = [a["id"] for a in alerts]
    assert {"curfew_absence", "curfew_early_leave"} <= {a["kind"] for a in alerts}
    eng2, _ = world()
    resumed: list[str] = []
    for i in range(0, 40, 10):
        resumed += [a["id"] for a in eng2.process(msgs[i : i + 10])]
    state = json.loads(json.dumps(eng2.snapshot()))  # a killed worker's checkpoint, via JSON
    eng3 = Engine.restore(state)
    for i in range(30, len(msgs), 10):  # re-delivers the last batch before the checkpoint, as a broker would
        resumed += [a["id"] for a in eng3.process(msgs[i : i + 10])]
    assert sorted(resumed) == sorted(straight) and len(set(resumed)) == len(resumed)


def test_alert_raised_event_carries_the_alert() -> None:
    eng = engine()
    eng.apply_activation(activation("GPS-1"))
    [alert] = [a for a in eng.process([Device("GPS-1").msg("tamper", T0, kind="case", state="open")])]
    event = AlertRaised.from_alert(alert)
    assert event.topic == "monitoring.AlertRaised" and event.alert_id == alert["id"]
    assert json.loads(json.dumps(event.to_dict()))["kind"] == "case_tamper"
