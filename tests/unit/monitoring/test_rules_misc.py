"""Alcohol, device health, check-ins, proximity, unmonitored, snapshot/restore."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.core.time import iso
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


def test_low_battery_is_raised_a_report_early_when_the_drain_says_it_will_cross_before_the_next() -> None:
    st: dict = {}
    assert health.battery(st, 0, 30.0, False, ("D", 1), TH["battery"]) == []
    assert (
        health.battery(st, 1800, 28.5, False, ("D", 2), TH["battery"]) == []
    )  # 3 %/h: 27 % by the next report
    [alert] = health.battery(st, 3 * 3600, 21.0, False, ("D", 3), TH["battery"])  # 19.5 % by the next one
    assert alert["details"]["level_pct"] == 21.0
    assert alert["details"]["predicted_low_at"] == 3 * 3600 + 1200  # 1 % at 3 %/h
    st2: dict = {}
    health.battery(st2, 0, 22.0, False, ("D", 1), TH["battery"])  # 22 %, 0.5 %/h: not low for hours
    assert health.battery(st2, 7200, 21.0, False, ("D", 2), TH["battery"]) == []


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
    assert eng.advance_watermark((T0 + timedelta(minutes=10)).timestamp()) == []  # GPS tag: 1 min + 10 min
    [alert] = eng.advance_watermark((T0 + timedelta(minutes=12)).timestamp())
    assert alert["kind"] == "no_comms" and alert["evidence"] == [["GPS-1", 1]]


def test_a_silence_that_begins_and_ends_inside_one_batch_is_raised_once_whoever_finds_it() -> None:
    g = Device("GPS-1")
    msgs = [g.msg("heartbeat", T0 + timedelta(minutes=m)) for m in (0, 1, 2, 22, 23, 33)]  # 20 min, then 10
    whole = engine()
    whole.apply_activation(activation("GPS-1"))
    [alert] = whole.process(msgs)  # one batch: only the gap in the data shows the silence
    assert alert["kind"] == "no_comms" and alert["evidence"] == [["GPS-1", 3]]
    # from the last receipt (12:02:01) plus one expected interval: the limit (1 min + 10 min) / 1.5
    assert alert["start"] == iso(T0 + timedelta(minutes=2, seconds=1 + 440))
    assert alert["details"]["silent_s"] == 20 * 60
    assert whole.process(msgs) == []  # a replayed batch raises nothing twice
    ticking = engine()
    ticking.apply_activation(activation("GPS-1"))
    found = ticking.process(msgs[:3])
    for m in range(3, 22):  # the time-driven scan sees the silence while it lasts
        found += ticking.advance_watermark((T0 + timedelta(minutes=m)).timestamp())
    found += ticking.process(msgs[3:])
    assert [a["id"] for a in found] == [alert["id"]]


def test_a_check_in_that_reaches_us_after_its_window_is_missed_in_any_batch_size() -> None:
    day = T0 + timedelta(days=1)  # Tuesday; check-ins due 10:00-10:15, 5 min grace

    def check_ins(batches: list[list[dict]]) -> list[str]:
        eng = engine()
        eng.apply_activation(activation("NFD-1", "NFD"))
        eng.advance_watermark(day.replace(hour=9).timestamp())
        return [a["kind"] for b in batches for a in eng.process(b) if a["kind"].startswith("checkin")]

    n = Device("NFD-1")
    late = n.msg(
        "checkin", day.replace(hour=10, minute=5), delay_s=3600.0, result="pass"
    )  # made 10:05, got 11:05
    beat = n.msg("heartbeat", day.replace(hour=11, minute=10))
    assert check_ins([[late, beat]]) == ["checkin_missed"]  # one batch holding both
    assert check_ins([[late], [beat]]) == ["checkin_missed"]
    n2 = Device("NFD-1")
    ok = n2.msg("checkin", day.replace(hour=10, minute=5), delay_s=30.0, result="pass")
    beat2 = n2.msg("heartbeat", day.replace(hour=11, minute=10))
    assert check_ins([[ok, beat2]]) == []


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
        msgs += [
            h.msg("heartbeat", T0.replace(hour=23, minute=30) + timedelta(minutes=m))
            for m in range(0, 600, 4)
        ]
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


def test_gps_lost_while_moving_needs_a_run_of_network_fixes_after_moving() -> None:
    eng = engine()
    eng.apply_activation(activation("GPS-1"))
    g = Device("GPS-1")
    moving = [g.fix(T0 + timedelta(minutes=i), *offset(*HOME, 100 * i, 0), speed_mps=2.0) for i in range(3)]
    lost = [
        g.fix(T0 + timedelta(minutes=3 + i), *offset(*HOME, 300, 0), acc=300, source="LBS") for i in range(4)
    ]
    assert eng.process(moving + lost[:2]) == []  # two network fixes: not yet
    [alert] = eng.process(lost[2:])  # the run continues across batches
    assert alert["kind"] == "gps_lost_moving" and alert["evidence"] == [["GPS-1", 6]]
    still = Engine()
    still.apply_order(order())
    still.apply_activation(activation("GPS-1"))
    h = Device("GPS-1")
    parked = [h.fix(T0 + timedelta(minutes=i), *HOME, speed_mps=0.0) for i in range(3)]
    indoors = [h.fix(T0 + timedelta(minutes=3 + i), *HOME, acc=50, source="WIFI") for i in range(4)]
    assert still.process(parked + indoors) == []  # indoors at rest is not "lost while moving"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 7200), st.floats(0, 100), st.booleans()), min_size=1, max_size=40),
       st.integers(1, 4))  # fmt: skip
def test_vectorised_battery_path_agrees_with_the_pure_rule(readings, batches) -> None:
    eng = engine()
    eng.apply_activation(activation("GPS-1"))
    dev = Device("GPS-1")
    t, msgs, pure, state = T0, [], [], {}
    for gap, level, charging in readings:
        t += timedelta(seconds=gap * 30)
        msgs.append(dev.msg("battery", t, level_pct=level, charging=charging))
        pure += [
            a["kind"]
            for a in health.battery(state, t.timestamp(), level, charging, ("GPS-1", 0), TH["battery"])
        ]
    size = max(1, len(msgs) // batches)
    got = [a["kind"] for i in range(0, len(msgs), size) for a in eng.process(msgs[i : i + size])
           if a["kind"] in ("low_battery", "not_charging")]  # fmt: skip
    assert sorted(got) == sorted(pure)


def test_scheduled_check_in_with_no_report_is_missed_and_a_report_prevents_it() -> None:
    eng = engine()
    eng.apply_activation(activation("NFD-1", "NFD"))
    n = Device("NFD-1")
    eng.process([n.msg("heartbeat", T0.replace(hour=9))])
    # 10:00 London (UTC in November) check-in passes with no report; due by 10:20 with grace
    assert [
        a
        for a in eng.advance_watermark(T0.replace(hour=10, minute=19).timestamp())
        if a["kind"] == "checkin_missed"
    ] == []
    [missed] = [
        a
        for a in eng.advance_watermark(T0.replace(hour=10, minute=21).timestamp())
        if a["kind"] == "checkin_missed"
    ]
    assert missed["start"] == "2026-11-23T10:00:00Z" and missed["evidence"] == []
    eng.process([n.msg("checkin", T0.replace(hour=18, minute=5), result="pass")])
    later = eng.advance_watermark(T0.replace(hour=19).timestamp())
    assert [a for a in later if a["kind"] == "checkin_missed"] == []


def test_alcohol_limit_orders_use_the_courts_level() -> None:
    curve = [0.0, 0.01, 0.025, 0.04, 0.05, 0.045, 0.03]
    st = alcohol.new_state()
    kinds = [a["kind"] for i, tac in enumerate(curve) for a in
             alcohol.step(st, i * 1800, tac, 0.9, ("A", i), TH["alcohol"], "LIMIT", 0.08)]  # fmt: skip
    assert kinds == []  # peak 0.05 is under the court's 0.08 g/dl
    st = alcohol.new_state()
    kinds = [
        a["kind"]
        for i, tac in enumerate(curve)
        for a in alcohol.step(st, i * 1800, tac, 0.9, ("A", i), TH["alcohol"], "LIMIT")
    ]
    assert kinds == ["alcohol_drinking"]  # no level in the order: any confirmed drinking is reported


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 120), st.integers(0, 90)), min_size=1, max_size=40),
       st.booleans())  # fmt: skip
def test_silences_in_one_batch_match_the_gaps_between_receipts_whatever_the_sequence_order(
    rows, full_sort
) -> None:
    # (device, receive minute, minutes the data waited on the device): stored data makes receipts out of
    # sequence order, and every gap over the GPS limit (11 min) is one no_comms from the receipt before it.
    # full_sort: as when receipts span more than the packed sort key holds (a lexsort, no keys)
    from unittest import mock

    from openem.monitoring import receipts

    def lexsorted(order, group, v):  # noqa: ANN001, ANN202
        return order[np.lexsort((v[order], group[order]))], None

    patch = mock.patch.object(receipts, "sorted_within_keys", lexsorted) if full_sort else mock.MagicMock()
    eng = engine()
    for d in ("GPS-0", "GPS-1"):
        eng.apply_activation(activation(d))
    msgs = []
    for i, (d, rx_min, wait) in enumerate(rows):
        rx = T0 + timedelta(minutes=rx_min, seconds=i % 7)
        msgs.append({"v": 1, "device_id": f"GPS-{d}", "seq": i, "type": "heartbeat", "payload": {},
                     "device_time": iso(rx - timedelta(minutes=wait)), "receive_time": iso(rx)})  # fmt: skip
    with patch:
        got = {(a["device_id"], a["start"]) for a in eng.process(msgs) if a["kind"] == "no_comms"}
    started = min(T0 + timedelta(minutes=m, seconds=i % 7) for i, (_, m, _) in enumerate(rows)).timestamp()
    wm = eng.now()
    want = set()
    for d in (0, 1):
        times = sorted(
            (T0 + timedelta(minutes=m, seconds=i % 7)).timestamp()
            for i, (dd, m, _) in enumerate(rows)
            if dd == d
        )
        last = started
        for t in times:
            if t - last > 660:
                want.add((f"GPS-{d}", iso(datetime.fromtimestamp(last + 440, UTC))))
            last = max(last, t)
        if wm - last > 660:  # still silent when the batch's scan runs
            want.add((f"GPS-{d}", iso(datetime.fromtimestamp(last + 440, UTC))))
    assert got == want


def _prox(alerts: list) -> list:
    return [a for a in alerts if a["kind"].startswith("proximity")]  # the silent tag's no_comms aside


def _pair() -> tuple[Engine, Device, Device]:
    eng = engine(proximity={"victim_device_id": "VIC-1", "pre_alert_m": 1000, "alert_m": 500})
    eng.apply_activation(activation("GPS-1"))
    eng.apply_activation(activation("VIC-1", "VICTIM", role="VICTIM"))
    return eng, Device("GPS-1"), Device("VIC-1")


def test_a_victim_walking_towards_a_silent_offenders_last_position_is_warned_with_its_age() -> None:
    eng, w, v = _pair()
    eng.process([w.fix(T0, *HOME, acc=10.0)])  # the offender's last fix; then the tag goes silent
    walk = [(10, 3000), (12, 1800), (14, 1400)]  # minutes after it, metres from it
    raised = [_prox(eng.process([v.fix(T0 + timedelta(minutes=m), *offset(*HOME, d, 0))])) for m, d in walk]
    # 10 min: the offender may have walked 850 m: still over 2 km apart; 12 min: the outer ring may be reached
    assert raised[0] == []
    [pre] = raised[1]
    assert pre["kind"] == "proximity_pre_alert"
    assert pre["details"]["note"] == "based on a position 12 minutes old"
    assert pre["details"]["position_age_min"] == 12 and pre["details"]["one_party"] == "w"
    [alert] = raised[2]
    assert alert["kind"] == "proximity" and alert["details"]["note"] == "based on a position 14 minutes old"
    assert alert["details"]["distance_m"] > 1000 and alert["details"]["nearest_possible_m"] < 500


def test_an_offender_alone_is_judged_against_the_victims_last_position_and_a_far_one_raises_nothing() -> None:
    eng, w, v = _pair()
    eng.process([v.fix(T0, *HOME, acc=10.0)])
    # the offender walks towards where the victim last was (a still offender is judged in test_episode_closing)
    assert _prox(eng.process([w.fix(T0 + timedelta(minutes=6), *offset(*HOME, 2500, 0))])) == []
    [pre] = _prox(eng.process([w.fix(T0 + timedelta(minutes=8), *offset(*HOME, 1400, 0))]))
    assert pre["kind"] == "proximity_pre_alert" and pre["details"]["one_party"] == "v"
    eng2, w2, v2 = _pair()
    eng2.process([v2.fix(T0, *HOME, acc=10.0)])
    assert _prox(eng2.process([w2.fix(T0 + timedelta(minutes=8), *offset(*HOME, 5000, 0))])) == []


def test_a_position_older_than_the_one_party_limit_is_unknown_not_a_warning() -> None:
    eng, w, v = _pair()
    eng.process([w.fix(T0, *HOME, acc=10.0)])
    assert _prox(eng.process([v.fix(T0 + timedelta(minutes=45), *offset(*HOME, 1200, 0))])) == []


def test_gps_lost_is_judged_at_walking_pace() -> None:
    eng = engine()
    eng.apply_activation(activation("GPS-1"))
    g = Device("GPS-1")
    walking = [g.fix(T0 + timedelta(minutes=i), *offset(*HOME, 70 * i, 0), speed_mps=1.2) for i in range(3)]
    lost = [
        g.fix(T0 + timedelta(minutes=3 + i), *offset(*HOME, 300, 0), acc=300, source="LBS") for i in range(3)
    ]
    assert [a["kind"] for a in eng.process(walking + lost)] == ["gps_lost_moving"]  # 1.2 m/s: a normal walk


def test_a_motion_report_moving_with_no_gps_fix_is_gps_lost_once_and_still_is_nothing() -> None:
    eng = engine()
    eng.apply_activation(activation("GPS-1"))
    g = Device("GPS-1")
    eng.process([g.fix(T0, *HOME)])
    assert eng.process([g.msg("motion", T0 + timedelta(minutes=3), moving=True, steps=200)]) == []
    assert eng.process([g.msg("motion", T0 + timedelta(minutes=6), moving=False)]) == []  # still: nothing
    [lost] = eng.process([g.msg("motion", T0 + timedelta(minutes=7), moving=True, steps=400)])
    assert lost["kind"] == "gps_lost_moving" and lost["details"]["source"] == "motion"
    assert lost["details"]["steps"] == 400 and lost["details"]["minutes_without_gps"] == 7.0
    assert eng.process([g.msg("motion", T0 + timedelta(minutes=9), moving=True)]) == []  # the same stretch
    eng.process([g.fix(T0 + timedelta(minutes=10), *HOME)])  # a GPS fix again: a new stretch may follow
    assert [a["kind"] for a in eng.process([g.msg("motion", T0 + timedelta(minutes=16), moving=True)])] == [
        "gps_lost_moving"
    ]


def test_network_fixes_after_the_motion_sensor_said_moving_are_gps_lost() -> None:
    eng = engine()
    eng.apply_activation(activation("GPS-1"))
    g = Device("GPS-1")
    eng.process([g.fix(T0, *HOME), g.msg("motion", T0 + timedelta(seconds=30), moving=True)])
    lost = [g.fix(T0 + timedelta(minutes=1 + i), *HOME, acc=300, source="WIFI") for i in range(3)]
    assert [a["kind"] for a in eng.process(lost)] == ["gps_lost_moving"]
