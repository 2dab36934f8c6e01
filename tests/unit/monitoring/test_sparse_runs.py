"""Alcohol readings and home-unit presence handled a device at a time give exactly what the rules give one
reading at a time: the same alerts, the same state, in any batching, with late readings mixed in."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from openem.core.time import iso
from openem.monitoring import sparse_path
from openem.monitoring.engine import Engine
from openem.monitoring.model import default_thresholds
from openem.monitoring.rules import alcohol, curfew

from .fixtures import T0, activation, order

TH = default_thresholds()["alcohol"]
reading = st.tuples(
    st.sampled_from([0.0, 0.004, 0.009, 0.015, 0.03, 0.06, 0.12]), st.sampled_from([0.2, 0.9, 1.0])
)


def message(dev: str, seq: int, minute: int, mtype: str, delay_min: int = 0, **payload: object) -> dict:
    at = T0 + timedelta(minutes=minute)
    return {"v": 1, "device_id": dev, "seq": seq, "type": mtype, "device_time": iso(at),
            "receive_time": iso(at + timedelta(minutes=delay_min, seconds=2)), "payload": payload}  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.lists(reading, min_size=1, max_size=40), st.integers(1, 40), st.sampled_from(["ABSTINENCE", "LIMIT"])
)
def test_alcohol_readings_give_what_the_rule_gives_one_by_one(readings, per_batch, mode) -> None:
    cond = {"mode": mode, "limit_gdl": 0.05} if mode == "LIMIT" else {"mode": mode}
    eng = Engine()
    eng.apply_order(order(alcohol=cond))
    eng.apply_activation(activation("ALC-1", "ALCOHOL_TAG"))
    msgs = [message("ALC-1", i, 30 * i, "alcohol", tac_gdl=tac, ir_skin=ir, temp_c=33.0)
            for i, (tac, ir) in enumerate(readings)]  # fmt: skip
    got = [a["kind"] for i in range(0, len(msgs), per_batch) for a in eng.process(msgs[i : i + per_batch])
           if a["kind"].startswith("alcohol")]  # fmt: skip
    state, want = alcohol.new_state(), []
    for i, (tac, ir) in enumerate(readings):
        t = (T0 + timedelta(minutes=30 * i)).timestamp()
        want += [
            d["kind"] for d in alcohol.step(state, t, tac, ir, ("ALC-1", i), TH, mode, cond.get("limit_gdl"))
        ]
    assert got == want
    assert (
        sparse_path.alcohol_state(eng, "ALC-1")["prev"] == state["prev"]
        and sparse_path.alcohol_state(eng, "ALC-1")["ep"] == state["ep"]
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=1, max_size=40), st.integers(1, 40))
def test_presence_changes_are_kept_in_time_order_whatever_the_batching_and_lateness(seq, per_batch) -> None:
    # (present, minutes the reading waited on the home unit): late readings arrive after newer ones
    timetable = [{"day": d, "start": "19:00", "end": "07:00"} for d in
                 ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")]  # fmt: skip
    cf = {"start": iso(T0 - timedelta(days=1)), "end": iso(T0 + timedelta(days=5)), "timetable": timetable}

    def timeline(batch: int) -> list:
        eng = Engine()
        eng.apply_order(order(curfew=cf))
        eng.apply_activation(activation("HMU-1", "HMU"))
        msgs = [
            message("HMU-1", i, 10 * i, "rf", delay_min=delay * 25, present=p)
            for i, (p, delay) in enumerate(seq)
        ]
        msgs.sort(key=lambda m: m["receive_time"])
        for i in range(0, len(msgs), batch):
            eng.process(msgs[i : i + batch])
        obs = [o[:2] for o in curfew.observations(eng.ostate("ORD-1"), eng.orders["ORD-1"].curfew, 0)]
        assert len(obs) == len(seq)  # every reading is kept
        assert [t for t, _ in obs] == sorted(t for t, _ in obs)
        # the presence over time: a late reading that repeats its neighbour may or may not be stored
        return [o for i, o in enumerate(obs) if i == 0 or o[1] != obs[i - 1][1]]

    assert timeline(per_batch) == timeline(1)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-1400, 1400), st.integers(-1400, 1400)), min_size=1, max_size=40),
       st.integers(1, 40), st.integers(0, 40))  # fmt: skip
def test_proximity_gives_what_the_rule_gives_fix_by_fix(fixes, per_batch, restore_at) -> None:
    # (wearer or victim, metres north, metres east), a minute apart (never an impossible jump): parties far apart
    # take the registry-only path
    from openem.core.geo import wgs84_to_bng
    from openem.monitoring.rules import presence

    from .fixtures import HOME, offset

    spec = {"victim_device_id": "VIC-1", "pre_alert_m": 1000, "alert_m": 500}
    eng = Engine()
    eng.apply_order(order(proximity=spec))
    eng.apply_activation(activation("GPS-1"))
    eng.apply_activation(activation("VIC-1", "VICTIM", role="VICTIM"))
    msgs, want, state = [], [], {}
    th = default_thresholds()["proximity"]
    for i, (wearer, north, east) in enumerate(fixes):
        dev = "GPS-1" if wearer else "VIC-1"
        lat, lon = offset(*HOME, north, east)
        msgs.append(message(dev, i, i, "gps", lat=lat, lon=lon, accuracy_m=5.0, source="GPS"))
        x, y = wgs84_to_bng([lon], [lat])
        t = (T0 + timedelta(minutes=i)).timestamp()
        want += [d["kind"] for d in presence.proximity(state, "w" if wearer else "v", t, float(x[0]), float(y[0]), 5.0,
                                                       (dev, i), {**spec, "pre_alert_m": 1000.0, "alert_m": 500.0}, th)]  # fmt: skip
    got = []
    for i in range(0, len(msgs), per_batch):
        if i >= restore_at:  # a worker taking over from a checkpoint carries on where it stopped
            eng, restore_at = Engine.restore(eng.snapshot()), len(msgs)
        got += [a["kind"] for a in eng.process(msgs[i : i + per_batch]) if a["kind"].startswith("proximity")]
    assert got == want


def test_a_checkpoint_with_proximity_positions_in_order_state_restores_them() -> None:
    from .fixtures import HOME

    eng = Engine()
    eng.apply_order(order(proximity={"victim_device_id": "VIC-1", "pre_alert_m": 1000, "alert_m": 500}))
    eng.apply_activation(activation("GPS-1"))
    eng.process([message("GPS-1", 1, 0, "gps", lat=HOME[0], lon=HOME[1], accuracy_m=5.0, source="GPS")])
    saved = eng.snapshot()
    k = eng.reg.order_code["ORD-1"]
    want = [float(eng.reg.o[f][k]) for f in ("pw_t", "pw_x", "pw_y")]
    assert all(v == v for v in want)  # the far path kept the wearer's fix in the registry
    for f in [f for f in saved["registry"]["o"] if f.startswith("p")]:  # as an older version saved it
        del saved["registry"]["o"][f]
    saved["order_state"]["ORD-1"]["prox"] = {"w": [want[0], want[1], want[2], 5.0, "GPS-1", 1], "level": 0}
    back = Engine.restore(saved)
    assert [float(back.reg.o[f][k]) for f in ("pw_t", "pw_x", "pw_y")] == want
    assert back.reg.o["pw_seq"][k] == 1 and back.reg.dev_ids[back.reg.o["pw_dev"][k]] == "GPS-1"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["GPS-1", "GPS-2", "GPS-3"]), st.integers(0, 300)), min_size=1, max_size=50),
       st.integers(1, 50))  # fmt: skip
def test_trail_availability_counts_every_fix_per_order_in_any_batching(fixes, per_batch) -> None:
    from .fixtures import HOME

    eng = Engine()
    eng.apply_order(order("ORD-1"))
    eng.apply_order(order("ORD-2"))
    for dev, ref in (("GPS-1", "ORD-1"), ("GPS-2", "ORD-1"), ("GPS-3", "ORD-2")):  # ORD-1 has two tags
        eng.apply_activation(activation(dev, ref=ref))
    msgs = [message(dev, i, minute, "gps", lat=HOME[0], lon=HOME[1], accuracy_m=5.0, source="GPS")
            for i, (dev, minute) in enumerate(fixes)]  # fmt: skip
    for i in range(0, len(msgs), per_batch):
        eng.process(msgs[i : i + per_batch])
    for ref, devs in (("ORD-1", {"GPS-1", "GPS-2"}), ("ORD-2", {"GPS-3"})):
        times = [(T0 + timedelta(minutes=m)).timestamp() for d, m in fixes if d in devs]
        k = eng.reg.order_code[ref]
        assert eng.reg.o["trail_n"][k] == len(times)
        if times:
            assert eng.reg.o["trail_first"][k] == min(times) and eng.reg.o["trail_last"][k] == max(times)
