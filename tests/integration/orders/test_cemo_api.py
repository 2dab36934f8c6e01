"""CEMO in and supplier out over the API: a CEMO order becomes an openem draft with its mapping report, and a
stored order comes out in the supplier's payload format (an audited read)."""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from openem.auth.tables import AuditRow

SCENARIO = Path(__file__).resolve().parents[2] / "unit" / "orders" / "cemo" / "scenarios" / "cemo014"


def _client(world, user):
    c = world.signed_in(user)
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
    return c


@pytest.fixture
def creator(world):
    return _client(world, "demo-order-creator-court")


def test_a_cemo_order_becomes_a_draft_with_its_mapping_report(world, creator):
    cemo = json.loads((SCENARIO / "order.json").read_text())
    r = creator.post("/api/orders/import/cemo", json=cemo)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "DRAFT" and body["ref"].startswith("ORD")
    assert body["document"]["device_wearer"]["first_name"] == cemo["deviceWearer"]["firstName"]
    assert body["mapping"]["cemo_id"] == cemo["id"]
    assert any(d["field"] == "additionalDocuments" for d in body["mapping"]["dropped"])
    # CEMO's fixture ended in 2025: only that is refused now; its map-file zone is flagged, not refused
    assert body["valid"] is False
    assert {e["field"] for e in body["errors"]} == {"monitoring.end"}
    assert "conditions.zones_to_draw[0]" in {f["field"] for f in body["mapping"]["flagged"]}
    # the draft is the creator's, like any other
    assert creator.get(f"/api/orders/{body['ref']}").json()["document"] == body["document"]

    r = creator.get(f"/api/orders/{body['ref']}/fms", params={"case_id": "DW-1"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["device_wearer"]["last_name"] == cemo["deviceWearer"]["lastName"]
    assert out["monitoring_order"]["case_id"] == "DW-1"
    assert out["monitoring_order"]["order_id"] == body["ref"]
    with world.db.uow() as uow:
        reads = uow.session.execute(
            select(AuditRow.purpose).where(AuditRow.action == f"orders:{body['ref']}:read")
        ).scalars()
        assert "supplier export" in set(reads)


@pytest.mark.parametrize(
    "payload",
    [[1, 2], "text", {"id": "x"}, {"deviceWearer": {"firstName": "A" * 500}, "addresses": []}],
    ids=["list", "string", "no-sections", "too-long-name"],
)
def test_what_is_not_an_importable_cemo_order_is_refused_with_a_reason(world, creator, payload):
    r = creator.post("/api/orders/import/cemo", json=payload)
    assert r.status_code == 422, r.text
    assert r.json()["message"] or r.json()["errors"]


def test_only_order_creators_import_and_csrf_is_required(world):
    cemo = json.loads((SCENARIO / "order.json").read_text())
    operator = _client(world, "demo-mc-operator")
    assert operator.post("/api/orders/import/cemo", json=cemo).status_code == 403
    creator = world.signed_in("demo-order-creator-court")
    assert creator.post("/api/orders/import/cemo", json=cemo).status_code == 403


def test_the_supplier_export_of_someone_elses_order_is_refused_as_missing(world, creator):
    r = creator.get("/api/orders/ORD-NOPE/fms")
    assert r.status_code == 404
