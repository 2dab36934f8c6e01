"""Orders over the API on SQLite and PostgreSQL: lifecycle, validation errors, duplicates, access rules, audit."""

import copy
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.bus.outbox import OutboxRow
from openem.orders.samples import sample_order


def csrf(client):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


@pytest.fixture
def creator(world):
    c = world.signed_in("demo-order-creator-court")
    c.headers["X-CSRF-Token"] = csrf(c)
    return c


@pytest.fixture
def operator(world):
    c = world.signed_in("demo-mc-operator")
    c.headers["X-CSRF-Token"] = csrf(c)
    return c


def valid_doc(**parties):
    doc = sample_order(datetime.now(UTC))
    doc.pop("ref", None)
    doc["interested_parties"].update(parties)
    return doc


def test_order_lifecycle_emits_events_and_audits_every_step(world, creator, operator):
    r = creator.post("/api/orders", json=valid_doc())
    assert r.status_code == 201, r.text
    ref = r.json()["ref"]
    assert r.json()["status"] == "DRAFT"
    r = creator.post(f"/api/orders/{ref}/submit", json={})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "SUBMITTED"
    # a submitted version is frozen
    r = creator.put(f"/api/orders/{ref}/sections/contact", json={"phone": "07700900123"})
    assert r.status_code == 409
    r = operator.post(f"/api/orders/{ref}/accept")
    assert r.status_code == 200 and r.json()["status"] == "ACCEPTED"
    with world.db.uow() as uow:
        topics = [t for t in uow.session.execute(select(OutboxRow.topic).order_by(OutboxRow.seq)).scalars()]
        actions = [
            a for a in uow.session.execute(select(AuditRow.action)).scalars() if a.startswith(f"orders:{ref}")
        ]
    assert [t.rsplit(".", 1)[-1] for t in topics] == ["OrderSubmitted", "OrderAccepted"]
    assert {f"orders:{ref}:create", f"orders:{ref}:submit", f"orders:{ref}:accept"} <= set(actions)


def test_an_invalid_order_is_refused_with_field_errors(world, creator):
    doc = valid_doc()
    doc["addresses"][0]["postcode"] = "NOT A POSTCODE"
    doc["monitoring"]["end"] = doc["monitoring"]["start"]
    ref = creator.post("/api/orders", json=doc).json()["ref"]
    r = creator.post(f"/api/orders/{ref}/submit", json={})
    assert r.status_code == 422
    errors = r.json()["errors"]
    fields = {e["field"] for e in errors}
    assert any(f.startswith("addresses[0].postcode") for f in fields)
    assert all(e["code"] and e["message"] for e in errors)


def test_a_second_order_for_an_active_person_is_flagged_as_a_possible_duplicate(world, creator, operator):
    doc = valid_doc()
    ref = creator.post("/api/orders", json=doc).json()["ref"]
    creator.post(f"/api/orders/{ref}/submit", json={})
    operator.post(f"/api/orders/{ref}/accept")
    again = copy.deepcopy(doc)
    ref2 = creator.post("/api/orders", json=again).json()["ref"]
    r = creator.post(f"/api/orders/{ref2}/submit", json={})
    assert r.status_code == 409 and r.json()["error"] == "possible_duplicate"
    r = creator.post(f"/api/orders/{ref2}/submit", json={"confirmed_not_duplicates": [ref]})
    assert r.status_code == 200 and r.json()["status"] == "SUBMITTED"


def test_practitioner_outside_the_caseload_is_refused_and_audited(world, creator):
    ours = creator.post(
        "/api/orders", json=valid_doc(responsible_officer_email="probation.demo@openem.example")
    ).json()["ref"]
    theirs = creator.post(
        "/api/orders", json=valid_doc(responsible_officer_email="someone.else@openem.example")
    ).json()["ref"]
    pp = world.signed_in("demo-probation-practitioner")
    assert pp.get(f"/api/orders/{ours}").status_code == 200
    r = pp.get(f"/api/orders/{theirs}")
    assert r.status_code == 404  # answered as a missing order: refs cannot be probed
    listed = {o["ref"] for o in pp.get("/api/orders").json()}
    assert ours in listed and theirs not in listed
    assert pp.get("/api/orders/ORD-DOES-NOT-EXIST").status_code == 404
    with world.db.uow() as uow:
        denied = uow.session.execute(select(AuditRow).where(AuditRow.outcome == "denied")).scalars().all()
        reads = (
            uow.session.execute(select(AuditRow).where(AuditRow.action == f"orders:{ours}:read"))
            .scalars()
            .all()
        )
    assert any(theirs in (a.records or []) for a in denied)
    assert reads, "reading personal data must be audited"


def test_police_see_their_own_force_only(world, creator):
    wy = creator.post("/api/orders", json=valid_doc(police_area="WEST_YORKSHIRE")).json()["ref"]
    mp = creator.post("/api/orders", json=valid_doc(police_area="MERSEYSIDE")).json()["ref"]
    police = world.signed_in("demo-police-officer")  # West Yorkshire
    assert police.get(f"/api/orders/{wy}").status_code == 200
    assert police.get(f"/api/orders/{mp}").status_code == 404


def test_only_the_monitoring_centre_accepts_orders(world, creator):
    ref = creator.post("/api/orders", json=valid_doc()).json()["ref"]
    creator.post(f"/api/orders/{ref}/submit", json={})
    assert creator.post(f"/api/orders/{ref}/accept").status_code == 403


def test_hostile_input_gets_field_errors_not_500(world, creator):
    doc = valid_doc()
    doc["device_wearer"]["first_name"] = "<script>alert(1)</script>\x07" + "A" * 5000
    doc["monitoring"]["start"] = 12345
    r = creator.post("/api/orders", json=doc)
    assert r.status_code in (201, 422)
    if r.status_code == 422:
        assert r.json()["errors"]
    r = creator.post("/api/orders", content=b"[1, 2", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = creator.put("/api/orders/ORD-X/sections/contact", json={})
    assert r.status_code == 404


def test_order_schema_is_published(world):
    schema = world.client().get("/api/schema/order").json()
    assert schema["$schema"].startswith("https://json-schema.org/") and "properties" in schema


def test_concurrent_edits_of_one_order_do_not_overwrite_each_other(world, creator):
    ref = creator.post("/api/orders", json=valid_doc()).json()["ref"]
    opened = creator.get(f"/api/orders/{ref}").json()["row_version"]  # two people open the same draft
    first = creator.put(
        f"/api/orders/{ref}/sections/contact",
        json={"phone": "07700900001"},
        headers={"If-Match": str(opened)},
    )
    assert first.status_code == 200 and first.json()["row_version"] == opened + 1
    second = creator.put(
        f"/api/orders/{ref}/sections/contact",
        json={"phone": "07700900002"},
        headers={"If-Match": str(opened)},
    )
    assert second.status_code == 409 and "Somebody else changed this order" in second.json()["message"]
    assert creator.get(f"/api/orders/{ref}").json()["document"]["contact"]["phone"] == "07700900001"
    bad = creator.put(f"/api/orders/{ref}/sections/contact", json={}, headers={"If-Match": "banana"})
    assert bad.status_code == 422
