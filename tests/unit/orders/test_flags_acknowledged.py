"""Openem's stricter rules that CEMO does not have are flags: refused until someone checks them, then accepted."""

from __future__ import annotations

import pytest

from openem.core.time import FrozenClock
from openem.orders.rules import validate_order
from openem.orders.service import InMemoryOrderRepository, InMemoryUnit, OrderInvalid, OrderService

from .conftest import NOW


@pytest.fixture
def service():
    return OrderService(InMemoryOrderRepository(), FrozenClock(NOW), unit=InMemoryUnit())


def test_a_flag_refuses_until_the_submitter_checks_it_then_is_recorded_and_audited(service, order):
    order["device_wearer"]["first_name"] = "Jo2"  # digits: openem's name format, not CEMO's
    ref = service.create_draft("u1", order).record.ref
    with pytest.raises(OrderInvalid) as exc:
        service.submit("u1", ref)
    assert [(e.code, e.field) for e in exc.value.errors] == [("name_format", "device_wearer.first_name")]
    result = service.submit("u1", ref, acknowledged=["name_format:device_wearer.first_name"])
    doc = result.record.latest.document
    assert doc["acknowledgements"][0]["source"] == "USER"
    assert result.audit[2]["acknowledged"] == ["name_format:device_wearer.first_name"]
    assert result.events[0].order["acknowledgements"] == doc["acknowledgements"]
    assert validate_order(doc, now=NOW) == []


def test_a_real_error_cannot_be_acknowledged(service, order):
    del order["device_wearer"]["date_of_birth"]
    ref = service.create_draft("u1", order).record.ref
    with pytest.raises(OrderInvalid):
        service.submit("u1", ref, acknowledged=["required:device_wearer.date_of_birth"])


def test_an_acknowledgement_covers_the_answer_checked_not_a_later_one(order):
    order["device_wearer"]["first_name"] = "Jo2"
    errors = validate_order(order, now=NOW)
    from openem.orders.rules.acknowledge import acknowledge

    acknowledge(order, errors, "USER")
    assert validate_order(order, now=NOW) == []
    order["device_wearer"]["first_name"] = "Jo3"
    assert [e.code for e in validate_order(order, now=NOW)] == ["name_format"]
