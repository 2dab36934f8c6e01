"""Alcohol readings and home-unit presence handled a device at a time give exactly what the rules give one
reading at a time: the same alerts, the same state, in any batching, with late readings mixed in."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from openem.core.time import iso
from openem.monitoring.engine import Engine
from openem.monitoring.model import default_thresholds
from openem.monitoring.rules import alcohol

from .fixtures import T0, activation, order

TH = default_thresholds()["alcohol"]
reading = st.tuples(st.sampled_from([0.0, 0.004, 0.009, 0.015, 0.03, 0.06, 0.12]), st.sampled_from([0.2, 0.9, 1.0]))


def message(dev: str, seq: int, minute: int, mtype: str, delay_min: int = 0, **payload: object) -> dict:
    at = T0 + timedelta(minutes=minute)
    return {"v": 1, "device_id": dev, "seq": seq, "type": mtype, "device_time": iso(at),
            "receive_time": iso(at + timedelta(minutes=delay_min, seconds=2)), "payload": payload}  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(reading, min_size=1, max_size=40), st.integers(1, 40), st.sampled_from(["ABSTINENCE", "LIMIT"]))
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
        want += [d["kind"] for d in alcohol.step(state, t, tac, ir, ("ALC-1", i), TH, mode, cond.get("limit_gdl"))]
    assert got == want
    assert eng.dstate("ALC-1")["alc"]["prev"] == state["prev"] and eng.dstate("ALC-1")["alc"]["ep"] == state["ep"]


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
        msgs = [message("HMU-1", i, 10 * i, "rf", delay_min=delay * 25, present=p) for i, (p, delay) in enumerate(seq)]
        msgs.sort(key=lambda m: m["receive_time"])
        for i in range(0, len(msgs), batch):
            eng.process(msgs[i : i + batch])
        obs = [o[:2] for o in eng.ostate("ORD-1").get("cf_obs", [])]
        assert [t for t, _ in obs] == sorted(t for t, _ in obs)
        # the presence over time: a late reading that repeats its neighbour may or may not be stored
        return [o for i, o in enumerate(obs) if i == 0 or o[1] != obs[i - 1][1]]

    assert timeline(per_batch) == timeline(1)
