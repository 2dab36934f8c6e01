"""The ids of alerts already raised are forgotten a week behind the watermark, so a long-running engine's
checkpoint stays bounded, while an alert raised again within the week (a stored message re-sent, a batch
delivered twice) is still raised once."""

from __future__ import annotations

import json
from datetime import timedelta

from openem.monitoring.engine import RAISED_KEEP_S, Engine

from .fixtures import T0, Device, activation, order


def test_a_long_replay_keeps_a_bounded_checkpoint_and_still_raises_each_alert_once() -> None:
    eng = Engine()
    eng.apply_order(order())
    eng.apply_activation(activation("TAG-1", "RF_TAG"))  # a strap tag with no reporting interval of its own
    tag = Device("TAG-1")
    raised, sizes, days = [], [], 40
    for day in range(days):
        at = T0 + timedelta(days=day)
        batch = [tag.msg("tamper", at, kind="strap", state="open"),
                 tag.msg("tamper", at + timedelta(minutes=5), kind="strap", state="closed")]  # fmt: skip
        if day >= 2:  # the tag re-sends the opening of two days ago under a new sequence number
            before = at - timedelta(days=2)
            batch += [tag.msg("tamper", before, kind="strap", state="open"),
                      tag.msg("tamper", before + timedelta(minutes=5), kind="strap", state="closed")]  # fmt: skip
        raised += eng.process(batch)
        if day == days // 2:
            eng = Engine.restore(json.loads(json.dumps(eng.snapshot())))  # a restart in the middle
        sizes.append(len(eng.snapshot()["raised"]))
    starts = [a["start"] for a in raised]
    assert [a["kind"] for a in raised] == ["strap_tamper"] * days and len(set(starts)) == days  # once each
    keep_days = RAISED_KEEP_S / 86400
    assert max(sizes) <= keep_days + 2  # a week of ids, not one per day of the run
    assert sizes[-1] < days / 2


def test_a_checkpoint_from_before_pruning_restores_its_ids() -> None:
    eng = Engine()
    eng.apply_order(order())
    eng.apply_activation(activation("TAG-1", "RF_TAG"))
    tag = Device("TAG-1")
    opened = tag.msg("tamper", T0, kind="strap", state="open")
    [alert] = eng.process([opened])
    state = json.loads(json.dumps(eng.snapshot()))
    state["raised"] = sorted(state["raised"])  # the old format: a list of ids
    again = Engine.restore(state)
    again.process([tag.msg("tamper", T0 + timedelta(minutes=1), kind="strap", state="closed")])
    resent = {**opened, "seq": 99, "receive_time": (T0 + timedelta(minutes=2)).isoformat()}
    assert again.process([resent]) == []  # the same opening, re-sent: already raised
    assert alert["id"] in again.raised
