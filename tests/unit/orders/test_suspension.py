"""Suspending an active order (issue 13): the lifecycle, its events and audit, and the engine judging nothing
while suspended and judging again after the resume (the document is the engine's contract)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from openem.bus.messages import from_dict
from openem.core.errors import Conflict
from openem.core.time import FrozenClock, iso
from openem.monitoring.engine import Engine
from openem.orders.events import OrderResumed, OrderSuspended
from openem.orders.lifecycle import current_suspension
from openem.orders.model import OrderStatus
from openem.orders.rules.structure import check_structure
from openem.orders.service import InMemoryOrderRepository, InMemoryUnit, OrderInvalid, OrderService

from ..monitoring.fixtures import HOME, T0, Device, activation, offset, square
from ..monitoring.fixtures import order as engine_order
from .conftest import NOW


@pytest.fixture
def service():
    return OrderService(InMemoryOrderRepository(), FrozenClock(NOW), unit=InMemoryUnit())


def _active(service, order):
    ref = service.create_draft("u1", order).record.ref
    service.submit("u1", ref)
    service.accept("u2", ref)
    service.activate("u3", ref)
    return ref


def test_suspend_and_resume_an_active_order(service, order):
    ref = _active(service, order)
    result = service.suspend("op", ref, "In hospital", until="2026-12-10")
    latest = result.record.latest
    assert latest.status is OrderStatus.SUSPENDED
    (event,) = result.events
    assert isinstance(event, OrderSuspended) and event.reason == "In hospital" and event.until == "2026-12-10"
    assert event.suspended_by == "op" and event.suspended_from == iso(NOW)
    assert from_dict(event.topic, json.loads(json.dumps(event.to_dict()))) == event
    assert result.audit[0] == f"orders:{ref}:suspend" and result.audit[2]["reason"] == "In hospital"
    assert current_suspension(latest)["until"] == "2026-12-10"
    assert check_structure(latest.document) == []  # the stored document stays a valid order document
    resumed = service.resume("op2", ref)
    assert resumed.record.latest.status is OrderStatus.ACTIVE
    assert isinstance(resumed.events[0], OrderResumed)
    assert resumed.record.latest.document["suspensions"][-1]["resumed_by"] == "op2"
    assert resumed.record.current is resumed.record.latest


def test_suspension_needs_a_reason_and_a_real_future_date(service, order):
    ref = _active(service, order)
    with pytest.raises(OrderInvalid) as exc:
        service.suspend("op", ref, "  ", until="2026-02-30")
    assert {e.field for e in exc.value.errors} == {"reason", "until"}
    with pytest.raises(OrderInvalid):
        service.suspend("op", ref, "Hospital", until="2020-01-01")
    assert service.repo.get(ref).latest.status is OrderStatus.ACTIVE


def test_only_an_active_order_can_be_suspended_or_a_suspended_one_resumed(service, order):
    ref = service.create_draft("u1", order).record.ref
    with pytest.raises(Conflict):
        service.suspend("op", ref, "Hospital")
    service.submit("u1", ref)
    service.accept("u2", ref)
    service.activate("u3", ref)
    with pytest.raises(Conflict):
        service.resume("op", ref)
    service.suspend("op", ref, "Hospital")
    with pytest.raises(Conflict):
        service.suspend("op", ref, "Again")
    assert service.end("op", ref, "Revoked").record.latest.status is OrderStatus.ENDED


# --- the engine ----------------------------------------------------------------------------------------

ZONE = offset(*HOME, 3000, 0)
CURFEW = {"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z",
          "timetable": [{"day": "MONDAY", "start": "19:00", "end": "07:00"}]}  # fmt: skip


def _engine(doc):
    eng = Engine()
    eng.apply_order(doc)
    eng.apply_activation(activation("GPS-1"))
    return eng


def _day(dev, day):
    """A Monday in the zone at midday, then away from home at 19:00 and back at 19:40."""
    msgs = [dev.fix(day + timedelta(minutes=i), *ZONE) for i in range(3)]
    msgs += [
        dev.fix(day.replace(hour=18, minute=50) + timedelta(minutes=i), *offset(*HOME, 2000, 0))
        for i in range(3)
    ]
    msgs += [dev.fix(day.replace(hour=19, minute=40) + timedelta(minutes=i), *HOME) for i in range(3)]
    return msgs


def _doc(**suspension):
    doc = engine_order(
        curfew=CURFEW, exclusion_zones=[{"id": "Z1", "name": "Street", "geometry": square(*ZONE, 200)}]
    )
    if suspension:
        doc["suspensions"] = [
            {"reason": "Hospital", "by": "op", "until": None, "resumed_at": None, **suspension}
        ]
    return doc


def _kinds(alerts):
    return sorted({a["kind"] for a in alerts if a["kind"].startswith(("curfew", "exclusion"))})


def test_engine_raises_curfew_and_zone_alerts_when_not_suspended():
    assert _kinds(_engine(_doc()).process(_day(Device("GPS-1"), T0))) == [
        "curfew_late_return",
        "curfew_not_home",  # away at 19:05 (issue 11)
        "exclusion_entry",
    ]


def test_engine_raises_nothing_while_suspended_and_again_after_resume():
    dev = Device("GPS-1")
    eng = _engine(_doc(**{"from": iso(T0 - timedelta(hours=1))}))
    assert _kinds(eng.process(_day(dev, T0))) == []
    resumed_at = T0 + timedelta(days=6)  # Sunday 29 Nov, before the next Monday
    eng.apply_order(_doc(**{"from": iso(T0 - timedelta(hours=1)), "resumed_at": iso(resumed_at)}))
    assert _kinds(eng.process(_day(dev, T0 + timedelta(days=7)))) == [
        "curfew_late_return",
        "curfew_not_home",
        "exclusion_entry",
    ]


def test_the_follower_ends_a_suspended_order_and_reapplies_it_on_resume():
    from openem.orders.queries import OrderInForce
    from openem.scale.follow import order_differences

    eng = _engine(_doc())
    at = datetime(2026, 11, 23, 13, tzinfo=UTC)
    suspended = OrderInForce("ORD-1", 1, "SUSPENDED", at, at)
    assert [k for _, k in order_differences(eng, [suspended])] == ["end"]
    eng.end_order("ORD-1", at.timestamp())
    assert order_differences(eng, [suspended]) == []
    resumed = OrderInForce("ORD-1", 1, "ACTIVE", at, at + timedelta(days=1))
    assert [k for _, k in order_differences(eng, [resumed])] == ["order"]
