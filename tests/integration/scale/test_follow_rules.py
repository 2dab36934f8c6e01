"""The rules by which partition workers follow orders (no broker, no database): a change is found only while
the engine lacks it, survives a checkpoint, and is cut into a batch at the instant it takes effect."""

from datetime import UTC, datetime, timedelta

from tests.integration.scale.scale_world import ZONE, Device, order_doc, zone

from openem.core.time import iso
from openem.monitoring.engine import Engine
from openem.scale.follow import (
    ALWAYS,
    Change,
    OrderState,
    activation_changes,
    apply_change,
    order_differences,
    process_in_order,
)

E = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # the variation takes effect (a Monday noon)


def doc(version, zones=()):
    return {**order_doc("PER-1", zones, around=E), "ref": "ORD-1", "version": version}


def activation(end=None):
    return {"activation_id": "ACT-1", "device_id": "GPS-1", "device_kind": "GPS_TAG", "order_ref": "ORD-1",
            "person_id": "PER-1", "role": "WEARER", "start": E - timedelta(days=1), "end": end}  # fmt: skip


def engine_with_order_v1():
    eng = Engine()
    apply_change(eng, Change("order", "ORD-1", ALWAYS, doc(1)))
    apply_change(eng, Change("activation", "ACT-1", ALWAYS, activation()))
    return eng


def fixes_around_the_variation():
    """In the zone from 40 s before the variation to 35 s after it, in one batch."""
    dev = Device("GPS-1")
    msgs = dev.fixes(E - timedelta(seconds=40), 2, ZONE) + dev.fixes(E + timedelta(seconds=5), 3, ZONE)
    for m in msgs:
        m["receive_time"] = iso(
            datetime.fromisoformat(m["device_time"].replace("Z", "+00:00")) + timedelta(seconds=2)
        )
    return msgs


def test_a_variation_judges_only_the_telemetry_after_it_even_within_one_batch():
    eng = engine_with_order_v1()
    varied = Change("order", "ORD-1", E.timestamp(), doc(2, [zone()]))
    alerts = process_in_order(eng, fixes_around_the_variation(), [varied])
    assert [a["kind"] for a in alerts] == ["exclusion_entry"]
    assert alerts[0]["start"] == iso(E + timedelta(seconds=5))  # not 40 s before the zone existed
    # the same batch with the change applied first: the fixes before the variation would count
    eng = engine_with_order_v1()
    early = process_in_order(
        eng, fixes_around_the_variation(), [Change("order", "ORD-1", ALWAYS, doc(2, [zone()]))]
    )
    assert early[0]["start"] == iso(E - timedelta(seconds=40))


def test_an_ending_stops_monitoring_from_its_instant():
    eng = engine_with_order_v1()
    apply_change(eng, Change("order", "ORD-1", ALWAYS, doc(2, [zone()])))
    ended = Change("end", "ORD-1", (E - timedelta(seconds=60)).timestamp(), {})
    assert process_in_order(eng, fixes_around_the_variation(), [ended]) == []


def test_a_change_is_found_while_the_engine_lacks_it_and_never_after_its_checkpoint():
    eng = engine_with_order_v1()
    state = OrderState("ORD-1", 2, "ACTIVE", E, E)
    assert [kind for _, kind in order_differences(eng, [state])] == ["order"]
    apply_change(eng, Change("order", "ORD-1", E.timestamp(), doc(2, [zone()])))
    assert order_differences(eng, [state]) == []
    restored = Engine.restore(eng.snapshot())  # what the next owner starts from
    assert order_differences(restored, [state]) == []
    ended = OrderState("ORD-1", 2, "ENDED", E, E + timedelta(hours=1))
    assert [kind for _, kind in order_differences(restored, [ended])] == ["end"]
    apply_change(restored, Change("end", "ORD-1", ended.updated_at.timestamp(), {}))
    assert order_differences(Engine.restore(restored.snapshot()), [ended]) == []
    # an order ended before this engine ever held it is nothing to monitor
    assert order_differences(Engine(), [ended]) == []
    # a checkpoint from before the variation (a killed worker's) still lacks it
    assert [
        kind for _, kind in order_differences(Engine.restore(engine_with_order_v1().snapshot()), [state])
    ] == ["order"]


def test_activations_are_found_when_new_or_ended_and_not_again():
    eng = Engine()
    assert [c.key for c in activation_changes(eng, [activation()])] == ["ACT-1"]
    apply_change(eng, Change("activation", "ACT-1", ALWAYS, activation()))
    assert activation_changes(Engine.restore(eng.snapshot()), [activation()]) == []
    removed = activation(end=E)
    assert [c.key for c in activation_changes(eng, [removed])] == ["ACT-1"]
    apply_change(eng, activation_changes(eng, [removed])[0])
    assert activation_changes(eng, [removed]) == []
