from __future__ import annotations

import copy
import json

import pytest

from openem.bus.messages import from_dict
from openem.core.errors import Conflict
from openem.core.time import FrozenClock
from openem.orders.diff import diff_orders, variation_types
from openem.orders.events import OrderAccepted, OrderEnded, OrderSubmitted, OrderVaried
from openem.orders.model import OrderStatus
from openem.orders.rules.duplicates import find_possible_duplicates
from openem.orders.service import (
    InMemoryOrderRepository,
    InMemoryUnit,
    OrderInvalid,
    OrderService,
    PossibleDuplicates,
)

from .conftest import NOW


@pytest.fixture
def service():
    return OrderService(InMemoryOrderRepository(), FrozenClock(NOW), unit=InMemoryUnit())


def _submitted(service, order, actor="u1"):
    ref = service.create_draft(actor, order).record.ref
    return ref, service.submit(actor, ref)


def test_full_lifecycle_emits_events_and_audits(service, order):
    ref, result = _submitted(service, order)
    assert result.record.latest.status is OrderStatus.SUBMITTED
    (event,) = result.events
    assert isinstance(event, OrderSubmitted) and event.submitted_by == "u1" and event.order["ref"] == ref
    assert result.audit[0] == f"orders:{ref}:submit" and result.audit[1] == "u1"
    json.dumps(event.to_dict())  # JSON-safe
    assert from_dict(event.topic, event.to_dict()) == event
    accepted = service.accept("u2", ref)
    assert isinstance(accepted.events[0], OrderAccepted)
    assert service.activate("u3", ref).record.latest.status is OrderStatus.ACTIVE
    ended = service.end("u4", ref, "Order revoked by court")
    assert isinstance(ended.events[0], OrderEnded) and ended.record.latest.status is OrderStatus.ENDED
    assert ended.audit[0] == f"orders:{ref}:end"


def test_submit_refuses_invalid_order_and_stays_draft(service, order):
    del order["device_wearer"]["date_of_birth"]
    ref = service.create_draft("u1", order).record.ref
    with pytest.raises(OrderInvalid) as exc:
        service.submit("u1", ref)
    assert [e.field for e in exc.value.errors] == ["device_wearer.date_of_birth"]
    assert service.repo.get(ref).latest.status is OrderStatus.DRAFT


def test_submitted_version_is_frozen(service, order):
    ref, _ = _submitted(service, order)
    with pytest.raises(Conflict):
        service.update_section("u1", ref, "contact", {"phone": "07700 900000"})


def test_update_section_checks_shape(service, order):
    ref = service.create_draft("u1", {}).record.ref
    with pytest.raises(OrderInvalid):
        service.update_section("u1", ref, "device_wearer", {"first_name": "x" * 1000})
    result = service.update_section("u1", ref, "device_wearer", order["device_wearer"])
    assert (
        result.record.latest.document["device_wearer"]["first_name"] == order["device_wearer"]["first_name"]
    )
    assert result.audit == (f"orders:{ref}:update", "u1", {"version": 1, "section": "device_wearer"})


def test_reject_then_amend_creates_a_new_draft_copied_from_the_last(service, order):
    ref, _ = _submitted(service, order)
    with pytest.raises(OrderInvalid):
        service.reject("u2", ref, [])
    rejected = service.reject("u2", ref, ["Wrong address"])
    assert rejected.record.latest.rejection_reasons == ("Wrong address",)
    amended = service.amend_rejected("u1", ref).record
    assert [v.status for v in amended.versions] == [OrderStatus.REJECTED, OrderStatus.DRAFT]
    assert amended.latest.document["device_wearer"] == order["device_wearer"]
    assert amended.latest.document["request_type"] == "AMEND_REJECTED" and amended.latest.version == 2


def test_variation_emits_diff_and_type_and_supersedes(service, order):
    ref, _ = _submitted(service, order)
    service.accept("u2", ref)
    service.activate("u3", ref)
    service.vary("u1", ref)
    curfew = copy.deepcopy(service.repo.get(ref).latest.document["conditions"]["curfew"])
    curfew["timetable"][2]["end"] = "06:00"
    service.update_section(
        "u1", ref, "conditions", {**service.repo.get(ref).latest.document["conditions"], "curfew": curfew}
    )
    service.submit("u1", ref)
    result = service.accept("u2", ref)
    varied = [e for e in result.events if isinstance(e, OrderVaried)]
    assert varied and varied[0].variation_types == ["CHANGE_TO_CURFEW_HOURS"]
    assert {
        "field": "conditions.curfew.timetable[2].end",
        "before": curfew["timetable"][0]["end"],
        "after": "06:00",
    } in varied[0].diff
    assert [v.status for v in result.record.versions] == [OrderStatus.SUPERSEDED, OrderStatus.ACTIVE]


def test_cannot_vary_a_draft_or_accept_twice(service, order):
    ref = service.create_draft("u1", order).record.ref
    with pytest.raises(Conflict):
        service.vary("u1", ref)
    service.submit("u1", ref)
    service.accept("u2", ref)
    with pytest.raises(Conflict):
        service.accept("u2", ref)


def test_possible_duplicate_must_be_confirmed(service, order):
    ref1, _ = _submitted(service, copy.deepcopy(order))
    service.accept("u2", ref1)
    second = copy.deepcopy(order)
    second["device_wearer"]["first_name"] = second["device_wearer"]["first_name"] + "y"
    ref2 = service.create_draft("u1", second).record.ref
    with pytest.raises(PossibleDuplicates) as exc:
        service.submit("u1", ref2)
    assert exc.value.duplicates[0].order_ref == ref1
    result = service.submit("u1", ref2, confirmed_not_duplicates=[ref1])
    assert result.audit[2]["confirmed_not_duplicates"] == [ref1]


def _wearer(**kw):
    base = {"first_name": "Jonathan", "last_name": "O'Neill", "date_of_birth": "1990-05-01", "aliases": []}
    return {"ref": kw.pop("ref", "ORD-X"), "person_id": "PER-1", "device_wearer": {**base, **kw}}


@pytest.mark.parametrize(
    "candidate,reason",
    [
        (_wearer(ref="ORD-A", first_name="Jonathon", last_name="ONeill"), "name_and_date_of_birth"),
        (_wearer(ref="ORD-A", first_name="Jon", last_name="Neill", pnc="2019/0123456A"), "pnc"),
        (
            _wearer(ref="ORD-A", first_name="Zed", last_name="Other", aliases=["Jonathan O'Neill"]),
            "name_and_date_of_birth",
        ),
    ],
)
def test_duplicate_matches(candidate, reason):
    new = _wearer(pnc="2019/0123456a")
    found = find_possible_duplicates(new, [candidate])
    assert [d.reason for d in found] == [reason]


def test_no_duplicate_on_different_dob_or_name():
    new = _wearer()
    assert find_possible_duplicates(new, [_wearer(ref="ORD-A", date_of_birth="1990-05-02")]) == []
    assert (
        find_possible_duplicates(new, [_wearer(ref="ORD-A", first_name="Maria", last_name="Gonzalez")]) == []
    )
    assert find_possible_duplicates(new, [_wearer()]) == []  # same order ref: another version


def test_variation_types_for_new_zone_and_address():
    before = {
        "addresses": [{"type": "PRIMARY", "postcode": "LS1 4AP"}],
        "conditions": {"exclusion_zones": [{"id": "Z1"}]},
    }
    after = copy.deepcopy(before)
    after["addresses"][0]["postcode"] = "LS2 7EY"
    after["conditions"]["exclusion_zones"].append({"id": "Z2"})
    assert variation_types(before, after) == ["CHANGE_TO_ADDRESS", "CHANGE_TO_ADD_AN_EXCLUSION_ZONES"]
    assert [c.field for c in diff_orders(before, after)] == [
        "addresses[0].postcode",
        "conditions.exclusion_zones[1].id",
    ]


def test_duplicate_index_agrees_with_linear_search():
    from openem.orders.rules.duplicates import DuplicateIndex

    existing = [
        _wearer(ref="ORD-A", first_name="Jonathon", last_name="ONeill"),
        _wearer(
            ref="ORD-B", first_name="Zed", last_name="Other", pnc="2019/0123456A", date_of_birth="1970-01-01"
        ),
        _wearer(ref="ORD-C", first_name="Maria", last_name="Gonzalez"),
    ]
    index = DuplicateIndex(existing)
    new = _wearer(pnc="2019/0123456A")
    assert index.find(new) == find_possible_duplicates(new, existing)
    assert {d.order_ref for d in index.find(new)} == {"ORD-A", "ORD-B"}


def test_events_are_registered_by_topic():
    from openem.bus.messages import _REGISTRY
    from openem.orders import events

    for name in ("OrderSubmitted", "OrderAccepted", "OrderRejected", "OrderVaried", "OrderEnded"):
        cls = getattr(events, name)
        assert cls.topic == f"orders.{name}" and _REGISTRY[cls.topic] is cls


def test_vary_accepts_request_type_as_text_and_refuses_unknown(service, order):
    ref, _ = _submitted(service, order)
    service.accept("u2", ref)
    with pytest.raises(OrderInvalid):
        service.vary("u1", ref, "MAKE_IT_SO")
    result = service.vary("u1", ref, "VARIATION")
    assert result.record.latest.document["request_type"] == "VARIATION"
    assert result.audit[0] == f"orders:{ref}:variation"


def test_possible_duplicate_to_dict_is_json_safe():
    found = find_possible_duplicates(
        _wearer(pnc="2019/0123456A"), [_wearer(ref="ORD-A", pnc="2019/0123456A")]
    )
    assert json.loads(json.dumps(found[0].to_dict()))["reason"] == "pnc"
