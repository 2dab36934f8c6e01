"""An order the engine cannot use is quarantined: logged, one `order_unusable` alert, the fleet still monitored."""

from __future__ import annotations

import copy
import json
import logging
from datetime import timedelta

from openem.monitoring.engine import Engine

from .fixtures import HOME, T0, Device, activation, offset, order, square

ZONE = offset(*HOME, 3000, 0)
NIGHTS = {"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z",
          "timetable": [{"day": "MONDAY", "start": "19:00", "end": "07:00"}]}  # fmt: skip


def broken(version: int = 1) -> dict:
    """An order that never went through validation (a bad import, an old record): its curfew ends at '7pm'."""
    doc = order("ORD-2", curfew={**NIGHTS, "timetable": [{"day": "MONDAY", "start": "19:00", "end": "7pm"}]})
    return {**doc, "person_id": "PER-2", "version": version}


def fleet() -> Engine:
    eng = Engine()
    eng.apply_order(order("ORD-1", exclusion_zones=[{"id": "Z1", "geometry": square(*ZONE, 200)}]))
    eng.apply_order(broken())
    eng.apply_activation(activation("GPS-1"))
    eng.apply_activation(activation("GPS-2", ref="ORD-2") | {"person_id": "PER-2"})
    return eng


def fixes() -> list[dict]:
    g1, g2 = Device("GPS-1"), Device("GPS-2")
    return [g1.fix(T0 + timedelta(minutes=i), *ZONE) for i in range(5)] + [
        g2.fix(T0 + timedelta(minutes=i), *HOME) for i in range(5)
    ]


def test_a_fleet_with_one_unusable_order_still_gets_its_alerts_and_one_order_unusable(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="openem.monitoring.engine"):
        eng = fleet()
    alerts = eng.process(fixes())
    kinds = [a["kind"] for a in alerts]
    assert "exclusion_entry" in kinds  # the rest of the fleet is monitored
    [unusable] = [a for a in alerts if a["kind"] == "order_unusable"]
    assert unusable["severity"] == "HIGH" and unusable["condition_id"] == "order"
    assert unusable["order_ref"] == "ORD-2" and unusable["person_id"] == "PER-2"
    assert "conditions.curfew.timetable[0].end" in unusable["details"]["reason"]
    assert eng.quarantined["ORD-2"]["version"] == 1
    assert any("ORD-2" in r.getMessage() and "timetable[0].end" in r.getMessage() for r in caplog.records)
    eng.apply_order(broken())  # the same version again (a retried event, a reload): not raised twice
    later = eng.process([Device("GPS-1").fix(T0 + timedelta(hours=1), *HOME)])
    later += eng.advance_watermark((T0 + timedelta(days=1)).timestamp())
    assert "order_unusable" not in {a["kind"] for a in later}


def test_a_restart_with_an_unusable_order_in_force_restores_the_rest_and_raises_nothing_twice() -> None:
    eng = fleet()
    first = eng.process(fixes())
    assert "order_unusable" in {a["kind"] for a in first}
    state = json.loads(json.dumps(eng.snapshot()))
    state["orders"].append(broken(3))  # a checkpoint holding a document this engine cannot read
    again = Engine.restore(state)
    assert set(again.orders) == {"ORD-1"} and again.quarantined["ORD-2"]["version"] == 3
    out = again.process([Device("GPS-1").fix(T0 + timedelta(minutes=20), *ZONE)])
    assert [a["kind"] for a in out if a["kind"] == "order_unusable"] == ["order_unusable"]  # version 3, once
    replayed = Engine.restore(copy.deepcopy(state)).process([])
    assert [a["details"]["version"] for a in replayed if a["kind"] == "order_unusable"] == [3]


def test_a_later_usable_version_lifts_the_quarantine_and_a_broken_variation_keeps_the_version_in_force() -> (
    None
):
    eng = fleet()
    eng.process(fixes())
    fixed = {**order("ORD-2", curfew=NIGHTS), "person_id": "PER-2", "version": 2}
    eng.apply_order(fixed)
    assert "ORD-2" not in eng.quarantined and eng.orders["ORD-2"].curfew is not None
    eng.apply_order(broken(3))  # a variation that cannot be used: version 2 stays in force
    [alert] = [a for a in eng.process([]) if a["kind"] == "order_unusable"]
    assert alert["details"]["version"] == 3 and alert["details"]["version_in_force"] == 2
    assert eng.orders["ORD-2"].doc["version"] == 2
    hmu = Device("HMU-2")
    eng.apply_activation(activation("HMU-2", "HMU", ref="ORD-2"))
    eng.process([hmu.msg("rf", T0.replace(hour=18), present=False)])
    night = eng.advance_watermark((T0 + timedelta(hours=20)).timestamp())
    assert "curfew_absent" in {a["kind"] for a in night if a["order_ref"] == "ORD-2"}


def test_documents_that_are_not_orders_are_quarantined_not_raised() -> None:
    eng = Engine()
    for doc in ({"ref": "ORD-9", "conditions": ["curfew"]}, {"ref": "ORD-8", "monitoring": {"start": "soon"}},
                {"ref": "ORD-7", "conditions": {"exclusion_zones": [{"id": "Z", "geometry": {"type": "Polygon"}}]}},
                {"ref": "ORD-6", "conditions": {"attendance": [{"id": "A", "lat": "north", "lon": 0}]}}):  # fmt: skip
        eng.apply_order(doc)
    assert set(eng.quarantined) == {"ORD-9", "ORD-8", "ORD-7", "ORD-6"} and eng.orders == {}
    assert len([a for a in eng.process([]) if a["kind"] == "order_unusable"]) == 4


def test_an_order_with_no_reference_is_quarantined_not_monitored_under_a_blank_ref() -> None:
    eng = Engine()
    eng.apply_order({k: v for k, v in order().items() if k != "ref"})
    assert eng.orders == {} and "" in eng.quarantined
    [alert] = eng.advance_watermark((T0 + timedelta(days=5)).timestamp())
    assert alert["kind"] == "order_unusable" and "no reference" in alert["details"]["reason"]


def test_a_checkpoint_keeps_the_quarantine_of_a_variation_while_the_version_in_force_is_restored() -> None:
    eng = Engine()
    eng.apply_order({**order("ORD-2", curfew=NIGHTS), "version": 2})
    eng.apply_order(broken(3))
    eng.process([])
    again = Engine.restore(json.loads(json.dumps(eng.snapshot())))
    assert again.orders["ORD-2"].doc["version"] == 2 and again.quarantined["ORD-2"]["version"] == 3
    assert again.process([]) == []  # nothing raised twice
