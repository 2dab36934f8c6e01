"""An order entered and accepted through the API reaches field through the outbox: its visit has the
postcode's coordinates (nothing typed but the postcode), or asks for an address check when the postcode is
unknown; the events for order entry are in the outbox."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from openem.bus.outbox import OutboxRow
from openem.field import queries as fq
from openem.orders.samples import sample_order


def _client(world, user):
    c = world.signed_in(user)
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
    return c


@pytest.mark.parametrize("postcode,located", [("CF10 1AA", True), ("PL1 9XX", False)])
def test_an_order_entered_with_a_postcode_gets_a_placed_visit(world, postcode, located):
    creator, operator = _client(world, "demo-order-creator-court"), _client(world, "demo-mc-operator")
    doc = sample_order(datetime.now(UTC))
    doc.pop("ref", None)
    for a in doc.get("addresses") or []:
        a.pop("lat", None)
        a.pop("lon", None)
        a["postcode"] = postcode
    r = creator.post("/api/orders", json=doc)
    assert r.status_code == 201, r.text
    ref = r.json()["ref"]
    assert creator.post(f"/api/orders/{ref}/submit", json={}).status_code == 200
    assert operator.post(f"/api/orders/{ref}/accept").status_code == 200
    world.app.state.dispatcher.drain()
    with world.db.uow() as uow:
        v = fq.visit(uow.session, f"FIT-{ref}")
        topics = list(uow.session.execute(select(OutboxRow.topic).order_by(OutboxRow.seq)).scalars())
    assert v is not None
    if located:
        assert v["address_check"] == "LOCATED" and abs(v["lat"] - 51.479) < 0.001
        assert "field.AddressLocated" in topics
    else:
        assert v["needs_address_check"] and v["lat"] is None and "PL1 9XX" in v["address_message"]
        assert "field.AddressCheckNeeded" in topics
