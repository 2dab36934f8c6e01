"""Exclusion/inclusion zones through the engine: accuracy-aware, confirmed by dwell, multipath rejected."""

from __future__ import annotations

from datetime import timedelta

from openem.monitoring.engine import Engine

from .fixtures import HOME, T0, Device, activation, offset, order, square

ZONE_CENTRE = offset(*HOME, 3000, 0)


def engine_with_zone(**zone_kw) -> Engine:
    eng = Engine()
    eng.apply_order(order(exclusion_zones=[{"id": "Z1", "name": "Victim street", "geometry": square(*ZONE_CENTRE, 200),
                                            **zone_kw}]))  # fmt: skip
    eng.apply_activation(activation("GPS-1"))
    return eng


def walk_in(dev: Device, n: int, acc: float = 5.0, step_s: int = 60):
    return [
        dev.fix(T0 + timedelta(seconds=i * step_s), *offset(*ZONE_CENTRE, 0, 0), acc=acc) for i in range(n)
    ]


def test_confirmed_entry_needs_two_fixes_and_dwell() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    msgs = walk_in(dev, 3)
    assert eng.process(msgs[:1]) == []
    alerts = eng.process(msgs[1:])
    assert [a["kind"] for a in alerts] == ["exclusion_entry"]
    a = alerts[0]
    assert a["condition_id"] == "Z1" and a["order_ref"] == "ORD-1" and a["person_id"] == "PER-1"
    assert a["start"] == "2026-11-23T12:00:00Z" and a["evidence"][:2] == [["GPS-1", 1], ["GPS-1", 2]]
    assert not a["late_detected"]


def test_poor_accuracy_overlap_is_only_possible_never_confirmed() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    alerts = eng.process(walk_in(dev, 6, acc=300.0))
    assert [a["kind"] for a in alerts] == ["exclusion_possible"]


def test_fixes_outside_the_zone_raise_nothing_and_a_single_jump_is_rejected() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    msgs = [dev.fix(T0 + timedelta(seconds=i * 15), *HOME) for i in range(4)]
    msgs.insert(2, dev.fix(T0 + timedelta(seconds=20), *ZONE_CENTRE))  # 3 km in 5 s: multipath
    msgs.insert(3, dev.fix(T0 + timedelta(seconds=25), *ZONE_CENTRE))
    alerts = eng.process(msgs)
    assert [a for a in alerts if a["kind"].startswith("exclusion")] == []
    assert sorted(f[1] for f in eng.flags if f[2] == "impossible_speed") == [
        5,
        6,
    ]  # the two jumped fixes only


def test_late_fixes_inside_the_zone_are_not_mistaken_for_jumps_from_the_newer_fix() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    late_visit = walk_in(dev, 3)  # 12:00-12:02 inside the zone, stored on the tag during an outage
    now_home = [dev.fix(T0 + timedelta(minutes=30 + i), *HOME) for i in range(2)]
    assert eng.process(now_home) == []
    alerts = eng.process(late_visit)  # uploaded later: older than the newest fix already known
    assert not [f for f in eng.flags if f[2] == "impossible_speed"]
    [entry] = [a for a in alerts if a["kind"] == "exclusion_entry"]
    assert entry["start"] == "2026-11-23T12:00:00Z"


def test_zone_outside_its_schedule_is_not_enforced() -> None:
    eng, dev = (
        engine_with_zone(schedule=[{"day": "SATURDAY", "start": "09:00", "end": "17:00"}]),
        Device("GPS-1"),
    )
    assert eng.process(walk_in(dev, 4)) == []  # Monday


def test_leaving_and_re_entering_is_a_new_alert_and_replay_is_idempotent() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    first = walk_in(dev, 2)
    out = [dev.fix(T0 + timedelta(minutes=10 + i), *HOME) for i in range(2)]
    again = [dev.fix(T0 + timedelta(minutes=30 + i), *ZONE_CENTRE) for i in range(2)]
    alerts = eng.process(first + out + again)  # (the 19 minutes without a fix are also a no_comms)
    assert [a["kind"] for a in alerts if a["kind"].startswith("exclusion")] == [
        "exclusion_entry",
        "exclusion_entry",
    ]
    assert eng.process(first + out + again) == []


def test_inclusion_zone_exit_is_raised() -> None:
    eng = Engine()
    eng.apply_order(order(inclusion_zones=[{"id": "I1", "name": "Town", "geometry": square(*HOME, 500)}]))
    eng.apply_activation(activation("GPS-1"))
    dev = Device("GPS-1")
    inside = [dev.fix(T0 + timedelta(minutes=i), *HOME) for i in range(3)]
    outside = [dev.fix(T0 + timedelta(minutes=10 + i), *offset(*HOME, 5000, 0)) for i in range(3)]
    alerts = eng.process(inside + outside)
    assert [a["kind"] for a in alerts] == ["inclusion_exit"]
    assert alerts[0]["start"] == "2026-11-23T12:10:00Z"


def test_message_from_a_device_with_no_live_activation_is_flagged_not_dropped() -> None:
    eng, dev = engine_with_zone(), Device("GPS-UNKNOWN")
    kinds = [a["kind"] for a in eng.process(walk_in(dev, 3))]
    assert kinds == []  # GPS-UNKNOWN's fixes in the zone are not GPS-1's
    assert [f[2] for f in eng.flags] == ["no_activation"] * 3


def test_late_store_and_forward_data_raises_a_late_detected_alert() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    msgs = [dev.fix(T0 + timedelta(seconds=i * 60), *ZONE_CENTRE) for i in range(3)]
    for m in msgs:
        m["receive_time"] = "2026-11-23T15:00:00Z"
    alerts = eng.process(msgs)
    assert alerts[0]["kind"] == "exclusion_entry" and alerts[0]["late_detected"]
    assert alerts[0]["start"] == "2026-11-23T12:00:00Z" and alerts[0]["detected_at"] == "2026-11-23T15:00:00Z"


def test_a_visit_forwarded_in_two_bursts_after_a_live_fix_outside_is_one_entry() -> None:
    # 12:00-12:04 inside the zone with no signal; the tag is home by 12:30 and sends live fixes, then forwards
    # its stored fixes in two bursts. In event time it is one visit: one alert, from 12:00.
    from openem.core.time import iso

    eng, dev = engine_with_zone(), Device("GPS-1")
    visit = walk_in(dev, 5)
    for i, m in enumerate(visit):  # received after the outage
        m["receive_time"] = iso(T0 + timedelta(minutes=31 + 2 * (i >= 2), seconds=i))
    home = [dev.fix(T0 + timedelta(minutes=30 + i), *HOME) for i in range(3)]
    alerts = eng.process(home[:1]) + eng.process(visit[:2]) + eng.process(home[1:2]) + eng.process(visit[2:])
    alerts += eng.process(home[2:])
    entries = [a for a in alerts if a["kind"] == "exclusion_entry"]
    assert [a["start"] for a in entries] == ["2026-11-23T12:00:00Z"]
    assert all(a["late_detected"] for a in entries)


def test_a_late_fix_outside_the_zone_inside_a_visit_splits_it_in_event_time() -> None:
    # the visit's fixes arrive first; a stored fix from the middle of it, outside the zone, arrives later:
    # in event time the wearer left and came back, so the part after it is a second entry
    eng, dev = engine_with_zone(), Device("GPS-1")
    inside = [dev.fix(T0 + timedelta(minutes=m), *ZONE_CENTRE) for m in (0, 1, 2, 10, 11, 12)]
    outside = dev.fix(T0 + timedelta(minutes=6), *offset(*ZONE_CENTRE, 600, 0))
    alerts = eng.process(inside) + eng.process([outside])
    starts = sorted(a["start"] for a in alerts if a["kind"] == "exclusion_entry")
    assert starts == ["2026-11-23T12:00:00Z", "2026-11-23T12:10:00Z"]


def test_zone_history_is_pruned_at_a_fix_outside_and_never_mid_episode() -> None:
    from openem.monitoring.rules import zones
    from openem.monitoring.rules.zones import CLEAR, CONFIRMED

    hour = 3600.0
    # fixes every 10 minutes for 10 hours, outside the zone at 2 h and 3.5 h, inside otherwise
    hist = [
        [i * 600.0, CLEAR if i * 600.0 in (2 * hour, 3.5 * hour) else CONFIRMED, "GPS-1", i]
        for i in range(61)
    ]
    zones.prune_history(hist)
    assert hist[0][0] == 3.5 * hour and hist[0][1] == CLEAR  # the last fix outside before the 6-h cut (4 h)
    episode = [[i * 600.0, CONFIRMED, "GPS-1", i] for i in range(61)]  # one 10-hour visit: kept whole
    zones.prune_history(episode)
    assert len(episode) == 61
    long = [[float(i), CONFIRMED, "GPS-1", i] for i in range(zones.ZONE_HISTORY_MAX + 5)]
    zones.prune_history(long)
    assert len(long) == zones.ZONE_HISTORY_MAX and long[0][3] == 5  # a bound on memory all the same
