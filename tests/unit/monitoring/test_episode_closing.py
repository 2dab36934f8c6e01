"""Device and proximity episodes close on their own evidence, with the measure an official needs: a victim
and an offender who came close and then parted; a tag silent for three hours and then heard again; a
battery that went low and was charged; a strap opened and closed again. Before this, these episodes stayed
open for ever (their alerts carry no end)."""

from __future__ import annotations

from datetime import timedelta

from openem.monitoring.engine import Engine

from .fixtures import HOME, T0, Device, activation, offset, order


def _closed(eng: Engine, kind: str) -> list[dict]:
    return [r for r in eng.take_episodes() if r["kind"] == kind and r["state"] == "closed"]


def _pair() -> tuple[Engine, Device, Device]:
    eng = Engine()
    eng.apply_order(order(proximity={"victim_device_id": "VIC-1", "pre_alert_m": 1000, "alert_m": 500}))
    eng.apply_activation(activation("GPS-1"))
    eng.apply_activation(activation("VIC-1", "VICTIM", role="VICTIM"))
    return eng, Device("GPS-1"), Device("VIC-1")


def _both(w: Device, v: Device, minute: int, metres_apart: float) -> list[dict]:
    at = T0 + timedelta(minutes=minute)
    return [
        v.fix(at, *HOME, acc=10.0),
        w.fix(at + timedelta(seconds=5), *offset(*HOME, metres_apart, 0), acc=10.0),
    ]


def test_a_victim_and_offender_who_approach_and_then_part_close_their_episode_with_how_long_and_how_close() -> (
    None
):
    eng, w, v = _pair()
    # the offender walks in from 3 km to 300 m of the victim, stays ten minutes, then walks away for good
    path = [3000, 2000, 900, 600, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300, 1500, 2500, 3000, 3000, 3000,
            3000, 3000, 3000]  # fmt: skip
    alerts = []
    for minute, metres in enumerate(path):
        alerts += eng.process(_both(w, v, minute, metres))
    prox = [a for a in alerts if a["kind"].startswith("proximity")]
    assert {a["kind"] for a in prox} == {"proximity_pre_alert", "proximity"}
    closed = _closed(eng, "proximity")
    assert len(closed) == 1, "the alert's episode closes once they have been apart long enough"
    ep = closed[0]
    assert ep["closed_reason"] == "apart"
    assert ep["end"] == "2026-11-23T12:14:05Z"  # when they were first seen apart again
    assert ep["measure"]["minutes_within"] == 10.0  # 12:04:05 to 12:14:05
    assert abs(ep["measure"]["closest_m"] - 300.0) < 2.0  # metres, through the grid projection
    assert not [e for e in eng.episodes.values() if e["kind"].startswith("proximity")]


def test_parting_for_a_moment_does_not_close_the_episode() -> None:
    eng, w, v = _pair()
    for minute, metres in enumerate([3000, 400, 400, 2000, 2000, 400, 400]):  # apart for two minutes only
        eng.process(_both(w, v, minute, metres))
    assert _closed(eng, "proximity") == []
    assert [e["kind"] for e in eng.episodes.values() if e["kind"].startswith("proximity")] == ["proximity"]


def test_a_restart_while_they_are_close_still_closes_the_episode_when_they_part() -> None:
    eng, w, v = _pair()
    for minute, metres in enumerate([3000, 400, 400]):
        eng.process(_both(w, v, minute, metres))
    eng = Engine.restore(eng.snapshot())
    for minute, metres in enumerate([3000] * 8, start=3):
        eng.process(_both(w, v, minute, metres))
    [ep] = _closed(eng, "proximity")
    assert ep["end"] == "2026-11-23T12:03:05Z" and ep["measure"]["minutes_within"] == 2.0


def test_a_still_offender_is_not_warned_about_only_because_the_victims_phone_has_had_no_fix() -> None:
    eng, w, v = _pair()
    eng.process(_both(w, v, 0, 2600))  # the victim's phone's last fix; the offender at home 2.6 km away
    still = [w.fix(T0 + timedelta(minutes=m), *offset(*HOME, 2600, 0), acc=30.0) for m in range(1, 30)]
    assert [a for a in eng.process(still) if a["kind"].startswith("proximity")] == []
    # ...but walking towards where the victim last was is (the victim may still be there)
    eng2, w2, v2 = _pair()
    eng2.process(_both(w2, v2, 0, 2600))
    walk = [
        w2.fix(T0 + timedelta(minutes=m), *offset(*HOME, 2600 - 60 * m, 0), acc=30.0) for m in range(1, 20)
    ]
    pre = [a for a in eng2.process(walk) if a["kind"].startswith("proximity")][0]
    assert pre["kind"] == "proximity_pre_alert" and pre["details"]["one_party"] == "v"


# ---- no communication: the next message ends it, and says for how long the wearer was unmonitored ----
def _gps_engine() -> tuple[Engine, Device]:
    eng = Engine()
    eng.apply_order(order())
    eng.apply_activation(activation("GPS-1"))
    return eng, Device("GPS-1")


def test_a_tag_silent_for_three_hours_then_back_closes_its_no_comms_episode_with_three_hours_unmonitored() -> (
    None
):
    eng, dev = _gps_engine()
    eng.process([dev.fix(T0 + timedelta(minutes=m), *HOME) for m in range(5)])
    raised = []
    for m in range(10, 180, 10):  # the centre watches the silence
        raised += eng.advance_watermark((T0 + timedelta(minutes=4 + m)).timestamp())
    [nc] = [a for a in raised if a["kind"] == "no_comms"]
    assert [e["episode_id"] for e in eng.episodes.values() if e["kind"] == "no_comms"] == [nc["id"]]
    eng.process([dev.fix(T0 + timedelta(hours=3, minutes=4), *HOME)])
    [ep] = _closed(eng, "no_comms")
    assert ep["episode_id"] == nc["id"] and ep["closed_reason"] == "contact_again"
    assert ep["end"] == "2026-11-23T15:04:01Z"  # the message's receipt
    assert ep["measure"]["hours_unmonitored"] == 3.0  # from the last receipt before the silence
    assert not [e for e in eng.episodes.values() if e["kind"] == "no_comms"]


def test_a_silence_found_in_one_batch_of_stored_data_is_closed_at_once() -> None:
    eng, dev = _gps_engine()
    msgs = [dev.fix(T0 + timedelta(minutes=m), *HOME) for m in range(5)]
    msgs += [dev.fix(T0 + timedelta(hours=3, minutes=4 + m), *HOME) for m in range(3)]
    eng.process(msgs)
    [ep] = _closed(eng, "no_comms")
    assert ep["measure"]["hours_unmonitored"] == 3.0


# ---- battery: charged or back above the threshold ----
def test_a_low_battery_that_is_charged_closes_with_the_minutes_it_was_low() -> None:
    eng, dev = _gps_engine()
    reports = [dev.msg("battery", T0 + timedelta(minutes=30 * i), level_pct=lv, charging=False)
               for i, lv in enumerate([40, 30, 19, 15])]  # fmt: skip
    reports += [dev.msg("battery", T0 + timedelta(minutes=120), level_pct=16, charging=True)]
    alerts = eng.process(reports)
    [low] = [a for a in alerts if a["kind"] == "low_battery"]
    [ep] = _closed(eng, "low_battery")
    assert ep["episode_id"] == low["id"] and ep["closed_reason"] == "charged"
    assert ep["end"] == "2026-11-23T14:00:00Z"
    assert ep["measure"]["minutes_low"] == (T0 + timedelta(minutes=120) - _start(low)).total_seconds() / 60


def _start(alert: dict):
    from datetime import datetime

    return datetime.fromisoformat(alert["start"].replace("Z", "+00:00"))


def test_a_low_battery_charged_in_a_later_batch_closes_too() -> None:
    eng, dev = _gps_engine()
    eng.process([dev.msg("battery", T0 + timedelta(minutes=30 * i), level_pct=lv, charging=False)
                 for i, lv in enumerate([30, 19])])  # fmt: skip
    assert _closed(eng, "low_battery") == []
    eng.process([dev.msg("battery", T0 + timedelta(minutes=90), level_pct=19, charging=True)])
    [ep] = _closed(eng, "low_battery")
    assert ep["closed_reason"] == "charged"


# ---- tamper: the strap closed again ----
def test_a_strap_opened_and_closed_again_closes_its_episode_with_the_minutes_open() -> None:
    eng, dev = _gps_engine()
    alerts = eng.process([dev.msg("tamper", T0, kind="strap", state="open")])
    [tamper] = [a for a in alerts if a["kind"] == "strap_tamper"]
    assert _closed(eng, "strap_tamper") == []
    eng.process([dev.msg("tamper", T0 + timedelta(minutes=25), kind="strap", state="closed")])
    [ep] = _closed(eng, "strap_tamper")
    assert ep["episode_id"] == tamper["id"] and ep["closed_reason"] == "restored"
    assert ep["measure"]["minutes_open"] == 25.0


# ---- GPS lost while moving: walking home and going indoors is not it ----
def test_walking_home_then_indoor_network_fixes_that_say_still_is_not_gps_lost() -> None:
    eng, dev = _gps_engine()
    walk = [dev.fix(T0 + timedelta(minutes=i), *offset(*HOME, 70 * i, 0), speed_mps=1.2) for i in range(3)]
    indoors = [dev.fix(T0 + timedelta(minutes=3 + i), *offset(*HOME, 150, 0), acc=40, source="WIFI", speed_mps=0.1)
               for i in range(3)]  # fmt: skip
    assert [a["kind"] for a in eng.process(walk + indoors)] == []


# ---- alcohol: a drink seen by two readings over the threshold and then the fall is still a drink ----
def test_a_drink_that_peaks_between_two_readings_and_then_falls_is_reported() -> None:
    from .test_sparse_runs import message

    eng = Engine()
    eng.apply_order(order(alcohol={"mode": "ABSTINENCE"}))
    eng.apply_activation(activation("ALC-1", "ALCOHOL_TAG"))
    curve = [0.0, 0.004, 0.018, 0.033, 0.030, 0.019, 0.013, 0.003, 0.0]  # a reading every 30 minutes
    alerts = eng.process([message("ALC-1", i, 30 * i, "alcohol", tac_gdl=v, ir_skin=0.9, temp_c=33.5)
                          for i, v in enumerate(curve)])  # fmt: skip
    [drink] = [a for a in alerts if a["kind"] == "alcohol_drinking"]
    assert drink["details"]["peak_gdl"] == 0.033
    [ep] = _closed(eng, "alcohol_drinking")
    assert ep["measure"]["peak_tac"] == 0.033


# ---- a restart between the curfew start and its grace still reports the wearer not home ----
def test_a_restart_before_the_grace_still_reports_a_wearer_away_at_curfew_start() -> None:
    import json
    from datetime import UTC, datetime

    from .test_curfew import rf_engine

    eng, hmu = rf_engine()
    eng.process([hmu.msg("rf", T0.replace(hour=18), present=False, tag_id="T")])
    eng = Engine.restore(json.loads(json.dumps(eng.snapshot())))  # a worker restarted from its checkpoint
    later = eng.advance_watermark(datetime(2026, 11, 23, 19, 6, tzinfo=UTC).timestamp())
    assert [a["kind"] for a in later if a["kind"].startswith("curfew")] == ["curfew_not_home"]
