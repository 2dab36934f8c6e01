"""Each order route loads and authorises the order once (orders.web.context): an order outside the caller's
cases answers exactly as a missing one, on the API and the pages, and the refusal is audited."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.orders.samples import sample_order


def csrf(client):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


@pytest.fixture
def merseyside_order(world):
    creator = world.signed_in("demo-order-creator-court")
    creator.headers["X-CSRF-Token"] = csrf(creator)
    doc = sample_order(datetime.now(UTC))
    doc.pop("ref", None)
    doc["interested_parties"]["police_area"] = "MERSEYSIDE"
    return creator.post("/api/orders", json=doc).json()["ref"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders/{ref}",
        "/api/orders/{ref}/validation",
        "/api/orders/{ref}/documents",
        "/orders/{ref}",
        "/orders/{ref}/receipt",
        "/orders/{ref}/confirmation",
        "/orders/{ref}/documents",
    ],
)
def test_an_order_outside_your_cases_answers_as_a_missing_one(world, merseyside_order, path):
    police = world.signed_in("demo-police-officer")  # West Yorkshire: not this order's force
    missing = "ORD-" + "0" * (len(merseyside_order) - 4)
    foreign_answer = police.get(path.format(ref=merseyside_order))
    missing_answer = police.get(path.format(ref=missing))
    assert foreign_answer.status_code == missing_answer.status_code == 404
    assert foreign_answer.text.replace(merseyside_order, "REF") == missing_answer.text.replace(missing, "REF")
    police_id = police.get("/api/me").json()["user_id"]
    with world.db.uow() as uow:
        theirs = uow.session.execute(select(AuditRow).where(AuditRow.actor == police_id)).scalars().all()
    refused = [a for a in theirs if a.outcome == "denied"]
    assert [a.records for a in refused] == [[merseyside_order]], (
        "the foreign order's refusal is audited, once"
    )
    assert refused[0].details["answered"] == "not_found"
    assert not [a for a in theirs if a.action == f"orders:{merseyside_order}:read"]


def test_a_write_to_an_order_outside_your_cases_changes_nothing(world, merseyside_order):
    prison = world.signed_in("demo-order-creator-prison")  # another organisation's creator
    prison.headers["X-CSRF-Token"] = csrf(prison)
    r = prison.put(f"/api/orders/{merseyside_order}/sections/contact", json={"phone": "07700900123"})
    assert r.status_code == 404
    with world.db.uow() as uow:
        updates = (
            uow.session.execute(
                select(AuditRow).where(AuditRow.action == f"orders:{merseyside_order}:update")
            )
            .scalars()
            .all()
        )
    assert not updates
