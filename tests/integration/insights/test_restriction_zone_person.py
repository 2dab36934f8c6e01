"""A person whose order has a CEMO restriction zone (a place to keep out of, judged as an exclusion zone): the
person view lists it among the order's conditions, counts the visits to it, and draws it on the trail map and
in the case-conference summary, named as a restriction zone."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pypdf
from tests.integration.insights.test_person_view import HOME, MINE, PURPOSE, WINDOW, ZONE_AT, _doc

from openem.orders.samples import _square
from openem.orders.seeding import load_orders
from openem.telemetry.tables import TrailPointRow


def test_a_restriction_zone_is_listed_counted_and_drawn_on_the_person_view(world):
    doc = _doc(MINE, "ORD-INSRZ0001", "probation.demo@openem.example", "WEST_YORKSHIRE", 1)
    doc["conditions"]["restriction_zones"] = [
        {"id": "RZ1", "name": "Former partner's street", "geometry": _square(*ZONE_AT, 0.005)}
    ]
    del doc["conditions"]["exclusion_zones"]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    with world.db.uow() as uow:
        active, rejected = load_orders(uow.session, [doc], actor="test", now=datetime.now(UTC))
        assert len(active) == 1, rejected
        for i in range(7):  # an hour in the zone between two positions at home
            lat, lon = HOME if i in (0, 6) else ZONE_AT
            uow.session.add(TrailPointRow(device_id="DEV-RZ", seq=i + 1, person_id=MINE, activation_id="ACT-RZ",
                                          device_time=start + timedelta(minutes=12 * i), lat=lat, lon=lon,
                                          accuracy_m=10.0))  # fmt: skip
    c = world.signed_in("demo-probation-practitioner")
    body = c.get(f"/api/people/{MINE}", params={**WINDOW, **PURPOSE}).json()
    assert [(v["zone"], v["kind"]) for v in body["zone_visits"]] == [
        ("Former partner's street", "restriction")
    ]
    raw = c.get(f"/people/{MINE}", params={**WINDOW, **PURPOSE}).text
    page = unescape(raw)
    assert "Restriction zones" in page and "Former partner's street (restriction)" in page
    context = json.loads(unescape(re.search(r'data-context="([^"]*)"', raw).group(1)))
    assert [(z["kind"], z["name"]) for z in context["zones"]] == [
        ("restriction_zones", "Restriction zone: Former partner's street (at all times)")
    ]
    pdf = c.get(f"/people/{MINE}/summary.pdf", params={**WINDOW, **PURPOSE})
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert (
        "Former partner's street (restriction)" in text
        and "Restriction zone: Former partner's street" in text
    )
