"""CEMO's restriction zones (`conditions.restriction_zones`) are places the wearer must not be: the engine judges
them as exclusion zones, within their own dates and weekly schedule."""

from __future__ import annotations

from datetime import timedelta

from openem.monitoring.engine import Engine
from openem.monitoring.order_document import parse_order

from .fixtures import HOME, T0, Device, activation, offset, order, square

ZONE_CENTRE = offset(*HOME, 3000, 0)  # T0 is a Monday, 12:00 in London (GMT)


def zone(zone_id: str = "R1", **kw) -> dict:
    return {"id": zone_id, "name": "Former partner's street", "description": "The street and its pavements",
            "duration": "Until the final hearing", "geometry": square(*ZONE_CENTRE, 200), **kw}  # fmt: skip


def visit(**conditions) -> list[dict]:
    """A quarter of an hour in the zone from T0, a fix a minute."""
    eng = Engine()
    eng.apply_order(order(**conditions))
    eng.apply_activation(activation("GPS-1"))
    dev = Device("GPS-1")
    alerts = eng.process([dev.fix(T0 + timedelta(minutes=i), *ZONE_CENTRE) for i in range(15)])
    return [a for a in alerts if a["kind"].startswith("exclusion")]


def test_a_visit_to_a_restriction_zone_raises_a_zone_entry() -> None:
    [alert] = visit(restriction_zones=[zone()])
    assert alert["kind"] == "exclusion_entry" and alert["condition_id"] == "R1"
    assert alert["start"] == "2026-11-23T12:00:00Z" and alert["evidence"][0] == ["GPS-1", 1]


def test_outside_its_schedule_or_its_dates_a_restriction_zone_raises_nothing() -> None:
    assert (
        visit(restriction_zones=[zone(schedule=[{"day": "MONDAY", "start": "08:00", "end": "10:00"}])]) == []
    )
    [alert] = visit(restriction_zones=[zone(schedule=[{"day": "MONDAY", "start": "11:00", "end": "13:00"}])])
    assert alert["condition_id"] == "R1"
    later = (T0 + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert visit(restriction_zones=[zone(start=later)]) == []


def test_a_restriction_zone_sharing_an_exclusion_zones_id_is_judged_under_its_own() -> None:
    other = {"id": "R1", "name": "Elsewhere", "geometry": square(*offset(*HOME, -3000, 0), 200)}
    spec = parse_order(order(exclusion_zones=[other], restriction_zones=[zone()]))
    assert [z.zone_id for z in spec.exclusion] == ["R1", "restriction_zones[0]"]
    [alert] = visit(exclusion_zones=[other], restriction_zones=[zone()])
    assert alert["condition_id"] == "restriction_zones[0]"


def test_an_order_without_restriction_zones_reads_as_before() -> None:
    spec = parse_order(order(exclusion_zones=[zone("Z1")]))
    assert [z.zone_id for z in spec.exclusion] == ["Z1"]
